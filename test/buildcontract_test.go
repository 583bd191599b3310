package test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

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

// ---------------------------------------------------------------------------
// The build, run as CodeBuild would.

// buildSandbox holds the stand-in tools and what they answer.
type buildSandbox struct {
	p               *pipelineUnderTest
	root            string
	bin, state      string
	shell, posix    string
	pipefail        bool
	env             []string
	repositoryName  string
	repositoryURI   string
	registry        string
	taskDefinitions map[string]map[string]interface{} // environment stack ID -> ECS API shape
	runs            int
}

func newBuildSandbox(t *testing.T, w *cfnWorld, p *pipelineUnderTest) *buildSandbox {
	t.Helper()
	b := &buildSandbox{p: p, root: t.TempDir(), taskDefinitions: map[string]map[string]interface{}{}}
	b.bin = filepath.Join(b.root, "bin")
	b.state = filepath.Join(b.root, "state")
	for _, dir := range []string{b.bin, filepath.Join(b.state, "task-definitions"), filepath.Join(b.root, "home")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range []string{"aws", "docker", "git"} {
		data, err := os.ReadFile(filepath.Join("testdata", "buildstubs", tool))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.bin, tool), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// The ECR repository the build pushes to.
	repos := p.stack.resourcesOfType("AWS::ECR::Repository")
	if len(repos) != 1 {
		t.Fatalf("the pipeline stack has %d ECR repositories, want 1", len(repos))
	}
	var immutable bool
	for logical, r := range repos {
		b.repositoryName = w.physicalName(p.stack, logical)
		immutable = dig(r, "Properties", "ImageTagMutability") == "IMMUTABLE"
	}
	b.registry = standInAccount + ".dkr.ecr." + standInRegion + ".amazonaws.com"
	b.repositoryURI = b.registry + "/" + b.repositoryName

	// What DescribeTaskDefinition answers: each environment's task
	// definition as CloudFormation registered it.
	for _, s := range w.stacks {
		for logical, r := range s.resourcesOfType("AWS::ECS::TaskDefinition") {
			if _, ok := b.taskDefinitions[s.id]; ok {
				t.Fatalf("%s has more than one task definition; the build handles one per environment", s.id)
			}
			td := w.ecsTaskDefinition(t, s, logical, r)
			family := td["family"].(string)
			out, _ := json.MarshalIndent(map[string]interface{}{"taskDefinition": td}, "", "    ")
			b.write(t, filepath.Join("task-definitions", family+".json"), string(out)+"\n")
			b.taskDefinitions[s.id] = td
		}
	}
	b.write(t, "account", standInAccount)
	b.write(t, "region", standInRegion)
	b.write(t, "registry", b.registry)
	b.write(t, "ecr-token", standInToken+"\n")
	b.write(t, "ecr-repositories", b.repositoryName+"\n")
	b.write(t, "pushed", "")
	if immutable {
		b.write(t, "ecr-immutable-tags", "")
	}
	if p.sourceCloneRef {
		b.write(t, "git-head", standInCommit+"\n")
	}

	b.shell, b.posix = chooseShells(t, p.shell)
	b.pipefail = exec.Command(b.shell, "-c", "set -o pipefail").Run() == nil

	// The real jq, as on CodeBuild's standard image.
	systemPath := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if _, err := lookPathIn("jq", systemPath); err != nil {
		t.Fatalf("jq is not installed (%v): the build uses it, as CodeBuild's standard image has it; install it (apt-get install jq)", err)
	}
	b.env = b.environment(t, w, systemPath)
	return b
}

func (b *buildSandbox) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(b.state, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// environment is every variable the build sees: CodeBuild's own, then the
// buildspec's env.variables, the project's and the action's, each overriding
// the one before, as CodeBuild documents.
func (b *buildSandbox) environment(t *testing.T, w *cfnWorld, systemPath string) []string {
	t.Helper()
	p := b.p
	buildID := p.projectName + ":6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	vars := map[string]string{
		"AWS_DEFAULT_REGION":                standInRegion,
		"AWS_REGION":                        standInRegion,
		"CODEBUILD_BUILD_ARN":               "arn:aws:codebuild:" + standInRegion + ":" + standInAccount + ":build/" + buildID,
		"CODEBUILD_BUILD_ID":                buildID,
		"CODEBUILD_BUILD_IMAGE":             fmt.Sprint(dig(p.project, "Environment", "Image")),
		"CODEBUILD_BUILD_NUMBER":            "42",
		"CODEBUILD_BUILD_SUCCEEDING":        "1",
		"CODEBUILD_INITIATOR":               "codepipeline/" + p.name,
		"CODEBUILD_LOG_PATH":                "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
		"CODEBUILD_RESOLVED_SOURCE_VERSION": standInCommit,
		"CODEBUILD_SOURCE_VERSION":          "arn:aws:s3:::" + p.name + "-artifacts/" + p.name + "/SourceOutp/Kq3xZ9w.zip",
		"CODEBUILD_START_TIME":              "1748857287000",
		"HOME":                              filepath.Join(b.root, "home"),
		"PATH":                              b.bin + ":" + systemPath,
	}
	if key := dig(p.project, "EncryptionKey"); key != nil {
		vars["CODEBUILD_KMS_KEY_ID"] = w.mustString(t, p.stack, key)
	}
	set := func(source, name, value string) {
		if strings.HasPrefix(name, "CODEBUILD_") {
			t.Fatalf("%s sets %s; CodeBuild reserves the CODEBUILD_ prefix", source, name)
		}
		vars[name] = value
	}
	for name, v := range asMap(dig(p.spec, "env", "variables")) {
		set("buildspec env.variables", name, fmt.Sprint(v))
	}
	if len(asMap(dig(p.spec, "env", "parameter-store")))+len(asMap(dig(p.spec, "env", "secrets-manager"))) > 0 {
		t.Fatalf("buildspec env.parameter-store/secrets-manager: this test has no stand-in for them")
	}
	for _, v := range asList(dig(p.project, "Environment", "EnvironmentVariables")) {
		name := fmt.Sprint(dig(v, "Name"))
		if typ, _ := dig(v, "Type").(string); typ != "" && typ != "PLAINTEXT" {
			t.Fatalf("project variable %s is %s; this test has no stand-in for it", name, typ)
		}
		set("the project", name, w.mustString(t, p.stack, dig(v, "Value")))
	}
	for name, v := range p.actionVars {
		set("the build action", name, v)
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// chooseShells returns the shell CodeBuild runs the commands in and a POSIX
// shell to check their syntax with ("" if there is none). CodeBuild's
// standard images run them in /bin/sh, which is dash, unless the buildspec
// asks for bash.
func chooseShells(t *testing.T, requested string) (run, posix string) {
	t.Helper()
	for _, candidate := range []string{"/bin/sh", "/usr/bin/dash", "/bin/dash", "/usr/bin/posh", "/bin/posh"} {
		real, err := filepath.EvalSymlinks(candidate)
		if err != nil {
			continue
		}
		if base := filepath.Base(real); base == "dash" || base == "posh" {
			posix = real
			break
		}
	}
	switch requested {
	case "", "sh", "/bin/sh":
		if posix == "" {
			t.Logf("note: neither dash nor posh is installed and /bin/sh is not one of them; the commands run in /bin/sh, which may accept bash-only syntax that CodeBuild's dash rejects")
			return "/bin/sh", ""
		}
		return posix, posix
	case "bash", "/bin/bash":
		return "/bin/bash", ""
	default:
		t.Fatalf("buildspec env.shell %q: this test knows sh and bash", requested)
		return "", ""
	}
}

func lookPathIn(name, dirs string) (string, error) {
	for _, dir := range filepath.SplitList(dirs) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", name, dirs)
}

// buildRun is one run of the build.
type buildRun struct {
	b        *buildSandbox
	outDir   string
	output   string
	err      error
	elapsed  time.Duration
	finished map[int]bool
	started  map[int]bool
	commands []phaseCommand
	log      [][]string
}

type phaseCommand struct {
	phase   buildPhase
	command string
}

// run runs the build once in a fresh source directory holding a tiny
// Dockerfile, as a new CodeBuild container would: the docker daemon's images
// and logins start empty, the ECR repository keeps what earlier runs pushed.
func (b *buildSandbox) run(t *testing.T) *buildRun {
	t.Helper()
	b.runs++
	src := filepath.Join(b.root, fmt.Sprintf("src%d", b.runs))
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "Dockerfile"), []byte("FROM public.ecr.aws/nginx/nginx:stable-alpine\nCOPY . /usr/share/nginx/html\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"images", "logins", "calls.log", "unexpected.log"} {
		b.write(t, f, "")
	}
	r := &buildRun{b: b, outDir: src, finished: map[int]bool{}, started: map[int]bool{}}
	if b.p.baseDirectory != "" {
		r.outDir = filepath.Join(src, filepath.FromSlash(b.p.baseDirectory))
	}

	// CodeBuild runs every command of every phase in one shell session
	// (buildspec 0.2), in phase order, each phase's commands one after the
	// other. -e stops at the first failing command, as CodeBuild stops the
	// phase; markers on descriptor 3 tell which command that was.
	var script strings.Builder
	if b.pipefail {
		script.WriteString("set -o pipefail\n")
	}
	for _, ph := range b.p.phases {
		for _, c := range ph.commands {
			i := len(r.commands)
			r.commands = append(r.commands, phaseCommand{ph, c})
			fmt.Fprintf(&script, "printf 'start %d\\n' >&3\n%s\nprintf 'done %d\\n' >&3\n", i, c, i)
		}
	}
	scriptPath := filepath.Join(b.root, fmt.Sprintf("build%d.sh", b.runs))
	if err := os.WriteFile(scriptPath, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	markers, err := os.Create(filepath.Join(b.root, fmt.Sprintf("markers%d", b.runs)))
	if err != nil {
		t.Fatal(err)
	}
	defer markers.Close()

	cmd := exec.Command(b.shell, "-eu", scriptPath)
	cmd.Dir = src
	cmd.Env = b.env
	cmd.ExtraFiles = []*os.File{markers}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	r.err = cmd.Run()
	r.elapsed = time.Since(start)
	r.output = out.String()

	data, _ := os.ReadFile(markers.Name())
	for _, line := range strings.Split(string(data), "\n") {
		var word string
		var i int
		if _, err := fmt.Sscanf(line, "%s %d", &word, &i); err == nil {
			if word == "start" {
				r.started[i] = true
			} else {
				r.finished[i] = true
			}
		}
	}
	calls, _ := os.ReadFile(filepath.Join(b.state, "calls.log"))
	for _, line := range strings.Split(strings.TrimSuffix(string(calls), "\n"), "\n") {
		if line != "" {
			r.log = append(r.log, strings.Split(line, "\t"))
		}
	}
	t.Logf("build run %d: %d commands in %s (%s, pipefail %v)", b.runs, len(r.commands), r.elapsed.Round(time.Millisecond), b.shell, b.pipefail)
	return r
}

// requireSuccess fails the test unless every command ran and succeeded and
// no stand-in was asked something it has no answer for.
func (r *buildRun) requireSuccess(t *testing.T) {
	t.Helper()
	if unexpected, _ := os.ReadFile(filepath.Join(r.b.state, "unexpected.log")); len(unexpected) > 0 {
		t.Errorf("the build called stand-ins in ways this test does not know (extend test/testdata/buildstubs):\n%s", unexpected)
	}
	if r.err == nil && len(r.finished) == len(r.commands) {
		return
	}
	for i, c := range r.commands {
		if r.finished[i] {
			continue
		}
		next := "the build fails and the pipeline stops before any deployment"
		switch {
		case c.phase.abort:
			next = "on-failure ABORT: CodeBuild stops the build here; " + next
		case c.phase.name == "build":
			next = "CodeBuild still runs post_build, but " + next
		}
		if !r.started[i] {
			t.Fatalf("phase %s: command %d never ran (%v); %s\ncommand: %s\noutput:\n%s", c.phase.name, i, r.err, next, c.command, tail(r.output, 40))
		}
		t.Fatalf("phase %s: command failed (%v); %s\ncommand: %s\noutput:\n%s", c.phase.name, r.err, next, c.command, tail(r.output, 40))
	}
	t.Fatalf("the build shell failed after its last command: %v\n%s", r.err, tail(r.output, 40))
}

// calls returns the recorded calls of a tool whose first arguments are args.
func (r *buildRun) calls(tool string, args ...string) [][]string {
	var out [][]string
	for _, c := range r.log {
		if c[0] == tool && len(c) > len(args) && reflect.DeepEqual(c[1:1+len(args)], args) {
			out = append(out, c)
		}
	}
	return out
}

// requireCall fails unless a call of tool had all of args, in order.
func (r *buildRun) requireCall(t *testing.T, tool string, args ...string) {
	t.Helper()
	for _, c := range r.log {
		if c[0] == tool && containsInOrder(c[1:], args) {
			return
		}
	}
	t.Errorf("no call %s %s; calls were:\n%s", tool, strings.Join(args, " "), r.describeCalls())
}

func (r *buildRun) describeCalls() string {
	var b strings.Builder
	for _, c := range r.log {
		fmt.Fprintf(&b, "  %q\n", c)
	}
	return b.String()
}

func containsInOrder(have, want []string) bool {
	i := 0
	for _, h := range have {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	return i == len(want)
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// bashOnly is syntax that dash parses without complaint (`sh -n` passes) but
// that means something else, or fails only when reached, under dash.
var bashOnly = []struct{ name, pattern string }{
	{"&> redirection (dash runs the command in the background)", `&>`},
	{"[[ ]] test", `\[\[`},
	{"${var//pattern/} substitution", `\$\{[A-Za-z_][A-Za-z0-9_]*//?`},
	{"${var:offset} substring", `\$\{[A-Za-z_][A-Za-z0-9_]*:[0-9 ]`},
	{"source builtin", `(^|[;&|({]\s*)source\s`},
	{"pipefail", `pipefail`},
	{"$'...' quoting", `\$'`},
	{"process substitution", `[<>]\(`},
}

// checkPosixSyntax runs the build's commands through a POSIX shell's -n and
// looks for the bash-only syntax that -n does not catch. A buildspec that
// asks for bash (env.shell) is checked with bash -n instead.
func checkPosixSyntax(t *testing.T, p *pipelineUnderTest) {
	var all []string
	for _, ph := range p.phases {
		all = append(all, ph.commands...)
	}
	if len(all) == 0 {
		t.Fatalf("the buildspec has no commands")
	}
	bash := p.shell == "bash" || p.shell == "/bin/bash"
	checker := "/bin/bash"
	if !bash {
		_, checker = chooseShells(t, p.shell)
	}
	if checker == "" {
		t.Logf("note: no dash or posh on this machine: the syntax check is skipped; /bin/sh may be bash")
	} else {
		file := filepath.Join(t.TempDir(), "commands.sh")
		if err := os.WriteFile(file, []byte(strings.Join(all, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(checker, "-n", file).CombinedOutput(); err != nil {
			t.Errorf("%s -n rejects the build's commands: %v\n%s", checker, err, out)
		}
	}
	if bash {
		return
	}
	singleQuoted := regexp.MustCompile(`'[^']*'`)
	for _, c := range all {
		unquoted := singleQuoted.ReplaceAllString(c, "''")
		for _, b := range bashOnly {
			if regexp.MustCompile(b.pattern).MatchString(unquoted) {
				t.Errorf("%s in %q: bash-only, CodeBuild runs the commands in dash", b.name, c)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// CloudFormation expressions, resolved in a stand-in account.

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
	return normalizeJSON(td).(map[string]interface{})
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

// ---------------------------------------------------------------------------
// Small helpers over decoded JSON.

func asMap(v interface{}) map[string]interface{} {
	m, _ := v.(map[string]interface{})
	return m
}

func asList(v interface{}) []interface{} {
	l, _ := v.([]interface{})
	return l
}

func containsValue(list []interface{}, v interface{}) bool {
	for _, e := range list {
		if reflect.DeepEqual(e, v) {
			return true
		}
	}
	return false
}

func normalizeJSON(v interface{}) interface{} {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out interface{}
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
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
