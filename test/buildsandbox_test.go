package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Running a CodeBuild build of the synthesized pipeline in a sandbox, for
// the build contract test (buildcontract_test.go).

// buildSandbox holds the stand-in tools, what they answer, and the
// pipeline's artifacts as the runs publish them.
type buildSandbox struct {
	p               *pipelineUnderTest
	root            string
	bin, state      string
	repositoryName  string
	repositoryURI   string
	registry        string
	lifecycleRules  []lifecycleRule           // the repository's
	taskDefinitions map[string]map[string]any // environment key -> ECS API shape of the latest revision
	artifacts       map[string]string         // artifact name -> directory of its files
	assumes         map[string]string         // action -> the role it must assume in its environment's account (newBuildSandbox)
	runs            int
}

func newBuildSandbox(t *testing.T, w *cfnWorld, p *pipelineUnderTest) *buildSandbox {
	t.Helper()
	b := &buildSandbox{p: p, root: t.TempDir(), taskDefinitions: map[string]map[string]any{}, artifacts: map[string]string{}, assumes: map[string]string{}}
	b.bin = filepath.Join(b.root, "bin")
	b.state = filepath.Join(b.root, "state")
	for _, dir := range []string{b.bin, filepath.Join(b.state, "task-definitions"), filepath.Join(b.state, "manifests"), filepath.Join(b.root, "home")} {
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

	// The ECR repository the build pushes to: the one its role may push to.
	buildRole := w.mustString(t, p.stack, dig(p.build().project, "ServiceRole"))
	pushable := map[string]bool{}
	for _, st := range w.roleStatements(t, p.stack, buildRole) {
		if dig(st, "Effect") == "Allow" && containsValue(asList(dig(st, "Action")), "ecr:PutImage") {
			for _, r := range asList(dig(st, "Resource")) {
				pushable[fmt.Sprint(r)] = true
			}
		}
	}
	var repository map[string]any
	for logical, r := range p.stack.resourcesOfType("AWS::ECR::Repository") {
		if pushable[w.mustString(t, p.stack, map[string]any{"Fn::GetAtt": []any{logical, "Arn"}})] {
			if repository != nil {
				t.Fatalf("the build may push to more than one repository")
			}
			repository = r
			b.repositoryName = w.physicalName(t, p.stack, logical)
		}
	}
	if repository == nil {
		t.Fatalf("the build's role may push to no repository of %s", p.stack.id)
	}
	immutable := dig(repository, "Properties", "ImageTagMutability") == "IMMUTABLE"
	b.lifecycleRules = parseLifecycleRules(t, w.mustString(t, p.stack, dig(repository, "Properties", "LifecyclePolicy", "LifecyclePolicyText")))
	b.registry = p.stack.account + ".dkr.ecr." + p.stack.region + ".amazonaws.com"
	b.repositoryURI = b.registry + "/" + b.repositoryName

	// What DescribeTaskDefinition answers: the task definition of each
	// environment the pipeline releases to, as CloudFormation registered it.
	families := map[string]string{}
	for _, d := range p.deploys {
		env := d.environment
		if _, ok := b.taskDefinitions[env.key]; ok {
			continue
		}
		td := w.ecsTaskDefinition(t, env.stack, env.taskDefinition)
		family := td["family"].(string)
		if other, ok := families[family]; ok {
			t.Fatalf("%s and %s share task family %s", other, env.key, family)
		}
		families[family] = env.key
		b.register(t, env.key, td)
	}
	b.write(t, "account", p.stack.account)
	b.write(t, "region", p.stack.region)
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

	// The real jq, as on CodeBuild's standard image.
	systemPath := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if _, err := lookPathIn("jq", systemPath); err != nil {
		t.Fatalf("jq is not installed (%v): the build uses it, as CodeBuild's standard image has it; install it (apt-get install jq)", err)
	}
	for _, step := range p.builds {
		step.env = b.environment(t, w, step, systemPath)
		step.roleArn = w.mustString(t, p.stack, dig(step.project, "ServiceRole"))
	}
	b.write(t, "caller", p.build().roleArn)
	// The roles of the environments' accounts that a role of the pipeline's
	// may assume (buildcontract_accounts_test.go).
	b.write(t, "roles", assumableRoles(t, w, p))
	// The environment stacks the release actions update.
	for _, r := range p.releases {
		b.createStack(t, r)
	}
	return b
}

// register makes td the latest revision of its family, as
// DescribeTaskDefinition answers it.
func (b *buildSandbox) register(t *testing.T, envKey string, td map[string]any) {
	t.Helper()
	out, _ := json.MarshalIndent(map[string]any{"taskDefinition": td}, "", "    ")
	b.write(t, filepath.Join("task-definitions", td["family"].(string)+".json"), string(out)+"\n")
	b.taskDefinitions[envKey] = td
}

// registerNewRevision registers the next revision of an environment's task
// family with twice the memory, as a `cdk deploy` of a new
// <environment>.taskMemory would, and with a second container (a sidecar,
// as a later version of the service might add): the deploy stage must keep
// it as registered, since only the service's container takes the image
// placeholder.
func (b *buildSandbox) registerNewRevision(t *testing.T, env *environmentUnderTest) {
	t.Helper()
	td := normalize(b.taskDefinitions[env.key]).(map[string]any)
	double := func(v any) any {
		switch x := v.(type) {
		case string:
			n, _ := strconv.Atoi(x)
			return strconv.Itoa(2 * n)
		case float64:
			return 2 * x
		}
		return v
	}
	td["memory"] = double(td["memory"])
	for _, c := range asList(td["containerDefinitions"]) {
		if m := asMap(c); m["memory"] != nil {
			m["memory"] = double(m["memory"])
		}
	}
	td["containerDefinitions"] = append(asList(td["containerDefinitions"]), normalize(map[string]any{
		"name": "sidecar", "image": "public.ecr.aws/docker/library/busybox:stable", "essential": false,
		"command": []string{"sleep", "infinity"}, "cpu": 0, "environment": []string{}, "mountPoints": []string{},
		"volumesFrom": []string{}, "systemControls": []string{}, "portMappings": []string{},
	}))
	revision := td["revision"].(float64) + 1
	td["revision"] = revision
	td["taskDefinitionArn"] = env.stack.arn("ecs", fmt.Sprintf("task-definition/%s:%v", td["family"], revision))
	td["registeredAt"] = fmt.Sprintf("2025-06-0%vT10:15:02.118000+00:00", revision-5)
	b.register(t, env.key, td)
}

// imageDigest asks the stand-in repository for the digest of the image a tag
// names, "" if there is none.
func (b *buildSandbox) imageDigest(t *testing.T, tag string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(b.bin, "aws"), "ecr", "describe-images", "--repository-name", b.repositoryName, "--image-ids", "imageTag="+tag)
	// As the build's own role: no credentials of this process's environment.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	var answer struct {
		ImageDetails []struct{ ImageDigest string }
	}
	if err := json.Unmarshal(out, &answer); err != nil || len(answer.ImageDetails) != 1 {
		t.Fatalf("describe-images %s: %v\n%s", tag, err, out)
	}
	return answer.ImageDetails[0].ImageDigest
}

// startRelease is a push to the branch: the source artifact holds a tiny
// Dockerfile at its root.
func (b *buildSandbox) startRelease(t *testing.T) {
	t.Helper()
	b.runs++
	dir := filepath.Join(b.root, fmt.Sprintf("source%d", b.runs))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM public.ecr.aws/nginx/nginx:stable-alpine\nCOPY . /usr/share/nginx/html\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.artifacts[b.p.sourceOutput] = dir
}

func (b *buildSandbox) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(b.state, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// environment is every variable the build sees: CodeBuild's own, then the
// buildspec's env.variables, the project's and the action's, each overriding
// the one before, as CodeBuild documents. CodeBuild's CODEBUILD_SRC_DIR, the
// directory of a run, is added by run.
func (b *buildSandbox) environment(t *testing.T, w *cfnWorld, step *codeBuildStep, systemPath string) []string {
	t.Helper()
	p := b.p
	buildID := step.projectName + ":6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	vars := map[string]string{
		"AWS_DEFAULT_REGION":                p.stack.region,
		"AWS_REGION":                        p.stack.region,
		"CODEBUILD_BUILD_ARN":               p.stack.arn("codebuild", "build/"+buildID),
		"CODEBUILD_BUILD_ID":                buildID,
		"CODEBUILD_BUILD_IMAGE":             fmt.Sprint(dig(step.project, "Environment", "Image")),
		"CODEBUILD_BUILD_NUMBER":            "42",
		"CODEBUILD_BUILD_SUCCEEDING":        "1",
		"CODEBUILD_INITIATOR":               "codepipeline/" + p.name,
		"CODEBUILD_LOG_PATH":                "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
		"CODEBUILD_RESOLVED_SOURCE_VERSION": standInCommit,
		"CODEBUILD_SOURCE_VERSION":          "arn:aws:s3:::" + p.name + "-artifacts/" + p.name + "/" + step.input[:min(len(step.input), 10)] + "/Kq3xZ9w.zip",
		"CODEBUILD_START_TIME":              "1748857287000",
		"HOME":                              filepath.Join(b.root, "home"),
		"PATH":                              b.bin + ":" + systemPath,
	}
	if key := dig(step.project, "EncryptionKey"); key != nil {
		vars["CODEBUILD_KMS_KEY_ID"] = w.mustString(t, p.stack, key)
	}
	set := func(source, name, value string) {
		if strings.HasPrefix(name, "CODEBUILD_") {
			t.Fatalf("%s sets %s; CodeBuild reserves the CODEBUILD_ prefix", source, name)
		}
		vars[name] = value
	}
	for name, v := range asMap(dig(step.spec, "env", "variables")) {
		set("buildspec env.variables", name, fmt.Sprint(v))
	}
	if len(asMap(dig(step.spec, "env", "parameter-store")))+len(asMap(dig(step.spec, "env", "secrets-manager"))) > 0 {
		t.Fatalf("%s: buildspec env.parameter-store/secrets-manager: this test has no stand-in for them", step.name())
	}
	for _, v := range asList(dig(step.project, "Environment", "EnvironmentVariables")) {
		name := fmt.Sprint(dig(v, "Name"))
		if typ, _ := dig(v, "Type").(string); typ != "" && typ != "PLAINTEXT" {
			t.Fatalf("%s: project variable %s is %s; this test has no stand-in for it", step.name(), name, typ)
		}
		set("the project", name, w.mustString(t, p.stack, dig(v, "Value")))
	}
	for name, v := range step.actionVars {
		set("the action", name, v)
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

// buildRun is one run of a CodeBuild action.
type buildRun struct {
	b        *buildSandbox
	step     *codeBuildStep
	output   string
	upload   error // publishing the artifacts, after the commands
	err      error
	elapsed  time.Duration
	finished map[int]bool
	started  map[int]bool
	commands []phaseCommand
	log      [][]string
	callers  []caller // who made each call of log
}

// caller is who made a call: for the aws stand-in, the access key in the
// call's environment ("" for the build's own role) and the ARN it stands
// for; for the other stand-ins, nobody.
type caller struct{ key, arn string }

type phaseCommand struct {
	phase   buildPhase
	command string
}

// run runs a CodeBuild action once, as a new CodeBuild container would: in
// a fresh source directory holding its input artifact, with the docker
// daemon's images and logins empty; the ECR repository and the registered
// task definitions keep what earlier runs did. It then publishes the
// action's output artifact as CodeBuild uploads it.
func (b *buildSandbox) run(t *testing.T, step *codeBuildStep) *buildRun {
	t.Helper()
	b.runs++
	src := filepath.Join(b.root, fmt.Sprintf("src%d", b.runs))
	input, ok := b.artifacts[step.input]
	if !ok {
		t.Fatalf("%s reads artifact %q, which no earlier action wrote", step.name(), step.input)
	}
	copyTree(t, input, src)
	for _, f := range []string{"images", "logins", "calls.log", "unexpected.log"} {
		b.write(t, f, "")
	}
	b.write(t, "caller", step.roleArn)
	r := &buildRun{b: b, step: step, finished: map[int]bool{}, started: map[int]bool{}}
	shell, _ := chooseShells(t, step.shell)
	pipefail := exec.Command(shell, "-c", "set -o pipefail").Run() == nil

	// CodeBuild runs every command of every phase in one shell session
	// (buildspec 0.2), in phase order, each phase's commands one after the
	// other. -e stops at the first failing command, as CodeBuild stops the
	// phase; markers on descriptor 3 tell which command that was.
	var script strings.Builder
	if pipefail {
		script.WriteString("set -o pipefail\n")
	}
	for _, ph := range step.phases {
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

	cmd := exec.Command(shell, "-eu", scriptPath)
	cmd.Dir = src
	cmd.Env = append(append([]string{}, step.env...), "CODEBUILD_SRC_DIR="+src)
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
		if line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		var who caller
		if fields[0] == "as" && len(fields) > 3 {
			who, fields = caller{key: fields[1], arn: fields[2]}, fields[3:]
		}
		r.log = append(r.log, fields)
		r.callers = append(r.callers, who)
	}
	t.Logf("run %d, %s: %d commands in %s (%s, pipefail %v)", b.runs, step.name(), len(r.commands), r.elapsed.Round(time.Millisecond), shell, pipefail)
	if r.err == nil && step.output != "" {
		r.upload = b.publish(t, step, src)
	}
	return r
}

// publish uploads a run's output artifact as CodeBuild does: the files
// under artifacts.base-directory that artifacts.files names, with their
// paths below it; a run whose patterns match no file fails.
func (b *buildSandbox) publish(t *testing.T, step *codeBuildStep, src string) error {
	t.Helper()
	base := filepath.Join(src, filepath.FromSlash(step.baseDirectory))
	out := filepath.Join(b.root, fmt.Sprintf("artifact%d-%s", b.runs, step.output))
	published := 0
	err := filepath.Walk(base, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(base, path)
		if !step.publishes(filepath.ToSlash(rel)) {
			return nil
		}
		published++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dest := filepath.Join(out, rel)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dest, data, 0o644)
	})
	if err != nil {
		return err
	}
	if published == 0 {
		return fmt.Errorf("CLIENT_ERROR: no matching artifact paths found (artifacts %v under %q)", step.artifactFiles, step.baseDirectory)
	}
	b.artifacts[step.output] = out
	return nil
}

// copyTree copies the files of one directory into another, as CodeBuild
// extracts an input artifact into the source directory.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dest := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dest, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dest, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// requireSuccess fails the test unless every command ran and succeeded and
// no stand-in was asked something it has no answer for.
func (r *buildRun) requireSuccess(t *testing.T) {
	t.Helper()
	if unexpected, _ := os.ReadFile(filepath.Join(r.b.state, "unexpected.log")); len(unexpected) > 0 {
		t.Errorf("%s called stand-ins in ways this test does not know (extend test/testdata/buildstubs):\n%s", r.step.name(), unexpected)
	}
	if r.err == nil && len(r.finished) == len(r.commands) {
		if r.upload != nil {
			t.Fatalf("%s: the commands succeeded, but uploading the artifacts fails: %v", r.step.name(), r.upload)
		}
		return
	}
	t.Logf("%s failed", r.step.name())
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

// bashOnly is syntax of bash (or ksh) that CodeBuild's dash does not have,
// the package's one list of it (checkPosixSyntax reads it).
// Some of it dash -n rejects (arrays, here-strings); the rest it parses
// without complaint (sh -n passes) but runs as something else, or fails only
// when the line is reached.
var bashOnly = []struct{ name, pattern string }{
	{"&> redirection (dash runs the command in the background)", `&>`},
	{"[[ ]] test", `\[\[`},
	{"${var//pattern/} substitution", `\$\{[A-Za-z_][A-Za-z0-9_]*//?`},
	{"${var:offset} substring", `\$\{[A-Za-z_][A-Za-z0-9_]*:[0-9 ]`},
	{"source builtin", `(^|[;&|({]\s*)source\s`},
	{"pipefail", `pipefail`},
	{"$'...' quoting", `\$'`},
	{"process substitution", `[<>]\(`},
	{"array", `[A-Za-z_][A-Za-z0-9_]*=\(`},
	{"function keyword", `(^|\s)function\s`},
	{"here-string", `<<<`},
}

// singleQuoted is text the shell does not expand (jq programs, printf formats).
var singleQuoted = regexp.MustCompile(`'[^']*'`)

// checkPosixSyntax proves that a build's commands are written for
// CodeBuild's default shell, /bin/sh (dash on the standard images): the
// buildspec asks for no other (env.shell), a POSIX shell's -n accepts the
// commands, and they hold none of the bash-only syntax that -n lets through.
func checkPosixSyntax(t *testing.T, p *codeBuildStep) {
	var all []string
	for _, ph := range p.phases {
		all = append(all, ph.commands...)
	}
	if len(all) == 0 {
		t.Fatalf("the buildspec has no commands")
	}
	if p.shell != "" {
		t.Errorf("env.shell = %s; the commands are written for CodeBuild's default /bin/sh", p.shell)
	}
	if _, checker := chooseShells(t, ""); checker == "" {
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
	for _, c := range all {
		unquoted := singleQuoted.ReplaceAllString(c, "''")
		for _, b := range bashOnly {
			if regexp.MustCompile(b.pattern).MatchString(unquoted) {
				t.Errorf("%s in %q: bash-only, CodeBuild runs the commands in dash", b.name, c)
			}
		}
	}
}

var (
	// shellVar matches $VAR and ${VAR...} references.
	shellVar = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))`)
	// assignment is a command that sets a variable for the later commands.
	assignment = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=`)
	// loopAssignment is a loop whose condition sets a variable, for its
	// body and the later commands.
	loopAssignment = regexp.MustCompile(`^(?:while|until)\s+([A-Za-z_][A-Za-z0-9_]*)=`)
	// innerAssignment is an assignment inside a command, after a list
	// operator or a keyword that starts a command (or export): it defines
	// the variable for the rest of the command.
	innerAssignment = regexp.MustCompile(`(?:[;&|({]|\b(?:then|else|do|if|export))\s*([A-Za-z_][A-Za-z0-9_]*)=`)
)

// checkVariablesDefined proves that every variable a build's commands read
// is defined before it is read: by CodeBuild, the buildspec, the project or
// the action (the build's environment, as newBuildSandbox gives it), or by
// an earlier command. Running the commands under -u proves it only for the
// lines that run; this reads every line, the branches not taken included.
func checkVariablesDefined(t *testing.T, step *codeBuildStep) {
	defined := map[string]bool{"CODEBUILD_SRC_DIR": true} // set by run, per run
	for _, kv := range step.env {
		defined[kv[:strings.Index(kv, "=")]] = true
	}
	used := 0
	for _, ph := range step.phases {
		for _, c := range ph.commands {
			if m := loopAssignment.FindStringSubmatch(c); m != nil {
				defined[m[1]] = true
			}
			unquoted := singleQuoted.ReplaceAllString(c, "''")
			inner := innerAssignment.FindAllStringSubmatchIndex(unquoted, -1)
			for _, m := range shellVar.FindAllStringSubmatchIndex(unquoted, -1) {
				v := ""
				if m[2] >= 0 {
					v = unquoted[m[2]:m[3]]
				} else {
					v = unquoted[m[4]:m[5]]
				}
				used++
				definedHere := false
				for _, a := range inner {
					definedHere = definedHere || (unquoted[a[2]:a[3]] == v && a[1] <= m[0])
				}
				if !defined[v] && !definedHere {
					t.Errorf("phase %s: command %q reads $%s, which nothing defines before it", ph.name, c, v)
				}
			}
			for _, a := range inner {
				defined[unquoted[a[2]:a[3]]] = true
			}
			if m := assignment.FindStringSubmatch(c); m != nil {
				defined[m[1]] = true
			}
		}
	}
	if used < 3 {
		t.Fatalf("only %d variable references found; the scan is broken", used)
	}
}

// checkImageTag proves that the image is tagged with the commit the source
// action checked out, never "latest": the build action passes the source
// action's CommitId as COMMIT_ID, and IMAGE_TAG is cut from it (or, for a
// build started outside the pipeline, from CodeBuild's resolved source
// version); no buildspec names "latest".
func checkImageTag(t *testing.T, p *pipelineUnderTest) {
	build := p.build()
	if got := build.actionVars["COMMIT_ID"]; got != standInCommit {
		t.Errorf("%s: COMMIT_ID = %q, want the source action's CommitId (%s)", build.name(), got, standInCommit)
	}
	var tag string
	for _, ph := range build.phases {
		for _, c := range ph.commands {
			if strings.HasPrefix(c, "IMAGE_TAG=") {
				tag = c
			}
		}
	}
	if !strings.Contains(tag, "COMMIT_ID") || !strings.Contains(tag, "CODEBUILD_RESOLVED_SOURCE_VERSION") {
		t.Errorf("%s: IMAGE_TAG must come from the commit, got %q", build.name(), tag)
	}
	for _, step := range p.builds {
		if raw := strings.ToLower(string(mustJSON(step.spec))); strings.Contains(raw, "latest") {
			t.Errorf("%s: the buildspec must never tag or deploy \"latest\": %s", step.name(), raw)
		}
	}
}
