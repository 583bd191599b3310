// Package scripts tests the operator scripts under scripts/ (make connect,
// make destroy) without an AWS account: each script runs as make runs it, with
// stand-ins for aws, cdk and sleep first on PATH (testdata/standin). A test
// lists every call it expects, in order across the tools, with the answer the
// real tool would give; the run fails on any other call, and the test then
// compares the calls made, the exit status and the messages. Nothing here
// synthesizes the app: the cloud assembly the scripts read is a fixture
// (testdata/assembly) shaped like what `cdk synth` writes.
package scripts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// call is one command a script is expected to run, and the answer it gets.
type call struct {
	argv   []string // the tool's name, then its arguments
	stdout string
	stderr string
	code   int
}

// result is what a script run left behind.
type result struct {
	code   int
	stdout string
	stderr string
	calls  [][]string
}

// repoRoot is the project's root, two folders up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// runScript runs scripts/<script> in dir with the given environment (on top of
// a minimal one: no AWS or make variables leak in from the developer's shell),
// standard input and arguments, answering its calls with want.
func runScript(t *testing.T, script, dir string, env []string, stdin string, want []call, args ...string) result {
	t.Helper()
	root := repoRoot(t)
	state := t.TempDir()
	bin := filepath.Join(state, "bin")
	for _, d := range []string{bin, filepath.Join(state, "answers"), filepath.Join(state, "calls")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	standin := filepath.Join(root, "test", "scripts", "testdata", "standin")
	for _, tool := range []string{"aws", "cdk", "sleep"} {
		if err := os.Symlink(standin, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range want {
		base := filepath.Join(state, "answers", fmt.Sprintf("%03d", i+1))
		write(t, base+".argv", encodeArgv(c.argv))
		write(t, base+".stdout", c.stdout)
		write(t, base+".stderr", c.stderr)
		write(t, base+".code", fmt.Sprint(c.code))
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", script), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin",
		"HOME=" + state,
		"LC_ALL=C",
		"STANDIN_STATE=" + state,
	}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("%s did not run: %v", script, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s ran for more than a minute:\n%s%s", script, r.stdout, r.stderr)
	}
	// Shown with go test -v, and with any failure.
	t.Logf("%s exited %d\nstdout:\n%s\nstderr:\n%s", script, r.code, r.stdout, r.stderr)
	files, err := filepath.Glob(filepath.Join(state, "calls", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files { // Glob sorts, and the names are zero-padded
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r.calls = append(r.calls, decodeArgv(string(b)))
	}
	return r
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The stand-in ends each argument with the ASCII unit separator.
const sep = "\x1f"

func encodeArgv(argv []string) string { return strings.Join(argv, sep) + sep }

func decodeArgv(s string) []string { return strings.Split(strings.TrimSuffix(s, sep), sep) }

// requireCalls fails unless the script made exactly the calls of want, in order.
func requireCalls(t *testing.T, r result, want []call) {
	t.Helper()
	same := len(r.calls) == len(want)
	for i := 0; same && i < len(want); i++ {
		same = encodeArgv(r.calls[i]) == encodeArgv(want[i].argv)
	}
	if same {
		return
	}
	var b strings.Builder
	b.WriteString("calls made:\n")
	for i, c := range r.calls {
		fmt.Fprintf(&b, "  %2d %s\n", i+1, show(c))
	}
	b.WriteString("calls expected:\n")
	for i, c := range want {
		fmt.Fprintf(&b, "  %2d %s\n", i+1, show(c.argv))
	}
	t.Fatalf("%s\nexit %d\nstdout:\n%s\nstderr:\n%s", b.String(), r.code, r.stdout, r.stderr)
}

// show prints an argument list as a shell would need it quoted.
func show(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"`$|&;()<>[]*?!{}\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// requireExit fails unless the run ended with the given status.
func requireExit(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// requireLines fails unless each of lines appears, whole, in text.
func requireLines(t *testing.T, name, text string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		have[l] = true
	}
	var missing []string
	for _, l := range lines {
		if !have[l] {
			missing = append(missing, fmt.Sprintf("  %q", l))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s lacks the lines\n%s\n%s:\n%s", name, strings.Join(missing, "\n"), name, text)
	}
}

// requireNoLineContaining fails if any line of text contains s.
func requireNoLineContaining(t *testing.T, name, text, s string) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			t.Errorf("%s has a line with %q:\n  %s", name, s, l)
		}
	}
}

// projectDir makes a folder that looks like the project to a script: a cdk.json
// and, unless assembly is false, the fixture cloud assembly in cdk.out.
func projectDir(t *testing.T, cdkJSON string, assembly bool) string {
	t.Helper()
	dir := t.TempDir()
	if cdkJSON != "" {
		write(t, filepath.Join(dir, "cdk.json"), cdkJSON)
	}
	if assembly {
		copyDir(t, filepath.Join("testdata", "assembly"), filepath.Join(dir, "cdk.out"))
	}
	return dir
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(to, e.Name()), string(b))
	}
}

// awsError is how the aws CLI (v2) reports an API error: on standard error,
// exit status 254.
func awsError(code, operation, message string) (string, int) {
	return fmt.Sprintf("\nAn error occurred (%s) when calling the %s operation: %s\n", code, operation, message), 254
}
