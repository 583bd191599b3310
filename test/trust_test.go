package test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// deputyConditions says, per service principal, what confused-deputy
// conditions its trust policies carry: the aws:SourceArn pattern (after
// "arn:<partition>:", with the account and region as the stacks render them)
// where AWS documents that the service sends aws:SourceAccount and
// aws:SourceArn, or "" where AWS documents no such keys for that role, so that
// a condition would break it.
var deputyConditions = map[string]string{
	// ECS developer guide, "Amazon ECS task IAM role": any ECS resource of
	// the account (a cluster-specific ARN is not supported). The execution
	// role's page shows no condition: its rows have none (see below).
	"ecs-tasks.amazonaws.com": "ecs:<region>:<account>:*",
	// CodeDeploy user guide, "Cross-service confused deputy prevention".
	"codedeploy.amazonaws.com": "codedeploy:<region>:<account>:deploymentgroup:<prefix>/*",
	// Amazon VPC user guide, "IAM role for publishing flow logs to CloudWatch Logs".
	"vpc-flow-logs.amazonaws.com": "ec2:<region>:<account>:vpc-flow-log/*",
	// CodeBuild user guide, "Allow CodeBuild to interact with other AWS
	// services": the ARN of the project whose service role it is.
	"codebuild.amazonaws.com": "codebuild:<region>:<account>:project/<project>",
	// The failure rule's role (see TestFailureRulePublishesThroughItsOwnRole).
	// EventBridge user guide, "Cross-service confused deputy prevention in
	// Amazon EventBridge": for event bus rule targets, aws:SourceArn is the
	// rule's ARN.
	"events.amazonaws.com": "events:<region>:<account>:rule/<prefix>-failures",
	// Lambda documents no source keys for an execution role's trust policy.
	"lambda.amazonaws.com": "",
	// CodePipeline's service-role pages show a trust policy without conditions.
	"codepipeline.amazonaws.com": "",
}

// TestServiceTrustPoliciesCarryDocumentedDeputyConditions proves the
// confused-deputy requirement over every role of every stack: a service may
// assume a role only for this account and the documented source resources,
// wherever AWS documents that the service sends those keys, and nowhere
// else. A principal missing from deputyConditions fails the test, so a new
// kind of role needs a decision.
func TestServiceTrustPoliciesCarryDocumentedDeputyConditions(t *testing.T) {
	seen := map[string]int{}
	w := newCfnWorld(t)
	for _, id := range app.StackIDs() {
		s := w.stack(id)
		for logical, r := range allResources(t, id) {
			if dig(r, "Type") != "AWS::IAM::Role" {
				continue
			}
			for _, st := range asList(dig(r, "Properties", "AssumeRolePolicyDocument", "Statement")) {
				service, ok := dig(st, "Principal", "Service").(string)
				if !ok {
					continue
				}
				want, known := deputyConditions[service]
				if !known {
					t.Errorf("%s/%s: trust for %s: no decision in deputyConditions", id, logical, service)
					continue
				}
				seen[service]++
				cond := dig(st, "Condition")
				execution := service == "ecs-tasks.amazonaws.com" && strings.Contains(logical, "ExecutionRole")
				if want == "" || execution {
					if cond != nil {
						t.Errorf("%s/%s: trust for %s has a condition AWS does not document: %s", id, logical, service, compact(cond))
					}
					continue
				}
				// Both as deployed: a pattern of the stack's own account and
				// region, however the template writes them.
				if got, err := w.resolve(s, dig(cond, "StringEquals", "aws:SourceAccount")); err != nil || got != s.account {
					t.Errorf("%s/%s: trust for %s: aws:SourceAccount = %s (%v), want the stack's account", id, logical, service, compact(dig(cond, "StringEquals", "aws:SourceAccount")), err)
				}
				got, err := w.resolve(s, dig(cond, "ArnLike", "aws:SourceArn"))
				pattern := "arn:aws:" + strings.NewReplacer("<region>", s.region, "<account>", s.account,
					"<prefix>", prefixOf(id), "<project>", projectOf(t, id, logical)).Replace(want)
				if err != nil || got != pattern {
					t.Errorf("%s/%s: trust for %s: aws:SourceArn = %v (%v), want %s", id, logical, service, got, err, pattern)
				}
			}
		}
	}
	services := make([]string, 0, len(seen))
	for s := range seen {
		services = append(services, s)
	}
	sort.Strings(services)
	t.Logf("service trust statements checked: %v", seen)
	for _, s := range []string{"ecs-tasks.amazonaws.com", "codedeploy.amazonaws.com", "vpc-flow-logs.amazonaws.com"} {
		if seen[s] == 0 {
			t.Errorf("no trust policy for %s found; the table is stale", s)
		}
	}
}

// prefixOf is the physical-name prefix of an environment stack.
func prefixOf(stackID string) string {
	switch stackID {
	case "Staging":
		return app.Config.ResourcePrefix(&app.Config.Staging)
	case "Production":
		return app.Config.ResourcePrefix(&app.Config.Production)
	}
	return app.Config.PipelinePrefix()
}

// projectOf is the name of the CodeBuild project whose service role is the
// given role, "" if none.
func projectOf(t *testing.T, stackID, role string) string {
	for _, r := range resources(t, stackID, "AWS::CodeBuild::Project") {
		if fmt.Sprint(dig(r, "Properties", "ServiceRole", "Fn::GetAtt")) == fmt.Sprint([]any{role, "Arn"}) {
			return fmt.Sprint(dig(r, "Properties", "Name"))
		}
	}
	return ""
}
