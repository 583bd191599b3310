package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// ruleFile is a Control Tower rule file.
type ruleFile struct {
	path string // as passed to cfn-guard
	dir  string // its directory under the rules directory (s3, ecs, ...)
	// names are the rules it defines without parameters: those cfn-guard
	// reports on.
	names []string
}

// base is the file name, as guard-exceptions.yaml names it.
func (f ruleFile) base() string { return filepath.Base(f.path) }

var (
	// The types a rule checks: those it declares (let X = "AWS::...") or
	// selects (Type == "AWS::..."), not those it only follows references to.
	declaredType = regexp.MustCompile(`let\s+\w+\s*=\s*"(AWS::\w+::\w+)"`)
	selectedType = regexp.MustCompile(`Type\s*==\s*"(AWS::\w+::\w+)"`)
	// A named rule without parameters; "rule check(x) {" is a function.
	namedRule = regexp.MustCompile(`(?m)^\s*rule\s+(\w+)\s*(?:when\b|\{)`)
)

// selection is the rule files that apply to the templates.
type selection struct {
	files []ruleFile
	// uncovered lists the AWS resource types in use that no rule file checks.
	uncovered []string
}

// dirs are the service directories of the selected rule files.
func (s selection) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range s.files {
		if !seen[f.dir] {
			seen[f.dir] = true
			out = append(out, f.dir)
		}
	}
	sort.Strings(out)
	return out
}

// selectRules picks the rule files under dir that check a resource type in
// use, and those that name no type (they cannot be matched to one, so they
// run). One run reports every rule by name only, so a rule name defined in
// two selected files is an error.
func selectRules(dir string, typesInUse map[string]bool) (selection, error) {
	var sel selection
	covered := map[string]bool{}
	definedIn := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".guard") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(data)
		var types []string
		for _, re := range []*regexp.Regexp{declaredType, selectedType} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				types = append(types, m[1])
			}
		}
		used := false
		for _, t := range types {
			if typesInUse[t] {
				covered[t] = true
				used = true
			}
		}
		if !used && len(types) > 0 {
			return nil
		}
		rel, err := filepath.Rel(dir, filepath.Dir(path))
		if err != nil {
			return err
		}
		f := ruleFile{path: path, dir: filepath.ToSlash(rel)}
		for _, m := range namedRule.FindAllStringSubmatch(text, -1) {
			name := m[1]
			if other, ok := definedIn[name]; ok && other != path {
				return fmt.Errorf("rule %s is defined in %s and %s: one cfn-guard run cannot tell their results apart", name, other, path)
			}
			if _, ok := definedIn[name]; !ok {
				definedIn[name] = path
				f.names = append(f.names, name)
			}
		}
		sel.files = append(sel.files, f)
		return nil
	})
	if err != nil {
		return selection{}, err
	}
	if len(sel.files) == 0 {
		return selection{}, fmt.Errorf("no rule file in %s applies to %s", dir, strings.Join(slices.Sorted(maps.Keys(typesInUse)), ", "))
	}
	for _, t := range slices.Sorted(maps.Keys(typesInUse)) {
		if strings.HasPrefix(t, "AWS::") && !covered[t] && t != "AWS::CDK::Metadata" {
			sel.uncovered = append(sel.uncovered, t)
		}
	}
	return sel, nil
}

// resourceTypes lists the resource types the templates use.
func resourceTypes(templates []string) (map[string]bool, error) {
	types := map[string]bool{}
	for _, t := range templates {
		data, err := os.ReadFile(t)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Resources map[string]struct {
				Type string `json:"Type"`
			} `json:"Resources"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		for _, r := range doc.Resources {
			types[r.Type] = true
		}
	}
	return types, nil
}
