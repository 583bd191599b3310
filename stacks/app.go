package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
)

// System is every stack of the app.
type System struct {
	Staging    *ServiceStack
	Production *ServiceStack
}

// NewApp adds the app's stacks to app and tags every taggable resource.
// Construct IDs ("Staging", "Production", "Pipeline") are stable: renaming
// one replaces every resource below it.
func NewApp(app awscdk.App, cfg *config.Config) *System {
	var env *awscdk.Environment
	if cfg.Account != "" || cfg.Region != "" {
		env = &awscdk.Environment{Region: jsii.String(cfg.Region)}
		if cfg.Account != "" {
			env.Account = jsii.String(cfg.Account)
		}
	}
	stackProps := func(part string) awscdk.StackProps {
		return awscdk.StackProps{Env: env, StackName: jsii.String(cfg.StackName(part))}
	}
	sys := &System{}
	sys.Staging = NewServiceStack(app, "Staging", &ServiceStackProps{
		StackProps: stackProps("staging"), Config: cfg, Environment: &cfg.Staging,
	})
	sys.Production = NewServiceStack(app, "Production", &ServiceStackProps{
		StackProps: stackProps("production"), Config: cfg, Environment: &cfg.Production,
	})

	tags := awscdk.Tags_Of(app)
	tags.Add(jsii.String("Project"), jsii.String(cfg.Project), nil)
	tags.Add(jsii.String("ManagedBy"), jsii.String("aws-cdk"), nil)
	tags.Add(jsii.String("CostCenter"), jsii.String(cfg.CostCenter), nil)
	// Environment names the part of the system; the suffix tells copies apart.
	awscdk.Tags_Of(sys.Staging.Stack).Add(jsii.String("Environment"), jsii.String("staging"), nil)
	awscdk.Tags_Of(sys.Production.Stack).Add(jsii.String("Environment"), jsii.String("production"), nil)
	tags.Add(jsii.String("EnvironmentSuffix"), jsii.String(cfg.EnvironmentSuffix), nil)
	return sys
}
