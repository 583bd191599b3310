package delivery

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/trust"
)

// buildProject creates the CodeBuild project that builds and pushes the
// image and writes imageDetail.json.
func (p *pipeline) buildProject(r resolved, name func(string) *string) {
	spec := buildSpec()
	p.project, p.logGroup = p.newProject(r, "BuildLogs", "Build", &awscodebuild.PipelineProjectProps{
		ProjectName: name("-build"),
		Description: jsii.String(fmt.Sprintf("%s: builds the image, pushes it to ECR and writes imageDetail.json", r.prefix)),
		Environment: &awscodebuild.BuildEnvironment{
			// Docker builds need a privileged container.
			Privileged: jsii.Bool(true),
		},
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			"AWS_ACCOUNT_ID":  {Value: awscdk.Aws_ACCOUNT_ID()},
			"IMAGE_REPO_NAME": {Value: p.repo.RepositoryName()},
			"REPOSITORY_URI":  {Value: p.repo.RepositoryUri()},
		},
		BuildSpec: awscodebuild.BuildSpec_FromObject(&spec),
		Cache:     awscodebuild.Cache_Local(awscodebuild.LocalCacheMode_DOCKER_LAYER),
		Timeout:   awscdk.Duration_Minutes(jsii.Number(30)),
	})
	restrictToProject(p.project, name("-build"))
	p.repo.GrantPullPush(p.project)
	p.repo.Grant(p.project, jsii.String("ecr:DescribeImages"))
}

// restrictToProject adds CodeBuild's confused-deputy conditions (CodeBuild
// user guide, "Allow CodeBuild to interact with other AWS services") to a
// project's role: this account, and this project.
func restrictToProject(project awscodebuild.PipelineProject, name *string) {
	trust.Restrict(project.Role(), awscdk.Stack_Of(project).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("codebuild"), Resource: jsii.String("project"), ResourceName: name,
		ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	}))
}

// newProject creates a CodeBuild project of the pipeline and the log group
// it logs to (logsID), both encrypted with the pipeline's key and kept like
// its other data, on CodeBuild's standard image at the small size. props
// holds what differs between the projects.
func (p *pipeline) newProject(r resolved, logsID, id string, props *awscodebuild.PipelineProjectProps) (awscodebuild.PipelineProject, awslogs.LogGroup) {
	logs := awslogs.NewLogGroup(p.Construct, jsii.String(logsID), &awslogs.LogGroupProps{
		Retention:     r.retention,
		RemovalPolicy: r.removal,
		EncryptionKey: p.key,
	})
	props.EncryptionKey = p.key
	if props.Environment == nil {
		props.Environment = &awscodebuild.BuildEnvironment{}
	}
	props.Environment.BuildImage = awscodebuild.LinuxBuildImage_STANDARD_7_0()
	props.Environment.ComputeType = awscodebuild.ComputeType_SMALL
	props.Logging = &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logs}}
	return awscodebuild.NewPipelineProject(p.Construct, jsii.String(id), props), logs
}
