package test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/constructs/delivery"
)

// Tests of delivery.NewPipeline on its own (see dlv in constructs_test.go).

// dlvResource returns the one resource of a type in the pipeline test stack
// whose properties contain props.
func dlvResource(t *testing.T, resourceType string, props map[string]any) map[string]any {
	t.Helper()
	id := logicalIDIn(t, dlv.tpl, resourceType, props)
	return templateResources(t, dlv.tpl)[id]
}

// TestPipelineConstructDefaults proves the documented default of every optional prop.
func TestPipelineConstructDefaults(t *testing.T) {
	checkRequirementsOn(t, dlv.tpl, []requirement{
		{"GitHubBranch defaults to main", "AWS::CodePipeline::Pipeline", map[string]any{
			"Name": "plain",
			"Stages": arrayWith(obj(map[string]any{"Actions": []any{obj(map[string]any{
				"Configuration": obj(map[string]any{"BranchName": "main", "FullRepositoryId": "octo-org/shop"}),
			})}})),
		}},
		{"no ConnectionArn: a connection named NamePrefix is created", "AWS::CodeConnections::Connection", map[string]any{
			"ConnectionName": "plain", "ProviderType": "GitHub",
		}},
		{"LogRetention defaults to one month", "AWS::Logs::LogGroup", map[string]any{
			"RetentionInDays": 30,
		}},
		{"RemovalPolicy RETAIN: the repository is not emptied on delete", "AWS::ECR::Repository", map[string]any{
			"RepositoryName": "plain", "EmptyOnDelete": false,
		}},
		{"ImagesKeptPerEnvironment defaults to 10", "AWS::ECR::Repository", map[string]any{
			"RepositoryName": "plain",
			"LifecyclePolicy": obj(map[string]any{"LifecyclePolicyText": assertions.Match_SerializedJson(obj(map[string]any{
				"rules": arrayWith(obj(map[string]any{"selection": obj(map[string]any{
					"tagPrefixList": []any{delivery.ImageTagPrefix("staging")}, "countNumber": 10,
				})})),
			}))}),
		}},
	})
	// RemovalPolicy RETAIN: every stateful resource of the plain pipeline is kept.
	for _, r := range []struct{ name, logical string }{
		{"key", logicalOf(dlv.plain.Key())},
		{"artifact bucket", logicalOf(dlv.plain.ArtifactBucket())},
		{"repository", logicalOf(dlv.plain.Repository())},
		{"build logs", logicalOf(dlv.plain.BuildLogGroup())},
		{"failure dead-letter queue", logicalOf(dlv.plain.FailureDeadLetterQueue())},
	} {
		res := templateResources(t, dlv.tpl)[r.logical]
		if res["DeletionPolicy"] != "Retain" {
			t.Errorf("RemovalPolicy defaults to RETAIN: %s has DeletionPolicy %v", r.name, res["DeletionPolicy"])
		}
	}
	// NotificationEmail unset: no subscription on the plain topic.
	subs := dlv.tpl.FindResources(jsii.String("AWS::SNS::Subscription"), map[string]any{
		"Properties": obj(map[string]any{"TopicArn": dlv.stack.Resolve(dlv.plain.Topic().TopicArn())}),
	})
	if len(*subs) != 0 {
		t.Errorf("no NotificationEmail: want no subscription, got %d", len(*subs))
	}
	if dlv.plain.Connection() == nil {
		t.Errorf("no ConnectionArn: Connection() must return the created connection")
	}
}

// TestPipelineConstructOptionalProps proves that each optional prop, when set, is used.
func TestPipelineConstructOptionalProps(t *testing.T) {
	checkRequirementsOn(t, dlv.tpl, []requirement{
		{"GitHubBranch and ConnectionArn go to the source action", "AWS::CodePipeline::Pipeline", map[string]any{
			"Name": "custom",
			"Stages": arrayWith(obj(map[string]any{"Actions": []any{obj(map[string]any{
				"Configuration": obj(map[string]any{"BranchName": "release/v2", "ConnectionArn": testConnectionArn}),
			})}})),
			"Triggers": []any{obj(map[string]any{"GitConfiguration": obj(map[string]any{
				"Push": []any{map[string]any{"Branches": map[string]any{"Includes": []any{"release/v2"}}}},
			})})},
		}},
		{"ConnectionArn: the pipeline role may use that connection", "AWS::IAM::Policy", map[string]any{
			"PolicyDocument": obj(map[string]any{"Statement": arrayWith(obj(map[string]any{
				"Action": arrayWith("codeconnections:UseConnection", "codestar-connections:UseConnection"), "Resource": testConnectionArn,
			}))}),
		}},
		{"NotificationEmail is subscribed to the topic", "AWS::SNS::Subscription", map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": dlv.stack.Resolve(dlv.custom.Topic().TopicArn()),
		}},
		{"LogRetention sets the build log retention", "AWS::Logs::LogGroup", map[string]any{
			"RetentionInDays": 7,
		}},
		{"RemovalPolicy DESTROY: the repository is emptied on delete", "AWS::ECR::Repository", map[string]any{
			"RepositoryName": "custom", "EmptyOnDelete": true,
		}},
		{"ImagesKeptPerEnvironment sets how many images of each environment are kept", "AWS::ECR::Repository", map[string]any{
			"RepositoryName": "custom",
			"LifecyclePolicy": obj(map[string]any{"LifecyclePolicyText": assertions.Match_SerializedJson(obj(map[string]any{
				"rules": arrayWith(obj(map[string]any{"selection": obj(map[string]any{
					"tagPrefixList": []any{delivery.ImageTagPrefix("qa")}, "countNumber": 3,
				})})),
			}))}),
		}},

		{"RemovalPolicy DESTROY: the artifact bucket's objects are deleted with it", "Custom::S3AutoDeleteObjects", map[string]any{
			"BucketName": dlv.stack.Resolve(dlv.custom.ArtifactBucket().BucketName()),
		}},
		{"RequireApproval on the first environment: an approval without a link", "AWS::CodePipeline::Pipeline", map[string]any{
			"Name": "custom",
			"Stages": arrayWith(obj(map[string]any{
				"Name": delivery.ApprovalStageName("qa"),
				"Actions": []any{obj(map[string]any{
					"ActionTypeId":  obj(map[string]any{"Category": "Approval"}),
					"Configuration": obj(map[string]any{"ExternalEntityLink": assertions.Match_Absent()}),
				})},
			})),
		}},
	})
	if dlv.custom.Connection() != nil {
		t.Errorf("ConnectionArn given: Connection() must be nil")
	}
	conns := dlv.tpl.FindResources(jsii.String("AWS::CodeConnections::Connection"), nil)
	if len(*conns) != 1 {
		t.Errorf("ConnectionArn given: only the plain pipeline creates a connection, found %d", len(*conns))
	}
}

// TestPipelineConstructGetters proves that the getters return the resources they name.
func TestPipelineConstructGetters(t *testing.T) {
	deployAction := func(env string) any {
		for _, st := range dig(dlvResource(t, "AWS::CodePipeline::Pipeline", map[string]any{"Name": "plain"}), "Properties", "Stages").([]any) {
			for _, a := range asList(dig(st, "Actions")) {
				if dig(st, "Name") == delivery.DeployStageName(env) && dig(a, "ActionTypeId", "Provider") == "CodeDeployToECS" {
					return a
				}
			}
		}
		return nil
	}
	rows := []struct {
		name      string
		got, want any
	}{
		{"CodePipeline", dlv.stack.Resolve(dlv.plain.CodePipeline().PipelineName()), refToIn(t, dlv.tpl, "AWS::CodePipeline::Pipeline", map[string]any{"Name": "plain"})},
		{"Repository", dlv.stack.Resolve(dlv.plain.Repository().RepositoryName()), refToIn(t, dlv.tpl, "AWS::ECR::Repository", map[string]any{"RepositoryName": "plain"})},
		{"BuildProject", dlv.stack.Resolve(dlv.plain.BuildProject().ProjectName()), refToIn(t, dlv.tpl, "AWS::CodeBuild::Project", map[string]any{"Name": "plain-build"})},
		{"RenderProject", dlv.stack.Resolve(dlv.plain.RenderProject().ProjectName()), refToIn(t, dlv.tpl, "AWS::CodeBuild::Project", map[string]any{"Name": "plain-render"})},
		{"Topic", dlv.stack.Resolve(dlv.plain.Topic().TopicArn()), refToIn(t, dlv.tpl, "AWS::SNS::Topic", map[string]any{"TopicName": "plain-releases"})},
		{"ConnectionArn", dlv.stack.Resolve(dlv.plain.ConnectionArn()), map[string]any{"Fn::GetAtt": []any{
			logicalIDIn(t, dlv.tpl, "AWS::CodeConnections::Connection", map[string]any{"ConnectionName": "plain"}), "ConnectionArn",
		}}},
		{"Role", dlv.stack.Resolve(dlv.plain.Role().RoleArn()), dig(dlvResource(t, "AWS::CodePipeline::Pipeline", map[string]any{"Name": "plain"}), "Properties", "RoleArn")},
		{"DeployRole", dlv.stack.Resolve(dlv.plain.DeployRole("staging").RoleArn()), dig(deployAction("staging"), "RoleArn")},
		{"ArtifactBucket", dlv.stack.Resolve(dlv.plain.ArtifactBucket().BucketName()), dig(dlvResource(t, "AWS::CodePipeline::Pipeline", map[string]any{"Name": "plain"}), "Properties", "ArtifactStore", "Location")},
		{"Key", dlv.stack.Resolve(dlv.plain.Key().KeyArn()), dig(dlvResource(t, "AWS::CodePipeline::Pipeline", map[string]any{"Name": "plain"}), "Properties", "ArtifactStore", "EncryptionKey", "Id")},
	}
	for _, r := range rows {
		if !reflect.DeepEqual(normalize(r.got), normalize(r.want)) || r.want == nil {
			t.Errorf("%s() resolves to %v, want %v", r.name, r.got, r.want)
		}
	}
	if dlv.plain.DeployRole("qa") != nil {
		t.Errorf("DeployRole of an unknown environment must be nil")
	}
	if dlv.plain.FailureRule() == nil || dlv.plain.BuildLogGroup() == nil || dlv.plain.RenderLogGroup() == nil {
		t.Errorf("FailureRule, BuildLogGroup and RenderLogGroup must be set")
	}
	// FailureRole, FailureDeadLetterQueue and FailureDeadLetterAlarm:
	// notifications_test.go reads the failure wiring through them.
}

// TestPipelineConstructRejectsInvalidProps has one row per validation rule; each asserts its message.
func TestPipelineConstructRejectsInvalidProps(t *testing.T) {
	valid := func() *delivery.PipelineProps {
		return &delivery.PipelineProps{
			NamePrefix: jsii.String("ok"), GitHubOwner: jsii.String("o"), GitHubRepo: jsii.String("r"),
			Environments: []*delivery.DeployEnvironment{{Name: jsii.String("staging"), Service: dlv.staging}},
		}
	}
	rows := []struct {
		name   string
		change func(p *delivery.PipelineProps)
		want   string
	}{
		{"NamePrefix is required", func(p *delivery.PipelineProps) { p.NamePrefix = nil }, "NamePrefix is required"},
		{"GitHubOwner is required", func(p *delivery.PipelineProps) { p.GitHubOwner = jsii.String("") }, "GitHubOwner is required"},
		{"GitHubRepo is required", func(p *delivery.PipelineProps) { p.GitHubRepo = nil }, "GitHubRepo is required"},
		{"a created connection's name fits 32 characters", func(p *delivery.PipelineProps) { p.NamePrefix = jsii.String(strings.Repeat("a", 33)) },
			`NamePrefix "` + strings.Repeat("a", 33) + `" has 33 characters; the connection it names allows 32`},
		{"at least one environment", func(p *delivery.PipelineProps) { p.Environments = nil }, "Environments needs at least one environment"},
		{"each environment has a service", func(p *delivery.PipelineProps) { p.Environments[0].Service = nil }, "Environments[0] needs a Name and a Service"},
		{"the failure rule's name fits 64 characters", func(p *delivery.PipelineProps) {
			p.NamePrefix, p.ConnectionArn = jsii.String(strings.Repeat("a", 56)), jsii.String(testConnectionArn)
		}, `NamePrefix "` + strings.Repeat("a", 56) + `" has 56 characters; the failure rule it names allows 55`},
		{"environment names are lower-case letters and digits", func(p *delivery.PipelineProps) { p.Environments[0].Name = jsii.String("Pre-Prod") },
			`Environments[0].Name "Pre-Prod" must be lower-case letters and digits`},
		{"a service released by an engine the pipeline cannot deploy with", func(p *delivery.PipelineProps) { p.Environments[0].Service = otherEngine{dlv.staging} },
			`Environments[0].Service is released by nomad; this pipeline deploys with codedeploy, ecs only`},
		{"ImagesKeptPerEnvironment is a whole number of at least 1", func(p *delivery.PipelineProps) { p.ImagesKeptPerEnvironment = jsii.Number(0.5) },
			`ImagesKeptPerEnvironment 0.5 must be a whole number of at least 1`},
		{"environment names are unique", func(p *delivery.PipelineProps) {
			p.Environments = append(p.Environments, &delivery.DeployEnvironment{Name: jsii.String("staging"), Service: dlv.prod})
		}, `Environments[1].Name "staging" is used twice`},
		// Policies are built from fixed names only; a name that is a token
		// (a reference to another stack, an import) could go stale.
		{"an execution role without a fixed name", func(p *delivery.PipelineProps) {
			role := awsiam.NewRole(dlv.stack, jsii.String("UnnamedExecutionRole"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil)})
			p.Environments[0].Service = withParts{anyService: dlv.staging, executionRole: role}
		}, `Environments[0]: the execution role (PipelineConstructTest/UnnamedExecutionRole) has no fixed physical name: a policy would depend on a value that can go stale`},
		{"a task role imported from a reference", func(p *delivery.PipelineProps) {
			role := awsiam.Role_FromRoleArn(dlv.stack, jsii.String("ImportedTaskRole"), awscdk.Fn_ImportValue(jsii.String("task-role-arn")), nil)
			p.Environments[0].Service = withParts{anyService: dlv.staging, taskRole: role}
		}, `the task role (PipelineConstructTest/ImportedTaskRole) has no fixed physical name: a policy would depend on a value that can go stale`},
		{"a pre-traffic function imported from a reference", func(p *delivery.PipelineProps) {
			fn := awslambda.Function_FromFunctionArn(dlv.stack, jsii.String("ImportedHook"), awscdk.Fn_ImportValue(jsii.String("hook-arn")))
			p.Environments[0].Service = withParts{anyService: dlv.staging, hook: fn}
		}, `the pre-traffic function (PipelineConstructTest/ImportedHook) has no fixed physical name`},
		{"a CodeDeploy application imported from a reference", func(p *delivery.PipelineProps) {
			application := codedeploy.EcsApplication_FromEcsApplicationName(dlv.stack, jsii.String("ImportedApplication"), awscdk.Fn_ImportValue(jsii.String("application")))
			group := codedeploy.EcsDeploymentGroup_FromEcsDeploymentGroupAttributes(dlv.stack, jsii.String("GroupOfImportedApplication"), &codedeploy.EcsDeploymentGroupAttributes{
				Application: application, DeploymentGroupName: jsii.String("svc-stg"),
			})
			p.Environments[0].Service = withParts{anyService: dlv.staging, release: codeDeployReleaseOf{application, group}}
		}, `the CodeDeploy application (PipelineConstructTest/ImportedApplication) has no fixed physical name`},
		{"a deployment group imported from a reference", func(p *delivery.PipelineProps) {
			application := codedeploy.EcsApplication_FromEcsApplicationName(dlv.stack, jsii.String("NamedApplication"), jsii.String("svc-stg"))
			group := codedeploy.EcsDeploymentGroup_FromEcsDeploymentGroupAttributes(dlv.stack, jsii.String("ImportedGroup"), &codedeploy.EcsDeploymentGroupAttributes{
				Application: application, DeploymentGroupName: awscdk.Fn_ImportValue(jsii.String("group")),
			})
			p.Environments[0].Service = withParts{anyService: dlv.staging, release: codeDeployReleaseOf{application, group}}
		}, `the CodeDeploy deployment group (PipelineConstructTest/ImportedGroup) has no fixed physical name`},
	}
	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			props := valid()
			r.change(props)
			msg := strings.TrimSpace(panicMessage(func() { delivery.NewPipeline(dlv.stack, "Invalid"+string(rune('A'+i)), props) }))
			if !strings.Contains(msg, r.want) {
				t.Errorf("got %q, want it to contain %q", msg, r.want)
			}
			if !strings.HasPrefix(msg, "delivery: ") {
				t.Errorf("message %q must start with the package name", msg)
			}
		})
	}
}

// withParts is a service with some of its resources replaced.
type withParts struct {
	anyService
	executionRole, taskRole awsiam.IRole
	hook                    awslambda.IFunction
	release                 bluegreen.Release
}

func (w withParts) ExecutionRole() awsiam.IRole {
	if w.executionRole != nil {
		return w.executionRole
	}
	return w.anyService.ExecutionRole()
}

func (w withParts) TaskRole() awsiam.IRole {
	if w.taskRole != nil {
		return w.taskRole
	}
	return w.anyService.TaskRole()
}

func (w withParts) PreTrafficHook() awslambda.IFunction {
	if w.hook != nil {
		return w.hook
	}
	return w.anyService.PreTrafficHook()
}

func (w withParts) Release() bluegreen.Release {
	if w.release != nil {
		return w.release
	}
	return w.anyService.Release()
}

// codeDeployReleaseOf is a CodeDeploy release of a given application and group.
type codeDeployReleaseOf struct {
	application codedeploy.IEcsApplication
	group       codedeploy.IEcsDeploymentGroup
}

func (codeDeployReleaseOf) Engine() bluegreen.Engine                          { return bluegreen.EngineCodeDeploy }
func (r codeDeployReleaseOf) Application() codedeploy.IEcsApplication         { return r.application }
func (r codeDeployReleaseOf) DeploymentGroup() codedeploy.IEcsDeploymentGroup { return r.group }

// otherEngine is a service released by an engine the pipeline does not know.
// (Embedding through an alias keeps the interface's Service method.)
type otherEngine struct{ anyService }

type anyService = bluegreen.Service

func (otherEngine) Release() bluegreen.Release { return unknownRelease{} }

type unknownRelease struct{}

func (unknownRelease) Engine() bluegreen.Engine { return "nomad" }
