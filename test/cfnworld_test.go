package test

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// A stand-in CloudFormation: the synthesized templates as deployed in a
// stand-in account, with the values their expressions take there. The build
// contract (buildcontract_test.go) and the cross-stack checks read the
// templates through it; cfnworld_self_test.go proves each resolution on
// literal templates. What it has no stand-in for, it refuses with an error
// rather than guess: a guess could make a contract pass without proving it.

// The stand-in account, and the region of a stack whose environment leaves
// it to the deployment.
const (
	standInAccount = "123456789012"
	standInRegion  = "us-east-1"
)

// cfnWorld is the templates of one app, as deployed.
type cfnWorld struct {
	stacks []*cfnStack
}

type cfnStack struct {
	id, name        string
	account, region string // what AWS::AccountId and AWS::Region return
	resources       map[string]map[string]any
	outputs         map[string]any
	parameters      map[string]any
}

// newCfnWorld is the app synthesized with cdk.json's defaults.
func newCfnWorld(t *testing.T) *cfnWorld {
	t.Helper()
	var stacks []awscdk.Stack
	for _, id := range app.StackIDs() {
		stacks = append(stacks, app.Stack(id))
	}
	return worldOf(t, stacks, func(s awscdk.Stack) assertions.Template { return template(t, *s.Node().Id()) })
}

// worldOf is the given synthesized stacks, read with templateOf; a stack
// deploys in its environment's account and region where it names them, in
// the stand-in's otherwise.
func worldOf(t *testing.T, stacks []awscdk.Stack, templateOf func(awscdk.Stack) assertions.Template) *cfnWorld {
	t.Helper()
	w := &cfnWorld{}
	for _, st := range stacks {
		tpl := *templateOf(st).ToJSON()
		s := &cfnStack{id: *st.Node().Id(), name: *st.StackName(), account: standInAccount, region: standInRegion, resources: map[string]map[string]any{}}
		if !*awscdk.Token_IsUnresolved(st.Account()) {
			s.account = *st.Account()
		}
		if !*awscdk.Token_IsUnresolved(st.Region()) {
			s.region = *st.Region()
		}
		for k, v := range asMap(tpl["Resources"]) {
			s.resources[k] = asMap(v)
		}
		s.outputs = asMap(tpl["Outputs"])
		s.parameters = asMap(tpl["Parameters"])
		w.stacks = append(w.stacks, s)
	}
	sort.Slice(w.stacks, func(i, j int) bool { return w.stacks[i].id < w.stacks[j].id })
	return w
}

// stack returns the stack with a construct ID, nil if there is none.
func (w *cfnWorld) stack(id string) *cfnStack {
	for _, s := range w.stacks {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (s *cfnStack) resourcesOfType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for k, r := range s.resources {
		if r["Type"] == typ {
			out[k] = r
		}
	}
	return out
}

// arn is a regional ARN of the stack's account and region.
func (s *cfnStack) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + s.region + ":" + s.account + ":" + resource
}

// mustString resolves v to a string (a number or boolean as CloudFormation
// writes it into a string), failing the test otherwise.
func (w *cfnWorld) mustString(t *testing.T, s *cfnStack, v any) string {
	t.Helper()
	r, err := w.resolve(s, v)
	if err != nil {
		t.Fatalf("%s: %v", s.id, err)
	}
	str, err := scalarString(r)
	if err != nil {
		t.Fatalf("%s: %s resolves to %s: %v", s.id, compact(v), compact(r), err)
	}
	return str
}

// scalarString is a resolved scalar as CloudFormation writes it into a string.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("not a string")
}

// resolve evaluates the intrinsic functions in v. AWS::NoValue removes the
// key or list item that holds it, as in CloudFormation.
func (w *cfnWorld) resolve(s *cfnStack, v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			r, err := w.resolve(s, e)
			if err != nil {
				return nil, err
			}
			if r != nil {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return w.intrinsic(s, k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			r, err := w.resolve(s, e)
			if err != nil {
				return nil, err
			}
			if r != nil {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

// resolveString resolves v and requires a string.
func (w *cfnWorld) resolveString(s *cfnStack, fn string, v any) (string, error) {
	r, err := w.resolve(s, v)
	if err != nil {
		return "", err
	}
	str, err := scalarString(r)
	if err != nil {
		return "", fmt.Errorf("%s: %s resolves to %s, not a string", fn, compact(v), compact(r))
	}
	return str, nil
}

// resolveList resolves v and requires a list.
func (w *cfnWorld) resolveList(s *cfnStack, fn string, v any) ([]any, error) {
	r, err := w.resolve(s, v)
	if err != nil {
		return nil, err
	}
	l, ok := r.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s resolves to %s, not a list", fn, compact(v), compact(r))
	}
	return l, nil
}

func (w *cfnWorld) intrinsic(s *cfnStack, fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	pair := func() error {
		if len(args) != 2 {
			return fmt.Errorf("%s takes two arguments, got %s", fn, compact(arg))
		}
		return nil
	}
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref %s: the argument must be a name", compact(arg))
		}
		return w.ref(s, name)
	case "Fn::GetAtt":
		if err := pair(); err != nil {
			return nil, err
		}
		logical, ok1 := args[0].(string)
		attr, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("Fn::GetAtt %s: this stand-in takes a logical ID and an attribute name", compact(arg))
		}
		return w.getAtt(s, logical, attr)
	case "Fn::Join":
		if err := pair(); err != nil {
			return nil, err
		}
		delimiter, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Join %s: the delimiter must be a string", compact(arg))
		}
		parts, err := w.resolveList(s, fn, args[1])
		if err != nil {
			return nil, err
		}
		strs := make([]string, len(parts))
		for i, p := range parts {
			if strs[i], err = scalarString(p); err != nil {
				return nil, fmt.Errorf("Fn::Join: part %d is %s, not a string", i, compact(p))
			}
		}
		return strings.Join(strs, delimiter), nil
	case "Fn::Select":
		if err := pair(); err != nil {
			return nil, err
		}
		index, err := w.resolveString(s, fn, args[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(index)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: index %q is not a whole number", index)
		}
		list, err := w.resolveList(s, fn, args[1])
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("Fn::Select: index %d of a list of %d", i, len(list))
		}
		return list[i], nil
	case "Fn::Split":
		if err := pair(); err != nil {
			return nil, err
		}
		delimiter, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Split %s: the delimiter must be a string", compact(arg))
		}
		str, err := w.resolveString(s, fn, args[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(str, delimiter) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Sub":
		return w.sub(s, arg)
	case "Fn::ImportValue":
		name, err := w.resolveString(s, fn, arg)
		if err != nil {
			return nil, err
		}
		var found []any
		for _, other := range w.stacks {
			for _, o := range other.outputs {
				if dig(o, "Export") == nil {
					continue
				}
				export, err := w.resolveString(other, "Export.Name", dig(o, "Export", "Name"))
				if err != nil {
					return nil, err
				}
				if export == name {
					v, err := w.resolve(other, dig(o, "Value"))
					if err != nil {
						return nil, err
					}
					found = append(found, v)
				}
			}
		}
		if len(found) != 1 {
			return nil, fmt.Errorf("Fn::ImportValue %s: %d stacks export it, want 1", name, len(found))
		}
		return found[0], nil
	case "Fn::GetStackOutput":
		stack, err := w.resolveString(s, fn, dig(arg, "StackName"))
		if err != nil {
			return nil, err
		}
		output, err := w.resolveString(s, fn, dig(arg, "OutputName"))
		if err != nil {
			return nil, err
		}
		for _, other := range w.stacks {
			if other.name != stack {
				continue
			}
			if region := dig(arg, "Region"); region != nil && region != other.region {
				return nil, fmt.Errorf("Fn::GetStackOutput %s: stack %s is in %s", compact(arg), stack, other.region)
			}
			if o, ok := other.outputs[output]; ok {
				return w.resolve(other, dig(o, "Value"))
			}
			return nil, fmt.Errorf("Fn::GetStackOutput %s: stack %s has no output %s", compact(arg), stack, output)
		}
		return nil, fmt.Errorf("Fn::GetStackOutput %s: no stack named %s", compact(arg), stack)
	}
	return nil, fmt.Errorf("%s %s: this stand-in has no evaluation of it", fn, compact(arg))
}

// refReturns says what Ref returns for a resource type (AWS CloudFormation
// resource reference, each type's "Return values"): its name or ID, the
// resource's physical name here, or its ARN, built from that name. A type
// missing here makes Ref fail: add it with what AWS documents.
var refReturns = map[string]func(w *cfnWorld, s *cfnStack, logical string) (any, error){}

func init() {
	name := func(w *cfnWorld, s *cfnStack, logical string) (any, error) { return w.name(s, logical) }
	arn := func(format func(s *cfnStack, name string) string) func(w *cfnWorld, s *cfnStack, logical string) (any, error) {
		return func(w *cfnWorld, s *cfnStack, logical string) (any, error) {
			n, err := w.name(s, logical)
			if err != nil {
				return nil, err
			}
			return format(s, n), nil
		}
	}
	for _, typ := range []string{
		"AWS::CloudWatch::Alarm", "AWS::CodeBuild::Project", "AWS::CodeDeploy::Application",
		"AWS::CodeDeploy::DeploymentConfig", "AWS::CodeDeploy::DeploymentGroup", "AWS::CodePipeline::Pipeline",
		"AWS::ECR::Repository", "AWS::ECS::Cluster", "AWS::Events::Rule", "AWS::IAM::Role",
		"AWS::KMS::Key", "AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::S3::Bucket",
	} {
		refReturns[typ] = name
	}
	refReturns["AWS::SNS::Topic"] = arn(func(s *cfnStack, n string) string { return s.arn("sns", n) })
	refReturns["AWS::ElasticLoadBalancingV2::TargetGroup"] = arn(func(s *cfnStack, n string) string {
		return s.arn("elasticloadbalancing", "targetgroup/"+n+"/1a2b3c4d5e6f7a8b")
	})
	refReturns["AWS::ElasticLoadBalancingV2::LoadBalancer"] = arn(func(s *cfnStack, n string) string {
		return s.arn("elasticloadbalancing", "loadbalancer/app/"+n+"/1a2b3c4d5e6f7a8b")
	})
	refReturns["AWS::CodeConnections::Connection"] = arn(func(s *cfnStack, n string) string { return s.arn("codeconnections", "connection/"+n) })
	refReturns["AWS::ECS::Service"] = arn(func(s *cfnStack, n string) string { return s.arn("ecs", "service/"+n) })
	refReturns["AWS::ECS::TaskDefinition"] = func(w *cfnWorld, s *cfnStack, logical string) (any, error) {
		family, err := w.resolve(s, dig(s.resources[logical], "Properties", "Family"))
		if err != nil {
			return nil, err
		}
		if family == nil {
			family = w.generatedName(s, logical)
		}
		return s.arn("ecs", fmt.Sprintf("task-definition/%v:1", family)), nil
	}
}

func (w *cfnWorld) ref(s *cfnStack, name string) (any, error) {
	switch name {
	case "AWS::AccountId":
		return s.account, nil
	case "AWS::Region":
		return s.region, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return s.name, nil
	case "AWS::NoValue":
		return nil, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, fmt.Errorf("Ref %s: this stand-in has no value for the pseudo parameter", name)
	}
	if p, ok := s.parameters[name]; ok {
		// An SSM parameter's value is in Parameter Store, not its default.
		if typ := fmt.Sprint(dig(p, "Type")); strings.HasPrefix(typ, "AWS::SSM::") {
			return nil, fmt.Errorf("Ref %s: a parameter of type %s, which this stand-in cannot read", name, typ)
		}
		if dig(p, "Default") == nil {
			return nil, fmt.Errorf("Ref %s: a parameter without a default", name)
		}
		return w.resolve(s, dig(p, "Default"))
	}
	r, ok := s.resources[name]
	if !ok {
		return nil, fmt.Errorf("Ref %s: no such resource or parameter in %s", name, s.id)
	}
	returns, ok := refReturns[fmt.Sprint(r["Type"])]
	if !ok {
		return nil, fmt.Errorf("Ref %s (%v): this stand-in does not know what Ref returns for the type", name, r["Type"])
	}
	return returns(w, s, name)
}

func (w *cfnWorld) getAtt(s *cfnStack, logical, attr string) (any, error) {
	r, ok := s.resources[logical]
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no such resource in %s", logical, attr, s.id)
	}
	name, err := w.name(s, logical)
	if err != nil {
		return nil, err
	}
	switch fmt.Sprint(r["Type"]) + "." + attr {
	case "AWS::IAM::Role.Arn":
		return "arn:aws:iam::" + s.account + ":role/" + name, nil
	case "AWS::ECR::Repository.Arn":
		return s.arn("ecr", "repository/"+name), nil
	case "AWS::Lambda::Function.Arn":
		return s.arn("lambda", "function:"+name), nil
	case "AWS::Logs::LogGroup.Arn":
		return s.arn("logs", "log-group:"+name+":*"), nil
	case "AWS::KMS::Key.Arn":
		return s.arn("kms", "key/"+name), nil
	case "AWS::S3::Bucket.Arn":
		return "arn:aws:s3:::" + name, nil
	case "AWS::CodeBuild::Project.Arn":
		return s.arn("codebuild", "project/"+name), nil
	case "AWS::CodeConnections::Connection.ConnectionArn":
		return s.arn("codeconnections", "connection/"+name), nil
	case "AWS::ECS::Service.Name":
		return name, nil
	case "AWS::ElasticLoadBalancingV2::LoadBalancer.DNSName":
		return name + "-1234567890." + s.region + ".elb.amazonaws.com", nil
	}
	return nil, fmt.Errorf("Fn::GetAtt %s.%s (%v): this stand-in has no value for the attribute", logical, attr, r["Type"])
}

// subVariable is a ${Name} or ${Name.Attribute} of an Fn::Sub string;
// ${!Literal} is the literal ${Literal}.
var subVariable = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (w *cfnWorld) sub(s *cfnStack, arg any) (any, error) {
	var str string
	vars := map[string]any{}
	switch x := arg.(type) {
	case string:
		str = x
	case []any:
		text, ok := x[0].(string)
		if len(x) != 2 || !ok || asMap(x[1]) == nil {
			return nil, fmt.Errorf("Fn::Sub %s: want a string, or a string and a map of variables", compact(arg))
		}
		str, vars = text, asMap(x[1])
	default:
		return nil, fmt.Errorf("Fn::Sub %s: want a string, or a string and a map of variables", compact(arg))
	}
	var failed error
	out := subVariable.ReplaceAllStringFunc(str, func(m string) string {
		name := m[2 : len(m)-1]
		var v any
		var err error
		if e, ok := vars[name]; ok {
			v, err = w.resolve(s, e)
		} else if i := strings.Index(name, "."); i > 0 && !strings.HasPrefix(name, "AWS::") {
			v, err = w.getAtt(s, name[:i], name[i+1:])
		} else {
			v, err = w.ref(s, name)
		}
		if err == nil {
			var text string
			if text, err = scalarString(v); err == nil {
				return text
			}
			err = fmt.Errorf("Fn::Sub: ${%s} is %s, not a string", name, compact(v))
		}
		if failed == nil {
			failed = err
		}
		return m
	})
	if failed != nil {
		return nil, failed
	}
	return strings.ReplaceAll(out, "${!", "${"), nil
}

// roleStatements returns the statements, resolved, of every identity
// policy of a stack attached to the role with the given ARN.
func (w *cfnWorld) roleStatements(t *testing.T, s *cfnStack, roleArn string) []any {
	t.Helper()
	var out []any
	for logical, pol := range s.resources {
		if typ := pol["Type"]; typ != "AWS::IAM::Policy" && typ != "AWS::IAM::ManagedPolicy" {
			continue
		}
		attached := false
		for _, r := range asList(dig(pol, "Properties", "Roles")) {
			name := w.mustString(t, s, r)
			attached = attached || "arn:aws:iam::"+s.account+":role/"+name == roleArn
		}
		if !attached {
			continue
		}
		doc, err := w.resolve(s, dig(pol, "Properties", "PolicyDocument"))
		if err != nil {
			t.Fatalf("%s: policy %s: %v", s.id, logical, err)
		}
		out = append(out, asList(dig(doc, "Statement"))...)
	}
	return out
}

// namedBy is the property that names a resource of a type, when the
// template may set it.
var namedBy = map[string]string{
	"AWS::CloudWatch::Alarm":                    "AlarmName",
	"AWS::CodeBuild::Project":                   "Name",
	"AWS::CodeDeploy::Application":              "ApplicationName",
	"AWS::CodeDeploy::DeploymentConfig":         "DeploymentConfigName",
	"AWS::CodeDeploy::DeploymentGroup":          "DeploymentGroupName",
	"AWS::CodePipeline::Pipeline":               "Name",
	"AWS::ECR::Repository":                      "RepositoryName",
	"AWS::ECS::Cluster":                         "ClusterName",
	"AWS::ECS::Service":                         "ServiceName",
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
	"AWS::ElasticLoadBalancingV2::TargetGroup":  "Name",
	"AWS::Events::Rule":                         "Name",
	"AWS::IAM::Role":                            "RoleName",
	"AWS::Lambda::Function":                     "FunctionName",
	"AWS::Logs::LogGroup":                       "LogGroupName",
	"AWS::S3::Bucket":                           "BucketName",
	"AWS::SNS::Topic":                           "TopicName",
}

// physicalName is the name CloudFormation gives a resource (see name),
// failing the test if the template's name does not resolve.
func (w *cfnWorld) physicalName(t *testing.T, s *cfnStack, logical string) string {
	t.Helper()
	n, err := w.name(s, logical)
	if err != nil {
		t.Fatalf("%s: %v", s.id, err)
	}
	return n
}

// name is the name CloudFormation gives a resource: the one the template
// sets, or the one CloudFormation generates (generatedName). A key and a
// connection are known by an ID CloudFormation generates.
func (w *cfnWorld) name(s *cfnStack, logical string) (string, error) {
	r, ok := s.resources[logical]
	if !ok {
		return "", fmt.Errorf("no resource %s in %s", logical, s.id)
	}
	switch r["Type"] {
	case "AWS::KMS::Key":
		return standInUUID(s.name + logical), nil
	case "AWS::CodeConnections::Connection":
		return standInUUID(s.name + logical), nil
	}
	if prop, ok := namedBy[fmt.Sprint(r["Type"])]; ok {
		if v := dig(r, "Properties", prop); v != nil {
			name, err := w.resolve(s, v)
			if err != nil {
				return "", fmt.Errorf("the name of %s: %v", logical, err)
			}
			if name != nil {
				return scalarString(name)
			}
		}
	}
	return w.generatedName(s, logical), nil
}

// generatedName is <stack>-<logical ID>-<suffix>, as CloudFormation names a
// resource whose template sets no name.
func (w *cfnWorld) generatedName(s *cfnStack, logical string) string {
	sum := sha1.Sum([]byte(s.name + "/" + logical))
	suffix := strings.ToUpper(hex.EncodeToString(sum[:]))[:12]
	name := s.name + "-" + logical
	if len(name) > 50 {
		name = name[:50]
	}
	return name + "-" + suffix
}

func standInUUID(seed string) string {
	h := hex.EncodeToString(func() []byte { s := sha1.Sum([]byte(seed)); return s[:] }())
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// ecsTaskDefinition is what `aws ecs describe-task-definition` answers for a
// task definition of a template: its properties in the API's lower-camel
// shape, with the defaults and read-only fields the API adds.
func (w *cfnWorld) ecsTaskDefinition(t *testing.T, s *cfnStack, logical string) map[string]any {
	t.Helper()
	props, err := w.resolve(s, dig(s.resources[logical], "Properties"))
	if err != nil {
		t.Fatalf("%s: task definition %s: %v", s.id, logical, err)
	}
	td := map[string]any{}
	for k, v := range asMap(props) {
		if k == "Tags" {
			continue // returned only with --include TAGS, beside the task definition
		}
		td[lowerCamel(k)] = apiShape(k, v)
	}
	family, ok := td["family"].(string)
	if !ok {
		t.Fatalf("%s: task definition %s has no Family; the build finds it by family", s.id, logical)
	}
	var containers []any
	for _, c := range asList(td["containerDefinitions"]) {
		m := asMap(c)
		for k, v := range map[string]any{"cpu": 0.0, "environment": []any{}, "mountPoints": []any{}, "volumesFrom": []any{}, "systemControls": []any{}} {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		for _, pm := range asList(m["portMappings"]) {
			if pmm := asMap(pm); td["networkMode"] == "awsvpc" && pmm["hostPort"] == nil {
				pmm["hostPort"] = pmm["containerPort"]
			}
		}
		containers = append(containers, m)
	}
	td["containerDefinitions"] = containers
	for k, v := range map[string]any{"volumes": []any{}, "placementConstraints": []any{}} {
		if _, ok := td[k]; !ok {
			td[k] = v
		}
	}
	td["taskDefinitionArn"] = s.arn("ecs", "task-definition/"+family+":7")
	td["revision"] = 7.0
	td["status"] = "ACTIVE"
	td["requiresAttributes"] = []any{
		map[string]any{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"},
		map[string]any{"name": "ecs.capability.execution-role-awslogs"},
		map[string]any{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.19"},
		map[string]any{"name": "com.amazonaws.ecs.capability.task-iam-role"},
		map[string]any{"name": "ecs.capability.task-eni"},
	}
	td["compatibilities"] = []any{"EC2", "FARGATE"}
	td["registeredAt"] = "2025-06-02T09:41:27.512000+00:00"
	td["registeredBy"] = "arn:aws:sts::" + s.account + ":assumed-role/cdk-hnb659fds-cfn-exec-role-" + s.account + "-" + s.region + "/AWSCloudFormation"
	// Returned since the API gained it, whether or not it was registered.
	td["enableFaultInjection"] = false
	// Round-trip through JSON, as the stand-in's answer is read back.
	return normalize(td).(map[string]any)
}

// apiShape turns a CloudFormation property value into the ECS API's shape:
// lower-camel keys, except in the maps whose keys are data (log options,
// Docker labels).
func apiShape(key string, v any) any {
	switch key {
	case "Options", "DockerLabels", "SystemControls":
		if m, ok := v.(map[string]any); ok {
			return m
		}
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[lowerCamel(k)] = apiShape(k, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = apiShape("", e)
		}
		return out
	}
	return v
}

func lowerCamel(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
