package bluegreen

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/nagsuppress"
)

// ecsLinkedRoleName is the service-linked role ECS uses to manage the
// network interfaces and load balancer registrations of a service's tasks.
const ecsLinkedRoleName = "AWSServiceRoleForECS"

// ensureEcsServiceLinkedRole makes sure the account has ECS's service-linked
// role before the cluster and the service are created. In a brand-new
// account, ECS creates the role on first use, and a CreateService that runs
// before the new role can be assumed fails ("Unable to assume the service
// linked role") and rolls the stack back.
//
// AWS::IAM::ServiceLinkedRole cannot do this: its creation fails when the
// role exists already (any account that ran ECS before, and the second
// environment stack). So a custom resource calls iam:CreateServiceLinkedRole
// and treats "the role exists" (InvalidInput: "Service role name ... has
// been taken in this account") as success. It never deletes the role: other
// services of the account rely on it, and IAM refuses to delete it while
// ECS has resources that use it.
func ensureEcsServiceLinkedRole(scope constructs.Construct, r resolved) constructs.IDependable {
	stack := awscdk.Stack_Of(scope)
	roleArn := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("role"),
		ResourceName: jsii.String("aws-service-role/ecs.amazonaws.com/" + ecsLinkedRoleName),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	call := &customresources.AwsSdkCall{
		Service: jsii.String("IAM"),
		Action:  jsii.String("createServiceLinkedRole"),
		Parameters: map[string]any{
			"AWSServiceName": "ecs.amazonaws.com",
			"Description":    "Lets ECS manage the network interfaces and load balancer targets of tasks",
		},
		PhysicalResourceId: customresources.PhysicalResourceId_Of(jsii.String(ecsLinkedRoleName)),
		// SDK for JavaScript v3 names the error InvalidInputException.
		IgnoreErrorCodesMatching: jsii.String("InvalidInput"),
	}
	// The function's role is CDK's (lambda.amazonaws.com, no condition):
	// Lambda documents no confused-deputy keys for an execution role's trust.
	cr := customresources.NewAwsCustomResource(scope, jsii.String("EcsServiceLinkedRole"), &customresources.AwsCustomResourceProps{
		OnCreate: call,
		// An update (a changed description) asks again: as idempotent as create.
		OnUpdate: call,
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("iam:CreateServiceLinkedRole"),
				Resources: &[]*string{roleArn},
				Conditions: &map[string]any{
					"StringEquals": map[string]any{"iam:AWSServiceName": "ecs.amazonaws.com"},
				},
			}),
		}),
		InstallLatestAwsSdk: jsii.Bool(false),
		// The function's logs are kept and encrypted like the environment's others.
		LogGroup: awslogs.NewLogGroup(scope, jsii.String("EcsServiceLinkedRoleLogs"), &awslogs.LogGroupProps{
			Retention:     r.retention,
			RemovalPolicy: r.removal,
			EncryptionKey: r.logKey,
		}),
	})
	suppressSingletonFindings(stack)
	return cr
}

// suppressSingletonFindings records why the function that runs every
// AwsCustomResource of the stack may use the managed basic-execution policy.
func suppressSingletonFindings(stack awscdk.Stack) {
	// The provider is a singleton per stack, found by the ID CDK gives it.
	for _, c := range *stack.Node().Children() {
		id := *c.Node().Id()
		if len(id) < len("AWS") || id[:3] != "AWS" {
			continue
		}
		role := c.Node().TryFindChild(jsii.String("ServiceRole"))
		if role == nil {
			continue
		}
		nagsuppress.Add(role, nagsuppress.Rule{
			ID:        "AwsSolutions-IAM4",
			Reason:    "CDK's AwsCustomResource function writes its own logs with AWSLambdaBasicExecutionRole; its only other permission is iam:CreateServiceLinkedRole for ECS's role",
			AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
		})
	}
}
