// Package trust adds the confused-deputy conditions AWS documents to the
// trust policies of roles that AWS services assume: the role may be assumed
// only on behalf of this account (aws:SourceAccount) and of the named
// resources (aws:SourceArn). Add them only where the service's documentation
// says it sends those keys; a condition the service does not send breaks the
// role.
package trust

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// Conditions are the confused-deputy conditions for a role assumed by a
// service acting for a resource whose ARN matches sourceArn, in the stack's
// account.
func Conditions(stack awscdk.Stack, sourceArn *string) map[string]any {
	return map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		"ArnLike":      map[string]any{"aws:SourceArn": sourceArn},
	}
}

// Restrict adds Conditions to the single statement of the trust policy of
// a role that a CDK construct created for a service (its L1 is reachable,
// its trust policy is not).
func Restrict(role awsiam.IRole, sourceArn *string) {
	cfn := role.Node().DefaultChild().(awsiam.CfnRole)
	cfn.AddPropertyOverride(jsii.String("AssumeRolePolicyDocument.Statement.0.Condition"), Conditions(awscdk.Stack_Of(role), sourceArn))
}
