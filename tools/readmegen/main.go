package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"ecs-bluegreen/config"
	"ecs-bluegreen/internal/guardexceptions"
)

func main() {
	check := flag.Bool("check", false, "write nothing; fail when README.md is not what go generate would write")
	cdkOut := flag.String("cdkout", "cdk.out", "the cloud assembly, relative to the module root")
	ecsOut := flag.String("ecsout", "cdk.out.ecs", "the cloud assembly with both environments on the ecs engine (make ecs-synth), relative to the module root")
	flag.Parse()
	if err := run(*check, *cdkOut, *ecsOut); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(check bool, cdkOut, ecsOut string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	readmePath := filepath.Join(root, "README.md")
	current, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	blocks, err := render(root, cdkOut, ecsOut)
	if err != nil {
		return err
	}
	next, err := replaceBlocks(string(current), blocks)
	if err != nil {
		return fmt.Errorf("README.md: %w", err)
	}
	if !check {
		if next == string(current) {
			return nil
		}
		return os.WriteFile(readmePath, []byte(next), 0o644)
	}
	if next == string(current) {
		fmt.Printf("readmegen: README.md is current (%d generated blocks)\n", len(blocks))
		return nil
	}
	return outOfDate(readmePath, string(current), next, blocks)
}

// render builds every block's content.
func render(root, cdkOut, ecsOut string) ([]block, error) {
	entries, err := guardexceptions.Read(filepath.Join(root, "guard-exceptions.yaml"))
	if err != nil {
		return nil, err
	}
	stacks, err := readAssembly(filepath.Join(root, cdkOut))
	if err != nil {
		return nil, err
	}
	timing, err := releaseTime(root, cdkOut)
	if err != nil {
		return nil, err
	}
	ecsTiming, err := releaseTime(root, ecsOut)
	if err != nil {
		return nil, err
	}
	uncovered, err := guardUncovered(root, cdkOut, ecsOut)
	if err != nil {
		return nil, err
	}
	return []block{
		{name: "guard-uncovered", source: "go run ./tools/cfnguard -uncovered over cdk.out and cdk.out.ecs", content: uncovered},
		{name: "config-table", source: "config/", content: config.MarkdownTable()},
		{name: "nag-suppressions", source: "the cdk_nag metadata of the templates in cdk.out", content: suppressionTable(stacks)},
		{name: "guard-exceptions", source: "guard-exceptions.yaml", content: exceptionTable(entries)},
		{name: "release-time", source: "go run ./tools/releasetime cdk.out", content: timing},
		{name: "release-time-ecs", source: "go run ./tools/releasetime cdk.out.ecs", content: ecsTiming},
	}, nil
}

// guardUncovered lists the resource types of both assemblies' templates
// that no Control Tower rule checks, as the cfn-guard runner finds them.
func guardUncovered(root string, assemblies ...string) (string, error) {
	args := []string{"run", "./tools/cfnguard", "-uncovered"}
	for _, a := range assemblies {
		templates, err := filepath.Glob(filepath.Join(root, a, "*.template.json"))
		if err != nil || len(templates) == 0 {
			return "", fmt.Errorf("no templates in %s: run go generate ./... (make synth ecs-synth)", a)
		}
		args = append(args, templates...)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go run ./tools/cfnguard -uncovered: %v: %s", err, stderr.String())
	}
	types := strings.Fields(stdout.String())
	for i, t := range types {
		types[i] = "`" + t + "`"
	}
	return "Resource types with no Control Tower rule to check (with both engines): " + strings.Join(types, ", ") + ".\n", nil
}

// releaseTime runs the release-time command on the cloud assembly, as make
// release-time does.
func releaseTime(root, cdkOut string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "run", "./tools/releasetime", cdkOut)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go run ./tools/releasetime %s: %v: %s", cdkOut, err, stderr.String())
	}
	command := "make release-time"
	if cdkOut != "cdk.out" {
		command = "go run ./tools/releasetime " + cdkOut
	}
	return "```\n$ " + command + "\n" + stdout.String() + "```\n", nil
}

// outOfDate names the blocks that differ and shows the difference.
func outOfDate(readmePath, current, next string, blocks []block) error {
	var stale []string
	for _, b := range blocks {
		got, _ := blockContent(current, b.name)
		want, _ := blockContent(next, b.name)
		if got != want {
			stale = append(stale, b.name)
		}
	}
	tmp, err := os.CreateTemp("", "README.*.md")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(next); err != nil {
		return err
	}
	tmp.Close()
	diff := exec.Command("diff", "-u", "--label", "README.md", "--label", "README.md (generated)", readmePath, tmp.Name())
	diff.Stdout, diff.Stderr = os.Stderr, os.Stderr
	_ = diff.Run() // diff exits 1 when the files differ; its output is what matters
	return fmt.Errorf("README out of date (blocks %v): run go generate", stale)
}

// moduleRoot is the directory holding go.mod, at or above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}
