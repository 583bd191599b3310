// Package entrypoint checks what a user sees when `cdk synth` is given bad
// context: one message naming every bad key. Every bad row goes through
// config.CheckCLIContext, the check the app runs on the CLI's context before
// the CDK runtime starts, in process; a few rows run the compiled program
// `cdk synth` starts, and one the CLI itself, to prove the wiring: a non-zero
// exit, the warnings and the message, no stack trace and no templates.
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
	cdkJSONContext map[string]any
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

func readCdkJSONContext() (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context map[string]any `json:"context"`
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
		case "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", "CDK_CONTEXT_JSON", "CONTEXT_OVERFLOW_LOCATION_ENV", "CDK_OUTDIR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// contextJSON is what the CLI passes in CDK_CONTEXT_JSON: cdk.json's context
// plus overrides, which keep the string form -c gives them.
func contextJSON(t *testing.T, overrides map[string]any) string {
	t.Helper()
	ctx := map[string]any{}
	for k, v := range cdkJSONContext {
		ctx[k] = v
	}
	for k, v := range overrides {
		ctx[k] = v
	}
	data, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkInProcess runs the app's check of the CLI's context in this process,
// with the environment environ gives the app: cdk.json's context plus
// overrides, and no account, region or overflow file of the caller's. It
// returns the message the app prints: the warnings, then the error.
func checkInProcess(t *testing.T, overrides map[string]any) string {
	t.Helper()
	for _, name := range []string{"CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", "CONTEXT_OVERFLOW_LOCATION_ENV"} {
		t.Setenv(name, "")
		os.Unsetenv(name) // t.Setenv restores it afterwards
	}
	t.Setenv("CDK_CONTEXT_JSON", contextJSON(t, overrides))
	_, warnings, checked, err := config.CheckCLIContext()
	if !checked {
		t.Fatal("CheckCLIContext did not read CDK_CONTEXT_JSON")
	}
	if err == nil {
		t.Fatalf("CheckCLIContext accepted the context; warnings: %q", warnings)
	}
	var b strings.Builder
	for _, w := range warnings {
		fmt.Fprintln(&b, "warning:", w)
	}
	b.WriteString(err.Error())
	return b.String()
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
func synth(t *testing.T, overrides map[string]any) result {
	t.Helper()
	outDir := t.TempDir()
	timeout, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(timeout, appBinary)
	cmd.Dir = root
	cmd.Env = environ("CDK_OUTDIR="+outDir, "CDK_CONTEXT_JSON="+contextJSON(t, overrides))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
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

// assertMessage checks the output of a rejected context: one configuration
// message naming every bad key of the row, with the count of problems when
// the row holds several and every one of them is bad.
func assertMessage(t *testing.T, output string, row badRow) {
	t.Helper()
	if n := strings.Count(output, "invalid configuration ("); n != 1 {
		t.Errorf("want one configuration message, found %d:\n%s", n, output)
	}
	for _, key := range row.bad {
		if !strings.Contains(output, key+" = ") {
			t.Errorf("output does not name %s:\n%s", key, output)
		}
	}
	if n := len(row.bad); n > 1 && len(row.context) == n &&
		!strings.Contains(output, fmt.Sprintf("(%d problems)", n)) {
		t.Errorf("want one message with %d problems:\n%s", n, output)
	}
	if row.says != "" && !strings.Contains(output, row.says) {
		t.Errorf("output does not say %q:\n%s", row.says, output)
	}
}

// assertRejected checks a run of the app that must fail on configuration:
// non-zero exit, the message assertMessage checks, no stack trace, no
// templates.
func assertRejected(t *testing.T, res result, row badRow) {
	t.Helper()
	if res.exitCode == 0 {
		t.Errorf("exit code 0, want non-zero; stderr:\n%s", res.stderr)
	}
	assertMessage(t, res.stderr, row)
	assertNoStackTrace(t, res.stderr)
	if tpl := templates(t, res.outDir); len(tpl) > 0 {
		t.Errorf("templates written despite the bad configuration: %v", tpl)
	}
}

type badRow struct {
	name    string
	context map[string]any
	// bad lists the keys the message must name; default: every key of the
	// row that is not a typo.
	bad []string
	// typo is a key of the row that is not a configuration key: it is not
	// named as bad, and the output warns about it first.
	typo, warning string
	// says is more text the message must hold; "" means none.
	says string
}

func badRows() []badRow {
	const uuid = "12345678-1234-1234-1234-123456789012"
	rows := []badRow{
		{name: "project bad characters", context: map[string]any{"project": "Web_App"}},
		{name: "project empty", context: map[string]any{"project": ""}},
		{name: "project making load balancer names start with internal-", context: map[string]any{"project": "internal"}},
		{name: "environmentSuffix upper-case", context: map[string]any{"environmentSuffix": "Dev"}},
		{name: "environmentSuffix leading hyphen", context: map[string]any{"environmentSuffix": "-dev"}},
		{name: "environmentSuffix double hyphen", context: map[string]any{"environmentSuffix": "pr--42"}},
		{name: "project and environmentSuffix too long together",
			context: map[string]any{"environmentSuffix": "abcdefghijklmnop"}, bad: []string{"project", "environmentSuffix"}},
		{name: "account not 12 digits", context: map[string]any{"account": "12345"}},
		{name: "region malformed", context: map[string]any{"region": "us-east"}},
		{name: "costCenter bad character", context: map[string]any{"costCenter": "cost;center"}},
		{name: "githubOwner leading hyphen", context: map[string]any{"githubOwner": "-org"}},
		{name: "githubRepo with .git", context: map[string]any{"githubRepo": "example-service.git"}},
		{name: "githubBranch with a space", context: map[string]any{"githubBranch": "feature x"}},
		{name: "githubBranch with ..", context: map[string]any{"githubBranch": "release..1"}},
		{name: "githubBranch ending .lock", context: map[string]any{"githubBranch": "main.lock"}},
		{name: "githubBranch leading hyphen", context: map[string]any{"githubBranch": "-main"}},
		{name: "connectionArn wrong service",
			context: map[string]any{"connectionArn": "arn:aws:codecommit:us-east-1:123456789012:connection/" + uuid}},
		{name: "connectionArn wrong shape",
			context: map[string]any{"connectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"}},
		{name: "notificationEmail not an address", context: map[string]any{"notificationEmail": "not-an-email"}},
		{name: "pipeline.removalPolicy snapshot", context: map[string]any{"pipeline.removalPolicy": "snapshot"}},
		{name: "pipeline.logRetentionDays 13", context: map[string]any{"pipeline.logRetentionDays": 13}},
		{name: "notificationEmail with a display name", context: map[string]any{"notificationEmail": "Name <a@b.com>"}},
		{name: "number for a string key", context: map[string]any{"costCenter": 42}},

		{name: "staging.taskCpu 300", context: map[string]any{"staging.taskCpu": 300}},
		{name: "production.taskCpu 300 as -c string", context: map[string]any{"production.taskCpu": "300"}},
		{name: "staging.taskMemory not valid for taskCpu",
			context: map[string]any{"staging.taskCpu": 256, "staging.taskMemory": 4096}, bad: []string{"staging.taskMemory"}},
		{name: "production.taskMemory not valid for taskCpu",
			context: map[string]any{"production.taskCpu": 256, "production.taskMemory": 4096}, bad: []string{"production.taskMemory"}},
		{name: "staging.desiredCount 0", context: map[string]any{"staging.desiredCount": 0}},
		{name: "staging.containerPort 0", context: map[string]any{"staging.containerPort": 0}},
		{name: "production.containerPort 70000", context: map[string]any{"production.containerPort": 70000}},
		{name: "staging.healthCheckPath without slash", context: map[string]any{"staging.healthCheckPath": "health"}},
		{name: "production.placeholderImage with a space", context: map[string]any{"production.placeholderImage": "nginx latest"}},
		{name: "staging.natGateways 3", context: map[string]any{"staging.natGateways": 3}},
		{name: "production.natGateways 3", context: map[string]any{"production.natGateways": 3}},
		{name: "staging.vpcCidr /8", context: map[string]any{"staging.vpcCidr": "10.0.0.0/8"}},
		{name: "production.vpcCidr host bits", context: map[string]any{"production.vpcCidr": "10.20.0.1/16"}},
		{name: "staging.vpcCidr garbage", context: map[string]any{"staging.vpcCidr": "garbage"}},
		{name: "production.deploymentConfig unknown", context: map[string]any{"production.deploymentConfig": "CodeDeployDefault.ECSBlueGreen"}},
		{name: "staging.terminationWaitMinutes 0 with all-at-once", context: map[string]any{"staging.terminationWaitMinutes": 0}},
		{name: "production.terminationWaitMinutes over 2880", context: map[string]any{"production.terminationWaitMinutes": 2881}},
		{name: "staging.removalPolicy snapshot", context: map[string]any{"staging.removalPolicy": "snapshot"}},
		{name: "production.removalPolicy snapshot", context: map[string]any{"production.removalPolicy": "snapshot"}},
		{name: "production.logRetentionDays 13", context: map[string]any{"production.logRetentionDays": 13}},
		{name: "staging.testListenerPort 443", context: map[string]any{"staging.testListenerPort": 443}},
		{name: "production.testListenerCidr malformed", context: map[string]any{"production.testListenerCidr": "10.0.0/24"}},
		{name: "production.certificateArn malformed",
			context: map[string]any{"production.certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}},
		{name: "staging.alarm5xxThreshold 0", context: map[string]any{"staging.alarm5xxThreshold": 0}},
		{name: "integer key given letters", context: map[string]any{"staging.desiredCount": "abc"}},
		{name: "integer key given a fraction", context: map[string]any{"production.taskCpu": 1.5}},
		{name: "integer key given a map", context: map[string]any{"staging.natGateways": map[string]any{"count": 1}}},

		{name: "three bad keys in one message",
			context: map[string]any{
				"staging.taskCpu":          300,
				"production.removalPolicy": "snapshot",
				"githubRepo":               "example-service.git",
			}},
		{name: "typo key warns before the error",
			context: map[string]any{"stagin.taskCpu": 512, "staging.natGateways": 3},
			typo:    "stagin.taskCpu",
			warning: `unknown context key "stagin.taskCpu" is ignored; did you mean "staging.taskCpu"?`},
	}
	for i := range rows {
		if rows[i].bad == nil {
			for k := range rows[i].context {
				if k != rows[i].typo {
					rows[i].bad = append(rows[i].bad, k)
				}
			}
			sort.Strings(rows[i].bad)
		}
	}
	return rows
}

// malformedJSONRow gives a JSON-valued key (a structure in cdk.json, a JSON
// string with -c) malformed JSON, which the message must call so; ok is false
// when config has no such key.
func malformedJSONRow() (row badRow, ok bool) {
	for _, k := range config.Keys() {
		if strings.HasPrefix(k.Default, "[") || strings.HasPrefix(k.Default, "{") {
			return badRow{
				name:    "malformed JSON value",
				context: map[string]any{k.Name: `[{"path": "/health", "status": 200}`},
				bad:     []string{k.Name},
				says:    "is not valid JSON",
			}, true
		}
	}
	return badRow{}, false
}

// rowNamed returns the row of badRows with the given name.
func rowNamed(t *testing.T, name string) badRow {
	t.Helper()
	for _, row := range badRows() {
		if row.name == name {
			return row
		}
	}
	t.Fatalf("no bad row named %q", name)
	return badRow{}
}

// assertWarnings checks that the output warns about the row's typo once,
// before the error, and warns about nothing else.
func assertWarnings(t *testing.T, output string, row badRow) {
	t.Helper()
	want := 0
	if row.warning != "" {
		want = 1
		line := "warning: " + row.warning
		if !strings.Contains(output, line) {
			t.Errorf("output does not contain %q:\n%s", line, output)
		} else if strings.Index(output, line) > strings.Index(output, "invalid configuration (") {
			t.Errorf("the warning follows the error, want it first:\n%s", output)
		}
	}
	if n := strings.Count(output, "warning:"); n != want {
		t.Errorf("%d warnings, want %d:\n%s", n, want, output)
	}
}

// A bad context value is rejected with one message that names the key, the
// value and what is allowed. Every row runs through the check the app makes
// before the CDK runtime starts, in process (t.Setenv rules out t.Parallel).
func TestBadContextRejected(t *testing.T) {
	for _, row := range badRows() {
		t.Run(row.name, func(t *testing.T) {
			message := checkInProcess(t, row.context)
			assertMessage(t, message, row)
			assertWarnings(t, message, row)
		})
	}
}

// A JSON-valued key (a structure in cdk.json, a JSON string with -c) given
// malformed JSON is rejected like any other bad value.
func TestMalformedJSONValueRejected(t *testing.T) {
	row, ok := malformedJSONRow()
	if !ok {
		t.Skip("config has no JSON-valued key (no jsonValue call in config/) to give malformed JSON")
	}
	message := checkInProcess(t, row.context)
	assertMessage(t, message, row)
}

// The compiled app, run as `cdk synth` runs it, ends a bad context with a
// non-zero exit, its warnings and one message, no stack trace and no
// templates. A few rows prove the wiring; TestBadContextRejected covers the
// rest.
func TestBadContextFailsCleanly(t *testing.T) {
	rows := []badRow{
		rowNamed(t, "three bad keys in one message"),
		rowNamed(t, "production.taskCpu 300 as -c string"),
		rowNamed(t, "typo key warns before the error"),
	}
	if row, ok := malformedJSONRow(); ok {
		rows = append(rows, row)
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			res := synth(t, row.context)
			assertRejected(t, res, row)
			assertWarnings(t, res.stderr, row)
		})
	}
}

// A successful synthesis is not run here, to keep the suite fast: `make test`
// synthesizes every stack through the real CLI (cli-synth), and the tests in
// test/ synthesize the checked-in configuration.

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
