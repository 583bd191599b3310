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
	this := p.Construct
	p.logGroup = awslogs.NewLogGroup(this, jsii.String("BuildLogs"), &awslogs.LogGroupProps{
		Retention:     r.retention,
		RemovalPolicy: r.removal,
		EncryptionKey: p.key,
	})
	spec := buildSpec()
	p.project = awscodebuild.NewPipelineProject(this, jsii.String("Build"), &awscodebuild.PipelineProjectProps{
		ProjectName:   name("-build"),
		Description:   jsii.String(fmt.Sprintf("%s: builds the image, pushes it to ECR and writes imageDetail.json", r.prefix)),
		EncryptionKey: p.key,
		Environment: &awscodebuild.BuildEnvironment{
			BuildImage:  awscodebuild.LinuxBuildImage_STANDARD_7_0(),
			ComputeType: awscodebuild.ComputeType_SMALL,
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
		Logging: &awscodebuild.LoggingOptions{
			CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: p.logGroup},
		},
		Timeout: awscdk.Duration_Minutes(jsii.Number(30)),
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
