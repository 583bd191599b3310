// Package entrypoint runs the app's real synth entry point, the compiled
// program that `cdk synth` starts, with bad context and checks what a user
// sees: a non-zero exit, one message naming every bad key, no stack trace
// and no templates.
package entrypoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"ecs-bluegreen/config"
)

var (
	// root is the repository root (the directory holding cdk.json).
	root string
	// appBinary is the app built once for the whole package.
	appBinary string
	// cdkJSONContext is the "context" object of the checked-in cdk.json.
	cdkJSONContext map[string]interface{}
)

func TestMain(m *testing.M) {
	os.Exit(setUp(m))
}

func setUp(m *testing.M) int {
	var err error
	if root, err = repoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cdkJSONContext, err = readCdkJSONContext(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The same executable `cdk synth` runs (cdk.json: go run .): `go run`
	// caches it once built, and -exec echo prints its path instead of running
	// it, so an unchanged app is not linked again. A first build lands in a
	// directory go removes at once: then build a copy of our own.
	build := exec.Command("go", "run", "-exec", "echo", ".")
	build.Dir = root
	out, err := build.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the app: %v\n%s", err, out)
		return 1
	}
	appBinary = strings.TrimSpace(string(out))
	if _, err := os.Stat(appBinary); err != nil {
		dir, err := os.MkdirTemp("", "entrypoint-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		appBinary = filepath.Join(dir, "app")
		build := exec.Command("go", "build", "-o", appBinary, ".")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the app: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cdk.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cdk.json not found above the working directory")
		}
		dir = parent
	}
}

func readCdkJSONContext() (map[string]interface{}, error) {
	data, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context map[string]interface{} `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return doc.Context, nil
}

// environ is the test's environment without the account and region the CLI
// would take from the user's credentials, so that no row depends on them,
// and without any context or output directory of the caller's.
func environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", "CDK_CONTEXT_JSON", "CDK_OUTDIR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// result is what one run of the app left behind.
type result struct {
	exitCode int
	stderr   string
	outDir   string
}

// synth runs the app as the CDK CLI does: in the project directory, with
// cdk.json's context plus overrides in CDK_CONTEXT_JSON and a fresh
// CDK_OUTDIR.
func synth(t *testing.T, overrides map[string]interface{}) result {
	t.Helper()
	ctx := map[string]interface{}{}
	for k, v := range cdkJSONContext {
		ctx[k] = v
	}
	for k, v := range overrides {
		ctx[k] = v
	}
	ctxJSON, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	timeout, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(timeout, appBinary)
	cmd.Dir = root
	cmd.Env = environ("CDK_OUTDIR="+outDir, "CDK_CONTEXT_JSON="+string(ctxJSON))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running the app: %v", err)
	}
	return result{exitCode: cmd.ProcessState.ExitCode(), stderr: stderr.String(), outDir: outDir}
}

// goTrace matches what a Go panic prints; jsTrace matches a Node.js stack
// frame ("    at Foo (file.js:12:34)"), which a jsii error carries.
var (
	goTrace = regexp.MustCompile(`goroutine \d|panic:|\.go:\d+`)
	jsTrace = regexp.MustCompile(`(?m)^\s+at .*:\d+:\d+\)?$`)
)

func assertNoStackTrace(t *testing.T, output string) {
	t.Helper()
	if loc := goTrace.FindStringIndex(output); loc != nil || strings.Contains(output, "goroutine ") {
		t.Errorf("output holds a Go stack trace:\n%s", output)
	}
	if jsTrace.MatchString(output) {
		t.Errorf("output holds a JavaScript stack trace:\n%s", output)
	}
}

// templates lists the CloudFormation templates written below dir.
func templates(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".template.json") {
			rel, _ := filepath.Rel(dir, path)
			found = append(found, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(found)
	return found
}

// assertRejected checks a run that must fail on configuration: non-zero exit,
// one configuration message naming every bad key, no stack trace, no templates.
func assertRejected(t *testing.T, res result, badKeys ...string) {
	t.Helper()
	if res.exitCode == 0 {
		t.Errorf("exit code 0, want non-zero; stderr:\n%s", res.stderr)
	}
	if n := strings.Count(res.stderr, "invalid configuration ("); n != 1 {
		t.Errorf("want one configuration message, found %d:\n%s", n, res.stderr)
	}
	for _, key := range badKeys {
		if !strings.Contains(res.stderr, key+" = ") {
			t.Errorf("stderr does not name %s:\n%s", key, res.stderr)
		}
	}
	assertNoStackTrace(t, res.stderr)
	if tpl := templates(t, res.outDir); len(tpl) > 0 {
		t.Errorf("templates written despite the bad configuration: %v", tpl)
	}
}

type badRow struct {
	name    string
	context map[string]interface{}
	// bad lists the keys stderr must name; default: every key of the row.
	bad []string
}

func badRows() []badRow {
	const uuid = "12345678-1234-1234-1234-123456789012"
	rows := []badRow{
		{name: "project bad characters", context: map[string]interface{}{"project": "Web_App"}},
		{name: "project empty", context: map[string]interface{}{"project": ""}},
		{name: "project making load balancer names start with internal-", context: map[string]interface{}{"project": "internal"}},
		{name: "environmentSuffix upper-case", context: map[string]interface{}{"environmentSuffix": "Dev"}},
		{name: "environmentSuffix leading hyphen", context: map[string]interface{}{"environmentSuffix": "-dev"}},
		{name: "environmentSuffix double hyphen", context: map[string]interface{}{"environmentSuffix": "pr--42"}},
		{name: "project and environmentSuffix too long together",
			context: map[string]interface{}{"environmentSuffix": "abcdefghijklmnop"}, bad: []string{"project", "environmentSuffix"}},
		{name: "account not 12 digits", context: map[string]interface{}{"account": "12345"}},
		{name: "region malformed", context: map[string]interface{}{"region": "us-east"}},
		{name: "costCenter bad character", context: map[string]interface{}{"costCenter": "cost;center"}},
		{name: "githubOwner leading hyphen", context: map[string]interface{}{"githubOwner": "-org"}},
		{name: "githubRepo with .git", context: map[string]interface{}{"githubRepo": "example-service.git"}},
		{name: "githubBranch with a space", context: map[string]interface{}{"githubBranch": "feature x"}},
		{name: "githubBranch with ..", context: map[string]interface{}{"githubBranch": "release..1"}},
		{name: "githubBranch ending .lock", context: map[string]interface{}{"githubBranch": "main.lock"}},
		{name: "githubBranch leading hyphen", context: map[string]interface{}{"githubBranch": "-main"}},
		{name: "connectionArn wrong service",
			context: map[string]interface{}{"connectionArn": "arn:aws:codecommit:us-east-1:123456789012:connection/" + uuid}},
		{name: "connectionArn wrong shape",
			context: map[string]interface{}{"connectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"}},
		{name: "notificationEmail not an address", context: map[string]interface{}{"notificationEmail": "not-an-email"}},
		{name: "pipeline.removalPolicy snapshot", context: map[string]interface{}{"pipeline.removalPolicy": "snapshot"}},
		{name: "pipeline.logRetentionDays 13", context: map[string]interface{}{"pipeline.logRetentionDays": 13}},
		{name: "notificationEmail with a display name", context: map[string]interface{}{"notificationEmail": "Name <a@b.com>"}},
		{name: "number for a string key", context: map[string]interface{}{"costCenter": 42}},

		{name: "staging.taskCpu 300", context: map[string]interface{}{"staging.taskCpu": 300}},
		{name: "production.taskCpu 300 as -c string", context: map[string]interface{}{"production.taskCpu": "300"}},
		{name: "staging.taskMemory not valid for taskCpu",
			context: map[string]interface{}{"staging.taskCpu": 256, "staging.taskMemory": 4096}, bad: []string{"staging.taskMemory"}},
		{name: "production.taskMemory not valid for taskCpu",
			context: map[string]interface{}{"production.taskCpu": 256, "production.taskMemory": 4096}, bad: []string{"production.taskMemory"}},
		{name: "staging.desiredCount 0", context: map[string]interface{}{"staging.desiredCount": 0}},
		{name: "staging.containerPort 0", context: map[string]interface{}{"staging.containerPort": 0}},
		{name: "production.containerPort 70000", context: map[string]interface{}{"production.containerPort": 70000}},
		{name: "staging.healthCheckPath without slash", context: map[string]interface{}{"staging.healthCheckPath": "health"}},
		{name: "production.placeholderImage with a space", context: map[string]interface{}{"production.placeholderImage": "nginx latest"}},
		{name: "staging.natGateways 3", context: map[string]interface{}{"staging.natGateways": 3}},
		{name: "production.natGateways 3", context: map[string]interface{}{"production.natGateways": 3}},
		{name: "staging.vpcCidr /8", context: map[string]interface{}{"staging.vpcCidr": "10.0.0.0/8"}},
		{name: "production.vpcCidr host bits", context: map[string]interface{}{"production.vpcCidr": "10.20.0.1/16"}},
		{name: "staging.vpcCidr garbage", context: map[string]interface{}{"staging.vpcCidr": "garbage"}},
		{name: "production.deploymentConfig unknown", context: map[string]interface{}{"production.deploymentConfig": "CodeDeployDefault.ECSBlueGreen"}},
		{name: "staging.terminationWaitMinutes 0 with all-at-once", context: map[string]interface{}{"staging.terminationWaitMinutes": 0}},
		{name: "production.terminationWaitMinutes over 2880", context: map[string]interface{}{"production.terminationWaitMinutes": 2881}},
		{name: "staging.removalPolicy snapshot", context: map[string]interface{}{"staging.removalPolicy": "snapshot"}},
		{name: "production.removalPolicy snapshot", context: map[string]interface{}{"production.removalPolicy": "snapshot"}},
		{name: "production.logRetentionDays 13", context: map[string]interface{}{"production.logRetentionDays": 13}},
		{name: "staging.testListenerPort 443", context: map[string]interface{}{"staging.testListenerPort": 443}},
		{name: "production.testListenerCidr malformed", context: map[string]interface{}{"production.testListenerCidr": "10.0.0/24"}},
		{name: "production.certificateArn malformed",
			context: map[string]interface{}{"production.certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}},
		{name: "staging.alarm5xxThreshold 0", context: map[string]interface{}{"staging.alarm5xxThreshold": 0}},
		{name: "integer key given letters", context: map[string]interface{}{"staging.desiredCount": "abc"}},
		{name: "integer key given a fraction", context: map[string]interface{}{"production.taskCpu": 1.5}},
		{name: "integer key given a map", context: map[string]interface{}{"staging.natGateways": map[string]interface{}{"count": 1}}},

		{name: "three bad keys in one message",
			context: map[string]interface{}{
				"staging.taskCpu":          300,
				"production.removalPolicy": "snapshot",
				"githubRepo":               "example-service.git",
			}},
	}
	for i := range rows {
		if rows[i].bad == nil {
			for k := range rows[i].context {
				rows[i].bad = append(rows[i].bad, k)
			}
			sort.Strings(rows[i].bad)
		}
	}
	return rows
}

// A bad context value ends the run with one message that names the key, the
// value and what is allowed, and no Go stack trace.
func TestBadContextFailsCleanly(t *testing.T) {
	for _, row := range badRows() {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			res := synth(t, row.context)
			assertRejected(t, res, row.bad...)
			if n := len(row.bad); n > 1 && len(row.context) == n &&
				!strings.Contains(res.stderr, fmt.Sprintf("(%d problems)", n)) {
				t.Errorf("want one message with %d problems:\n%s", n, res.stderr)
			}
		})
	}
}

// A JSON-valued key (a structure in cdk.json, a JSON string with -c) given
// malformed JSON fails like any other bad value.
func TestMalformedJSONValueFailsCleanly(t *testing.T) {
	t.Parallel()
	var key string
	for _, k := range config.Keys() {
		if strings.HasPrefix(k.Default, "[") || strings.HasPrefix(k.Default, "{") {
			key = k.Name
			break
		}
	}
	if key == "" {
		t.Skip("config has no JSON-valued key (no jsonValue call in config/) to give malformed JSON")
	}
	res := synth(t, map[string]interface{}{key: `[{"path": "/health", "status": 200}`})
	assertRejected(t, res, key)
	if !strings.Contains(res.stderr, "is not valid JSON") {
		t.Errorf("stderr does not say the JSON is malformed:\n%s", res.stderr)
	}
}

// requireStacks checks that every stack in the cloud assembly's manifest has
// its template, including Staging and Production.
func requireStacks(t *testing.T, outDir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(outDir, "manifest.json"))
	if err != nil {
		t.Fatalf("no cloud assembly manifest: %v", err)
	}
	var manifest struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile string `json:"templateFile"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	want := map[string]bool{"Staging.template.json": true, "Production.template.json": true}
	for id, a := range manifest.Artifacts {
		if a.Type == "aws:cloudformation:stack" {
			want[a.Properties.TemplateFile] = true
			if a.Properties.TemplateFile == "" {
				t.Errorf("stack artifact %s has no template file", id)
			}
		}
	}
	written := map[string]bool{}
	for _, tpl := range templates(t, outDir) {
		written[tpl] = true
	}
	for tpl := range want {
		if tpl != "" && !written[tpl] {
			t.Errorf("%s not written; have %v", tpl, templates(t, outDir))
		}
	}
}

// The checked-in configuration synthesizes every stack, and a key that looks
// like a typo only warns, naming the key it probably meant. One synthesis
// proves both, to keep the suite fast.
func TestGoodContextSynthesizes(t *testing.T) {
	res := synth(t, map[string]interface{}{"stagin.taskCpu": 512})
	if res.exitCode != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.exitCode, res.stderr)
	}
	if want := `warning: unknown context key "stagin.taskCpu" is ignored; did you mean "staging.taskCpu"?`; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
	}
	if n := strings.Count(res.stderr, "warning:"); n != 1 {
		t.Errorf("%d warnings, want exactly the typo warning:\n%s", n, res.stderr)
	}
	assertNoStackTrace(t, res.stderr)
	requireStacks(t, res.outDir)
}

// Through the real CLI, -c key=value with a bad value fails the same way.
func TestCLIReportsBadContext(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(root, "node_modules", ".bin")
	cdk := filepath.Join(bin, "cdk")
	if _, err := os.Stat(cdk); err != nil {
		t.Skipf("%s not found; install the pinned CLI with npm ci to run this test", cdk)
	}
	outDir := t.TempDir()
	timeout, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(timeout, cdk, "synth", "-c", "staging.taskCpu=300", "-o", outDir)
	cmd.Dir = root
	cmd.Env = environ(
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		// Keep the run off the network: no usage data, no update check.
		"CDK_DISABLE_CLI_TELEMETRY=true",
		"CDK_DISABLE_VERSION_CHECK=true",
	)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err == nil {
		t.Errorf("cdk synth succeeded, want a non-zero exit; output:\n%s", out)
	} else if !errors.As(err, &exitErr) {
		t.Fatalf("running cdk synth: %v", err)
	}
	if !strings.Contains(string(out), "staging.taskCpu = 300") {
		t.Errorf("output does not name staging.taskCpu and its value:\n%s", out)
	}
	assertNoStackTrace(t, string(out))
	if tpl := templates(t, outDir); len(tpl) > 0 {
		t.Errorf("templates written despite the bad configuration: %v", tpl)
	}
}
