// Package delivery provides an L3 construct for the release pipeline of a
// containerised service: GitHub source through a CodeConnections connection,
// an image build in CodeBuild pushed to ECR, then a CodeDeploy blue/green
// release to each environment in order, with manual approvals where asked.
// Each deploy stage renders its environment's task definition template and
// AppSpec right before its release.
package delivery

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodeconnections"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	actions "github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/keypolicy"
	"ecs-bluegreen/internal/logbucket"
)

// Stage names, in the order the pipeline runs them; each environment adds
// DeployStageName(name), preceded by ApprovalStageName(name) when it
// requires approval.
const (
	SourceStageName = "Source"
	BuildStageName  = "Build"
	// SourceVariablesNamespace holds the source action's variables (CommitId).
	SourceVariablesNamespace = "SourceVariables"
)

// DeployStageName is the stage that releases to an environment.
func DeployStageName(environment string) string { return "Deploy-" + environment }

// ApprovalStageName is the manual approval before an environment.
func ApprovalStageName(environment string) string { return "Approve-" + environment }

// maxConnectionName is AWS's limit on a CodeConnections connection name.
const maxConnectionName = 32

// PipelineProps configures a delivery pipeline. Optional fields are nil (or
// zero) for their default.
type PipelineProps struct {
	// NamePrefix is the physical name of the pipeline, the ECR repository and
	// the created connection, and starts the other physical names (build
	// project, topic, failure rule, key alias). At most 55 characters (the
	// failure rule's name), and 32 when a connection is created. Required.
	NamePrefix *string
	// GitHubOwner is the user or organisation owning the application
	// repository. Required.
	GitHubOwner *string
	// GitHubRepo is the application repository; it holds the Dockerfile at
	// its root. Required.
	GitHubRepo *string
	// GitHubBranch is the branch whose pushes start a release. Default: "main".
	GitHubBranch *string
	// ConnectionArn is an existing CodeConnections (CodeStar) GitHub
	// connection. Default: - a new connection is created; it must be approved
	// once in the console before the first release.
	ConnectionArn *string
	// NotificationEmail is subscribed to approval requests and pipeline
	// failures. Default: - no subscription.
	NotificationEmail *string
	// ImagesKeptPerEnvironment is how many of the images released to each
	// environment the repository keeps, whatever else is built: the one the
	// environment runs and the ones it may roll back to. Default: 10.
	ImagesKeptPerEnvironment *float64
	// RemovalPolicy applies to the key, the artifact and access-log buckets,
	// the repository, the build and render logs and the dead-letter queue of
	// failure notices. Default: RETAIN.
	RemovalPolicy awscdk.RemovalPolicy
	// LogRetention is how long build and render logs are kept. Default: one month.
	LogRetention awslogs.RetentionDays
	// Environments are released to in this order, each in its own stage.
	// At least one. Required.
	Environments []*DeployEnvironment
}

// DeployEnvironment is one environment the pipeline releases to.
type DeployEnvironment struct {
	// Name is lower-case letters and digits ("staging"); it names the stage,
	// the files rendered for it and the image tag it gives the images it
	// releases (ImageTagPrefix). Required.
	Name *string
	// Service receives the release: a bluegreen.Service, or anything else
	// that provides what ReleaseTarget lists. Required.
	Service ReleaseTarget
	// RequireApproval adds a manual approval stage before this environment,
	// linking to the previous environment's production URL. Default: false.
	RequireApproval bool
	// Access are the roles the environment's account gives the pipeline
	// (NewEnvironmentAccess, in the environment's stack). Required when the
	// environment's stack lives in another account than the pipeline's;
	// ignored otherwise.
	Access EnvironmentAccess
}

// Pipeline is the delivery pipeline and the resources it owns.
type Pipeline interface {
	constructs.Construct
	CodePipeline() awscodepipeline.Pipeline
	// Role is the pipeline's role; the source, build, render and approval
	// actions use it, and it assumes the deploy roles.
	Role() awsiam.Role
	// Key encrypts the artifacts, the repository, the build and render
	// projects, their logs and the topic.
	Key() awskms.Key
	ArtifactBucket() awss3.Bucket
	// AccessLogsBucket holds the artifact bucket's server access logs.
	AccessLogsBucket() awss3.Bucket
	Repository() awsecr.Repository
	// Connection is nil when ConnectionArn was given.
	Connection() awscodeconnections.CfnConnection
	ConnectionArn() *string
	// BuildProject builds and pushes the image.
	BuildProject() awscodebuild.PipelineProject
	BuildLogGroup() awslogs.LogGroup
	// RenderProject renders an environment's task definition template and
	// AppSpec in its deploy stage, just before the release.
	RenderProject() awscodebuild.PipelineProject
	RenderLogGroup() awslogs.LogGroup
	// Topic receives approval requests and pipeline failures.
	Topic() awssns.Topic
	// FailureRule announces failed pipeline executions on Topic.
	FailureRule() awsevents.Rule
	// FailureRole is the role FailureRule publishes to Topic through; only
	// EventBridge acting for that rule in this account may assume it.
	FailureRole() awsiam.Role
	// FailureDeadLetterQueue keeps the failure notices FailureRule could not
	// deliver, 14 days.
	FailureDeadLetterQueue() awssqs.Queue
	// FailureDeadLetterAlarm announces on Topic that FailureDeadLetterQueue
	// holds a notice.
	FailureDeadLetterAlarm() awscloudwatch.Alarm
	// DeployRole is the role of the deploy action of an environment, nil for
	// an unknown name.
	DeployRole(environment string) awsiam.Role
}

type pipeline struct {
	constructs.Construct
	pipeline      awscodepipeline.Pipeline
	role          awsiam.Role
	key           awskms.Key
	bucket        awss3.Bucket
	accessLogs    awss3.Bucket
	repo          awsecr.Repository
	connection    awscodeconnections.CfnConnection
	connectionArn *string
	project       awscodebuild.PipelineProject
	logGroup      awslogs.LogGroup
	render        awscodebuild.PipelineProject
	renderLogs    awslogs.LogGroup
	topic         awssns.Topic
	failureRule   awsevents.Rule
	failureRole   awsiam.Role
	failureQueue  awssqs.Queue
	failureAlarm  awscloudwatch.Alarm
	deployRoles   map[string]awsiam.Role
	// releaseProjects are the ECS path's projects, by environment.
	releaseProjects map[string]awscodebuild.PipelineProject
	// cross are the environments in another account (crossaccount.go).
	cross map[string]bool
}

// NewPipeline creates the delivery pipeline. It panics on props that cannot
// work (missing names, environments or services), as CDK constructs do.
func NewPipeline(scope constructs.Construct, id string, props *PipelineProps) Pipeline {
	r, err := resolve(props)
	if err != nil {
		panic(err)
	}
	this := constructs.NewConstruct(scope, &id)
	p := &pipeline{Construct: this, deployRoles: map[string]awsiam.Role{}, releaseProjects: map[string]awscodebuild.PipelineProject{}}
	name := func(suffix string) *string { return jsii.String(r.prefix + suffix) }
	destroy := r.removal == awscdk.RemovalPolicy_DESTROY
	stack := awscdk.Stack_Of(this)
	cross, err := crossAccount(stack, r.envs)
	if err != nil {
		panic(err)
	}
	p.cross = cross
	// Roles and the bucket that an environment's account names get fixed
	// names when one lives in another account.
	crossName := func(name string) *string {
		if len(cross) == 0 {
			return nil
		}
		return jsii.String(name)
	}

	p.key = awskms.NewKey(this, jsii.String("Key"), &awskms.KeyProps{
		Alias:             jsii.String("alias/" + r.prefix + "-pipeline"),
		Description:       jsii.String(fmt.Sprintf("%s pipeline: artifacts, images, build and notifications", r.prefix)),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     r.removal,
	})
	// Grants on the key only through an AWS service (ECR creates one per
	// repository); CloudWatch Logs encrypts the build logs with it.
	p.key.AddToResourcePolicy(keypolicy.GrantsOnlyForAwsResources(), nil)
	p.key.AddToResourcePolicy(keypolicy.CloudWatchLogs(stack), nil)
	// Server access logs of the artifact bucket, kept a year. S3 delivers
	// them only to an SSE-S3 bucket; this bucket keeps no access logs of its
	// own, which would recurse into itself.
	p.accessLogs = logbucket.New(this, "AccessLogsBucket", awscdk.Duration_Days(jsii.Number(365)), r.removal, nil)
	p.bucket = awss3.NewBucket(this, jsii.String("ArtifactBucket"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_KMS,
		EncryptionKey:     p.key,
		BucketKeyEnabled:  jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		// ACLs disabled: the bucket owns every artifact, and access is the
		// policies' alone. CodePipeline, CodeBuild and CodeDeploy write and
		// read the artifacts of this account through IAM; S3 accepts a PUT
		// without an ACL (or with bucket-owner-full-control) on such a bucket.
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-artifacts"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(90)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
		BucketName:             crossName(ArtifactBucketName(r.prefix, orString(stack.Account(), ""), orString(stack.Region(), ""))),
		ServerAccessLogsBucket: p.accessLogs,
		ServerAccessLogsPrefix: jsii.String("artifacts/"),
		RemovalPolicy:          r.removal,
		AutoDeleteObjects:      jsii.Bool(destroy),
	})
	logbucket.SendEventsToEventBridge(p.bucket)
	p.repo = awsecr.NewRepository(this, jsii.String("Repository"), &awsecr.RepositoryProps{
		RepositoryName:     name(""),
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: awsecr.TagMutability_IMMUTABLE,
		Encryption:         awsecr.RepositoryEncryption_KMS(),
		EncryptionKey:      p.key,
		LifecycleRules:     lifecycleRules(r),
		RemovalPolicy:      r.removal,
		EmptyOnDelete:      jsii.Bool(destroy),
	})
	// The environments' execution roles pull the image. The grant lives in the
	// repository policy, on this side, so that the environment stacks never
	// depend on the pipeline's. The principal is the role's ARN built from its
	// fixed name, never a cross-stack reference that could go stale; and as
	// the role has a fixed name, CloudFormation cannot replace it by a new
	// role (with a new unique id) that this policy would no longer match.
	for _, e := range r.envs {
		p.repo.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("Pull" + envVarPrefix(e.name)),
			Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(e.target.executionRoleArn)},
			Actions:    jsii.Strings("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"),
		}))
	}

	p.buildTopic(r, name)
	p.buildSource(r)

	p.role = awsiam.NewRole(this, jsii.String("Role"), &awsiam.RoleProps{
		RoleName:    crossName(pipelineRoleName(r.prefix)),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("codepipeline.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("%s pipeline: runs the source, build and approval actions and assumes the deploy roles", r.prefix)),
	})
	// CDK grants codestar-connections:UseConnection; connections created
	// since the service's rename have codeconnections ARNs, so both prefixes
	// are granted.
	p.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("codeconnections:UseConnection"),
		Resources: &[]*string{p.connectionArn},
	}))

	sourceOutput := awscodepipeline.NewArtifact(jsii.String("SourceOutput"), nil)
	buildOutput := awscodepipeline.NewArtifact(jsii.String("BuildOutput"), nil)
	source := actions.NewCodeStarConnectionsSourceAction(&actions.CodeStarConnectionsSourceActionProps{
		ActionName:         jsii.String("GitHub"),
		ConnectionArn:      p.connectionArn,
		Owner:              jsii.String(r.owner),
		Repo:               jsii.String(r.repo),
		Branch:             jsii.String(r.branch),
		Output:             sourceOutput,
		VariablesNamespace: jsii.String(SourceVariablesNamespace),
	})

	p.buildProject(r, name)
	if r.renders() {
		p.renderProject(r, name)
		if len(cross) > 0 {
			nameRole(p.render.Role(), renderRoleName(r.prefix))
		}
	}

	p.pipeline = awscodepipeline.NewPipeline(this, jsii.String("Pipeline"), &awscodepipeline.PipelineProps{
		PipelineName:   name(""),
		PipelineType:   awscodepipeline.PipelineType_V2,
		ArtifactBucket: p.bucket,
		Role:           p.role,
		// Actions without a role of their own run as the pipeline role rather
		// than as one generated role each, trusted by the whole account.
		UsePipelineRoleForActions: jsii.Bool(true),
		Triggers: &[]*awscodepipeline.TriggerProps{{
			ProviderType: awscodepipeline.ProviderType_CODE_STAR_SOURCE_CONNECTION,
			GitConfiguration: &awscodepipeline.GitConfiguration{
				SourceAction: source,
				PushFilter:   &[]*awscodepipeline.GitPushFilter{{BranchesIncludes: jsii.Strings(r.branch)}},
			},
		}},
	})
	p.pipeline.AddStage(&awscodepipeline.StageOptions{
		StageName: jsii.String(SourceStageName),
		Actions:   &[]awscodepipeline.IAction{source},
	})
	p.pipeline.AddStage(&awscodepipeline.StageOptions{
		StageName: jsii.String(BuildStageName),
		Actions: &[]awscodepipeline.IAction{actions.NewCodeBuildAction(&actions.CodeBuildActionProps{
			ActionName: jsii.String("Image"),
			Project:    p.project,
			Input:      sourceOutput,
			Outputs:    &[]awscodepipeline.Artifact{buildOutput},
			EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
				"COMMIT_ID": {Value: source.Variables().CommitId},
			},
		})},
	})
	for i, e := range r.envs {
		if e.requireApproval {
			p.addApproval(e, r.envs[:i])
		}
		p.addDeploy(r, e, buildOutput)
	}

	p.announceFailures(r, name)
	p.suppressDocumentedWildcards(r)
	return p
}

func (p *pipeline) CodePipeline() awscodepipeline.Pipeline       { return p.pipeline }
func (p *pipeline) Role() awsiam.Role                            { return p.role }
func (p *pipeline) Key() awskms.Key                              { return p.key }
func (p *pipeline) ArtifactBucket() awss3.Bucket                 { return p.bucket }
func (p *pipeline) AccessLogsBucket() awss3.Bucket               { return p.accessLogs }
func (p *pipeline) Repository() awsecr.Repository                { return p.repo }
func (p *pipeline) Connection() awscodeconnections.CfnConnection { return p.connection }
func (p *pipeline) ConnectionArn() *string                       { return p.connectionArn }
func (p *pipeline) BuildProject() awscodebuild.PipelineProject   { return p.project }
func (p *pipeline) BuildLogGroup() awslogs.LogGroup              { return p.logGroup }
func (p *pipeline) RenderProject() awscodebuild.PipelineProject  { return p.render }
func (p *pipeline) RenderLogGroup() awslogs.LogGroup             { return p.renderLogs }
func (p *pipeline) Topic() awssns.Topic                          { return p.topic }
func (p *pipeline) FailureRule() awsevents.Rule                  { return p.failureRule }
func (p *pipeline) FailureRole() awsiam.Role                     { return p.failureRole }
func (p *pipeline) FailureDeadLetterQueue() awssqs.Queue         { return p.failureQueue }
func (p *pipeline) FailureDeadLetterAlarm() awscloudwatch.Alarm  { return p.failureAlarm }
func (p *pipeline) DeployRole(environment string) awsiam.Role    { return p.deployRoles[environment] }
func (p *pipeline) ReleaseProject(environment string) awscodebuild.PipelineProject {
	return p.releaseProjects[environment]
}

func orString(v *string, def string) string {
	if v == nil || *v == "" {
		return def
	}
	return *v
}

func isToken(s string) bool {
	return *awscdk.Token_IsUnresolved(jsii.String(s))
}
