package provider

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"

	"ecs-bluegreen/internal/nagsuppress"
)

// basicExecutionRole is the managed policy, as CDK's custom-resource
// provider framework writes it, that it attaches to every handler's role.
const basicExecutionRole = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

// basicExecutionRoleFinding is cdk-nag's name for that policy in an
// AwsSolutions-IAM4 finding.
const basicExecutionRoleFinding = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

// basicExecutionRoleReason is why the finding is accepted.
const basicExecutionRoleReason = "CDK's custom-resource provider framework attaches AWSLambdaBasicExecutionRole to the role " +
	"of each handler it writes and offers no option to replace it. The policy allows only logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents, " +
	"which the handler needs to write its own logs, and the handler runs only while CloudFormation changes the stack."

// suppress records, on the role of one of CDK's custom-resource providers
// that has AWSLambdaBasicExecutionRole, the one AwsSolutions-IAM4 finding
// that policy causes. A provider role without the policy gets no
// suppression, so none can go stale; any other finding on a provider role
// stays unsuppressed.
func suppress(r resource) {
	if r.typ != "AWS::IAM::Role" {
		return
	}
	if _, provider := r.node.Scope().(awscdk.CustomResourceProviderBase); !provider {
		return
	}
	for _, arn := range managedPolicyArns(r) {
		if sub, ok := arn.(map[string]any); ok && sub["Fn::Sub"] == basicExecutionRole {
			nagsuppress.Add(r.res, nagsuppress.Rule{
				ID: "AwsSolutions-IAM4", Reason: basicExecutionRoleReason, AppliesTo: []string{basicExecutionRoleFinding},
			})
			return
		}
	}
}

// managedPolicyArns is a role's ManagedPolicyArns as CloudFormation sees
// them. The provider framework writes them as plain values; any other value
// is resolved in the role's stack.
func managedPolicyArns(r resource) []any {
	arns, _ := r.props["ManagedPolicyArns"].([]any)
	for _, arn := range arns {
		if _, plain := arn.(map[string]any); !plain {
			arns, _ = awscdk.Stack_Of(r.res).Resolve(r.props["ManagedPolicyArns"]).([]any)
			break
		}
	}
	return arns
}
