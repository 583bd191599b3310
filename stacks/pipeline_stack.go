package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/constructs/delivery"
)

// PipelineStackProps configures the pipeline stack.
type PipelineStackProps struct {
	awscdk.StackProps
	// Config is the whole app configuration (names, source, notifications). Required.
	Config *config.Config
	// Staging is released to first. Required.
	Staging *ServiceStack
	// Production is released to after a manual approval. Required.
	Production *ServiceStack
	// Access are the roles of the environments in other accounts, by
	// environment name (accounts.go).
	Access map[string]delivery.EnvironmentAccess
}

// PipelineStack holds the delivery pipeline. It depends on the environment
// stacks and never the other way round: what an environment needs from the
// pipeline (pulling images) is granted here. Pass its Stack field, not the
// struct, where CDK expects a construct.
type PipelineStack struct {
	awscdk.Stack
	Pipeline delivery.Pipeline
}

// NewPipelineStack creates the pipeline that releases to staging, then, after
// approval, to production.
func NewPipelineStack(scope constructs.Construct, id string, props *PipelineStackProps) *PipelineStack {
	if props == nil || props.Config == nil || props.Staging == nil || props.Production == nil {
		panic("stacks: PipelineStackProps with Config, Staging and Production is required")
	}
	cfg := props.Config
	sprops := props.StackProps
	if sprops.Description == nil {
		sprops.Description = jsii.String(fmt.Sprintf("%s pipeline: GitHub source, image build, blue/green releases to staging then production (%s)", cfg.Project, cfg.EnvironmentSuffix))
	}
	stack := awscdk.NewStack(scope, &id, &sprops)
	// The pipeline names what it deploys to by fixed physical names, and only
	// the approval's link reads an environment stack's output: the explicit
	// dependencies, not references, order `cdk deploy --all`.
	stack.AddStackDependency(props.Staging.Stack, jsii.String("releases to the staging service"))
	stack.AddStackDependency(props.Production.Stack, jsii.String("releases to the production service"))

	s := &PipelineStack{Stack: stack}
	s.Pipeline = delivery.NewPipeline(stack, "Delivery", &delivery.PipelineProps{
		NamePrefix:        jsii.String(cfg.PipelinePrefix()),
		GitHubOwner:       jsii.String(cfg.GitHubOwner),
		GitHubRepo:        jsii.String(cfg.GitHubRepo),
		GitHubBranch:      jsii.String(cfg.GitHubBranch),
		ConnectionArn:     optional(cfg.ConnectionArn),
		NotificationEmail: optional(cfg.NotificationEmail),
		// By default (pipeline.removalPolicy retain) the images, artifacts and
		// logs outlive the stack, like production's data.
		RemovalPolicy: removalPolicy(cfg.Pipeline.RemovalPolicy),
		LogRetention:  RetentionDays(cfg.Pipeline.LogRetentionDays),
		// The images each environment runs or may roll back to.
		ImagesKeptPerEnvironment: jsii.Number(float64(cfg.Pipeline.ImagesPerEnvironment)),
		Environments: []*delivery.DeployEnvironment{
			{Name: jsii.String(cfg.Staging.Name), Service: props.Staging.Service, Access: props.Access[cfg.Staging.Name]},
			{Name: jsii.String(cfg.Production.Name), Service: props.Production.Service, RequireApproval: true, Access: props.Access[cfg.Production.Name]},
		},
	})

	addChatbot(stack, cfg, s.Pipeline.Topic(), props.Staging, props.Production)

	awscdk.NewCfnOutput(stack, jsii.String("PipelineName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Name of the release pipeline"),
		Value:       s.Pipeline.CodePipeline().PipelineName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("RepositoryUri"), &awscdk.CfnOutputProps{
		Description: jsii.String("ECR repository of the released images"),
		Value:       s.Pipeline.Repository().RepositoryUri(),
	})
	return s
}

// optional maps an empty configuration value to nil (the construct's default).
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
