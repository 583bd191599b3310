package bluegreen

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	targets "github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// keepWarmHours is how often the pre-traffic function is invoked between
// releases. Lambda reclaims the network interfaces of a VPC function that
// has been idle for weeks and marks it Inactive; the next invocation fails
// while they are recreated. A daily no-op invocation keeps it Active, so the
// first release after a quiet month is not failed by its own check.
const keepWarmHours = 24

// keepWarm invokes fn on a schedule with EventBridge's scheduled event,
// which the handler answers without reporting to any deployment.
func keepWarm(scope constructs.Construct, fn awslambda.IFunction, prefix string) awsevents.Rule {
	return awsevents.NewRule(scope, jsii.String("PreTrafficHookKeepWarm"), &awsevents.RuleProps{
		RuleName:    jsii.String(prefix + "-pretraffic-warm"),
		Description: jsii.String(fmt.Sprintf("%s: invokes the pre-traffic function every %d hours so that Lambda keeps its network interfaces", prefix, keepWarmHours)),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(keepWarmHours))),
		Targets: &[]awsevents.IRuleTarget{targets.NewLambdaFunction(fn, &targets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		})},
	})
}
