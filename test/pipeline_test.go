package test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/constructs/delivery"
)

const pipelineID = "Pipeline"

// releaseOrder is each environment the pipeline releases to, in order.
func releaseOrder() []struct {
	name    string
	service bluegreen.Service
} {
	return []struct {
		name    string
		service bluegreen.Service
	}{
		{app.Config.Staging.Name, app.System.Staging.Service},
		{app.Config.Production.Name, app.System.Production.Service},
	}
}

// inPipeline is how the pipeline template refers to a token, including one
// of an environment stack (a cross-stack reference).
func inPipeline(token any) any {
	return app.System.Pipeline.Resolve(token)
}

// deploymentGroup is the CodeDeploy deployment group that releases a service.
func deploymentGroup(t *testing.T, s bluegreen.Service) codedeploy.IEcsDeploymentGroup {
	t.Helper()
	r, ok := s.Release().(bluegreen.CodeDeployRelease)
	if !ok {
		t.Fatalf("%s is released by %s, want CodeDeploy", *s.Node().Path(), s.Release().Engine())
	}
	return r.DeploymentGroup()
}

func statement(m map[string]any) assertions.Matcher {
	return obj(map[string]any{"PolicyDocument": obj(map[string]any{"Statement": arrayWith(obj(m))})})
}

// TestPipelineRequirements proves every property the pipeline stack must
// have, with the values from cdk.json.
func TestPipelineRequirements(t *testing.T) {
	cfg := app.Config
	prefix := cfg.PipelinePrefix()
	p := app.System.Pipeline.Pipeline
	key := inPipeline(p.Key().KeyArn())
	topic := inPipeline(p.Topic().TopicArn())
	connection := inPipeline(p.ConnectionArn())
	reqs := []requirement{
		{"source: GitHub through CodeConnections, on the configured repository and branch", "AWS::CodePipeline::Pipeline", obj(map[string]any{
			"Stages": arrayWith(obj(map[string]any{"Name": delivery.SourceStageName, "Actions": []any{obj(map[string]any{
				"ActionTypeId": obj(map[string]any{"Category": "Source", "Owner": "AWS", "Provider": "CodeStarSourceConnection"}),
				"Configuration": obj(map[string]any{
					"ConnectionArn":    connection,
					"FullRepositoryId": cfg.GitHubOwner + "/" + cfg.GitHubRepo,
					"BranchName":       cfg.GitHubBranch,
				}),
				"Namespace": delivery.SourceVariablesNamespace,
			})}})),
		})},
		{"no connection ARN configured: a GitHub connection named with the prefix is created", "AWS::CodeConnections::Connection", obj(map[string]any{
			"ConnectionName": prefix, "ProviderType": "GitHub",
		})},
		{"pipeline V2 named with the prefix, started by pushes to the configured branch", "AWS::CodePipeline::Pipeline", obj(map[string]any{
			"Name": prefix, "PipelineType": "V2",
			"Triggers": []any{map[string]any{
				"ProviderType": "CodeStarSourceConnection",
				"GitConfiguration": map[string]any{
					"SourceActionName": "GitHub",
					"Push":             []any{map[string]any{"Branches": map[string]any{"Includes": []any{cfg.GitHubBranch}}}},
				},
			}},
		})},
		{"artifacts stored in our bucket, encrypted with our key", "AWS::CodePipeline::Pipeline", obj(map[string]any{
			"ArtifactStore": obj(map[string]any{
				"Type": "S3", "Location": inPipeline(p.ArtifactBucket().BucketName()),
				"EncryptionKey": map[string]any{"Id": key, "Type": "KMS"},
			}),
		})},
		// ACLs disabled, as on every bucket: TestEveryBucketDisablesAcls.
		{"artifact bucket: versioned, KMS with our key, public access blocked, lifecycle", "AWS::S3::Bucket", obj(map[string]any{
			"VersioningConfiguration": map[string]any{"Status": "Enabled"},
			"BucketEncryption": obj(map[string]any{"ServerSideEncryptionConfiguration": []any{obj(map[string]any{
				"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
			})}}),
			"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"LifecycleConfiguration": map[string]any{"Rules": []any{obj(map[string]any{
				"Status":                         "Enabled",
				"ExpirationInDays":               90,
				"NoncurrentVersionExpiration":    map[string]any{"NoncurrentDays": 30},
				"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7},
			})}},
		})},
		{"artifact bucket accepts TLS requests only", "AWS::S3::BucketPolicy", statement(map[string]any{
			"Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Action": "s3:*",
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})},
		{"customer-managed key with rotation", "AWS::KMS::Key", obj(map[string]any{"EnableKeyRotation": true})},
		{"key alias names the pipeline", "AWS::KMS::Alias", obj(map[string]any{
			"AliasName": "alias/" + prefix + "-pipeline", "TargetKeyId": key,
		})},
		{"repository: named with the prefix, scan on push, immutable tags, KMS with our key", "AWS::ECR::Repository", obj(map[string]any{
			"RepositoryName":             prefix,
			"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
			"ImageTagMutability":         "IMMUTABLE",
			"EncryptionConfiguration":    map[string]any{"EncryptionType": "KMS", "KmsKey": key},
		})},
		{"repository lifecycle: untagged images expire after 7 days; the last 10 released to each environment, production's first, then the last 50 of any tag are kept", "AWS::ECR::Repository", obj(map[string]any{
			"LifecyclePolicy": obj(map[string]any{"LifecyclePolicyText": assertions.Match_SerializedJson(obj(map[string]any{
				"rules": []any{
					obj(map[string]any{"rulePriority": 1, "selection": obj(map[string]any{"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 7, "countUnit": "days"})}),
					obj(map[string]any{"rulePriority": 2, "selection": obj(map[string]any{"tagStatus": "tagged", "tagPrefixList": []any{delivery.ImageTagPrefix(cfg.Production.Name)}, "countType": "imageCountMoreThan", "countNumber": 10})}),
					obj(map[string]any{"rulePriority": 3, "selection": obj(map[string]any{"tagStatus": "tagged", "tagPrefixList": []any{delivery.ImageTagPrefix(cfg.Staging.Name)}, "countType": "imageCountMoreThan", "countNumber": 10})}),
					obj(map[string]any{"rulePriority": 4, "selection": obj(map[string]any{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50})}),
				},
			}))}),
		})},
		{"render project may read, look up and tag images of the repository only", "AWS::IAM::Policy", obj(map[string]any{
			"Roles": []any{inPipeline(p.RenderProject().Role().RoleName())},
			"PolicyDocument": obj(map[string]any{"Statement": arrayWith(obj(map[string]any{
				"Action":   []any{"ecr:BatchGetImage", "ecr:DescribeImages", "ecr:PutImage"},
				"Resource": inPipeline(p.Repository().RepositoryArn()),
			}))}),
		})},
		{"render project: unprivileged, small, encrypted with our key, logs kept a year", "AWS::CodeBuild::Project", obj(map[string]any{
			"Name":          prefix + "-render",
			"Environment":   obj(map[string]any{"ComputeType": "BUILD_GENERAL1_SMALL", "PrivilegedMode": false}),
			"EncryptionKey": key,
			"LogsConfig": map[string]any{"CloudWatchLogs": map[string]any{
				"Status": "ENABLED", "GroupName": inPipeline(p.RenderLogGroup().LogGroupName()),
			}},
		})},
		{"build: privileged standard 7.0 image, small, encrypted with our key, Docker layer cache", "AWS::CodeBuild::Project", obj(map[string]any{
			"Name": prefix + "-build",
			"Environment": obj(map[string]any{
				"Image": "aws/codebuild/standard:7.0", "ComputeType": "BUILD_GENERAL1_SMALL", "PrivilegedMode": true, "Type": "LINUX_CONTAINER",
			}),
			"EncryptionKey": key,
			"Cache":         map[string]any{"Type": "LOCAL", "Modes": []any{"LOCAL_DOCKER_LAYER_CACHE"}},
			"LogsConfig": map[string]any{"CloudWatchLogs": map[string]any{
				"Status": "ENABLED", "GroupName": inPipeline(p.BuildLogGroup().LogGroupName()),
			}},
		})},
		// Build logs are kept for a year: TestEveryLogGroupHasRetention.
		{"build pushes to the repository", "AWS::IAM::Policy", statement(map[string]any{
			"Action":   arrayWith("ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"),
			"Resource": inPipeline(p.Repository().RepositoryArn()),
		})},
		{"topic: named with the prefix, encrypted with our key", "AWS::SNS::Topic", obj(map[string]any{
			"TopicName": prefix + "-releases", "KmsMasterKeyId": key,
		})},
		{"topic accepts TLS publishing only", "AWS::SNS::TopicPolicy", statement(map[string]any{
			"Effect": "Deny", "Action": "sns:Publish",
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})},
		// How they get there, and only theirs: notifications_test.go.
		{"failed executions are announced on the topic, by a rule named with the prefix", "AWS::Events::Rule", obj(map[string]any{
			"Name": prefix + "-failures",
			"EventPattern": obj(map[string]any{
				"source":      []any{"aws.codepipeline"},
				"detail-type": []any{"CodePipeline Pipeline Execution State Change"},
				"detail":      map[string]any{"state": []any{"FAILED"}},
			}),
			"Targets": []any{obj(map[string]any{"Arn": topic})},
		})},
		{"approval before production is announced on the topic and links to staging", "AWS::CodePipeline::Pipeline", obj(map[string]any{
			"Stages": arrayWith(obj(map[string]any{
				"Name": delivery.ApprovalStageName(cfg.Production.Name),
				"Actions": []any{obj(map[string]any{
					"ActionTypeId": obj(map[string]any{"Category": "Approval", "Provider": "Manual"}),
					"Configuration": obj(map[string]any{
						"NotificationArn":    topic,
						"ExternalEntityLink": inPipeline(app.System.Staging.Service.ProductionUrl()),
					}),
				})},
			})),
		})},
	}
	for _, env := range releaseOrder() {
		svc := env.service
		names := l1Names(t, svc)
		reqs = append(reqs,
			requirement{env.name + ": execution role may pull from the repository", "AWS::ECR::Repository", obj(map[string]any{
				"RepositoryPolicyText": obj(map[string]any{"Statement": arrayWith(obj(map[string]any{
					"Effect":    "Allow",
					"Principal": map[string]any{"AWS": envArn(svc, "iam", "role", names.executionRole, awscdk.ArnFormat_SLASH_RESOURCE_NAME)},
					"Action":    []any{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
				}))}),
			})},
			requirement{env.name + ": deploy role passes only the service's task and execution roles, only to ECS tasks", "AWS::IAM::Policy", statement(map[string]any{
				"Action": "iam:PassRole",
				"Resource": assertions.Match_ArrayEquals(&[]any{
					envArn(svc, "iam", "role", names.executionRole, awscdk.ArnFormat_SLASH_RESOURCE_NAME),
					envArn(svc, "iam", "role", names.taskRole, awscdk.ArnFormat_SLASH_RESOURCE_NAME),
				}),
				"Condition": map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
			})},
			requirement{env.name + ": deploy role registers task definitions of the service's family only", "AWS::IAM::Policy", statement(map[string]any{
				"Action":   []any{"ecs:RegisterTaskDefinition", "ecs:TagResource"},
				"Resource": envArn(svc, "ecs", "task-definition", names.family+":*", awscdk.ArnFormat_SLASH_RESOURCE_NAME),
			})},
			requirement{env.name + ": deploy role creates deployments in the service's deployment group only", "AWS::IAM::Policy", statement(map[string]any{
				"Action":   []any{"codedeploy:CreateDeployment", "codedeploy:GetDeployment"},
				"Resource": envArn(svc, "codedeploy", "deploymentgroup", names.application+"/"+names.group, awscdk.ArnFormat_COLON_RESOURCE_NAME),
			})},
		)
	}
	checkRequirements(t, []string{pipelineID}, reqs)
}

// envArn is an ARN in an environment stack's partition, account and region,
// as the pipeline template writes it.
func envArn(svc bluegreen.Service, service, resource, name string, format awscdk.ArnFormat) any {
	c := &awscdk.ArnComponents{Service: jsii.String(service), Resource: jsii.String(resource), ResourceName: jsii.String(name), ArnFormat: format}
	if service == "iam" {
		c.Region = jsii.String("")
	}
	return inPipeline(awscdk.Stack_Of(svc.TaskDefinition()).FormatArn(c))
}

// stages returns the pipeline's stages as synthesized.
func stages(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, pl := range resources(t, pipelineID, "AWS::CodePipeline::Pipeline") {
		for _, s := range dig(pl, "Properties", "Stages").([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

// TestPipelineStageOrder proves the release order: source, build, then per
// environment its files rendered and released, with an approval before
// production.
func TestPipelineStageOrder(t *testing.T) {
	stg, prd := app.Config.Staging.Name, app.Config.Production.Name
	type action struct {
		category, provider string
		runOrder           float64
	}
	deploy := []action{{"Build", "CodeBuild", 1}, {"Deploy", "CodeDeployToECS", 2}}
	want := []struct {
		name    string
		actions []action
	}{
		{delivery.SourceStageName, []action{{"Source", "CodeStarSourceConnection", 1}}},
		{delivery.BuildStageName, []action{{"Build", "CodeBuild", 1}}},
		{delivery.DeployStageName(stg), deploy},
		{delivery.ApprovalStageName(prd), []action{{"Approval", "Manual", 1}}},
		{delivery.DeployStageName(prd), deploy},
	}
	got := stages(t)
	if len(got) != len(want) {
		t.Fatalf("pipeline has %d stages, want %d", len(got), len(want))
	}
	for i, w := range want {
		var have []action
		for _, a := range asList(dig(got[i], "Actions")) {
			order, _ := dig(a, "RunOrder").(float64)
			have = append(have, action{fmt.Sprint(dig(a, "ActionTypeId", "Category")), fmt.Sprint(dig(a, "ActionTypeId", "Provider")), order})
		}
		if got[i]["Name"] != w.name || !reflect.DeepEqual(have, w.actions) {
			t.Errorf("stage %d = %v %v, want %s %v", i+1, got[i]["Name"], have, w.name, w.actions)
		}
	}
}

// TestNoGitHubTokens proves that no template uses the GitHub version 1
// action, an OAuth token, a webhook secret or a stored secret.
func TestNoGitHubTokens(t *testing.T) {
	for _, id := range app.StackIDs() {
		raw, _ := json.Marshal(*template(t, id).ToJSON())
		s := string(raw)
		for _, bad := range []string{`"OAuthToken"`, `"Provider":"GitHub"`, `"Owner":"ThirdParty"`, "AWS::CodePipeline::Webhook", "AWS::SecretsManager::Secret", "resolve:secretsmanager"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s: template contains %s", id, bad)
			}
		}
	}
}

// TestPipelineDeploysAfterEnvironments proves `cdk deploy --all` order: the
// pipeline stack depends on both environment stacks, and they do not depend
// on it.
func TestPipelineDeploysAfterEnvironments(t *testing.T) {
	ids := func(s awscdk.Stack) []string {
		var out []string
		for _, d := range *s.Dependencies() {
			out = append(out, *d.Node().Id())
		}
		sort.Strings(out)
		return out
	}
	if got := ids(app.System.Pipeline.Stack); !reflect.DeepEqual(got, []string{"Production", "Staging"}) {
		t.Errorf("pipeline stack depends on %v, want [Production Staging]", got)
	}
	for _, s := range []awscdk.Stack{app.System.Staging.Stack, app.System.Production.Stack} {
		for _, d := range ids(s) {
			if d == pipelineID {
				t.Errorf("%s depends on the pipeline stack: a cycle", *s.Node().Id())
			}
		}
	}
}

// TestConnectionOutput proves that the created connection's ARN is an
// output that tells the one console step that activates it.
func TestConnectionOutput(t *testing.T) {
	outputs := *template(t, pipelineID).FindOutputs(jsii.String("*"), map[string]any{
		"Value": inPipeline(app.System.Pipeline.Pipeline.Connection().AttrConnectionArn()),
	})
	if len(outputs) != 1 {
		t.Fatalf("want one output with the connection ARN, got %d", len(outputs))
	}
	for _, o := range outputs {
		desc, _ := (*o)["Description"].(string)
		if !strings.Contains(desc, "Update pending connection") {
			t.Errorf("connection output must tell the console step, got %q", desc)
		}
	}
}

// TestConfiguredConnectionIsUsed proves that with connectionArn set, the
// source action uses it and no connection is created.
func TestConfiguredConnectionIsUsed(t *testing.T) {
	const arn = testConnectionArn
	tpl := assertions.Template_FromStack(changedApp().Stack(pipelineID), nil)
	check(t, func() { tpl.ResourceCountIs(jsii.String("AWS::CodeConnections::Connection"), jsii.Number(0)) })
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), obj(map[string]any{
			"Stages": arrayWith(obj(map[string]any{"Name": delivery.SourceStageName, "Actions": []any{obj(map[string]any{
				"Configuration": obj(map[string]any{"ConnectionArn": arn}),
			})}})),
		}))
	})
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), statement(map[string]any{
			"Action": arrayWith("codestar-connections:UseConnection"), "Resource": arn,
		}))
	})
}
