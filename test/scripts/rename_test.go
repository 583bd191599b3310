package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// copyTracked copies the project's tracked files into a new git work tree
// and returns its path.
func copyTracked(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		info, _ := os.Stat(filepath.Join(root, f))
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, info.Mode()); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qm", "copy"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// TestRenameModule renames a copy of the project's module as
// `make rename-module` does: go.mod names the new path, no Go file imports
// the old one, and every import resolves (the script's own `go list` check).
// A malformed path is refused with nothing changed.
func TestRenameModule(t *testing.T) {
	dir := copyTracked(t)
	script := filepath.Join(dir, "scripts", "rename-module.sh")

	bad := exec.Command(script, "not a module path")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "malformed import path") {
		t.Fatalf("a malformed path was not refused by go mod edit (%v):\n%s", err, out)
	}
	if out, _ := exec.Command("git", "-C", dir, "status", "--porcelain").Output(); len(out) > 0 {
		t.Fatalf("a refused rename changed files:\n%s", out)
	}

	const newPath = "github.com/example-org/ecs-bluegreen"
	out, err := exec.Command(script, newPath).CombinedOutput()
	if err != nil {
		t.Fatalf("rename-module: %v\n%s", err, out)
	}
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !strings.HasPrefix(string(gomod), "module "+newPath+"\n") {
		t.Errorf("go.mod does not name %s:\n%s", newPath, gomod)
	}
	grep := exec.Command("git", "-C", dir, "grep", "-l", `"ecs-bluegreen/`, "--", "*.go")
	if files, _ := grep.Output(); len(files) > 0 {
		t.Errorf("files still import the old path:\n%s", files)
	}
	changed, _ := exec.Command("git", "-C", dir, "diff", "--name-only", "--", "*.go").Output()
	if n := len(strings.Fields(string(changed))); n < 50 {
		t.Errorf("only %d Go files rewritten", n)
	}
}
