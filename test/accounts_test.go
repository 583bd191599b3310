package test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/delivery"
)

// awsPrincipalGrant is one account or role an Allow statement of a trust,
// key, bucket or repository policy admits, with the condition that narrows
// it.
type awsPrincipalGrant struct {
	stack, resource, principal, condition string
}

// awsPrincipalGrants lists every AWS (account or role) principal that an
// Allow statement admits in a template, and fails on a "*" principal in any
// Allow statement. Deny statements may name "*": they only take access
// away (TLS-only bucket and topic policies, the key policies' grant
// restriction).
func awsPrincipalGrants(t *testing.T, stack string, all map[string]map[string]any) []awsPrincipalGrant {
	t.Helper()
	var out []awsPrincipalGrant
	for logical, r := range all {
		props := asMap(r["Properties"])
		for _, doc := range []any{props["PolicyDocument"], props["KeyPolicy"], props["AssumeRolePolicyDocument"], props["RepositoryPolicyText"]} {
			for _, st := range asList(dig(doc, "Statement")) {
				p := dig(st, "Principal")
				if p == nil {
					continue
				}
				everyone := p == "*" || dig(p, "AWS") == "*"
				if dig(st, "Effect") != "Allow" {
					continue
				}
				if everyone {
					t.Errorf("%s/%s: an Allow statement for every principal: %s", stack, logical, compact(st))
					continue
				}
				var arns []any
				switch a := dig(p, "AWS").(type) {
				case nil:
					continue // a service principal
				case []any:
					arns = a
				default:
					arns = []any{a}
				}
				for _, arn := range arns {
					s, ok := arn.(string)
					if !ok {
						s = compact(arn)
					}
					cond := ""
					if c := dig(st, "Condition"); c != nil {
						cond = compact(c)
					}
					out = append(out, awsPrincipalGrant{stack, logical, s, cond})
				}
			}
		}
	}
	return out
}

// TestThreeAccountsNamePrincipalsExactly proves the trust between the
// accounts on the three-account synthesis: every AWS principal that any
// Allow statement of any stack admits (trust, key, bucket and repository
// policies, and inline policies with a principal) is one of the expected
// list, and the list is complete; no Allow statement admits "*".
//
//   - each environment role the pipeline uses trusts the tools account only
//     for the one pipeline or project role that assumes it;
//   - the artifact bucket and key admit the staging deploy role (CodeDeploy
//     reads its inputs as that role), the repository the two execution roles;
//   - each account's own keys admit that account's root (key
//     administration), and CDK's PublishGetStackOutputRole (its mechanism for
//     the approval link's cross-account stack output) trusts the tools
//     account's bootstrap CloudFormation execution role.
func TestThreeAccountsNamePrincipalsExactly(t *testing.T) {
	s := accountsApp(t)
	var got []string
	for _, id := range accountsIDs {
		for _, g := range awsPrincipalGrants(t, id, templateResources(t, s.templates[id])) {
			// The resource's logical ID without CDK's hash.
			name := g.resource
			if len(name) > 8 {
				name = strings.TrimRight(name[:len(name)-8], "0123456789ABCDEF")
			}
			got = append(got, fmt.Sprintf("%s %s <- %s %s", g.stack, name, g.principal, g.condition))
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)
	root := func(acct string) string { return "arn:aws:iam::" + acct + ":root" }
	role := func(acct, name string) string { return "arn:aws:iam::" + acct + ":role/" + name }
	only := func(arn string) string { return `{"ArnEquals":{"aws:PrincipalArn":"` + arn + `"}}` }
	// Elastic Load Balancing's account for us-east-1 delivers access logs.
	elb := "arn:aws:iam::127311923021:root"
	want := []string{
		"Pipeline DeliveryArtifactBucketPolicy <- " + role(stagingAccount, "webapp-stg-dev-deploy") + " ",
		"Pipeline DeliveryKey <- " + role(stagingAccount, "webapp-stg-dev-deploy") + " ",
		"Pipeline DeliveryKey <- " + root(toolsAccount) + " ",
		"Pipeline DeliveryRepository <- " + role(productionAccount, "webapp-prd-dev-execution") + " ",
		"Pipeline DeliveryRepository <- " + role(stagingAccount, "webapp-stg-dev-execution") + " ",
		"Production AlarmsKey <- " + root(productionAccount) + " ",
		"Production LogsKey <- " + root(productionAccount) + " ",
		"Production PipelineAccessReleaseRole <- " + root(toolsAccount) + " " + only(role(toolsAccount, "webapp-dev-release-production")),
		"Production ServiceAccessLogsBucketPolicy <- " + elb + " ",
		"Staging AlarmsKey <- " + root(stagingAccount) + " ",
		"Staging LogsKey <- " + root(stagingAccount) + " ",
		"Staging PipelineAccessDeployRole <- " + root(toolsAccount) + " " + only(role(toolsAccount, "webapp-dev-pipeline")),
		"Staging PipelineAccessRenderRole <- " + root(toolsAccount) + " " + only(role(toolsAccount, "webapp-dev-render")),
		`Staging PublishGetStackOutputRole <- {"Fn::Sub":"arn:${AWS::Partition}:iam::` + toolsAccount + `:role/cdk-hnb659fds-cfn-exec-role-` + toolsAccount + `-us-east-1"} `,
		`Staging ServiceAccessLogsBucketPolicy <- {"Fn::GetAtt":["CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092","Arn"]} `,
		"Staging ServiceAccessLogsBucketPolicy <- " + elb + " ",
		`Staging ServiceServerAccessLogsBucketPolicy <- {"Fn::GetAtt":["CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092","Arn"]} `,
	}
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AWS principals admitted:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestThreeAccountsStacksLandInTheirAccounts proves each stack's account,
// and that the environment roles the pipeline assumes carry what the
// pipeline does there: the staging deploy role CodeDeploy's statements, the
// production release role the stack update of its own stack only.
func TestThreeAccountsStacksLandInTheirAccounts(t *testing.T) {
	s := accountsApp(t)
	for _, id := range accountsIDs {
		if got := *s.app.Stack(id).Account(); got != accountsOfIDs[id] {
			t.Errorf("%s: account %s, want %s", id, got, accountsOfIDs[id])
		}
	}
	policyOf := func(stack, roleSuffix string) string {
		all := templateResources(t, s.templates[stack])
		var statements []string
		for _, p := range all {
			if p["Type"] != "AWS::IAM::Policy" {
				continue
			}
			for _, r := range asList(dig(p, "Properties", "Roles")) {
				if strings.Contains(compact(r), roleSuffix) {
					for _, st := range asList(dig(p, "Properties", "PolicyDocument", "Statement")) {
						statements = append(statements, compact(st))
					}
				}
			}
		}
		return strings.Join(statements, "\n")
	}
	deploy := policyOf("Staging", "PipelineAccessDeployRole")
	for _, want := range []string{"codedeploy:CreateDeployment", "ecs:RegisterTaskDefinition", `"iam:PassedToService":"ecs-tasks.amazonaws.com"`,
		// The tools account's artifact objects and keys, as ARNs IAM accepts.
		`"Resource":"arn:aws:s3:::webapp-dev-artifacts-` + toolsAccount + `-us-east-1/*","Sid":"ReadArtifacts"`,
		`"Resource":"arn:aws:kms:us-east-1:` + toolsAccount + `:key/*","Sid":"DecryptArtifacts"`} {
		if !strings.Contains(deploy, want) {
			t.Errorf("staging deploy role: no %s in\n%s", want, deploy)
		}
	}
	release := policyOf("Production", "PipelineAccessReleaseRole")
	if !strings.Contains(release, "cloudformation:UpdateStack") || !strings.Contains(release, ":stack/webapp-dev-production/*") {
		t.Errorf("production release role: want UpdateStack on its own stack only:\n%s", release)
	}
	if strings.Contains(release, "webapp-dev-staging") {
		t.Errorf("production release role reaches the staging stack:\n%s", release)
	}
	// The tools account's release project may only assume that role.
	tools := templateResources(t, s.templates["Pipeline"])
	for logical, p := range tools {
		if p["Type"] == "AWS::IAM::Policy" && strings.Contains(compact(p), "cloudformation:UpdateStack") {
			t.Errorf("Pipeline/%s: a tools-account role may update a stack itself: %s", logical, compact(dig(p, "Properties", "PolicyDocument")))
		}
	}
}

// TestThreeAccountSynthesisPassesCdkNag proves cdk-nag's AwsSolutions checks
// over the three-account synthesis.
func TestThreeAccountSynthesisPassesCdkNag(t *testing.T) { accountsApp(t).requireNagClean(t) }

// TestOneAccountCreatesNoCrossAccountAccess proves that with one account
// (cdk.json's) no environment stack holds roles for another account.
func TestOneAccountCreatesNoCrossAccountAccess(t *testing.T) {
	for _, id := range app.StackIDs() {
		for logical := range allResources(t, id) {
			if strings.HasPrefix(logical, "PipelineAccess") {
				t.Errorf("%s/%s: a cross-account role in a one-account system", id, logical)
			}
		}
	}
}

// TestPipelineRefusesEnvironmentsItCannotReach proves the pipeline
// construct's account and region rules, all reported in one message: an
// environment in another region, an environment in another account without
// the roles its account gives the pipeline (Access), and an environment
// whose stack names no account while the pipeline's does. The pipeline is
// built, never synthesized, in an app of its own (the shared apps keep their
// stacks).
func TestPipelineRefusesEnvironmentsItCannotReach(t *testing.T) {
	s := accountsApp(t)
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("RefusingPipeline"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(toolsAccount), Region: jsii.String("eu-west-1")},
	})
	msg := panicMessage(func() {
		delivery.NewPipeline(stack, "Pipeline", &delivery.PipelineProps{
			NamePrefix: jsii.String("refused"), GitHubOwner: jsii.String("o"), GitHubRepo: jsii.String("r"),
			Environments: []*delivery.DeployEnvironment{
				{Name: jsii.String("staging"), Service: s.app.System.Staging.Service},
				{Name: jsii.String("agnostic"), Service: dlv.staging},
			},
		})
	})
	for _, want := range []string{
		"Environments[0] (staging) is in region us-east-1 and the pipeline in eu-west-1: the pipeline releases within its own region",
		"Environments[0] (staging) lives in account " + stagingAccount + ", not the pipeline's: give its Access",
		"Environments[1] (agnostic): give both its stack and the pipeline's an explicit account, or neither",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q\nwant it to contain %q", msg, want)
		}
	}
}
