// Package keypolicy holds the KMS key policy statements that every
// customer-managed key of the app carries.
package keypolicy

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// CloudWatchLogs lets CloudWatch Logs of the stack's region use the key for
// the log groups of the stack's account, and only for them: the encryption
// context names the log group (the statement AWS documents, actions written out).
func CloudWatchLogs(stack awscdk.Stack) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(fmt.Sprintf("logs.%s.amazonaws.com", *stack.Region())), nil)},
		Actions: jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
			"kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"),
		Resources: jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String("*"),
					ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
				}),
			},
		},
	})
}

// GrantsOnlyForAwsResources denies kms:CreateGrant unless an AWS service
// creates the grant for one of its resources (as ECR does per repository):
// nobody may hand out direct use of the key.
func GrantsOnlyForAwsResources() awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("GrantsOnlyForAwsResources"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"BoolIfExists": map[string]any{"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"},
		},
	})
}
