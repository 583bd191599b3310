// Command cfnguard validates the synthesized templates with cfn-guard against
// the AWS Control Tower proactive-control rules that apply to the resource
// types they use. Every failure must be listed, with its reason, in
// guard-exceptions.yaml; the run fails on any other failure and on any
// listed resource pattern that no longer matches a failure (stale).
//
//	go run ./tools/cfnguard [-v] [-exceptions file] [template.json ...]
//
// The templates default to cdk.out/*.template.json. cfn-guard and the rules
// come from @cdklabs/cdk-validator-cfnguard in package.json (npm ci); its
// binary runs once, over every rule file and template, and its JSON report is
// read here. Exit status: 0 when every failure is excepted, 1 on a failure
// not excepted or a stale exception, 2 when the check cannot run.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"ecs-bluegreen/internal/guardexceptions"
)

func main() {
	exceptions := flag.String("exceptions", "", "the exceptions file (default: guard-exceptions.yaml at the module root)")
	verbose := flag.Bool("v", false, "list every failing resource and the entries that except it")
	uncovered := flag.Bool("uncovered", false, "run nothing; list the resource types of the templates that no Control Tower rule checks, one a line")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: go run ./tools/cfnguard [-v] [-exceptions file] [-uncovered] [template.json ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *uncovered {
		os.Exit(listUncovered(flag.Args(), os.Stdout, os.Stderr))
	}
	os.Exit(run(*exceptions, *verbose, flag.Args(), os.Stdout, os.Stderr))
}

// listUncovered prints the resource types of the templates that no rule
// file of the installed Control Tower rules checks, sorted, one a line.
func listUncovered(templates []string, stdout, stderr io.Writer) int {
	root, err := moduleRoot()
	if err == nil && len(templates) == 0 {
		err = errors.New("no templates given")
	}
	var sel selection
	if err == nil {
		var tool guard
		var types map[string]bool
		if tool, err = findGuard(filepath.Join(root, "node_modules")); err == nil {
			if types, err = resourceTypes(templates); err == nil {
				sel, err = selectRules(tool.rules, types)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "cfn-guard: %v\n", err)
		return 2
	}
	for _, typ := range sel.uncovered {
		fmt.Fprintln(stdout, typ)
	}
	return 0
}

// run returns the exit status: 1 when the check fails, 2 when it cannot run.
func run(exceptionsFile string, verbose bool, templates []string, stdout, stderr io.Writer) int {
	code, err := check(exceptionsFile, verbose, templates, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cfn-guard: %v\n", err)
		return 2
	}
	return code
}

func check(exceptionsFile string, verbose bool, templates []string, stdout, stderr io.Writer) (int, error) {
	root, err := moduleRoot()
	if err != nil {
		return 0, err
	}
	if exceptionsFile == "" {
		exceptionsFile = filepath.Join(root, "guard-exceptions.yaml")
	}
	if len(templates) == 0 {
		templates, _ = filepath.Glob("cdk.out/*.template.json")
	}
	if len(templates) == 0 || !exists(templates[0]) {
		return 0, errors.New("no templates given; run 'make synth' first")
	}
	tool, err := findGuard(filepath.Join(root, "node_modules"))
	if err != nil {
		return 0, err
	}
	entries, err := guardexceptions.Read(exceptionsFile)
	if err != nil {
		return 0, err
	}
	shown := exceptionsFile
	if rel, err := filepath.Rel(root, exceptionsFile); err == nil && !strings.HasPrefix(rel, "..") {
		shown = rel
	}

	typesInUse, err := resourceTypes(templates)
	if err != nil {
		return 0, err
	}
	sel, err := selectRules(tool.rules, typesInUse)
	if err != nil {
		return 0, err
	}
	if err := tool.printVersion(stdout); err != nil {
		return 0, err
	}
	out, err := tool.validate(sel.files, templates)
	if err != nil {
		return 0, err
	}
	rep, err := readReport(out, sel.files)
	if err != nil {
		return 0, err
	}
	res := hold(rep.failures, entries)

	fmt.Fprintf(stdout, "cfn-guard: %d Control Tower rule files (%s)\n", len(sel.files), strings.Join(sel.dirs(), ", "))
	fmt.Fprintf(stdout, "cfn-guard: %d templates (%s)\n", len(templates), strings.Join(stackNames(templates), ", "))
	if len(sel.uncovered) > 0 {
		fmt.Fprintf(stdout, "cfn-guard: no Control Tower rules for %s\n", strings.Join(sel.uncovered, ", "))
	}
	c := rep.checks
	fmt.Fprintf(stdout, "cfn-guard: %d checks (rule file x template): %d pass, %d fail, %d not applicable\n", c.pass+c.fail+c.skip, c.pass, c.fail, c.skip)
	fmt.Fprintf(stdout, "cfn-guard: %d failing resources, %d excepted by %d entries of %s\n", len(rep.failures), res.excepted, len(entries), shown)
	for i, e := range entries {
		fmt.Fprintf(stdout, "  excepted  %s  %s  (%d)\n", e.Rule, strings.Join(e.Resources, " "), res.uses[i])
	}
	if verbose {
		for _, m := range res.matched {
			fmt.Fprintf(stdout, "  failing   %s  %s  excepted by %s:%s\n", m.failure.rule, m.failure.target(), shown, joinInts(m.lines))
		}
	}
	for _, f := range res.unexpected {
		fmt.Fprintf(stderr, "  FAIL      %s  %s\n            %s\n", f.rule, f.target(), f.message)
	}
	for _, s := range res.stale {
		fmt.Fprintf(stderr, "  STALE     %s %s (%s:%d): matches no failure; remove it\n", s.entry.Rule, s.pattern, shown, s.entry.Line)
	}
	if len(res.unexpected) > 0 || len(res.stale) > 0 {
		fmt.Fprintf(stderr, "cfn-guard: %d failures not in %s, %d stale exceptions\n", len(res.unexpected), shown, len(res.stale))
		return 1, nil
	}
	fmt.Fprintln(stdout, "cfn-guard: no failures beyond the listed exceptions")
	return 0, nil
}

// moduleRoot is the directory holding go.mod, at or above the working
// directory: node_modules and guard-exceptions.yaml are found there.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if exists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// stackNames are the stack names of template files: Staging for
// cdk.out/Staging.template.json.
func stackNames(templates []string) []string {
	out := make([]string, len(templates))
	for i, t := range templates {
		out[i] = stackName(t)
	}
	return out
}

func stackName(template string) string {
	return strings.TrimSuffix(filepath.Base(template), ".template.json")
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}
