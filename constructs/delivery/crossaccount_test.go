package delivery

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAssumedCredentialsAreRenewedBeforeTheyExpire runs the assume-role
// commands under sh with a stand-in aws: the role is assumed once, the
// reassume command does nothing while the credentials are fresh and assumes
// the role again, with the project's own credentials (none exported), once
// they are reassumeSeconds old.
func TestAssumedCredentialsAreRenewedBeforeTheyExpire(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	aws := "#!/bin/sh\n" +
		`echo "$* key=${AWS_ACCESS_KEY_ID:-none}" >> "` + calls + `"` + "\n" +
		`n=$(wc -l < "` + calls + `"); printf 'AK%s\tSK%s\tST%s\n' "$n" "$n" "$n"` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(aws), 0o755); err != nil {
		t.Fatal(err)
	}
	cmds := assumeRoleCommands("ROLE", "release-test")
	script := func(age string) string {
		lines := []string{"set -eu"}
		for _, c := range cmds {
			lines = append(lines, c.(string))
		}
		lines = append(lines, "ASSUMED_AT=$(( $(date +%s) - "+age+" ))", strings.TrimSuffix(reassumeCommand(), " "), `echo "$AWS_ACCESS_KEY_ID"`)
		return strings.Join(lines, "\n")
	}
	for _, c := range []struct {
		age       string
		assumes   int
		finalKey  string
		secondKey string
	}{
		{"10", 1, "AK1", ""},
		{"3000", 2, "AK2", "key=none"},
	} {
		os.Remove(calls)
		cmd := exec.Command("sh", "-c", script(c.age))
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "ROLE=arn:aws:iam::222222222222:role/x-release")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("age %s: %v\n%s", c.age, err, out)
		}
		log, _ := os.ReadFile(calls)
		lines := strings.Split(strings.TrimSpace(string(log)), "\n")
		if len(lines) != c.assumes {
			t.Errorf("age %s: %d assume-role calls, want %d:\n%s", c.age, len(lines), c.assumes, log)
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "sts assume-role --role-arn arn:aws:iam::222222222222:role/x-release --role-session-name release-test") {
				t.Errorf("age %s: call %q", c.age, l)
			}
		}
		if c.secondKey != "" && len(lines) == 2 && !strings.HasSuffix(lines[1], c.secondKey) {
			t.Errorf("age %s: the second assume-role ran with %q, want the project's own credentials", c.age, lines[1])
		}
		if got := strings.TrimSpace(string(out[strings.LastIndex(strings.TrimSpace(string(out)), "\n")+1:])); got != c.finalKey {
			t.Errorf("age %s: credentials %q after the reassume command, want %s (output %q)", c.age, got, c.finalKey, out)
		}
	}
}
