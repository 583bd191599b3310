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
)

// The synthesized templates as deployed in a stand-in account, for the build
// contract test (buildcontract_test.go) and the cross-stack checks.

// cfnWorld is the synthesized app's templates, with the values their
// expressions take once deployed in the stand-in account and region.
type cfnWorld struct {
	stacks []*cfnStack
}

type cfnStack struct {
	id, name   string
	resources  map[string]map[string]interface{}
	outputs    map[string]interface{}
	parameters map[string]interface{}
}

func newCfnWorld(t *testing.T) *cfnWorld {
	t.Helper()
	w := &cfnWorld{}
	ids := app.StackIDs()
	sort.Strings(ids)
	for _, id := range ids {
		tpl := *template(t, id).ToJSON()
		s := &cfnStack{id: id, name: *app.Stack(id).StackName(), resources: map[string]map[string]interface{}{}}
		for k, v := range asMap(tpl["Resources"]) {
			s.resources[k] = asMap(v)
		}
		s.outputs = asMap(tpl["Outputs"])
		s.parameters = asMap(tpl["Parameters"])
		w.stacks = append(w.stacks, s)
	}
	return w
}

func (s *cfnStack) resourcesOfType(typ string) map[string]map[string]interface{} {
	out := map[string]map[string]interface{}{}
	for k, r := range s.resources {
		if r["Type"] == typ {
			out[k] = r
		}
	}
	return out
}

func (w *cfnWorld) mustString(t *testing.T, s *cfnStack, v interface{}) string {
	t.Helper()
	r, err := w.resolve(s, v)
	if err != nil {
		t.Fatalf("%s: %v", s.id, err)
	}
	switch x := r.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	t.Fatalf("%s: %v resolves to %v, not a string", s.id, v, r)
	return ""
}

// resolve evaluates the intrinsic functions in v.
func (w *cfnWorld) resolve(s *cfnStack, v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case []interface{}:
		out := make([]interface{}, 0, len(x))
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
	case map[string]interface{}:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return w.intrinsic(s, k, arg)
				}
			}
		}
		out := map[string]interface{}{}
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

func (w *cfnWorld) intrinsic(s *cfnStack, fn string, arg interface{}) (interface{}, error) {
	args := asList(arg)
	switch fn {
	case "Ref":
		return w.ref(s, fmt.Sprint(arg))
	case "Fn::GetAtt":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt %v", arg)
		}
		return w.getAtt(s, fmt.Sprint(args[0]), fmt.Sprint(args[1]))
	case "Fn::Join":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join %v", arg)
		}
		parts, err := w.resolve(s, args[1])
		if err != nil {
			return nil, err
		}
		var strs []string
		for _, p := range asList(parts) {
			strs = append(strs, fmt.Sprint(p))
		}
		return strings.Join(strs, fmt.Sprint(args[0])), nil
	case "Fn::Select":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select %v", arg)
		}
		list, err := w.resolve(s, args[1])
		if err != nil {
			return nil, err
		}
		i, _ := strconv.Atoi(fmt.Sprint(args[0]))
		if l := asList(list); i < len(l) {
			return l[i], nil
		}
		return nil, fmt.Errorf("Fn::Select %d of %v", i, list)
	case "Fn::Split":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Split %v", arg)
		}
		str, err := w.resolve(s, args[1])
		if err != nil {
			return nil, err
		}
		var out []interface{}
		for _, p := range strings.Split(fmt.Sprint(str), fmt.Sprint(args[0])) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Sub":
		return w.sub(s, arg)
	case "Fn::ImportValue":
		name, err := w.resolve(s, arg)
		if err != nil {
			return nil, err
		}
		for _, other := range w.stacks {
			for _, o := range other.outputs {
				export, err := w.resolve(other, dig(o, "Export", "Name"))
				if err == nil && export == name {
					return w.resolve(other, dig(o, "Value"))
				}
			}
		}
		return nil, fmt.Errorf("Fn::ImportValue %v: no stack exports it", name)
	case "Fn::GetStackOutput":
		stack, output := dig(arg, "StackName"), dig(arg, "OutputName")
		for _, other := range w.stacks {
			if other.name == stack {
				if o, ok := other.outputs[fmt.Sprint(output)]; ok {
					return w.resolve(other, dig(o, "Value"))
				}
			}
		}
		return nil, fmt.Errorf("Fn::GetStackOutput %v: no such output", arg)
	}
	return nil, fmt.Errorf("%s: this test has no stand-in for it (%v)", fn, arg)
}

func (w *cfnWorld) ref(s *cfnStack, name string) (interface{}, error) {
	switch name {
	case "AWS::AccountId":
		return standInAccount, nil
	case "AWS::Region":
		return standInRegion, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return s.name, nil
	case "AWS::NoValue":
		return nil, nil
	}
	if p, ok := s.parameters[name]; ok {
		return w.resolve(s, dig(p, "Default"))
	}
	r, ok := s.resources[name]
	if !ok {
		return nil, fmt.Errorf("Ref %s: no such resource or parameter in %s", name, s.id)
	}
	arn := func(service, resource string) string {
		return "arn:aws:" + service + ":" + standInRegion + ":" + standInAccount + ":" + resource
	}
	switch r["Type"] {
	case "AWS::ECS::TaskDefinition":
		family, err := w.resolve(s, dig(r, "Properties", "Family"))
		if err != nil || family == nil {
			family = w.physicalName(s, name)
		}
		return arn("ecs", fmt.Sprintf("task-definition/%v:1", family)), nil
	case "AWS::SNS::Topic":
		return arn("sns", w.physicalName(s, name)), nil
	case "AWS::ElasticLoadBalancingV2::TargetGroup":
		return arn("elasticloadbalancing", "targetgroup/"+w.physicalName(s, name)+"/1a2b3c4d5e6f7a8b"), nil
	case "AWS::ElasticLoadBalancingV2::LoadBalancer":
		return arn("elasticloadbalancing", "loadbalancer/app/"+w.physicalName(s, name)+"/1a2b3c4d5e6f7a8b"), nil
	}
	return w.physicalName(s, name), nil
}

func (w *cfnWorld) getAtt(s *cfnStack, logical, attr string) (interface{}, error) {
	r, ok := s.resources[logical]
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no such resource in %s", logical, attr, s.id)
	}
	name := w.physicalName(s, logical)
	regional := func(service, resource string) string {
		return "arn:aws:" + service + ":" + standInRegion + ":" + standInAccount + ":" + resource
	}
	switch fmt.Sprint(r["Type"]) + "." + attr {
	case "AWS::IAM::Role.Arn":
		return "arn:aws:iam::" + standInAccount + ":role/" + name, nil
	case "AWS::ECR::Repository.Arn":
		return regional("ecr", "repository/"+name), nil
	case "AWS::Lambda::Function.Arn":
		return regional("lambda", "function:"+name), nil
	case "AWS::Logs::LogGroup.Arn":
		return regional("logs", "log-group:"+name+":*"), nil
	case "AWS::KMS::Key.Arn":
		return regional("kms", "key/"+name), nil
	case "AWS::S3::Bucket.Arn":
		return "arn:aws:s3:::" + name, nil
	case "AWS::CodeBuild::Project.Arn":
		return regional("codebuild", "project/"+name), nil
	case "AWS::CodeConnections::Connection.ConnectionArn":
		return regional("codeconnections", "connection/"+standInUUID(s.name+logical)), nil
	case "AWS::ElasticLoadBalancingV2::LoadBalancer.DNSName":
		return name + "-1234567890." + standInRegion + ".elb.amazonaws.com", nil
	}
	return nil, fmt.Errorf("Fn::GetAtt %s.%s (%v): this test has no stand-in for it", logical, attr, r["Type"])
}

var subVariable = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (w *cfnWorld) sub(s *cfnStack, arg interface{}) (interface{}, error) {
	str, vars := "", map[string]interface{}{}
	if l, ok := arg.([]interface{}); ok && len(l) == 2 {
		str = fmt.Sprint(l[0])
		vars = asMap(l[1])
	} else {
		str = fmt.Sprint(arg)
	}
	var failed error
	out := subVariable.ReplaceAllStringFunc(str, func(m string) string {
		name := m[2 : len(m)-1]
		var v interface{}
		var err error
		if e, ok := vars[name]; ok {
			v, err = w.resolve(s, e)
		} else if i := strings.Index(name, "."); i > 0 && !strings.HasPrefix(name, "AWS::") {
			v, err = w.getAtt(s, name[:i], name[i+1:])
		} else {
			v, err = w.ref(s, name)
		}
		if err != nil {
			failed = err
		}
		return fmt.Sprint(v)
	})
	return strings.ReplaceAll(out, "${!", "${"), failed
}

// namedBy is the property that names a resource of a type, when the
// template may set it; Ref returns the name.
var namedBy = map[string]string{
	"AWS::ECR::Repository":                      "RepositoryName",
	"AWS::Lambda::Function":                     "FunctionName",
	"AWS::IAM::Role":                            "RoleName",
	"AWS::Logs::LogGroup":                       "LogGroupName",
	"AWS::CodeDeploy::Application":              "ApplicationName",
	"AWS::CodeDeploy::DeploymentGroup":          "DeploymentGroupName",
	"AWS::CodeBuild::Project":                   "Name",
	"AWS::CodePipeline::Pipeline":               "Name",
	"AWS::ECS::Cluster":                         "ClusterName",
	"AWS::ECS::Service":                         "ServiceName",
	"AWS::S3::Bucket":                           "BucketName",
	"AWS::SNS::Topic":                           "TopicName",
	"AWS::ElasticLoadBalancingV2::TargetGroup":  "Name",
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
}

// physicalName is the name CloudFormation gives a resource: the one the
// template sets, or <stack>-<logical ID>-<suffix> as CloudFormation generates.
func (w *cfnWorld) physicalName(s *cfnStack, logical string) string {
	r := s.resources[logical]
	if prop, ok := namedBy[fmt.Sprint(r["Type"])]; ok {
		if v := dig(r, "Properties", prop); v != nil {
			if name, err := w.resolve(s, v); err == nil && name != nil {
				return fmt.Sprint(name)
			}
		}
	}
	if r["Type"] == "AWS::KMS::Key" {
		return standInUUID(s.name + logical)
	}
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
func (w *cfnWorld) ecsTaskDefinition(t *testing.T, s *cfnStack, logical string, r map[string]interface{}) map[string]interface{} {
	t.Helper()
	props, err := w.resolve(s, dig(r, "Properties"))
	if err != nil {
		t.Fatalf("%s: task definition %s: %v", s.id, logical, err)
	}
	td := map[string]interface{}{}
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
	var containers []interface{}
	for _, c := range asList(td["containerDefinitions"]) {
		m := asMap(c)
		for k, v := range map[string]interface{}{"cpu": 0.0, "environment": []interface{}{}, "mountPoints": []interface{}{}, "volumesFrom": []interface{}{}, "systemControls": []interface{}{}} {
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
	for k, v := range map[string]interface{}{"volumes": []interface{}{}, "placementConstraints": []interface{}{}} {
		if _, ok := td[k]; !ok {
			td[k] = v
		}
	}
	td["taskDefinitionArn"] = "arn:aws:ecs:" + standInRegion + ":" + standInAccount + ":task-definition/" + family + ":7"
	td["revision"] = 7.0
	td["status"] = "ACTIVE"
	td["requiresAttributes"] = []interface{}{
		map[string]interface{}{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"},
		map[string]interface{}{"name": "ecs.capability.execution-role-awslogs"},
		map[string]interface{}{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.19"},
		map[string]interface{}{"name": "com.amazonaws.ecs.capability.task-iam-role"},
		map[string]interface{}{"name": "ecs.capability.task-eni"},
	}
	td["compatibilities"] = []interface{}{"EC2", "FARGATE"}
	td["registeredAt"] = "2025-06-02T09:41:27.512000+00:00"
	td["registeredBy"] = "arn:aws:sts::" + standInAccount + ":assumed-role/cdk-hnb659fds-cfn-exec-role-" + standInAccount + "-" + standInRegion + "/AWSCloudFormation"
	// Returned since the API gained it, whether or not it was registered.
	td["enableFaultInjection"] = false
	// Round-trip through JSON, as the stand-in's answer is read back.
	return normalize(td).(map[string]interface{})
}

// apiShape turns a CloudFormation property value into the ECS API's shape:
// lower-camel keys, except in the maps whose keys are data (log options,
// Docker labels).
func apiShape(key string, v interface{}) interface{} {
	switch key {
	case "Options", "DockerLabels", "SystemControls":
		if m, ok := v.(map[string]interface{}); ok {
			return m
		}
	}
	switch x := v.(type) {
	case map[string]interface{}:
		out := map[string]interface{}{}
		for k, e := range x {
			out[lowerCamel(k)] = apiShape(k, e)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(x))
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
