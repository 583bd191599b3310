package scripts

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMakeTargets checks that make connect and make destroy run the scripts
// tested here, with the variables a user gives make (make -n prints the
// recipes without running them).
func TestMakeTargets(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"connect"}, "scripts/connect.sh"},
		{[]string{"destroy"}, "scripts/destroy.sh "},
		{[]string{"destroy", "CONTEXT=-c environmentSuffix=v2"}, "scripts/destroy.sh -c environmentSuffix=v2"},
	} {
		cmd := exec.Command("make", append([]string{"--no-print-directory", "-n"}, c.args...)...)
		cmd.Dir = repoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", strings.Join(c.args, " "), err, out)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		// The recipe is the last line; an out-of-date npm install may come first.
		if last := lines[len(lines)-1]; strings.TrimRight(last, " ") != strings.TrimRight(c.want, " ") {
			t.Errorf("make %s runs %q, want %q", strings.Join(c.args, " "), last, c.want)
		}
	}
}
