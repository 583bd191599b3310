package iamactions_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/iamactions"
	_ "ecs-bluegreen/internal/jsiinode"
)

// explicitAll runs Explicit on every construct of the app, as the app does.
func explicitAll(app awscdk.App) {
	for _, c := range *app.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		iamactions.Explicit(c)
	}
}

// policyStatements is the Statement list of the one AWS::IAM::Policy of a
// stack's template.
func policyStatements(t *testing.T, stack awscdk.Stack) []any {
	t.Helper()
	policies := *assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::IAM::Policy"), nil)
	if len(policies) != 1 {
		t.Fatalf("%s: %d IAM policies, want 1", *stack.StackName(), len(policies))
	}
	for _, p := range policies {
		doc := (*p)["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
		return doc["Statement"].([]any)
	}
	return nil
}

func actionsOf(statement any) []string {
	var out []string
	switch a := statement.(map[string]any)["Action"].(type) {
	case string:
		out = append(out, a)
	case []any:
		for _, x := range a {
			out = append(out, x.(string))
		}
	}
	return out
}

func hasWildcard(actions []string) bool {
	return slices.ContainsFunc(actions, func(a string) bool { return strings.Contains(a, "*") })
}

// TestAReferenceToAnotherStackStaysAReference: a role in one stack granted
// read on a bucket of another gets explicit actions, and its policy still
// refers to the bucket through an import of the other stack's export, as
// CDK renders any cross-stack reference. (Rewriting a document resolved
// before CDK wires cross-stack references would point the policy at a
// logical ID of the wrong stack.)
func TestAReferenceToAnotherStackStaysAReference(t *testing.T) {
	app := awscdk.NewApp(nil)
	producer := awscdk.NewStack(app, jsii.String("Producer"), nil)
	consumer := awscdk.NewStack(app, jsii.String("Consumer"), nil)
	bucket := awss3.NewBucket(producer, jsii.String("Bucket"), nil)
	role := awsiam.NewRole(consumer, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	bucket.GrantRead(role, nil)
	explicitAll(app)

	statements := policyStatements(t, consumer)
	rendered, _ := json.Marshal(statements)
	if !strings.Contains(string(rendered), "Fn::ImportValue") {
		t.Errorf("the consumer's policy does not import the bucket's ARN: %s", rendered)
	}
	for _, s := range statements {
		if actions := actionsOf(s); hasWildcard(actions) {
			t.Errorf("a wildcard action is left: %v", actions)
		}
	}
	if !slices.Contains(actionsOf(statements[0]), "s3:GetObjectVersion") {
		t.Errorf("s3:GetObject* was not expanded: %v", actionsOf(statements[0]))
	}
	outputs := *assertions.Template_FromStack(producer, nil).FindOutputs(jsii.String("*"), nil)
	if len(outputs) == 0 {
		t.Errorf("the producer exports nothing for the consumer to import")
	}
}

// TestEveryReaderSeesTheExplicitActions: the policy resolves with explicit
// actions wherever it is resolved (a check such as cdk-nag resolves the
// property itself), the reference to the bucket in the same stack is kept,
// and a Deny with "*" is left as it is.
func TestEveryReaderSeesTheExplicitActions(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	bucket := awss3.NewBucket(stack, jsii.String("Bucket"), nil)
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	bucket.GrantReadWrite(role, nil)
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect: awsiam.Effect_DENY, Actions: jsii.Strings("s3:*"), Resources: jsii.Strings("*"),
	}))
	explicitAll(app)

	policy := role.Node().FindChild(jsii.String("DefaultPolicy")).Node().DefaultChild().(awsiam.CfnPolicy)
	resolved, _ := json.Marshal(stack.Resolve(policy.PolicyDocument()))
	for _, want := range []string{"s3:DeleteObjectVersion", "s3:ListBucketVersions", `"Fn::GetAtt":["Bucket83908E77","Arn"]`} {
		if !strings.Contains(string(resolved), want) {
			t.Errorf("the resolved policy lacks %s: %s", want, resolved)
		}
	}
	for _, s := range policyStatements(t, stack) {
		actions := actionsOf(s)
		deny := s.(map[string]any)["Effect"] == "Deny"
		if deny != slices.Equal(actions, []string{"s3:*"}) {
			t.Errorf("statement %v: a Deny must keep s3:*, an Allow must have no wildcard", s)
		}
		if !deny && hasWildcard(actions) {
			t.Errorf("a wildcard action is left: %v", actions)
		}
	}
}

// TestADocumentWithoutWildcardKeepsItsValue: no token replaces a document
// that has nothing to rewrite.
func TestADocumentWithoutWildcardKeepsItsValue(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Actions: jsii.Strings("s3:GetObject"), Resources: jsii.Strings("*")}))
	policy := role.Node().FindChild(jsii.String("DefaultPolicy")).Node().DefaultChild().(awsiam.CfnPolicy)
	if !iamactions.Explicit(policy) {
		t.Fatal("Explicit does not take an IAM policy")
	}
	if _, ok := policy.PolicyDocument().(awsiam.PolicyDocument); !ok {
		t.Errorf("the document without a wildcard was replaced: %T", policy.PolicyDocument())
	}
	if iamactions.Explicit(role) {
		t.Error("Explicit takes a role, which holds no policy document of its own")
	}
}
