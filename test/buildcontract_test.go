package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"gopkg.in/yaml.v3"

	"ecs-bluegreen/constructs/delivery"
)

// The stand-in account the build runs in.
const (
	standInAccount = "123456789012"
	standInRegion  = "us-east-1"
	// standInCommit is the commit the source action hands to the build.
	standInCommit = "3f9c2a7b1e4d5c6a8b9f0e1d2c3b4a5968778695"
	// standInToken is what `aws ecr get-login-password` prints.
	standInToken = "eyJwYXlsb2FkIjoic3RhbmQtaW4iLCJkYXRha2V5Ijoic3RhbmQtaW4iLCJ2ZXJzaW9uIjoiMiIsInR5cGUiOiJEQVRBX0tFWSJ9"
)

// ecsReadOnlyFields are returned by DescribeTaskDefinition and rejected by
// RegisterTaskDefinition, which CodeDeploy calls with the rendered template.
var ecsReadOnlyFields = []string{
	"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
	"registeredAt", "registeredBy", "deregisteredAt",
}

// ecsDroppedFields are returned by DescribeTaskDefinition and accepted by
// RegisterTaskDefinition, but must not reach the template:
// enableFaultInjection fails the parameter validation of ECS clients older
// than the field (it was added to the API in late 2024).
var ecsDroppedFields = []string{"enableFaultInjection"}

// checkRegisterTaskDefinitionInput decodes a task definition template into
// the ECS API's RegisterTaskDefinitionInput, one top-level key at a time so
// that every unknown key is reported, rejecting unknown keys at every level
// (json's DisallowUnknownFields) and keys whose case differs from the API's
// (json matches field names case-insensitively; the ECS API does not).
func checkRegisterTaskDefinitionInput(t *testing.T, who string, data []byte) {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Errorf("%s is not a JSON object: %v\n%s", who, err, data)
		return
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		one, _ := json.Marshal(map[string]json.RawMessage{key: fields[key]})
		dec := json.NewDecoder(bytes.NewReader(one))
		dec.DisallowUnknownFields()
		var in ecs.RegisterTaskDefinitionInput
		if err := dec.Decode(&in); err != nil {
			t.Errorf("%s: %q is not valid RegisterTaskDefinition input: %v", who, key, err)
		}
		var value interface{}
		_ = json.Unmarshal(fields[key], &value)
		if f, ok := apiField(reflect.TypeOf(in), key); ok {
			for _, bad := range wronglyCasedKeys(f.Type, value, key) {
				t.Errorf("%s: key %s is not spelled as the ECS API spells it", who, bad)
			}
		} else {
			t.Errorf("%s: %q is not a RegisterTaskDefinition parameter", who, key)
		}
	}
	for _, f := range ecsDroppedFields {
		if _, ok := fields[f]; ok {
			t.Errorf("%s holds %q: RegisterTaskDefinition accepts it, but ECS clients older than the field reject it", who, f)
		}
	}
	if len(fields) == 0 {
		t.Errorf("%s is empty", who)
	}
}

// apiField finds the field of an SDK input struct that an ECS API key names:
// the key is the field's name with its first letter lower-cased.
func apiField(typ reflect.Type, key string) (reflect.StructField, bool) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.IsExported() && lowerCamel(f.Name) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// wronglyCasedKeys returns the path of every key below v whose spelling is
// not the API's for a value of type typ (maps' keys are data, not names).
func wronglyCasedKeys(typ reflect.Type, v interface{}, path string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	var out []string
	switch typ.Kind() {
	case reflect.Slice:
		for i, e := range asList(v) {
			out = append(out, wronglyCasedKeys(typ.Elem(), e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Struct:
		for k, e := range asMap(v) {
			f, ok := apiField(typ, k)
			if !ok {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, wronglyCasedKeys(f.Type, e, path+"."+k)...)
		}
	}
	return out
}

// TestBuildContract runs the build of the synthesized pipeline as CodeBuild
// would and checks that it hands every deploy action what that action reads.
// Everything comes from the synthesized templates: the buildspec and the
// variables of the CodeBuild project, the variables of the pipeline's build
// action, the files the CodeDeploy actions name, and each environment's task
// definition, service and pre-traffic function. The commands run in
// CodeBuild's shell with only the variables CodeBuild would give them, against
// stand-ins for docker, aws and git that answer as the real tools do.
func TestBuildContract(t *testing.T) {
	w := newCfnWorld(t)
	p := findPipeline(t, w)
	b := newBuildSandbox(t, w, p)

	t.Run("commands are POSIX sh", func(t *testing.T) { checkPosixSyntax(t, p) })

	t.Run("first build of a commit", func(t *testing.T) {
		run := b.run(t)
		run.requireSuccess(t)
		image := b.repositoryURI + ":" + standInCommit[:12]
		// The build logs in with the ECR token, builds and pushes the image
		// tagged with the commit, after finding that tag absent.
		run.requireCall(t, "aws", "ecr", "get-login-password")
		run.requireCall(t, "docker", "login", "--username", "AWS", "--password-stdin", b.registry)
		run.requireCall(t, "docker", "build", "--tag", image)
		run.requireCall(t, "aws", "ecr", "describe-images", "--repository-name", b.repositoryName, "--image-ids", "imageTag="+standInCommit[:12])
		run.requireCall(t, "docker", "push", image)
		if pushed := run.calls("docker", "push"); len(pushed) != 1 {
			t.Errorf("want exactly one push, got %v", pushed)
		}
		checkDeployInputs(t, p, b, run.outDir, image)
	})

	t.Run("rerun of the same commit reuses the pushed image", func(t *testing.T) {
		// A "Release change" after a failed deployment builds the same
		// commit again: the tag exists and the repository's tags are immutable.
		b.write(t, "pushed", b.repositoryURI+":"+standInCommit[:12]+"\n")
		run := b.run(t)
		run.requireSuccess(t)
		if pushed := run.calls("docker", "push"); len(pushed) != 0 {
			t.Errorf("the image was pushed already; want no push, got %v", pushed)
		}
		checkDeployInputs(t, p, b, run.outDir, b.repositoryURI+":"+standInCommit[:12])
	})
}

// checkDeployInputs proves that the build's output holds every file the
// deploy actions name, with the content CodeDeploy needs.
func checkDeployInputs(t *testing.T, p *pipelineUnderTest, b *buildSandbox, outDir, image string) {
	t.Helper()
	if len(p.deploys) == 0 {
		t.Fatalf("the pipeline has no CodeDeployToECS action")
	}
	readFile := func(who, name string) []byte {
		if !p.publishes(name) {
			t.Errorf("%s: %s is not among the buildspec's artifacts %v, so the build does not publish it", who, name, p.artifactFiles)
		}
		data, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %s named by the deploy action is missing from the build output: %v", who, name, err)
			return nil
		}
		return data
	}
	for _, d := range p.deploys {
		for key, artifact := range d.artifacts {
			if artifact != p.buildOutput {
				t.Errorf("%s: %s is %q; the build writes %q", d.stage, key, artifact, p.buildOutput)
			}
		}
		env := d.environment
		td := b.taskDefinitions[env.id]
		container := env.containerName

		// imageDetail.json names the image that was pushed.
		if d.imageArtifact != "" {
			if data := readFile(d.stage, imageDetailName); data != nil {
				var detail struct{ ImageURI string }
				if err := json.Unmarshal(data, &detail); err != nil || detail.ImageURI != image {
					t.Errorf("%s: %s = %s (%v), want ImageURI %q", d.stage, imageDetailName, data, err, image)
				}
			}
		}

		// The task definition template is what CloudFormation registered for
		// the environment's family, with the image placeholder, and nothing
		// RegisterTaskDefinition rejects.
		if data := readFile(d.stage, d.taskDefinitionPath); data != nil {
			checkTaskDefinitionTemplate(t, d, td, container, env.containerPort, data)
		}

		// The AppSpec names the task definition placeholder, the container
		// CodeDeploy routes to and the environment's pre-traffic function.
		if data := readFile(d.stage, d.appSpecPath); data != nil {
			checkAppSpec(t, d, container, env.containerPort, env.hookFunction, data)
		}
	}
}

func checkTaskDefinitionTemplate(t *testing.T, d deployAction, registered map[string]interface{}, container string, port float64, data []byte) {
	t.Helper()
	checkRegisterTaskDefinitionInput(t, d.stage+": "+d.taskDefinitionPath, data)
	var got map[string]interface{}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Errorf("%s: %s is not JSON: %v\n%s", d.stage, d.taskDefinitionPath, err, data)
		return
	}
	for _, f := range []string{"family", "taskRoleArn", "executionRoleArn", "cpu", "memory"} {
		if !reflect.DeepEqual(got[f], registered[f]) || registered[f] == nil {
			t.Errorf("%s: %s has %s = %v; the environment's task definition has %v", d.stage, d.taskDefinitionPath, f, got[f], registered[f])
		}
	}
	var named map[string]interface{}
	for _, c := range asList(got["containerDefinitions"]) {
		if m, _ := c.(map[string]interface{}); m != nil && m["name"] == container {
			named = m
		}
	}
	if named == nil {
		t.Errorf("%s: %s has no container named %q: %v", d.stage, d.taskDefinitionPath, container, got["containerDefinitions"])
	} else {
		if named["image"] != "<"+d.imagePlaceholder+">" {
			t.Errorf("%s: container %q has image %v, want <%s>", d.stage, container, named["image"], d.imagePlaceholder)
		}
		ports := []interface{}{}
		for _, pm := range asList(named["portMappings"]) {
			ports = append(ports, dig(pm, "containerPort"))
		}
		if !containsValue(ports, port) {
			t.Errorf("%s: container %q maps ports %v, want %v", d.stage, container, ports, port)
		}
	}
	// Apart from the image and the read-only fields, the template is exactly
	// what was registered: nothing is lost or written twice.
	want := normalizeJSON(registered).(map[string]interface{})
	for _, f := range append(ecsReadOnlyFields, ecsDroppedFields...) {
		delete(want, f)
	}
	for _, c := range asList(want["containerDefinitions"]) {
		if m, _ := c.(map[string]interface{}); m != nil && m["name"] == container {
			m["image"] = "<" + d.imagePlaceholder + ">"
		}
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s: %s differs from the registered task definition:\ngot  %s\nwant %s", d.stage, d.taskDefinitionPath, g, w)
	}
}

func checkAppSpec(t *testing.T, d deployAction, container string, port float64, hook string, data []byte) {
	t.Helper()
	var spec struct {
		Version   interface{} `yaml:"version"`
		Resources []map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				TaskDefinition   string `yaml:"TaskDefinition"`
				LoadBalancerInfo struct {
					ContainerName string `yaml:"ContainerName"`
					ContainerPort int    `yaml:"ContainerPort"`
				} `yaml:"LoadBalancerInfo"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
		Hooks []map[string]string `yaml:"Hooks"`
	}
	if err := yaml.Unmarshal(data, &spec); err != nil {
		t.Errorf("%s: %s is not a valid AppSpec: %v\n%s", d.stage, d.appSpecPath, err, data)
		return
	}
	if spec.Version == nil || len(spec.Resources) != 1 || len(spec.Resources[0]) != 1 {
		t.Errorf("%s: %s needs a version and one target service:\n%s", d.stage, d.appSpecPath, data)
		return
	}
	for _, r := range spec.Resources[0] {
		lb := r.Properties.LoadBalancerInfo
		if r.Type != "AWS::ECS::Service" || r.Properties.TaskDefinition != "<"+taskDefinitionPlaceholder+">" ||
			lb.ContainerName != container || float64(lb.ContainerPort) != port {
			t.Errorf("%s: %s target is %+v, want AWS::ECS::Service with TaskDefinition <%s>, container %q on port %v",
				d.stage, d.appSpecPath, r, taskDefinitionPlaceholder, container, port)
		}
	}
	var hooks []string
	for _, h := range spec.Hooks {
		if fn, ok := h["AfterAllowTestTraffic"]; ok {
			hooks = append(hooks, fn)
		}
	}
	if len(hooks) != 1 || hooks[0] != hook {
		t.Errorf("%s: %s AfterAllowTestTraffic hooks %q, want the environment's pre-traffic function %q", d.stage, d.appSpecPath, hooks, hook)
	}
}

// Names the CodeDeploy ECS action gives the files and placeholders it reads.
const (
	imageDetailName           = "imageDetail.json"
	taskDefinitionPlaceholder = "TASK_DEFINITION"
)

// ---------------------------------------------------------------------------
// The pipeline as synthesized.

// pipelineUnderTest is what the synthesized pipeline tells about its build.
type pipelineUnderTest struct {
	stack          *cfnStack
	name           string
	project        map[string]interface{} // the CodeBuild project's properties, unresolved
	projectName    string
	spec           map[string]interface{} // the buildspec
	phases         []buildPhase
	shell          string // env.shell of the buildspec, "" for the default
	artifactFiles  []string
	baseDirectory  string
	buildOutput    string
	actionVars     map[string]string
	sourceVars     map[string]string
	sourceCloneRef bool
	deploys        []deployAction
}

type buildPhase struct {
	name     string
	abort    bool
	commands []string
}

type deployAction struct {
	stage              string
	taskDefinitionPath string
	appSpecPath        string
	imageArtifact      string
	imagePlaceholder   string            // Image1ContainerName: what stands for the image in the template
	artifacts          map[string]string // configuration key -> artifact name
	environment        *environmentUnderTest
}

// environmentUnderTest is what an environment template says about the
// service a deploy action releases to.
type environmentUnderTest struct {
	id            string
	containerName string
	containerPort float64
	hookFunction  string
}

// publishes tells whether a file of the output directory is uploaded as an
// artifact under the buildspec's artifacts.files.
func (p *pipelineUnderTest) publishes(name string) bool {
	for _, pattern := range p.artifactFiles {
		if pattern == "**/*" || pattern == name {
			return true
		}
		if ok, _ := path.Match(pattern, name); ok {
			return true
		}
	}
	return false
}

func findPipeline(t *testing.T, w *cfnWorld) *pipelineUnderTest {
	t.Helper()
	var p *pipelineUnderTest
	for _, s := range w.stacks {
		for _, r := range s.resourcesOfType("AWS::CodePipeline::Pipeline") {
			if p != nil {
				t.Fatalf("more than one pipeline in the app")
			}
			p = &pipelineUnderTest{stack: s, name: w.mustString(t, s, dig(r, "Properties", "Name"))}
			p.stages(t, w, asList(dig(r, "Properties", "Stages")))
		}
	}
	if p == nil {
		t.Fatalf("no AWS::CodePipeline::Pipeline in the app")
	}
	return p
}

// sourceVariableStandIns are the variables a CodeStarSourceConnection action
// publishes, for the stand-in commit.
func sourceVariableStandIns(cfg map[string]string) map[string]string {
	return map[string]string{
		"CommitId":           standInCommit,
		"BranchName":         cfg["BranchName"],
		"FullRepositoryName": cfg["FullRepositoryId"],
		"ConnectionArn":      cfg["ConnectionArn"],
		"AuthorDate":         "2025-06-02T09:30:00Z",
		"CommitMessage":      "Stand-in commit",
		"ProviderType":       "GitHub",
	}
}

func (p *pipelineUnderTest) stages(t *testing.T, w *cfnWorld, stages []interface{}) {
	t.Helper()
	s := p.stack
	p.sourceVars = map[string]string{}
	var build map[string]interface{}
	for _, st := range stages {
		for _, a := range asList(dig(st, "Actions")) {
			provider := dig(a, "ActionTypeId", "Provider")
			cfg := map[string]string{}
			if provider == "CodeStarSourceConnection" || provider == "CodeDeployToECS" {
				for k, v := range asMap(dig(a, "Configuration")) {
					cfg[k] = w.mustString(t, s, v)
				}
			}
			switch provider {
			case "CodeStarSourceConnection":
				p.sourceCloneRef = cfg["OutputArtifactFormat"] == "CODEBUILD_CLONE_REF"
				if ns, _ := dig(a, "Namespace").(string); ns != "" {
					for k, v := range sourceVariableStandIns(cfg) {
						p.sourceVars[ns+"."+k] = v
					}
				}
			case "CodeBuild":
				if build != nil {
					t.Fatalf("more than one CodeBuild action in the pipeline")
				}
				build = asMap(a)
				outputs := asList(dig(a, "OutputArtifacts"))
				if len(outputs) != 1 {
					t.Fatalf("the build action has %d output artifacts, want 1", len(outputs))
				}
				p.buildOutput, _ = dig(outputs[0], "Name").(string)
			case "CodeDeployToECS":
				d := deployAction{
					stage:              fmt.Sprint(dig(st, "Name")),
					taskDefinitionPath: cfg["TaskDefinitionTemplatePath"],
					appSpecPath:        cfg["AppSpecTemplatePath"],
					imageArtifact:      cfg["Image1ArtifactName"],
					artifacts: map[string]string{
						"TaskDefinitionTemplateArtifact": cfg["TaskDefinitionTemplateArtifact"],
						"AppSpecTemplateArtifact":        cfg["AppSpecTemplateArtifact"],
					},
				}
				if d.imageArtifact != "" {
					d.artifacts["Image1ArtifactName"] = d.imageArtifact
					d.imagePlaceholder = cfg["Image1ContainerName"]
					if d.imagePlaceholder == "" {
						t.Fatalf("%s: Image1ArtifactName without Image1ContainerName", d.stage)
					}
				}
				if d.taskDefinitionPath == "" || d.appSpecPath == "" {
					t.Fatalf("%s: the deploy action names no task definition or AppSpec file: %v", d.stage, cfg)
				}
				d.environment = findEnvironment(t, w, d.stage, cfg["DeploymentGroupName"])
				p.deploys = append(p.deploys, d)
			}
		}
	}
	if build == nil {
		t.Fatalf("no CodeBuild action in the pipeline")
	}
	p.readBuildAction(t, w, build)
}

func (p *pipelineUnderTest) readBuildAction(t *testing.T, w *cfnWorld, action map[string]interface{}) {
	t.Helper()
	s := p.stack
	ref, _ := dig(action, "Configuration", "ProjectName", "Ref").(string)
	project := s.resources[ref]
	if dig(project, "Type") != "AWS::CodeBuild::Project" {
		t.Fatalf("the build action's ProjectName must refer to a project of this stack, got %v", dig(action, "Configuration", "ProjectName"))
	}
	p.project = asMap(dig(project, "Properties"))
	p.projectName = w.physicalName(s, ref)

	// Variables the action passes: StartBuild overrides, pipeline variables resolved.
	p.actionVars = map[string]string{}
	if raw := dig(action, "Configuration", "EnvironmentVariables"); raw != nil {
		var list []struct{ Name, Type, Value string }
		if err := json.Unmarshal([]byte(w.mustString(t, s, raw)), &list); err != nil {
			t.Fatalf("build action EnvironmentVariables: %v", err)
		}
		for _, v := range list {
			if v.Type != "" && v.Type != "PLAINTEXT" {
				t.Fatalf("build action variable %s is %s; this test has no stand-in for it", v.Name, v.Type)
			}
			p.actionVars[v.Name] = p.pipelineVariables(t, v.Value)
		}
	}

	// The buildspec: inline, JSON or YAML.
	raw := dig(p.project, "Source", "BuildSpec")
	if raw == nil {
		t.Fatalf("the project's buildspec must be inline, got source %v", dig(p.project, "Source"))
	}
	if err := yaml.Unmarshal([]byte(w.mustString(t, s, raw)), &p.spec); err != nil {
		t.Fatalf("the buildspec is neither JSON nor YAML: %v", err)
	}
	if v := fmt.Sprint(p.spec["version"]); v != "0.2" {
		t.Fatalf("buildspec version %s: this test knows the semantics of 0.2 (one shell session for all phases)", v)
	}
	if sh, ok := dig(p.spec, "env", "shell").(string); ok {
		p.shell = sh
	}
	for _, name := range []string{"install", "pre_build", "build", "post_build"} {
		phase := asMap(dig(p.spec, "phases", name))
		if phase == nil {
			continue
		}
		bp := buildPhase{name: name, abort: phase["on-failure"] == "ABORT"}
		for _, c := range append(asList(phase["commands"]), asList(phase["finally"])...) {
			bp.commands = append(bp.commands, fmt.Sprint(c))
		}
		p.phases = append(p.phases, bp)
	}
	for _, f := range asList(dig(p.spec, "artifacts", "files")) {
		p.artifactFiles = append(p.artifactFiles, fmt.Sprint(f))
	}
	p.baseDirectory, _ = dig(p.spec, "artifacts", "base-directory").(string)
	if dig(p.spec, "artifacts", "discard-paths") == "yes" {
		t.Fatalf("artifacts.discard-paths: this test does not model it")
	}
}

var pipelineVariableRe = regexp.MustCompile(`#\{([A-Za-z0-9_@\-.]+)\}`)

// pipelineVariables resolves #{Namespace.Variable} as CodePipeline does when
// it starts the action.
func (p *pipelineUnderTest) pipelineVariables(t *testing.T, s string) string {
	t.Helper()
	return pipelineVariableRe.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := p.sourceVars[name]; ok {
			return v
		}
		if name == "codepipeline.PipelineExecutionId" {
			return "0c8a1b2e-3d4f-4a5b-8c6d-7e8f9a0b1c2d"
		}
		t.Fatalf("the build action uses %s, which no action of the pipeline publishes", m)
		return ""
	})
}

// findEnvironment finds the environment template holding the deployment
// group a deploy action names, and reads its service.
func findEnvironment(t *testing.T, w *cfnWorld, stage, group string) *environmentUnderTest {
	t.Helper()
	for _, s := range w.stacks {
		for logical := range s.resourcesOfType("AWS::CodeDeploy::DeploymentGroup") {
			if w.physicalName(s, logical) != group {
				continue
			}
			e := &environmentUnderTest{id: s.id}
			services := s.resourcesOfType("AWS::ECS::Service")
			if len(services) != 1 {
				t.Fatalf("%s: %s has %d ECS services, want 1", stage, s.id, len(services))
			}
			for _, svc := range services {
				lbs := asList(dig(svc, "Properties", "LoadBalancers"))
				if len(lbs) == 0 {
					t.Fatalf("%s: the service of %s has no load balancer", stage, s.id)
				}
				e.containerName, _ = dig(lbs[0], "ContainerName").(string)
				e.containerPort, _ = dig(lbs[0], "ContainerPort").(float64)
			}
			var hooks []string
			for logical, fn := range s.resourcesOfType("AWS::Lambda::Function") {
				for _, tag := range asList(dig(fn, "Properties", "Tags")) {
					if dig(tag, "Key") == "Purpose" && dig(tag, "Value") == "pre-traffic validation" {
						hooks = append(hooks, w.physicalName(s, logical))
					}
				}
			}
			if len(hooks) != 1 {
				t.Fatalf("%s: %s has %d functions tagged Purpose=pre-traffic validation, want 1", stage, s.id, len(hooks))
			}
			e.hookFunction = hooks[0]
			return e
		}
	}
	t.Fatalf("%s: no environment template holds deployment group %q", stage, group)
	return nil
}

// TestTaskDefinitionKeysAreRegisterParameters proves that the rendered
// template keeps exactly the RegisterTaskDefinition parameters, as the ECS
// SDK defines them, except the ones dropped on purpose; a parameter the API
// gains with an SDK update fails this test until it is kept or dropped.
func TestTaskDefinitionKeysAreRegisterParameters(t *testing.T) {
	dropped := map[string]string{
		"enableFaultInjection": "returned for every task definition; ECS clients older than the field reject it",
		"tags":                 "returned only with --include TAGS, beside the task definition; aws: keys cannot be registered",
	}
	kept := map[string]bool{}
	for _, k := range delivery.TaskDefinitionKeys {
		kept[k] = true
		if _, ok := apiField(reflect.TypeOf(ecs.RegisterTaskDefinitionInput{}), k); !ok {
			t.Errorf("TaskDefinitionKeys keeps %q, which is not a RegisterTaskDefinition parameter", k)
		}
	}
	typ := reflect.TypeOf(ecs.RegisterTaskDefinitionInput{})
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		key := lowerCamel(f.Name)
		if _, ok := dropped[key]; ok == kept[key] {
			t.Errorf("RegisterTaskDefinition parameter %q: keep it (TaskDefinitionKeys) or drop it with a reason, not both or neither", key)
		}
	}
}
