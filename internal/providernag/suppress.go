package providernag

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"ecs-bluegreen/internal/providertags"
)

// basicExecutionRole is the managed policy, as CDK's custom-resource
// provider framework writes it, that it attaches to every handler's role.
const basicExecutionRole = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

// BasicExecutionRoleFinding is cdk-nag's name for that policy in an
// AwsSolutions-IAM4 finding.
const BasicExecutionRoleFinding = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

// basicExecutionRoleReason is why the finding is accepted.
const basicExecutionRoleReason = "CDK's custom-resource provider framework attaches AWSLambdaBasicExecutionRole to the role " +
	"of each handler it writes and offers no option to replace it. The policy allows only logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents, " +
	"which the handler needs to write its own logs, and the handler runs only while CloudFormation changes the stack."

type suppressions struct {
	_ byte // jsii passes a Go object by reference only when it is not an empty struct
}

// ProviderSuppressions returns an aspect that suppresses, on the role of
// each of CDK's custom-resource providers (a plain CfnResource under a
// CustomResourceProviderBase) that has AWSLambdaBasicExecutionRole, the one
// AwsSolutions-IAM4 finding that policy causes. A provider role without the
// policy gets no suppression, so none can go stale; any other finding on a
// provider role stays unsuppressed.
func ProviderSuppressions() awscdk.IAspect { return &suppressions{} }

func (*suppressions) Visit(node constructs.IConstruct) {
	res, ok := providertags.Plain(node)
	if !ok || *res.CfnResourceType() != "AWS::IAM::Role" {
		return
	}
	if _, provider := node.Node().Scope().(awscdk.CustomResourceProviderBase); !provider {
		return
	}
	props := res.CfnProperties()
	if props == nil {
		return
	}
	arns, _ := awscdk.Stack_Of(res).Resolve((*props)["ManagedPolicyArns"]).([]any)
	for _, arn := range arns {
		if sub, ok := arn.(map[string]any); ok && sub["Fn::Sub"] == basicExecutionRole {
			cdknag.NagSuppressions_AddResourceSuppressions(res, &[]*cdknag.NagPackSuppression{{
				Id:        jsii.String("AwsSolutions-IAM4"),
				Reason:    jsii.String(basicExecutionRoleReason),
				AppliesTo: &[]any{BasicExecutionRoleFinding},
			}}, jsii.Bool(false))
			return
		}
	}
}
