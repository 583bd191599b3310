package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// validatorPackage is the npm package that ships cfn-guard and the Control
// Tower rules, relative to node_modules.
const validatorPackage = "@cdklabs/cdk-validator-cfnguard"

// guard is the cfn-guard binary and the rules directory of the package.
type guard struct {
	binary, rules string
}

// binaries maps GOOS/GOARCH to the package's build of cfn-guard.
var binaries = map[string]string{
	"linux/amd64":  "bin/ubuntu/x86_64/cfn-guard",
	"linux/arm64":  "bin/ubuntu/aarch64/cfn-guard",
	"darwin/arm64": "bin/macos/aarch64/cfn-guard",
	"darwin/amd64": "bin/macos/x86_64/cfn-guard",
}

// findGuard finds cfn-guard and the Control Tower rules in node_modules.
func findGuard(nodeModules string) (guard, error) {
	pkg := filepath.Join(nodeModules, validatorPackage)
	platform := runtime.GOOS + "/" + runtime.GOARCH
	bin, ok := binaries[platform]
	if !ok {
		return guard{}, fmt.Errorf("%s has no cfn-guard binary for %s", validatorPackage, platform)
	}
	g := guard{binary: filepath.Join(pkg, bin), rules: filepath.Join(pkg, "rules", "control-tower", "cfn-guard")}
	info, err := os.Stat(g.binary)
	if err != nil || !exists(g.rules) {
		return guard{}, fmt.Errorf("%s is missing; run 'make tools' (npm ci)", pkg)
	}
	// npm does not always keep the executable bit of a package's binaries.
	if info.Mode()&0o111 == 0 {
		if err := os.Chmod(g.binary, info.Mode()|0o755); err != nil {
			return guard{}, err
		}
	}
	return g, nil
}

func (g guard) printVersion(w io.Writer) error {
	cmd := exec.Command(g.binary, "--version")
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	return cmd.Run()
}

// exitFailures is cfn-guard's exit status when a rule fails; 0 means every
// rule passed or was skipped.
const exitFailures = 19

// validate runs cfn-guard once over every rule file and template and returns
// its JSON report: one entry per template, with the results of every rule.
func (g guard) validate(files []ruleFile, templates []string) ([]byte, error) {
	args := []string{"validate", "--structured", "--show-summary", "none", "--output-format", "json"}
	for _, f := range files {
		args = append(args, "--rules", f.path)
	}
	for _, t := range templates {
		args = append(args, "--data", t)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(g.binary, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != exitFailures) {
		msg := stderr.String()
		if msg == "" {
			msg = stdout.String()
		}
		return nil, fmt.Errorf("cfn-guard validate: %v: %s", err, msg)
	}
	return stdout.Bytes(), nil
}
