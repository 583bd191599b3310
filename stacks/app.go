package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/internal/iamactions"
	"ecs-bluegreen/internal/provider"
)

// System is every stack of the app.
type System struct {
	Staging    *ServiceStack
	Production *ServiceStack
	Pipeline   *PipelineStack
}

// NewApp adds the app's stacks to app and tags every taggable resource.
// Construct IDs ("Staging", "Production", "Pipeline") are stable: renaming
// one replaces every resource below it.
func NewApp(app awscdk.App, cfg *config.Config) *System {
	// Each stack in its own account (config.Accounts), all in one region.
	accounts := map[string]string{
		"staging": cfg.Accounts.Staging, "production": cfg.Accounts.Production, "pipeline": cfg.Accounts.Pipeline,
	}
	stackProps := func(part string) awscdk.StackProps {
		var env *awscdk.Environment
		if account := accounts[part]; account != "" || cfg.Region != "" {
			env = &awscdk.Environment{Region: jsii.String(cfg.Region)}
			if account != "" {
				env.Account = jsii.String(account)
			}
		}
		return awscdk.StackProps{Env: env, StackName: jsii.String(cfg.StackName(part))}
	}
	sys := &System{}
	sys.Staging = NewServiceStack(app, "Staging", &ServiceStackProps{
		StackProps: stackProps("staging"), Config: cfg, Environment: &cfg.Staging,
	})
	sys.Production = NewServiceStack(app, "Production", &ServiceStackProps{
		StackProps: stackProps("production"), Config: cfg, Environment: &cfg.Production,
	})
	access := environmentAccess(cfg, sys)
	sys.Pipeline = NewPipelineStack(app, "Pipeline", &PipelineStackProps{
		StackProps: stackProps("pipeline"), Config: cfg, Staging: sys.Staging, Production: sys.Production,
		Access: access,
	})

	tag(app, "Project", cfg.Project)
	tag(app, "ManagedBy", "aws-cdk")
	tag(app, "CostCenter", cfg.CostCenter)
	tag(app, "EnvironmentSuffix", cfg.EnvironmentSuffix)
	// Environment names the part of the system; the suffix tells copies apart.
	tag(sys.Staging.Stack, "Environment", "staging")
	tag(sys.Production.Stack, "Environment", "production")
	tag(sys.Pipeline.Stack, "Environment", "pipeline")
	finish(app)
	return sys
}

// finish does what the app asks of every construct of the finished tree, in
// one walk and only on the constructs it concerns, which their Go types
// select (only a likely plain resource costs a call into the CDK runtime):
// every policy document's actions become explicit (iamactions), and CDK's
// provider resources get the app's tags and their cdk-nag suppression
// (provider). It is done here rather than by aspects, which CDK would call
// back into Go for, once per construct they visit, at every synthesis.
// Constructs added after NewApp returns are not covered.
func finish(app awscdk.App) {
	providers := provider.NewPass()
	for _, c := range *app.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if !iamactions.Explicit(c) {
			providers.Visit(c)
		}
	}
}

// UntaggedResourceTypes are taggable in CloudFormation's newest schema but
// not yet in the schema cfn-lint validates against; tagging them would fail
// the lint gate. Listeners and scalable targets carry no cost, so cost
// allocation loses nothing. The tags test fails once cfn-lint's schema
// accepts tags on one of them. (Listener rules exist under the ecs engine.)
// A dashboard is billed per account, not per resource tag, so it loses no
// cost allocation either.
var UntaggedResourceTypes = []string{"AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::ListenerRule", "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::CloudWatch::Dashboard"}

func tag(scope constructs.IConstruct, key, value string) {
	awscdk.Tags_Of(scope).Add(jsii.String(key), jsii.String(value), &awscdk.TagProps{
		ExcludeResourceTypes: jsii.Strings(UntaggedResourceTypes...),
	})
}
