package test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"

	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/constructs/delivery"
)

// A weak cross-stack reference (Fn::GetStackOutput, as cdk.json's
// defaultCrossStackReferences "weak" makes them) or an export
// (Fn::ImportValue) is resolved when the stack that reads it is updated, and
// `cdk deploy` skips a stack whose template did not change. A policy that
// depends on one can therefore name what an environment was, not what it is.

// staleableFunctions are the intrinsic functions whose value is another
// stack's, resolved only when the reading stack is updated.
var staleableFunctions = []string{"Fn::GetStackOutput", "Fn::ImportValue"}

// policyProperties are, per resource type, the properties that hold a policy
// or what a policy is made of: documents, principals, attached policies.
var policyProperties = map[string][]string{
	"AWS::IAM::Policy":        {"PolicyDocument", "Roles", "Users", "Groups"},
	"AWS::IAM::ManagedPolicy": {"PolicyDocument", "Roles", "Users", "Groups"},
	"AWS::IAM::Role":          {"AssumeRolePolicyDocument", "Policies", "ManagedPolicyArns", "PermissionsBoundary"},
	"AWS::ECR::Repository":    {"RepositoryPolicyText"},
	"AWS::S3::BucketPolicy":   {"PolicyDocument", "Bucket"},
	"AWS::KMS::Key":           {"KeyPolicy"},
	"AWS::SNS::TopicPolicy":   {"PolicyDocument", "Topics"},
	"AWS::SQS::QueuePolicy":   {"PolicyDocument", "Queues"},
	// A permission is a statement of the function's resource policy.
	"AWS::Lambda::Permission": {"Action", "FunctionName", "Principal", "PrincipalOrgID", "SourceAccount", "SourceArn", "EventSourceToken", "FunctionUrlAuthType"},
}

// synthesizedTemplates is every template this package synthesizes: the app
// as `cdk synth` builds it, the day-two variant, and the constructs' own
// test stacks.
func synthesizedTemplates(t *testing.T) map[string]assertions.Template {
	t.Helper()
	out := map[string]assertions.Template{}
	for _, id := range app.StackIDs() {
		out["app/"+id] = template(t, id)
	}
	changed := changedApp()
	for _, id := range changed.StackIDs() {
		out["day-two app/"+id] = assertions.Template_FromStack(changed.Stack(id), nil)
	}
	for id, tpl := range constructTemplates {
		out["constructs/"+id] = tpl
	}
	return out
}

// staleReferences returns the path to every Fn::GetStackOutput or
// Fn::ImportValue inside v.
func staleReferences(v any, path string) []string {
	var out []string
	intrinsics(v, path, func(at, fn string, arg any) {
		for _, stale := range staleableFunctions {
			if fn == stale {
				out = append(out, fmt.Sprintf("%s: %s %s", at, fn, compact(arg)))
			}
		}
	})
	return out
}

// TestNoPolicyDependsOnAValueThatCanGoStale proves that no policy document,
// trust policy, resource policy or permission in any synthesized stack reads
// another stack's value through Fn::GetStackOutput or Fn::ImportValue.
func TestNoPolicyDependsOnAValueThatCanGoStale(t *testing.T) {
	seen := map[string]int{}
	for name, tpl := range synthesizedTemplates(t) {
		res := templateResources(t, tpl)
		for logical, r := range res {
			typ, _ := dig(r, "Type").(string)
			for _, prop := range policyProperties[typ] {
				v := dig(r, "Properties", prop)
				if v == nil {
					continue
				}
				seen[typ]++
				for _, ref := range staleReferences(v, prop) {
					t.Errorf("%s/%s (%s): %s: a policy depends on another stack's value, which CloudFormation resolves only when this stack is updated; build it from the resource's fixed name", name, logical, typ, ref)
				}
			}
		}
	}
	// The walk reaches the kinds of policy this app has: identity policies,
	// trust policies, key, bucket, topic and repository policies, and the
	// permissions of functions.
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::Role", "AWS::ECR::Repository", "AWS::S3::BucketPolicy", "AWS::KMS::Key", "AWS::SNS::TopicPolicy"} {
		if seen[typ] == 0 {
			t.Errorf("no %s policy found; the walk is broken", typ)
		}
	}
	t.Logf("policy properties checked: %v", seen)
}

// TestReleaseInputsAreLiterals proves that what the pipeline hands to its
// deploy actions and builds holds no cross-stack reference: the CodeDeploy
// action's application and deployment group are the environment's fixed
// names, and every build variable (the project's and the action's) is a
// literal, the environment's task family and pre-traffic function included.
//
// Contract home: the names the deploy actions are given.
func TestReleaseInputsAreLiterals(t *testing.T) {
	res := allResources(t, pipelineID)
	var literals []string
	addLiteral := func(where string, v any) {
		if str, ok := v.(string); ok {
			literals = append(literals, str)
			return
		}
		// Same-stack references (the repository's name) are resolved at
		// every update of this stack; only another stack's value can lag.
		for _, ref := range staleReferences(v, where) {
			t.Errorf("%s", ref)
		}
	}
	for logical, r := range res {
		if dig(r, "Type") != "AWS::CodeBuild::Project" {
			continue
		}
		for _, v := range asList(dig(r, "Properties", "Environment", "EnvironmentVariables")) {
			addLiteral(fmt.Sprintf("%s variable %v", logical, dig(v, "Name")), dig(v, "Value"))
		}
	}
	deploys := map[string]map[string]any{}
	for _, st := range stages(t) {
		for _, a := range asList(dig(st, "Actions")) {
			switch dig(a, "ActionTypeId", "Provider") {
			case "CodeBuild":
				if v := dig(a, "Configuration", "EnvironmentVariables"); v != nil {
					where := fmt.Sprintf("%v/%v EnvironmentVariables", st["Name"], dig(a, "Name"))
					if _, ok := v.(string); !ok {
						t.Errorf("%s is not a literal: %s", where, compact(v))
					}
					addLiteral(where, v)
				}
			case "CodeDeployToECS":
				deploys[fmt.Sprint(st["Name"])] = asMap(dig(a, "Configuration"))
			}
		}
	}
	all := strings.Join(literals, "\n")
	for _, env := range releaseOrder() {
		cfn := l1Names(t, env.service)
		cfg, ok := deploys[delivery.DeployStageName(env.name)]
		if !ok {
			t.Errorf("%s: no CodeDeployToECS action", env.name)
			continue
		}
		for key, want := range map[string]string{"ApplicationName": cfn.application, "DeploymentGroupName": cfn.group} {
			if got := cfg[key]; got != want {
				t.Errorf("%s: deploy action %s = %s, want the literal %q", env.name, key, compact(got), want)
			}
		}
		for what, name := range map[string]string{"task family": cfn.family, "pre-traffic function": cfn.hookFunction} {
			if !strings.Contains(all, name) {
				t.Errorf("%s: no build variable names the %s %q as a literal", env.name, what, name)
			}
		}
	}
}

// physicalNames are the names an environment's resources carry, read from
// their L1 resources as the templates set them.
type physicalNames struct {
	family, hookFunction, executionRole, taskRole string
	application, group, config                    string
}

func l1Names(t *testing.T, s bluegreen.Service) physicalNames {
	t.Helper()
	str := func(what string, v *string) string {
		if v == nil || *awscdk.Token_IsUnresolved(v) {
			t.Fatalf("%s: the %s has no fixed name", *s.Node().Path(), what)
		}
		return *v
	}
	group := deploymentGroup(t, s)
	n := physicalNames{
		family:        str("task family", s.TaskDefinition().Node().DefaultChild().(awsecs.CfnTaskDefinition).Family()),
		hookFunction:  str("pre-traffic function", s.PreTrafficHook().Node().DefaultChild().(awslambda.CfnFunction).FunctionName()),
		executionRole: str("execution role", s.ExecutionRole().Node().DefaultChild().(awsiam.CfnRole).RoleName()),
		taskRole:      str("task role", s.TaskRole().Node().DefaultChild().(awsiam.CfnRole).RoleName()),
		application:   str("application", group.Application().Node().DefaultChild().(codedeploy.CfnApplication).ApplicationName()),
		group:         str("deployment group", group.Node().DefaultChild().(codedeploy.CfnDeploymentGroup).DeploymentGroupName()),
	}
	if cfn, ok := group.DeploymentConfig().Node().DefaultChild().(codedeploy.CfnDeploymentConfig); ok {
		n.config = str("deployment configuration", cfn.DeploymentConfigName())
	} else {
		n.config = str("deployment configuration", group.DeploymentConfig().DeploymentConfigName())
	}
	return n
}

// TestPipelinePoliciesNameTheEnvironmentsResources proves that the ARNs the
// pipeline builds from fixed names are those of the environments' resources:
// both sides are resolved as CloudFormation would in the stand-in account,
// the pipeline's from its template, the environments' from theirs. Each
// environment has a deploy role of its own.
func TestPipelinePoliciesNameTheEnvironmentsResources(t *testing.T) {
	w := newCfnWorld(t)
	pipe := w.stack(pipelineID)
	resolved := func(s *cfnStack, v any) any {
		r, err := w.resolve(s, v)
		if err != nil {
			t.Fatalf("%s: %v", s.id, err)
		}
		return r
	}
	// statements returns the resolved statements of a pipeline policy
	// document, by Sid.
	statements := func(doc any) map[string]any {
		out := map[string]any{}
		for _, st := range asList(dig(resolved(pipe, doc), "Statement")) {
			if sid, _ := dig(st, "Sid").(string); sid != "" {
				out[sid] = st
			}
		}
		return out
	}
	var repoPolicy map[string]any
	for _, r := range pipe.resourcesOfType("AWS::ECR::Repository") {
		repoPolicy = statements(dig(r, "Properties", "RepositoryPolicyText"))
	}
	deployRoles := map[string]string{} // logical ID -> environment
	for _, env := range releaseOrder() {
		svc := env.service
		es := w.stack(*awscdk.Stack_Of(svc.TaskDefinition()).Node().Id())
		prefix := es.arn("codedeploy", "")
		group := deploymentGroup(t, svc)
		groupProps := es.resources[logicalOf(group)]["Properties"]
		application := w.physicalName(t, es, logicalOf(group.Application()))
		executionRole := resolved(es, map[string]any{"Fn::GetAtt": []any{logicalOf(svc.ExecutionRole()), "Arn"}})
		taskRole := resolved(es, map[string]any{"Fn::GetAtt": []any{logicalOf(svc.TaskRole()), "Arn"}})
		family := resolved(es, dig(es.resources[logicalOf(svc.TaskDefinition())], "Properties", "Family"))

		role := app.System.Pipeline.Pipeline.DeployRole(env.name)
		if other, ok := deployRoles[logicalOf(role)]; ok {
			t.Errorf("%s and %s share a deploy role; each environment needs its own", other, env.name)
		}
		deployRoles[logicalOf(role)] = env.name
		var deploy map[string]any
		for _, pol := range pipe.resourcesOfType("AWS::IAM::Policy") {
			for _, r := range asList(dig(pol, "Properties", "Roles")) {
				if dig(r, "Ref") == logicalOf(role) {
					deploy = statements(dig(pol, "Properties", "PolicyDocument"))
				}
			}
		}
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"repository policy: the execution role pulls", dig(repoPolicy["Pull"+strings.ToUpper(env.name)], "Principal", "AWS"), executionRole},
			{"deploy role: iam:PassRole", dig(deploy["PassTaskRoles"], "Resource"), []any{executionRole, taskRole}},
			{"deploy role: the deployment group", dig(deploy["CreateDeployment"], "Resource"), prefix + "deploymentgroup:" + application + "/" + w.physicalName(t, es, logicalOf(group))},
			{"deploy role: the application", dig(deploy["RegisterRevision"], "Resource"), prefix + "application:" + application},
			{"deploy role: the deployment configuration", dig(deploy["ReadDeploymentConfig"], "Resource"), prefix + "deploymentconfig:" + fmt.Sprint(resolved(es, dig(groupProps, "DeploymentConfigName")))},
			{"deploy role: the task family", dig(deploy["RegisterTaskDefinition"], "Resource"), es.arn("ecs", "task-definition/"+fmt.Sprint(family)+":*")},
		} {
			if !reflect.DeepEqual(normalize(c.got), normalize(c.want)) {
				t.Errorf("%s: %s names %v, want %v", env.name, c.what, compact(c.got), compact(c.want))
			}
		}
	}
}
