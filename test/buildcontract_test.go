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
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"gopkg.in/yaml.v3"

	"ecs-bluegreen/config"
	"ecs-bluegreen/constructs/delivery"
)

// What the stand-ins answer.
const (
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
		var value any
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
func wronglyCasedKeys(typ reflect.Type, v any, path string) []string {
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

// TestBuildContract runs the CodeBuild actions of each synthesized
// pipeline, stage by stage, as CodeBuild would, and checks that they hand
// every deploy action what that action reads. Everything comes from the
// synthesized templates: each action's project, buildspec and variables, the
// files and artifacts the CodeDeploy actions name, and each environment's
// task definition, service and pre-traffic function. The commands run in
// CodeBuild's shell with only the variables CodeBuild would give them,
// against stand-ins for docker, aws and git that answer as the real tools do.
//
// Contract home: the pipeline's builds and what they hand the deploy
// actions (the buildspecs, their shell and variables, the image tag, the
// files rendered for each environment). No other test asserts on a
// buildspec. It holds for every pipeline this package synthesizes: the
// app's, and the construct test's two, whose production service listens
// as "web" on 8000 rather than as "app" on the configured port; and the
// ECS syntheses' two (ecs_apps_test.go), whose ecs environments are
// released by a release project that updates the environment stack's image
// parameter (buildcontract_ecs_test.go); and the three-account synthesis
// (accounts_apps_test.go), whose render and release act in their
// environment's account as the role they assume there, and tag the image
// in the tools account (buildcontract_accounts_test.go).
//
// A release waits between its stages (an approval can wait days), and a
// `cdk deploy` may register a new revision of an environment's task family
// meanwhile. The run registers one before each deploy stage: what that
// stage deploys must carry it, or the release would undo the change.
func TestBuildContract(t *testing.T) {
	constructs := constructWorld(t)
	mixed, allEcs := ecsApp(t, "mixed"), ecsApp(t, "ecs")
	accounts := (*checkedSynthesis)(accountsApp(t))
	for _, c := range []struct {
		name, pipeline string
		w              *cfnWorld
		engines        *engineExpectations
	}{
		{"app", app.Config.PipelinePrefix(), newCfnWorld(t), nil},
		{"app with the day-two changes (variables and secrets)", changedApp().Config.PipelinePrefix(), changedWorld(t), nil},
		{"construct, every default", "plain", constructs, nil},
		{"construct, every prop set", "custom", constructs, nil},
		{"app, staging on ecs", mixed.app.Config.PipelinePrefix(), ecsWorld(t, mixed), &engineExpectations{mixed, map[string]string{"staging": "ecs", "production": "codedeploy"}}},
		{"app, both on ecs", allEcs.app.Config.PipelinePrefix(), ecsWorld(t, allEcs), &engineExpectations{allEcs, map[string]string{"staging": "ecs", "production": "ecs"}}},
		{"app in three accounts", accounts.app.Config.PipelinePrefix(), ecsWorld(t, accounts), &engineExpectations{accounts, map[string]string{"staging": "codedeploy", "production": "ecs"}}},
	} {
		t.Run(c.name, func(t *testing.T) { checkBuildContract(t, c.w, c.pipeline, c.engines) })
	}
}

func checkBuildContract(t *testing.T, w *cfnWorld, pipelineName string, engines *engineExpectations) {
	p := findPipeline(t, w, pipelineName)
	b := newBuildSandbox(t, w, p)
	var cfg *config.Config
	if engines != nil {
		cfg = engines.synthesis.app.Config
	}
	expectAssumedRoles(t, w, p, b, cfg)
	if engines != nil {
		t.Run("each environment's deploy stage is its engine's", func(t *testing.T) {
			checkDeployPaths(t, w, p, engines)
		})
	}
	image := b.repositoryURI + ":" + standInCommit[:12]

	t.Run("commands are POSIX sh", func(t *testing.T) {
		for _, step := range p.builds {
			t.Run(step.name(), func(t *testing.T) { checkPosixSyntax(t, step) })
		}
	})

	t.Run("every variable is defined before it is read", func(t *testing.T) {
		for _, step := range p.builds {
			t.Run(step.name(), func(t *testing.T) { checkVariablesDefined(t, step) })
		}
	})

	t.Run("the image is tagged with the commit, never latest", func(t *testing.T) {
		checkImageTag(t, p)
	})

	t.Run("first release of a commit", func(t *testing.T) {
		runs := b.release(t, func(t *testing.T, st *stageUnderTest) {
			for _, d := range st.deploys {
				b.registerNewRevision(t, d.environment)
			}
		})
		build := runs[p.build().name()]
		// The build logs in with the ECR token, builds and pushes the image
		// tagged with the commit, after finding that tag absent. It reads no
		// task definition: the deploy stages render theirs.
		build.requireCall(t, "aws", "ecr", "get-login-password")
		build.requireCall(t, "docker", "login", "--username", "AWS", "--password-stdin", b.registry)
		build.requireCall(t, "docker", "build", "--tag", image)
		build.requireCall(t, "aws", "ecr", "describe-images", "--repository-name", b.repositoryName, "--image-ids", "imageTag="+standInCommit[:12])
		build.requireCall(t, "docker", "push", image)
		if pushed := build.calls("docker", "push"); len(pushed) != 1 {
			t.Errorf("want exactly one push, got %v", pushed)
		}
		if reads := build.calls("aws", "ecs"); len(reads) > 0 {
			t.Errorf("the build reads task definitions (%v); a copy made at build time is stale by the time a later stage deploys it", reads)
		}
		// Each deploy stage reads its family's latest revision when it runs,
		// and tags the image for its environment.
		for _, d := range p.deploys {
			if producer := p.producer(d.artifacts["TaskDefinitionTemplateArtifact"]); producer != nil {
				family := fmt.Sprint(b.taskDefinitions[d.environment.key]["family"])
				runs[producer.name()].requireCall(t, "aws", "ecs", "describe-task-definition", "--task-definition", family)
				checkEnvironmentTag(t, b, d, runs[producer.name()], true)
			}
		}
		checkReleases(t, b, runs, true)
		checkDeployInputs(t, p, b, image)
		for _, step := range p.builds {
			checkActingAccounts(t, b, step, runs[step.name()])
		}
	})

	t.Run("rerun of the same commit reuses the pushed image", func(t *testing.T) {
		// A "Release change" after a failed deployment builds the same
		// commit again: the tag exists and the repository's tags are immutable.
		runs := b.release(t, nil)
		if pushed := runs[p.build().name()].calls("docker", "push"); len(pushed) != 0 {
			t.Errorf("the image was pushed already; want no push, got %v", pushed)
		}
		// The environment tags exist too: the deploy stages succeed
		// without tagging again.
		for _, d := range p.deploys {
			if producer := p.producer(d.artifacts["TaskDefinitionTemplateArtifact"]); producer != nil {
				checkEnvironmentTag(t, b, d, runs[producer.name()], false)
			}
		}
		checkReleases(t, b, runs, false)
		checkDeployInputs(t, p, b, image)
		for _, step := range p.builds {
			checkActingAccounts(t, b, step, runs[step.name()])
		}
	})

	if len(p.releases) > 0 {
		t.Run("a release's outcome is the stack update's", func(t *testing.T) {
			checkReleaseOutcomes(t, b)
		})
	}
}

// constructWorld is the construct test's stacks (see constructs_test.go).
func constructWorld(t *testing.T) *cfnWorld {
	t.Helper()
	return worldOf(t, []awscdk.Stack{svc.stack, dlv.stack}, func(s awscdk.Stack) assertions.Template {
		return constructTemplates[*s.Node().Id()]
	})
}

// checkEnvironmentTag proves that a deploy stage gives the image it releases
// the tag "<environment prefix><commit tag>", on the same image (same
// digest) as the commit tag, that the repository's lifecycle policy keeps
// images by that prefix above its catch-all rule, and, when the tag
// existed already (firstTime false), that the stage tags nothing.
func checkEnvironmentTag(t *testing.T, b *buildSandbox, d deployAction, run *buildRun, firstTime bool) {
	t.Helper()
	commitTag := standInCommit[:12]
	tag := delivery.ImageTagPrefix(d.environmentName()) + commitTag
	puts := run.calls("aws", "ecr", "put-image")
	if firstTime {
		run.requireCall(t, "aws", "ecr", "batch-get-image", "--repository-name", b.repositoryName, "--image-ids", "imageTag="+commitTag)
		run.requireCall(t, "aws", "ecr", "put-image", "--repository-name", b.repositoryName, "--image-tag", tag)
		if len(puts) != 1 {
			t.Errorf("%s: want one put-image, got %v", d.stage, puts)
		}
	} else if len(puts) != 0 {
		t.Errorf("%s: %s exists already; want no put-image, got %v", d.stage, tag, puts)
	}
	if got, want := b.imageDigest(t, tag), b.imageDigest(t, commitTag); got != want || got == "" {
		t.Errorf("%s: tag %s names image %q, want the image of %s, %q", d.stage, tag, got, commitTag, want)
	}
	rules := b.lifecycleRules
	catchAll := 0
	for _, r := range rules {
		if r.Selection.TagStatus == "any" {
			catchAll = r.RulePriority
		}
	}
	kept := false
	for _, r := range rules {
		if r.Selection.TagStatus == "tagged" && len(r.Selection.TagPrefixList) == 1 && strings.HasPrefix(tag, r.Selection.TagPrefixList[0]) &&
			r.Selection.CountType == "imageCountMoreThan" && (catchAll == 0 || r.RulePriority < catchAll) {
			kept = true
		}
	}
	if !kept {
		t.Errorf("%s: no lifecycle rule above the catch-all keeps images tagged %s: %+v", d.stage, tag, rules)
	}
}

// release runs the pipeline's CodeBuild actions stage by stage, in run
// order, calling between(stage) before each stage's actions run; it
// requires each run to succeed and returns them by action.
func (b *buildSandbox) release(t *testing.T, between func(*testing.T, *stageUnderTest)) map[string]*buildRun {
	t.Helper()
	b.startRelease(t)
	runs := map[string]*buildRun{}
	for _, st := range b.p.stages {
		if between != nil {
			between(t, st)
		}
		for _, step := range st.builds {
			run := b.run(t, step)
			run.requireSuccess(t)
			runs[step.name()] = run
		}
	}
	return runs
}

// checkDeployInputs proves that every file a deploy action names is in the
// artifact it names, as the action that wrote it published it, with the
// content CodeDeploy needs; and that the task definition template is the
// environment's latest revision when the deploy stage runs.
func checkDeployInputs(t *testing.T, p *pipelineUnderTest, b *buildSandbox, image string) {
	t.Helper()
	if len(p.deploys) == 0 && len(p.releases) == 0 {
		t.Fatalf("the pipeline has no CodeDeployToECS action and no release action")
	}
	for _, d := range p.deploys {
		readFile := func(key, name string) []byte {
			artifact := d.artifacts[key]
			producer := p.producer(artifact)
			if producer == nil {
				t.Errorf("%s: %s %q is written by no CodeBuild action of the pipeline", d.stage, key, artifact)
				return nil
			}
			if !producer.publishes(name) {
				t.Errorf("%s: %s is not among the artifacts %v of %s, so it is not published", d.stage, name, producer.artifactFiles, producer.name())
			}
			data, err := os.ReadFile(filepath.Join(b.artifacts[artifact], filepath.FromSlash(name)))
			if err != nil {
				t.Errorf("%s: %s named by the deploy action is missing from %s: %v", d.stage, name, artifact, err)
				return nil
			}
			return data
		}
		env := d.environment
		container := env.containerName

		// The files have the names the delivery package gives them.
		for _, f := range []struct{ got, want string }{
			{d.taskDefinitionPath, delivery.TaskDefinitionFile(d.environmentName())},
			{d.appSpecPath, delivery.AppSpecFile(d.environmentName())},
		} {
			if f.got != f.want {
				t.Errorf("%s: the deploy action reads %s, want %s", d.stage, f.got, f.want)
			}
		}

		// imageDetail.json names the image that was pushed.
		if d.imageArtifact != "" {
			if data := readFile("Image1ArtifactName", imageDetailName); data != nil {
				var detail struct{ ImageURI string }
				if err := json.Unmarshal(data, &detail); err != nil || detail.ImageURI != image {
					t.Errorf("%s: %s = %s (%v), want ImageURI %q", d.stage, imageDetailName, data, err, image)
				}
			}
		}

		// The task definition template is rendered in the deploy's own
		// stage, right before it, from the family's latest revision.
		if producer := p.producer(d.artifacts["TaskDefinitionTemplateArtifact"]); producer != nil &&
			(producer.stage != d.stage || producer.runOrder >= d.runOrder) {
			t.Errorf("%s: the task definition template comes from %s, which runs before the stage; render it in %s, before the deploy, so that it carries the family's revision at release time",
				d.stage, producer.name(), d.stage)
		}
		// It is the revision registered for the environment's family at that
		// time, with the image placeholder, and nothing
		// RegisterTaskDefinition rejects.
		if data := readFile("TaskDefinitionTemplateArtifact", d.taskDefinitionPath); data != nil {
			checkTaskDefinitionTemplate(t, d, b.taskDefinitions[env.key], container, env.containerPort, data)
		}

		// The AppSpec names the task definition placeholder, the container
		// CodeDeploy routes to and the environment's pre-traffic function.
		if data := readFile("AppSpecTemplateArtifact", d.appSpecPath); data != nil {
			checkAppSpec(t, d, container, env.containerPort, env.hookFunction, data)
		}
	}

	// Each artifact a deploy action reads holds what the deploy actions
	// read from it and nothing else: the build publishes imageDetail.json
	// only, each render its environment's two files only.
	read := map[string][]string{}
	for _, d := range p.deploys {
		read[d.artifacts["TaskDefinitionTemplateArtifact"]] = append(read[d.artifacts["TaskDefinitionTemplateArtifact"]], d.taskDefinitionPath)
		read[d.artifacts["AppSpecTemplateArtifact"]] = append(read[d.artifacts["AppSpecTemplateArtifact"]], d.appSpecPath)
		if d.imageArtifact != "" {
			read[d.imageArtifact] = append(read[d.imageArtifact], imageDetailName)
		}
	}
	for artifact, names := range read {
		want := map[string]bool{}
		for _, n := range names {
			want[n] = true
		}
		var extra []string
		_ = filepath.Walk(b.artifacts[artifact], func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				rel, _ := filepath.Rel(b.artifacts[artifact], path)
				if !want[filepath.ToSlash(rel)] {
					extra = append(extra, filepath.ToSlash(rel))
				}
			}
			return nil
		})
		if len(extra) > 0 {
			t.Errorf("artifact %s also publishes %v, which no deploy action reads (give its buildspec a base-directory or narrower files)", artifact, extra)
		}
	}
}

func checkTaskDefinitionTemplate(t *testing.T, d deployAction, registered map[string]any, container string, port float64, data []byte) {
	t.Helper()
	checkRegisterTaskDefinitionInput(t, d.stage+": "+d.taskDefinitionPath, data)
	if !bytes.Contains(data, []byte(`"<`+d.imagePlaceholder+`>"`)) {
		t.Errorf("%s: %s does not hold the text \"<%s>\", which the deploy action replaces", d.stage, d.taskDefinitionPath, d.imagePlaceholder)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Errorf("%s: %s is not JSON: %v\n%s", d.stage, d.taskDefinitionPath, err, data)
		return
	}
	for _, f := range []string{"family", "taskRoleArn", "executionRoleArn", "cpu", "memory"} {
		if !reflect.DeepEqual(got[f], registered[f]) || registered[f] == nil {
			t.Errorf("%s: %s has %s = %v; the environment's task definition has %v", d.stage, d.taskDefinitionPath, f, got[f], registered[f])
		}
	}
	var named map[string]any
	for _, c := range asList(got["containerDefinitions"]) {
		if m, _ := c.(map[string]any); m != nil && m["name"] == container {
			named = m
		}
	}
	if named == nil {
		t.Errorf("%s: %s has no container named %q: %v", d.stage, d.taskDefinitionPath, container, got["containerDefinitions"])
	} else {
		if named["image"] != "<"+d.imagePlaceholder+">" {
			t.Errorf("%s: container %q has image %v, want <%s>", d.stage, container, named["image"], d.imagePlaceholder)
		}
		ports := []any{}
		for _, pm := range asList(named["portMappings"]) {
			ports = append(ports, dig(pm, "containerPort"))
		}
		if !containsValue(ports, port) {
			t.Errorf("%s: container %q maps ports %v, want %v", d.stage, container, ports, port)
		}
	}
	// Apart from the image and the read-only fields, the template is exactly
	// what was registered: nothing is lost or written twice.
	want := normalize(registered).(map[string]any)
	for _, f := range append(ecsReadOnlyFields, ecsDroppedFields...) {
		delete(want, f)
	}
	for _, c := range asList(want["containerDefinitions"]) {
		if m, _ := c.(map[string]any); m != nil && m["name"] == container {
			m["image"] = "<" + d.imagePlaceholder + ">"
		}
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s: %s differs from the registered task definition:\ngot  %s\nwant %s", d.stage, d.taskDefinitionPath, g, w)
	}
}

// ecsAppSpec is the AppSpec of an ECS deployment, as CodeDeploy documents
// its JSON form: every key it may hold, and no other.
type ecsAppSpec struct {
	Version   json.Number `json:"version"`
	Resources []map[string]struct {
		Type       string `json:"Type"`
		Properties struct {
			TaskDefinition   string `json:"TaskDefinition"`
			LoadBalancerInfo struct {
				ContainerName string  `json:"ContainerName"`
				ContainerPort float64 `json:"ContainerPort"`
			} `json:"LoadBalancerInfo"`
			PlatformVersion          string          `json:"PlatformVersion"`
			NetworkConfiguration     json.RawMessage `json:"NetworkConfiguration"`
			CapacityProviderStrategy json.RawMessage `json:"CapacityProviderStrategy"`
		} `json:"Properties"`
	} `json:"Resources"`
	Hooks []map[string]string `json:"Hooks"`
}

// ecsAppSpecHooks are the lifecycle events of an ECS deployment that run a hook.
var ecsAppSpecHooks = map[string]bool{
	"BeforeInstall": true, "AfterInstall": true, "AfterAllowTestTraffic": true, "BeforeAllowTraffic": true, "AfterAllowTraffic": true,
}

func checkAppSpec(t *testing.T, d deployAction, container string, port float64, hook string, data []byte) {
	t.Helper()
	// The action replaces the placeholder's text: it must be there as
	// written, not escaped.
	if !bytes.Contains(data, []byte("<"+taskDefinitionPlaceholder+">")) {
		t.Errorf("%s: %s does not hold the text <%s>, which the deploy action replaces:\n%s", d.stage, d.appSpecPath, taskDefinitionPlaceholder, data)
	}
	// JSON, with no key an ECS AppSpec does not have; and, as JSON is YAML
	// too, readable under the action's default name appspec.yaml.
	var spec ecsAppSpec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		t.Errorf("%s: %s is not a JSON ECS AppSpec: %v\n%s", d.stage, d.appSpecPath, err, data)
		return
	}
	var asYAML map[string]any
	if err := yaml.Unmarshal(data, &asYAML); err != nil || asYAML["Resources"] == nil {
		t.Errorf("%s: %s does not read as YAML (%v)", d.stage, d.appSpecPath, err)
	}
	if spec.Version != "0.0" || len(spec.Resources) != 1 || len(spec.Resources[0]) != 1 {
		t.Errorf("%s: %s needs version 0.0 and one target service:\n%s", d.stage, d.appSpecPath, data)
		return
	}
	for _, r := range spec.Resources[0] {
		lb := r.Properties.LoadBalancerInfo
		if r.Type != "AWS::ECS::Service" || r.Properties.TaskDefinition != "<"+taskDefinitionPlaceholder+">" ||
			lb.ContainerName != container || lb.ContainerPort != port {
			t.Errorf("%s: %s target is %+v, want AWS::ECS::Service with TaskDefinition <%s>, container %q on port %v",
				d.stage, d.appSpecPath, r, taskDefinitionPlaceholder, container, port)
		}
	}
	var hooks []string
	for _, h := range spec.Hooks {
		for event, fn := range h {
			if !ecsAppSpecHooks[event] {
				t.Errorf("%s: %s has a hook at %q, which is not a lifecycle event of an ECS deployment", d.stage, d.appSpecPath, event)
			}
			if event == "AfterAllowTestTraffic" {
				hooks = append(hooks, fn)
			}
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

// pipelineUnderTest is what the synthesized pipeline tells about its builds
// and deployments.
type pipelineUnderTest struct {
	stack          *cfnStack
	name           string
	stages         []*stageUnderTest
	builds         []*codeBuildStep // every CodeBuild action, in run order
	deploys        []deployAction
	releases       []*releaseStep // the ECS path's release actions (buildcontract_ecs_test.go)
	sourceOutput   string
	sourceVars     map[string]string
	sourceCloneRef bool
}

type stageUnderTest struct {
	name    string
	actions int              // every action of the stage, of any provider
	builds  []*codeBuildStep // in run order
	deploys []deployAction
}

// codeBuildStep is a CodeBuild action and the project it starts.
type codeBuildStep struct {
	stage, action string
	runOrder      int
	projectName   string
	project       map[string]any // the CodeBuild project's properties, unresolved
	spec          map[string]any // the buildspec
	phases        []buildPhase
	shell         string // env.shell of the buildspec, "" for the default
	artifactFiles []string
	baseDirectory string
	input         string // the primary input artifact
	output        string
	actionVars    map[string]string
	env           []string // every variable the build sees (newBuildSandbox)
	roleArn       string   // the project's service role (newBuildSandbox)
}

func (c *codeBuildStep) name() string { return c.stage + "/" + c.action }

type buildPhase struct {
	name     string
	abort    bool
	commands []string
}

type deployAction struct {
	stage              string
	runOrder           int
	taskDefinitionPath string
	appSpecPath        string
	imageArtifact      string
	imagePlaceholder   string            // Image1ContainerName: what stands for the image in the template
	artifacts          map[string]string // configuration key -> artifact name
	environment        *environmentUnderTest
}

// environmentName is the environment a deploy action's stage releases to.
func (d deployAction) environmentName() string {
	return strings.TrimPrefix(d.stage, delivery.DeployStageName(""))
}

// environmentUnderTest is what an environment template says about the
// service a deploy action releases to.
type environmentUnderTest struct {
	key            string // stack ID/service logical ID
	stack          *cfnStack
	taskDefinition string // logical ID of the task definition the service runs
	containerName  string
	containerPort  float64
	hookFunction   string
}

// build is the action that builds the image from the source.
func (p *pipelineUnderTest) build() *codeBuildStep {
	for _, c := range p.builds {
		if c.input == p.sourceOutput {
			return c
		}
	}
	return nil
}

// producer is the CodeBuild action that writes an artifact, nil if none.
func (p *pipelineUnderTest) producer(artifact string) *codeBuildStep {
	for _, c := range p.builds {
		if c.output == artifact {
			return c
		}
	}
	return nil
}

// publishes tells whether a file of the output directory is uploaded as an
// artifact under the buildspec's artifacts.files.
func (c *codeBuildStep) publishes(name string) bool {
	for _, pattern := range c.artifactFiles {
		if pattern == "**/*" || pattern == name {
			return true
		}
		if ok, _ := path.Match(pattern, name); ok {
			return true
		}
	}
	return false
}

// findPipeline reads the pipeline of the world named name.
func findPipeline(t *testing.T, w *cfnWorld, name string) *pipelineUnderTest {
	t.Helper()
	var p *pipelineUnderTest
	var names []string
	for _, s := range w.stacks {
		for logical, r := range s.resourcesOfType("AWS::CodePipeline::Pipeline") {
			n := w.physicalName(t, s, logical)
			names = append(names, n)
			if n != name {
				continue
			}
			if p != nil {
				t.Fatalf("two pipelines named %s", name)
			}
			p = &pipelineUnderTest{stack: s, name: n}
			p.readStages(t, w, asList(dig(r, "Properties", "Stages")))
			p.readReleases(t, w)
		}
	}
	if p == nil {
		t.Fatalf("no AWS::CodePipeline::Pipeline named %s; the pipelines are %v", name, names)
	}
	if p.build() == nil {
		t.Fatalf("no CodeBuild action builds from the source output %q", p.sourceOutput)
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

func (p *pipelineUnderTest) readStages(t *testing.T, w *cfnWorld, stages []any) {
	t.Helper()
	s := p.stack
	p.sourceVars = map[string]string{}
	for _, st := range stages {
		stage := &stageUnderTest{name: fmt.Sprint(dig(st, "Name"))}
		p.stages = append(p.stages, stage)
		actions := asList(dig(st, "Actions"))
		runOrder := func(a any) int {
			if n, ok := dig(a, "RunOrder").(float64); ok {
				return int(n)
			}
			return 1
		}
		sort.SliceStable(actions, func(i, j int) bool { return runOrder(actions[i]) < runOrder(actions[j]) })
		stage.actions = len(actions)
		for _, a := range actions {
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
				if outputs := asList(dig(a, "OutputArtifacts")); len(outputs) == 1 {
					p.sourceOutput, _ = dig(outputs[0], "Name").(string)
				}
			case "CodeBuild":
				c := p.readCodeBuildAction(t, w, stage.name, asMap(a))
				c.runOrder = runOrder(a)
				stage.builds = append(stage.builds, c)
				p.builds = append(p.builds, c)
			case "CodeDeployToECS":
				d := deployAction{
					stage:              stage.name,
					runOrder:           runOrder(a),
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
				stage.deploys = append(stage.deploys, d)
				p.deploys = append(p.deploys, d)
			}
		}
	}
}

// readCodeBuildAction reads a CodeBuild action: its project, buildspec,
// artifacts and the variables it passes.
func (p *pipelineUnderTest) readCodeBuildAction(t *testing.T, w *cfnWorld, stage string, action map[string]any) *codeBuildStep {
	t.Helper()
	s := p.stack
	c := &codeBuildStep{stage: stage, action: fmt.Sprint(action["Name"])}
	inputs, outputs := asList(action["InputArtifacts"]), asList(action["OutputArtifacts"])
	if len(inputs) != 1 || len(outputs) > 1 {
		t.Fatalf("%s: %d input and %d output artifacts; this test models one input and at most one output", c.name(), len(inputs), len(outputs))
	}
	c.input, _ = dig(inputs[0], "Name").(string)
	if len(outputs) == 1 {
		c.output, _ = dig(outputs[0], "Name").(string)
	}
	ref, _ := dig(action, "Configuration", "ProjectName", "Ref").(string)
	project := s.resources[ref]
	if dig(project, "Type") != "AWS::CodeBuild::Project" {
		t.Fatalf("%s: ProjectName must refer to a project of this stack, got %v", c.name(), dig(action, "Configuration", "ProjectName"))
	}
	c.project = asMap(dig(project, "Properties"))
	c.projectName = w.physicalName(t, s, ref)

	// Variables the action passes: StartBuild overrides, pipeline variables resolved.
	c.actionVars = map[string]string{}
	if raw := dig(action, "Configuration", "EnvironmentVariables"); raw != nil {
		var list []struct{ Name, Type, Value string }
		if err := json.Unmarshal([]byte(w.mustString(t, s, raw)), &list); err != nil {
			t.Fatalf("%s: EnvironmentVariables: %v", c.name(), err)
		}
		for _, v := range list {
			if v.Type != "" && v.Type != "PLAINTEXT" {
				t.Fatalf("%s: variable %s is %s; this test has no stand-in for it", c.name(), v.Name, v.Type)
			}
			c.actionVars[v.Name] = p.pipelineVariables(t, v.Value)
		}
	}

	// The buildspec: inline, JSON or YAML.
	raw := dig(c.project, "Source", "BuildSpec")
	if raw == nil {
		t.Fatalf("%s: the project's buildspec must be inline, got source %v", c.name(), dig(c.project, "Source"))
	}
	if err := yaml.Unmarshal([]byte(w.mustString(t, s, raw)), &c.spec); err != nil {
		t.Fatalf("%s: the buildspec is neither JSON nor YAML: %v", c.name(), err)
	}
	if v := fmt.Sprint(c.spec["version"]); v != "0.2" {
		t.Fatalf("%s: buildspec version %s: this test knows the semantics of 0.2 (one shell session for all phases)", c.name(), v)
	}
	if sh, ok := dig(c.spec, "env", "shell").(string); ok {
		c.shell = sh
	}
	for _, name := range []string{"install", "pre_build", "build", "post_build"} {
		phase := asMap(dig(c.spec, "phases", name))
		if phase == nil {
			continue
		}
		bp := buildPhase{name: name, abort: phase["on-failure"] == "ABORT"}
		for _, cmd := range append(asList(phase["commands"]), asList(phase["finally"])...) {
			bp.commands = append(bp.commands, fmt.Sprint(cmd))
		}
		c.phases = append(c.phases, bp)
	}
	for _, f := range asList(dig(c.spec, "artifacts", "files")) {
		c.artifactFiles = append(c.artifactFiles, fmt.Sprint(f))
	}
	c.baseDirectory, _ = dig(c.spec, "artifacts", "base-directory").(string)
	if dig(c.spec, "artifacts", "discard-paths") == "yes" {
		t.Fatalf("%s: artifacts.discard-paths: this test does not model it", c.name())
	}
	return c
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

// findEnvironment finds the service a deploy action releases to: the one
// of the deployment group the action names, in whichever stack holds it, with
// the task definition the service runs and the pre-traffic function the
// group's CodeDeploy role may invoke.
func findEnvironment(t *testing.T, w *cfnWorld, stage, group string) *environmentUnderTest {
	t.Helper()
	for _, s := range w.stacks {
		for logical, g := range s.resourcesOfType("AWS::CodeDeploy::DeploymentGroup") {
			if w.physicalName(t, s, logical) != group {
				continue
			}
			targets := asList(dig(g, "Properties", "ECSServices"))
			if len(targets) != 1 {
				t.Fatalf("%s: deployment group %s deploys %d services, want 1", stage, group, len(targets))
			}
			serviceName := w.mustString(t, s, dig(targets[0], "ServiceName"))
			var service string
			for l := range s.resourcesOfType("AWS::ECS::Service") {
				if w.physicalName(t, s, l) == serviceName {
					service = l
				}
			}
			if service == "" {
				t.Fatalf("%s: %s has no ECS service named %s, which deployment group %s deploys", stage, s.id, serviceName, group)
			}
			svc := s.resources[service]
			e := &environmentUnderTest{key: s.id + "/" + service, stack: s}
			lbs := asList(dig(svc, "Properties", "LoadBalancers"))
			if len(lbs) == 0 {
				t.Fatalf("%s: service %s of %s has no load balancer", stage, serviceName, s.id)
			}
			e.containerName, _ = dig(lbs[0], "ContainerName").(string)
			e.containerPort, _ = dig(lbs[0], "ContainerPort").(float64)

			// The service names its task definition by family or by ARN.
			runs := w.mustString(t, s, dig(svc, "Properties", "TaskDefinition"))
			for l, td := range s.resourcesOfType("AWS::ECS::TaskDefinition") {
				arn, err := w.ref(s, l)
				if err != nil {
					t.Fatalf("%s: %v", s.id, err)
				}
				if family, _ := w.resolve(s, dig(td, "Properties", "Family")); runs == family || runs == arn {
					e.taskDefinition = l
				}
			}
			if e.taskDefinition == "" {
				t.Fatalf("%s: service %s runs task definition %s, which %s does not hold", stage, serviceName, runs, s.id)
			}

			role := w.mustString(t, s, dig(g, "Properties", "ServiceRoleArn"))
			invocable := map[string]bool{}
			for _, st := range w.roleStatements(t, s, role) {
				if dig(st, "Effect") == "Allow" && containsValue(asList(dig(st, "Action")), "lambda:InvokeFunction") {
					for _, r := range asList(dig(st, "Resource")) {
						invocable[fmt.Sprint(r)] = true
					}
				}
			}
			var hooks []string
			for logical, fn := range s.resourcesOfType("AWS::Lambda::Function") {
				arn := w.mustString(t, s, map[string]any{"Fn::GetAtt": []any{logical, "Arn"}})
				for _, tag := range asList(dig(fn, "Properties", "Tags")) {
					if dig(tag, "Key") == "Purpose" && dig(tag, "Value") == "pre-traffic validation" && invocable[arn] {
						hooks = append(hooks, w.physicalName(t, s, logical))
					}
				}
			}
			if len(hooks) != 1 {
				t.Fatalf("%s: %d functions tagged Purpose=pre-traffic validation that the CodeDeploy role of %s may invoke, want 1", stage, len(hooks), group)
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
