package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"ecs-bluegreen/constructs/delivery"
)

// The build contract of the ECS deploy path (constructs/delivery/ecs.go): an
// environment on the ecs engine is released by one CodeBuild action, the
// release project, which tags the build's image for the environment and
// updates the environment stack with its current template and the image
// parameter set to the image by digest, then waits for the update. The
// test runs the project's buildspec, as synthesized, against the stand-in
// `aws` (testdata/buildstubs/aws), which answers for the environment stack
// from state/stacks/<stack name>/.

// stackCapabilities are what CloudFormation returns as the capabilities of
// a stack deployed by `cdk deploy`: an update that does not acknowledge
// each of them fails with InsufficientCapabilities.
var stackCapabilities = []string{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"}

// standInUpdate is the status sequence of an update that ECS carries out:
// what DescribeStacks returns, one read after another, once UpdateStack has
// started it.
var standInUpdate = []string{"UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"}

// releaseStep is a release action of the ECS path.
type releaseStep struct {
	step        *codeBuildStep
	environment string    // DEPLOY_ENVIRONMENT, as the action passes it
	stackName   string    // STACK_NAME, as the project defines it
	stack       *cfnStack // the stack of the world so named
	parameter   string    // IMAGE_PARAMETER, as the project defines it
	pollSeconds string    // POLL_SECONDS, as the project defines it
}

// engineExpectations say which engine each environment of an ECS synthesis
// is on.
type engineExpectations struct {
	synthesis *checkedSynthesis
	engines   map[string]string // environment -> "ecs" or "codedeploy"
}

// ecsWorld is an ECS synthesis, as deployed.
func ecsWorld(t *testing.T, s *checkedSynthesis) *cfnWorld {
	t.Helper()
	var stacks []awscdk.Stack
	for _, id := range s.app.StackIDs() {
		stacks = append(stacks, s.app.Stack(id))
	}
	return worldOf(t, stacks, func(st awscdk.Stack) assertions.Template { return s.template(t, *st.Node().Id()) })
}

// projectVariables are a CodeBuild project's variables, resolved.
func projectVariables(t *testing.T, w *cfnWorld, s *cfnStack, project map[string]any) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, v := range asList(dig(project, "Environment", "EnvironmentVariables")) {
		vars[fmt.Sprint(dig(v, "Name"))] = w.mustString(t, s, dig(v, "Value"))
	}
	return vars
}

// readReleases finds the release actions among the pipeline's CodeBuild
// actions: those whose project names a stack to update.
func (p *pipelineUnderTest) readReleases(t *testing.T, w *cfnWorld) {
	t.Helper()
	for _, c := range p.builds {
		vars := projectVariables(t, w, p.stack, c.project)
		name, ok := vars["STACK_NAME"]
		if !ok {
			continue
		}
		r := &releaseStep{step: c, environment: c.actionVars["DEPLOY_ENVIRONMENT"], stackName: name, parameter: vars["IMAGE_PARAMETER"], pollSeconds: vars["POLL_SECONDS"]}
		for _, s := range w.stacks {
			if s.name == name {
				r.stack = s
			}
		}
		if r.stack == nil {
			t.Fatalf("%s: STACK_NAME %q is no stack of the app", c.name(), name)
		}
		p.releases = append(p.releases, r)
	}
}

// checkDeployPaths proves that each environment's deploy stage takes its
// engine's path: for ecs, one CodeBuild action on the environment's release
// project, naming the environment stack (as the cloud assembly names it)
// and the parameter its service's image comes from; for codedeploy, a
// CodeDeployToECS action and no release.
func checkDeployPaths(t *testing.T, w *cfnWorld, p *pipelineUnderTest, e *engineExpectations) {
	for env, engine := range e.engines {
		stageName := delivery.DeployStageName(env)
		var stage *stageUnderTest
		for _, st := range p.stages {
			if st.name == stageName {
				stage = st
			}
		}
		if stage == nil {
			t.Errorf("no stage %s", stageName)
			continue
		}
		var releases []*releaseStep
		for _, r := range p.releases {
			if r.step.stage == stageName {
				releases = append(releases, r)
			}
		}
		if engine == "codedeploy" {
			if len(stage.deploys) != 1 || len(releases) != 0 {
				t.Errorf("%s: %s is on codedeploy; want one CodeDeployToECS action and no release, got %d and %d", stageName, env, len(stage.deploys), len(releases))
			}
			continue
		}
		if stage.actions != 1 || len(stage.builds) != 1 || len(releases) != 1 {
			t.Errorf("%s: %s is on ecs; want exactly one action, the release, got %d actions (%d CodeBuild, %d releases, %d CodeDeploy)",
				stageName, env, stage.actions, len(stage.builds), len(releases), len(stage.deploys))
			continue
		}
		r := releases[0]
		if want := p.name + "-release-" + env; r.step.projectName != want {
			t.Errorf("%s: the release runs project %s, want %s", stageName, r.step.projectName, want)
		}
		if r.environment != env {
			t.Errorf("%s: the release action passes DEPLOY_ENVIRONMENT=%q, want %q", stageName, r.environment, env)
		}
		if r.step.input != p.build().output {
			t.Errorf("%s: the release reads %s, want the build's output %s", stageName, r.step.input, p.build().output)
		}

		// The environment stack, as the cloud assembly deploys it.
		id := strings.ToUpper(env[:1]) + env[1:]
		artifact := e.synthesis.assembly.GetStackArtifact(e.synthesis.app.Stack(id).ArtifactId())
		if got := *artifact.StackName(); r.stackName != got || r.stack.id != id {
			t.Errorf("%s: STACK_NAME = %q (stack %s), want %s's stack name in the assembly, %q", stageName, r.stackName, r.stack.id, id, got)
		}

		// The image parameter: the environment template's, with a default
		// (what the first deployment runs), and what its service's
		// container image refers to.
		if r.parameter == "" || dig(r.stack.parameters, r.parameter) == nil {
			t.Errorf("%s: IMAGE_PARAMETER = %q, which is no parameter of %s (%v)", stageName, r.parameter, r.stack.id, keys(r.stack.parameters))
			continue
		}
		if dig(r.stack.parameters, r.parameter, "Default") == nil {
			t.Errorf("%s: parameter %s of %s has no Default", stageName, r.parameter, r.stack.id)
		}
		services := e.synthesis.resources(t, id, "AWS::ECS::Service")
		taskDefinitions := e.synthesis.resources(t, id, "AWS::ECS::TaskDefinition")
		if len(services) != 1 {
			t.Errorf("%s: %d ECS services, want 1", r.stack.id, len(services))
			continue
		}
		for _, svc := range services {
			var container string
			if lbs := asList(dig(svc, "Properties", "LoadBalancers")); len(lbs) > 0 {
				container, _ = dig(lbs[0], "ContainerName").(string)
			}
			td, _ := dig(svc, "Properties", "TaskDefinition", "Ref").(string)
			var image any
			for _, c := range asList(dig(taskDefinitions[td], "Properties", "ContainerDefinitions")) {
				if dig(c, "Name") == container {
					image = dig(c, "Image")
				}
			}
			if want := map[string]any{"Ref": r.parameter}; !reflect.DeepEqual(image, want) {
				t.Errorf("%s: container %q of task definition %q has Image %v, want %v", r.stack.id, container, td, image, want)
			}
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stackDir is the stand-in's state of a release's stack.
func (b *buildSandbox) stackDir(r *releaseStep) string {
	return filepath.Join(b.state, "stacks", r.stackName)
}

// createStack makes the environment stack of a release as `cdk deploy`
// created it: every parameter of its template at its default, the
// capabilities the CLI acknowledges, UPDATE_COMPLETE; an update goes
// through standInUpdate. It also makes the release poll without sleeping.
func (b *buildSandbox) createStack(t *testing.T, r *releaseStep) {
	t.Helper()
	if n, err := strconv.Atoi(r.pollSeconds); err != nil || n <= 0 {
		t.Errorf("%s: POLL_SECONDS = %q, want a positive number of seconds", r.step.name(), r.pollSeconds)
	}
	for i, kv := range r.step.env {
		if strings.HasPrefix(kv, "POLL_SECONDS=") {
			r.step.env[i] = "POLL_SECONDS=0"
		}
	}
	b.scriptStack(t, r, standInUpdate, "", "")
}

// scriptStack (re)sets a release's stack: its image parameter at value
// (its default if ""), UPDATE_COMPLETE, the status sequence an update goes
// through, and the error UpdateStack answers ("" for none).
func (b *buildSandbox) scriptStack(t *testing.T, r *releaseStep, update []string, value, updateError string) {
	t.Helper()
	dir := b.stackDir(r)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var params []map[string]any
	for _, k := range keys(r.stack.parameters) {
		v := fmt.Sprint(dig(r.stack.parameters, k, "Default"))
		p := map[string]any{"ParameterKey": k, "ParameterValue": v}
		if k == r.parameter && value != "" {
			p["ParameterValue"] = value
		}
		if strings.HasPrefix(fmt.Sprint(dig(r.stack.parameters, k, "Type")), "AWS::SSM::") {
			p["ResolvedValue"] = "21"
		}
		params = append(params, p)
	}
	stack, _ := json.MarshalIndent(map[string]any{
		"StackId":      r.stack.arn("cloudformation", "stack/"+r.stackName+"/"+standInUUID(r.stackName)),
		"StackName":    r.stackName,
		"Parameters":   params,
		"Capabilities": stackCapabilities,
		"CreationTime": "2025-06-01T08:12:40.512000+00:00",
	}, "", "    ")
	files := map[string]string{
		"stack.json":   string(stack) + "\n",
		"status":       "UPDATE_COMPLETE\n",
		"statuses":     "",
		"after-update": strings.Join(update, "\n") + "\n",
		"polls":        "0\n",
	}
	if updateError != "" {
		files["update-error"] = updateError
	}
	for name, content := range files {
		b.write(t, filepath.Join("stacks", r.stackName, name), content)
	}
}

// stackFile reads a file of the stand-in's state of a release's stack.
func (b *buildSandbox) stackFile(t *testing.T, r *releaseStep, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.stackDir(r), name))
	if err != nil {
		t.Errorf("%s: %v", r.step.name(), err)
	}
	return data
}

func (b *buildSandbox) polls(t *testing.T, r *releaseStep) int {
	t.Helper()
	n, _ := strconv.Atoi(strings.TrimSpace(string(b.stackFile(t, r, "polls"))))
	return n
}

// imageParameterValue is the stack's image parameter value now.
func (b *buildSandbox) imageParameterValue(t *testing.T, r *releaseStep) string {
	t.Helper()
	var stack struct {
		Parameters []struct{ ParameterKey, ParameterValue string }
	}
	_ = json.Unmarshal(b.stackFile(t, r, "stack.json"), &stack)
	for _, p := range stack.Parameters {
		if p.ParameterKey == r.parameter {
			return p.ParameterValue
		}
	}
	return ""
}

// releaseImage is the image a release must set: the commit's image, by the
// digest the repository gives it.
func (b *buildSandbox) releaseImage(t *testing.T) string {
	t.Helper()
	digest := b.imageDigest(t, standInCommit[:12])
	if digest == "" {
		t.Fatalf("the repository holds no image tagged %s", standInCommit[:12])
	}
	return b.repositoryURI + "@" + digest
}

// optionValues are the values of a list option in a recorded call: the
// arguments after it up to the next option.
func optionValues(call []string, option string) []string {
	var out []string
	for i, a := range call {
		if a != option {
			continue
		}
		for _, v := range call[i+1:] {
			if strings.HasPrefix(v, "--") {
				break
			}
			out = append(out, v)
		}
	}
	return out
}

// checkUpdateCall proves that a release run called UpdateStack once, on
// the environment stack, with its current template, the stack's
// capabilities, and a parameters file that sets the image parameter to
// image and keeps every other parameter's previous value.
func checkUpdateCall(t *testing.T, b *buildSandbox, r *releaseStep, run *buildRun, image string) {
	t.Helper()
	updates := run.calls("aws", "cloudformation", "update-stack")
	if len(updates) != 1 {
		t.Errorf("%s: want one update-stack, got %v\ncalls:\n%s", r.step.name(), updates, run.describeCalls())
		return
	}
	call := updates[0]
	if got := optionValues(call, "--stack-name"); len(got) != 1 || got[0] != r.stackName {
		t.Errorf("%s: update-stack --stack-name %v, want %s", r.step.name(), got, r.stackName)
	}
	if !containsValue(toAny(call), "--use-previous-template") {
		t.Errorf("%s: update-stack without --use-previous-template: %q", r.step.name(), call)
	}
	for _, forbidden := range []string{"--template-body", "--template-url"} {
		if containsValue(toAny(call), forbidden) {
			t.Errorf("%s: update-stack passes %s; a release changes the image parameter only, never the template: %q", r.step.name(), forbidden, call)
		}
	}
	got := optionValues(call, "--capabilities")
	sort.Strings(got)
	want := append([]string{}, stackCapabilities...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: update-stack --capabilities %v, want the stack's %v", r.step.name(), got, want)
	}
	if p := optionValues(call, "--parameters"); len(p) != 1 || !strings.HasPrefix(p[0], "file://") {
		t.Errorf("%s: update-stack --parameters %v, want one file://", r.step.name(), p)
	}

	// The parameters file, as the stand-in read it.
	var params []map[string]any
	data := b.stackFile(t, r, "update-parameters.json")
	if err := json.Unmarshal(data, &params); err != nil {
		t.Errorf("%s: the parameters file is not a JSON list: %v\n%s", r.step.name(), err, data)
		return
	}
	seen := map[string]bool{}
	for _, p := range params {
		k := fmt.Sprint(p["ParameterKey"])
		if seen[k] {
			t.Errorf("%s: parameter %s given twice", r.step.name(), k)
		}
		seen[k] = true
		if k == r.parameter {
			if p["ParameterValue"] != image || p["UsePreviousValue"] != nil {
				t.Errorf("%s: image parameter %s = %v, want ParameterValue %q and no UsePreviousValue", r.step.name(), k, p, image)
			}
			continue
		}
		if _, ok := p["ParameterValue"]; ok || p["UsePreviousValue"] != true {
			t.Errorf("%s: parameter %s = %v, want UsePreviousValue true and no ParameterValue (UpdateStack sets an omitted parameter to its default)", r.step.name(), k, p)
		}
	}
	if want := keys(r.stack.parameters); !reflect.DeepEqual(keys(toAnyMap(seen)), want) {
		t.Errorf("%s: the parameters file names %v, want every parameter of the stack, %v", r.step.name(), keys(toAnyMap(seen)), want)
	}
	if !seen["BootstrapVersion"] {
		t.Errorf("%s: BootstrapVersion is not among the parameters %v", r.step.name(), params)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func toAnyMap(m map[string]bool) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkReleases proves what each release run of a pipeline run did: on the
// first release of a commit, it tagged the image for its environment,
// updated the stack to the image by digest and waited for the update to
// complete; on a rerun, the tag and the image were there already, and the
// update, with nothing to do, succeeded without waiting.
func checkReleases(t *testing.T, b *buildSandbox, runs map[string]*buildRun, firstTime bool) {
	t.Helper()
	for _, r := range b.p.releases {
		run := runs[r.step.name()]
		if run == nil {
			t.Errorf("%s did not run", r.step.name())
			continue
		}
		image := b.releaseImage(t)
		checkEnvironmentTag(t, b, deployAction{stage: r.step.stage}, run, firstTime)
		run.requireCall(t, "aws", "cloudformation", "describe-stacks", "--stack-name", r.stackName)
		checkUpdateCall(t, b, r, run, image)
		if got := b.imageParameterValue(t, r); got != image {
			t.Errorf("%s: the stack's %s is %q after the release, want %q", r.step.name(), r.parameter, got, image)
		}
		polls := b.polls(t, r)
		if firstTime && polls != len(standInUpdate) {
			t.Errorf("%s: read the stack's status %d times; the update went through %v, so want %d reads", r.step.name(), polls, standInUpdate, len(standInUpdate))
		}
		if events := run.calls("aws", "cloudformation", "describe-stack-events"); len(events) != 0 {
			t.Errorf("%s: the update completed, but the release read the stack's events: %v", r.step.name(), events)
		}
		// The next release starts from a fresh count.
		b.write(t, filepath.Join("stacks", r.stackName, "polls"), "0\n")
	}
}

// checkReleaseOutcomes runs each release project again on the build's
// output with the stack update scripted to end each way it can, and proves
// that the release succeeds exactly when the stack runs the image.
func checkReleaseOutcomes(t *testing.T, b *buildSandbox) {
	// The build's output, and the image it names, as a pipeline run leaves them.
	b.release(t, nil)
	image := b.releaseImage(t)
	accessDenied := "An error occurred (AccessDenied) when calling the UpdateStack operation: User: arn:aws:sts::123456789012:assumed-role/release/AWSCodeBuild is not authorized to perform: iam:PassRole"
	for _, r := range b.p.releases {
		for _, c := range []struct {
			name        string
			update      []string
			value       string // the image parameter's value before the release
			updateError string
			succeeds    bool
			polls       int // status reads
			events      bool
		}{
			{"the update completes", []string{"UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"}, "", "", true, 3, false},
			{"ECS rolls the deployment back", []string{"UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"}, "", "", false, 5, true},
			{"the rollback fails", []string{"UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED"}, "", "", false, 3, true},
			{"the stack runs the image already", standInUpdate, image, "", true, 1, false},
			{"UpdateStack fails otherwise", standInUpdate, "", accessDenied, false, 0, false},
		} {
			t.Run(r.environment+"/"+c.name, func(t *testing.T) {
				b.scriptStack(t, r, c.update, c.value, c.updateError)
				run := b.run(t, r.step)
				if unexpected, _ := os.ReadFile(filepath.Join(b.state, "unexpected.log")); len(unexpected) > 0 {
					t.Errorf("stand-ins were called in ways this test does not know:\n%s", unexpected)
				}
				if c.succeeds {
					run.requireSuccess(t)
				} else if run.err == nil {
					t.Errorf("the release succeeded; want it to fail, so that the pipeline stops before the next environment\noutput:\n%s", tail(run.output, 20))
				}
				checkUpdateCall(t, b, r, run, image)
				checkActingAccounts(t, b, r.step, run)
				if got := b.polls(t, r); got != c.polls {
					t.Errorf("read the stack's status %d times, want %d\noutput:\n%s", got, c.polls, tail(run.output, 20))
				}
				events := run.calls("aws", "cloudformation", "describe-stack-events")
				if c.events && len(events) == 0 {
					t.Errorf("the update failed, and the release printed no stack events\ncalls:\n%s", run.describeCalls())
				} else if !c.events && len(events) > 0 {
					t.Errorf("want no describe-stack-events, got %v", events)
				}
				if c.updateError != "" && !strings.Contains(run.output, "AccessDenied") {
					t.Errorf("the release does not show UpdateStack's error:\n%s", tail(run.output, 20))
				}
			})
		}
		// Leave the stack as a completed release does.
		b.scriptStack(t, r, standInUpdate, image, "")
	}
}
