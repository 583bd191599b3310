package test

import (
	"reflect"
	"strings"
	"testing"
)

// The stand-in CloudFormation of cfnworld_test.go on literal templates: each
// intrinsic function, the pseudo parameters, the names and ARNs it gives
// resources, and a refusal wherever it has no stand-in. The build contract
// and the cross-stack checks compare what they resolve; a resolution that
// were wrong the same way on both sides, or that guessed, would let them pass
// without proving anything.

// literalWorld is two stacks: an environment in its own region, which exports
// its task role's ARN, and a pipeline in the stand-in's region.
func literalWorld() *cfnWorld {
	res := func(typ string, props map[string]any) map[string]any {
		return map[string]any{"Type": typ, "Properties": props}
	}
	env := &cfnStack{
		id: "Env", name: "env-stack", account: standInAccount, region: "eu-west-1",
		resources: map[string]map[string]any{
			"TaskRole":    res("AWS::IAM::Role", map[string]any{"RoleName": "svc-task"}),
			"Unnamed":     res("AWS::IAM::Role", map[string]any{}),
			"Repository":  res("AWS::ECR::Repository", map[string]any{"RepositoryName": "shop"}),
			"Topic":       res("AWS::SNS::Topic", map[string]any{"TopicName": "releases"}),
			"Hook":        res("AWS::Lambda::Function", map[string]any{"FunctionName": "svc-pretraffic"}),
			"TaskDef":     res("AWS::ECS::TaskDefinition", map[string]any{"Family": "svc"}),
			"Key":         res("AWS::KMS::Key", map[string]any{}),
			"Group":       res("AWS::CodeDeploy::DeploymentGroup", map[string]any{"DeploymentGroupName": map[string]any{"Ref": "GroupName"}}),
			"BadName":     res("AWS::S3::Bucket", map[string]any{"BucketName": map[string]any{"Fn::Base64": "x"}}),
			"Queue":       res("AWS::SQS::Queue", map[string]any{}),
			"LoadBalance": res("AWS::ElasticLoadBalancingV2::LoadBalancer", map[string]any{"Name": "svc"}),
		},
		parameters: map[string]any{
			"GroupName":        map[string]any{"Type": "String", "Default": "svc-group"},
			"Subnets":          map[string]any{"Type": "CommaDelimitedList", "Default": "subnet-a,subnet-b"},
			"NoDefault":        map[string]any{"Type": "String"},
			"BootstrapVersion": map[string]any{"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"},
		},
		outputs: map[string]any{
			"TaskRoleArn": map[string]any{
				"Value":  map[string]any{"Fn::GetAtt": []any{"TaskRole", "Arn"}},
				"Export": map[string]any{"Name": "env-task-role-arn"},
			},
		},
	}
	pipe := &cfnStack{
		id: "Pipe", name: "pipeline-stack", account: standInAccount, region: standInRegion,
		resources: map[string]map[string]any{
			"Project": res("AWS::CodeBuild::Project", map[string]any{"Name": "shop-build"}),
		},
	}
	return &cfnWorld{stacks: []*cfnStack{env, pipe}}
}

func cfnRef(name string) map[string]any { return map[string]any{"Ref": name} }
func cfnGetAtt(logical, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{logical, attr}}
}
func cfnCall(name string, arg any) map[string]any {
	return map[string]any{name: arg}
}

func TestStandInCloudFormationResolves(t *testing.T) {
	w := literalWorld()
	env, pipe := w.stack("Env"), w.stack("Pipe")
	taskRoleArn := "arn:aws:iam::" + standInAccount + ":role/svc-task"
	rows := []struct {
		name  string
		in    *cfnStack
		value any
		want  any
	}{
		// Pseudo parameters: the stack's own account, region and name.
		{"AWS::AccountId", env, cfnRef("AWS::AccountId"), standInAccount},
		{"AWS::Region is the stack's region", env, cfnRef("AWS::Region"), "eu-west-1"},
		{"AWS::Region of a stack without one is the stand-in's", pipe, cfnRef("AWS::Region"), standInRegion},
		{"AWS::Partition", env, cfnRef("AWS::Partition"), "aws"},
		{"AWS::URLSuffix", env, cfnRef("AWS::URLSuffix"), "amazonaws.com"},
		{"AWS::StackName", pipe, cfnRef("AWS::StackName"), "pipeline-stack"},
		{"AWS::NoValue removes a list item", env, []any{"a", cfnRef("AWS::NoValue"), "b"}, []any{"a", "b"}},
		{"AWS::NoValue removes a key", env, map[string]any{"Keep": 1.0, "Drop": cfnRef("AWS::NoValue")}, map[string]any{"Keep": 1.0}},
		{"literals stay", env, map[string]any{"n": 1.0, "ok": true, "s": "x"}, map[string]any{"n": 1.0, "ok": true, "s": "x"}},

		// Ref of a resource: what AWS documents for its type.
		{"Ref of a role is its name", env, cfnRef("TaskRole"), "svc-task"},
		{"Ref of a repository is its name", env, cfnRef("Repository"), "shop"},
		{"Ref of a topic is its ARN, in the stack's region", env, cfnRef("Topic"), "arn:aws:sns:eu-west-1:" + standInAccount + ":releases"},
		{"Ref of a task definition is its first revision's ARN", env, cfnRef("TaskDef"), "arn:aws:ecs:eu-west-1:" + standInAccount + ":task-definition/svc:1"},
		{"Ref of a load balancer is its ARN", env, cfnRef("LoadBalance"), "arn:aws:elasticloadbalancing:eu-west-1:" + standInAccount + ":loadbalancer/app/svc/1a2b3c4d5e6f7a8b"},
		{"a name set by a parameter", env, cfnRef("Group"), "svc-group"},
		{"Ref of a parameter is its default", env, cfnRef("GroupName"), "svc-group"},

		// Fn::GetAtt.
		{"a role's Arn is global", env, cfnGetAtt("TaskRole", "Arn"), taskRoleArn},
		{"a repository's Arn", env, cfnGetAtt("Repository", "Arn"), "arn:aws:ecr:eu-west-1:" + standInAccount + ":repository/shop"},
		{"a function's Arn", env, cfnGetAtt("Hook", "Arn"), "arn:aws:lambda:eu-west-1:" + standInAccount + ":function:svc-pretraffic"},
		{"a project's Arn", pipe, cfnGetAtt("Project", "Arn"), "arn:aws:codebuild:us-east-1:" + standInAccount + ":project/shop-build"},

		// Fn::Join, Fn::Split, Fn::Select.
		{"Fn::Join", env, cfnCall("Fn::Join", []any{"-", []any{"a", cfnRef("TaskRole"), 1.0}}), "a-svc-task-1"},
		{"Fn::Join of nothing", env, cfnCall("Fn::Join", []any{",", []any{}}), ""},
		{"Fn::Split", env, cfnCall("Fn::Split", []any{",", cfnRef("Subnets")}), []any{"subnet-a", "subnet-b"}},
		{"Fn::Select", env, cfnCall("Fn::Select", []any{1.0, []any{"a", "b"}}), "b"},
		{"Fn::Select with the index as a string", env, cfnCall("Fn::Select", []any{"0", []any{"a", "b"}}), "a"},
		{"Fn::Select of Fn::Split", env, cfnCall("Fn::Select", []any{1.0, cfnCall("Fn::Split", []any{"/", "a/b/c"})}), "b"},

		// Fn::Sub.
		{"Fn::Sub of pseudo parameters and a Ref", env, cfnCall("Fn::Sub", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${TaskRole}"), taskRoleArn},
		{"Fn::Sub of an attribute", env, cfnCall("Fn::Sub", "${TaskRole.Arn}"), taskRoleArn},
		{"Fn::Sub keeps ${!Literal}", env, cfnCall("Fn::Sub", "${!Literal}-${AWS::Region}"), "${Literal}-eu-west-1"},
		{"Fn::Sub with variables", env, cfnCall("Fn::Sub", []any{"${Name}/${TaskRole}", map[string]any{"Name": cfnRef("GroupName")}}), "svc-group/svc-task"},

		// Other stacks' values.
		{"Fn::GetStackOutput", pipe, cfnCall("Fn::GetStackOutput", map[string]any{"StackName": "env-stack", "OutputName": "TaskRoleArn"}), taskRoleArn},
		{"Fn::ImportValue", pipe, cfnCall("Fn::ImportValue", "env-task-role-arn"), taskRoleArn},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got, err := w.resolve(r.in, r.value)
			if err != nil {
				t.Fatalf("%s: %v", compact(r.value), err)
			}
			if !reflect.DeepEqual(got, r.want) {
				t.Errorf("%s resolves to %s, want %s", compact(r.value), compact(got), compact(r.want))
			}
		})
	}
}

// TestStandInCloudFormationRefuses proves that what the stand-in cannot
// evaluate fails with an error naming it, never resolves to a guess.
func TestStandInCloudFormationRefuses(t *testing.T) {
	w := literalWorld()
	env, pipe := w.stack("Env"), w.stack("Pipe")
	rows := []struct {
		name  string
		in    *cfnStack
		value any
		want  string // in the error
	}{
		{"an intrinsic it does not evaluate", env, cfnCall("Fn::Base64", "x"), "Fn::Base64"},
		{"a condition function", env, cfnCall("Fn::If", []any{"IsProd", "a", "b"}), "Fn::If"},
		{"an unknown intrinsic deep in a value", env, map[string]any{"A": []any{cfnCall("Fn::FindInMap", []any{"M", "k", "v"})}}, "Fn::FindInMap"},
		{"a pseudo parameter without a stand-in", env, cfnRef("AWS::NotificationARNs"), "AWS::NotificationARNs"},
		{"Ref of a missing name", env, cfnRef("Missing"), "no such resource or parameter"},
		{"Ref of a type whose Ref it does not know", env, cfnRef("Queue"), "AWS::SQS::Queue"},
		{"Ref of an SSM parameter, whose value is not its default", env, cfnRef("BootstrapVersion"), "AWS::SSM::Parameter"},
		{"Ref of a parameter without a default", env, cfnRef("NoDefault"), "without a default"},
		{"Ref of another stack's resource", pipe, cfnRef("TaskRole"), "no such resource"},
		{"a name that does not resolve", env, cfnRef("BadName"), "Fn::Base64"},
		{"an attribute it has no value for", env, cfnGetAtt("TaskRole", "RoleId"), "RoleId"},
		{"an attribute of a missing resource", env, cfnGetAtt("Missing", "Arn"), "no such resource"},
		{"Fn::GetAtt in its string form", env, cfnCall("Fn::GetAtt", "TaskRole.Arn"), "two arguments"},
		{"Fn::Join of a string", env, cfnCall("Fn::Join", []any{",", cfnRef("GroupName")}), "not a list"},
		{"Fn::Join of a list inside the list", env, cfnCall("Fn::Join", []any{",", []any{[]any{"a"}}}), "not a string"},
		{"Fn::Select beyond the list", env, cfnCall("Fn::Select", []any{2.0, []any{"a", "b"}}), "index 2 of a list of 2"},
		{"Fn::Select before the list", env, cfnCall("Fn::Select", []any{-1.0, []any{"a"}}), "index -1"},
		{"Fn::Select with an index that is no number", env, cfnCall("Fn::Select", []any{cfnRef("GroupName"), []any{"a"}}), "not a whole number"},
		{"Fn::Sub of a missing name", env, cfnCall("Fn::Sub", "${Missing}"), "Missing"},
		{"Fn::Sub of a list", env, cfnCall("Fn::Sub", []any{"${L}", map[string]any{"L": []any{"a"}}}), "not a string"},
		{"Fn::GetStackOutput of a missing output", pipe, cfnCall("Fn::GetStackOutput", map[string]any{"StackName": "env-stack", "OutputName": "Nope"}), "no output Nope"},
		{"Fn::GetStackOutput of a missing stack", pipe, cfnCall("Fn::GetStackOutput", map[string]any{"StackName": "other", "OutputName": "TaskRoleArn"}), "no stack named other"},
		{"Fn::GetStackOutput from the wrong region", pipe, cfnCall("Fn::GetStackOutput", map[string]any{"StackName": "env-stack", "OutputName": "TaskRoleArn", "Region": "us-east-1"}), "is in eu-west-1"},
		{"Fn::ImportValue of a name no stack exports", pipe, cfnCall("Fn::ImportValue", "nobody-exports-this"), "0 stacks export it"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got, err := w.resolve(r.in, r.value)
			if err == nil {
				t.Fatalf("%s resolves to %s; want an error", compact(r.value), compact(got))
			}
			if !strings.Contains(err.Error(), r.want) {
				t.Errorf("error %q does not name %q", err, r.want)
			}
		})
	}
}

// TestStandInCloudFormationNames proves the names it gives resources whose
// template sets none: distinct per stack and logical ID, as CloudFormation
// generates them, and an ID for a key.
func TestStandInCloudFormationNames(t *testing.T) {
	w := literalWorld()
	env := w.stack("Env")
	unnamed := w.physicalName(t, env, "Unnamed")
	if !strings.HasPrefix(unnamed, "env-stack-Unnamed-") || len(unnamed) != len("env-stack-Unnamed-")+12 {
		t.Errorf("generated name %q, want env-stack-Unnamed-<12 characters>", unnamed)
	}
	other := &cfnStack{id: "Other", name: "other-stack", resources: map[string]map[string]any{"Unnamed": env.resources["Unnamed"]}}
	if n := w.generatedName(other, "Unnamed"); n == unnamed {
		t.Errorf("two stacks' resources get the same generated name %q", n)
	}
	key := w.physicalName(t, env, "Key")
	if len(key) != 36 || strings.Count(key, "-") != 4 {
		t.Errorf("key ID %q, want a UUID", key)
	}
	if got, err := w.resolve(env, cfnGetAtt("Key", "Arn")); err != nil || got != "arn:aws:kms:eu-west-1:"+standInAccount+":key/"+key {
		t.Errorf("key Arn = %v (%v), want it to end in key/%s", got, err, key)
	}
	if got := w.mustString(t, env, 8000.0); got != "8000" {
		t.Errorf("a number as a string: %q", got)
	}
}

// TestStandInDescribeTaskDefinition proves the shape of the answer the build
// sandbox gives `aws ecs describe-task-definition`: the API's lower-camel
// keys (but data keys kept), the defaults and read-only fields ECS adds.
func TestStandInDescribeTaskDefinition(t *testing.T) {
	w := literalWorld()
	env := w.stack("Env")
	env.resources["Logs"] = map[string]any{"Type": "AWS::Logs::LogGroup", "Properties": map[string]any{"LogGroupName": "/ecs/svc"}}
	env.resources["TaskDef"]["Properties"] = map[string]any{
		"Family": "svc", "NetworkMode": "awsvpc", "Cpu": "256",
		"Tags": []any{map[string]any{"Key": "Project", "Value": "shop"}},
		"ContainerDefinitions": []any{map[string]any{
			"Name": "app", "Image": "nginx",
			"PortMappings": []any{map[string]any{"ContainerPort": 80.0}},
			"LogConfiguration": map[string]any{"LogDriver": "awslogs", "Options": map[string]any{
				"awslogs-group": cfnRef("Logs"), "awslogs-region": cfnRef("AWS::Region"),
			}},
		}},
	}
	td := w.ecsTaskDefinition(t, env, "TaskDef")
	c := asMap(asList(td["containerDefinitions"])[0])
	rows := []struct {
		name      string
		got, want any
	}{
		{"family", td["family"], "svc"},
		{"lower-camel keys", td["networkMode"], "awsvpc"},
		{"tags are not part of it", td["tags"], nil},
		{"ARN of the stack's account and region", td["taskDefinitionArn"], "arn:aws:ecs:eu-west-1:" + standInAccount + ":task-definition/svc:7"},
		{"read-only status", td["status"], "ACTIVE"},
		{"enableFaultInjection, returned since the API has it", td["enableFaultInjection"], false},
		{"a container's name", c["name"], "app"},
		{"awsvpc: the host port is the container port", dig(asList(c["portMappings"])[0], "hostPort"), 80.0},
		{"log options keep their keys, resolved", dig(c, "logConfiguration", "options"), map[string]any{"awslogs-group": "/ecs/svc", "awslogs-region": "eu-west-1"}},
		{"ECS's container defaults", c["mountPoints"], []any{}},
	}
	for _, r := range rows {
		if !reflect.DeepEqual(r.got, r.want) {
			t.Errorf("%s: %s, want %s", r.name, compact(r.got), compact(r.want))
		}
	}
}
