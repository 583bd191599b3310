package scripts

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestShellcheck lints the scripts this package runs, where shellcheck is
// installed (apt-get install shellcheck); it is skipped elsewhere.
func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("shellcheck is not installed")
	}
	root := repoRoot(t)
	files := []string{"scripts/connect.sh", "scripts/destroy.sh", "scripts/bench.sh", "scripts/rename-module.sh", "test/scripts/testdata/standin"}
	args := []string{"--external-sources"}
	for _, f := range files {
		args = append(args, filepath.Join(root, f))
	}
	if out, err := exec.Command("shellcheck", args...).CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}
