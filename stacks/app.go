package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/internal/iamaspect"
	"ecs-bluegreen/internal/providernag"
	"ecs-bluegreen/internal/providertags"
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
	addAspects(app)
	return sys
}

// addAspects adds the app's own aspects. CDK invokes an aspect on every
// construct at and below the scope it is added to, and each invocation of an
// aspect written in Go is a round trip into the CDK runtime: on the app, these
// three took about 3,500 of the app's 5,300 round trips. So each is added only
// to the constructs it acts on, found in one walk of the finished tree (their
// Go types select them; only a likely plain resource costs a call), with
// AspectPriority_MUTATING: before the default priority, they run before any
// check that reads what they change (cdk-nag). Constructs added after NewApp
// returns get none of them.
func addAspects(app awscdk.App) {
	mutating := &awscdk.AspectOptions{Priority: awscdk.AspectPriority_MUTATING()}
	// Every Allow statement names its actions explicitly.
	explicit := iamaspect.NewExplicitActions()
	// The roles of CDK's custom-resource providers carry the managed policy
	// CDK gives them; the aspect accepts exactly that cdk-nag finding, with
	// its reason, on each such role.
	suppressions := providernag.ProviderSuppressions()
	// Tags_Of skips the roles and functions of CDK's custom-resource
	// providers (plain CfnResource objects); this aspect gives them the
	// tags above, with the priority of the aspects Tags_Of adds.
	tags := providertags.New()
	for _, c := range *app.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if iamaspect.Applies(c) {
			awscdk.Aspects_Of(c).Add(explicit, mutating)
		}
		if mayBePlain(c) {
			if _, ok := providertags.Plain(c); ok {
				aspects := awscdk.Aspects_Of(c)
				aspects.Add(suppressions, mutating)
				aspects.Add(tags, mutating)
			}
		}
	}
}

// mayBePlain reports, from the Go type of a construct alone, whether it can
// be a plain CfnResource (see providertags.Plain, which decides): a
// CloudFormation resource that is not an instance of an L1 class.
func mayBePlain(c constructs.IConstruct) bool {
	_, resource := c.(awscdk.CfnResource)
	_, l1 := c.(awscdk.IInspectable)
	return resource && !l1
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
