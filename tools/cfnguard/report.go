package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// failure is one resource that fails one rule.
type failure struct {
	rule      string // "<rule file>/<rule name>", as guard-exceptions.yaml names it
	stack     string
	logicalID string // "(template)" when the failure names no resource
	message   string // the control's message: "[CT.S3.PR.9]: Require ..."
}

// target is what an exception's resource patterns match: "<stack>/<logical ID>".
func (f failure) target() string { return f.stack + "/" + f.logicalID }

// checks counts the results per rule file and template: a pair fails when
// one of the file's rules fails on the template, passes when none fails and
// one passes, and is not applicable otherwise.
type checks struct{ pass, fail, skip int }

// report is what one cfn-guard run found.
type report struct {
	checks   checks
	failures []failure
}

// templateResult is cfn-guard's --structured JSON result for one data file.
type templateResult struct {
	Name         string            `json:"name"`
	Compliant    []string          `json:"compliant"`
	NotCompliant []json.RawMessage `json:"not_compliant"`
}

var (
	// A resource a failure reaches, in any path or message of its report.
	resourcePath = regexp.MustCompile(`/Resources/([A-Za-z0-9]+)`)
	// The first line of a Control Tower rule's message.
	controlMessage = regexp.MustCompile(`\[CT\.[A-Z0-9.]+\]:[^\n]*`)
)

// readReport reads the JSON report of a run of the given rule files.
func readReport(out []byte, files []ruleFile) (report, error) {
	var results []templateResult
	if err := json.Unmarshal(out, &results); err != nil {
		return report{}, fmt.Errorf("unreadable cfn-guard report: %w", err)
	}
	fileOf := map[string]int{}
	for i, f := range files {
		for _, n := range f.names {
			fileOf[n] = i
		}
	}
	var rep report
	type indexed struct {
		file int
		failure
	}
	var failures []indexed
	for _, r := range results {
		stack := stackName(r.Name)
		failed := make([]bool, len(files))
		passed := make([]bool, len(files))
		for _, name := range r.Compliant {
			if i, ok := fileOf[name]; ok {
				passed[i] = true
			}
		}
		for _, raw := range r.NotCompliant {
			var nc struct {
				Rule *struct {
					Name string `json:"name"`
				} `json:"Rule"`
			}
			if err := json.Unmarshal(raw, &nc); err != nil {
				return report{}, fmt.Errorf("unreadable cfn-guard report: %s: %w", r.Name, err)
			}
			if nc.Rule == nil {
				return report{}, fmt.Errorf("cfn-guard report: %s: a failure without a rule: %.200s", r.Name, raw)
			}
			i, ok := fileOf[nc.Rule.Name]
			if !ok {
				return report{}, fmt.Errorf("cfn-guard report: %s: rule %s fails, and no selected rule file defines it", r.Name, nc.Rule.Name)
			}
			failed[i] = true
			ids, message, err := scan(raw)
			if err != nil {
				return report{}, fmt.Errorf("unreadable cfn-guard report: %s: %w", r.Name, err)
			}
			if len(ids) == 0 {
				ids = []string{"(template)"}
			}
			for _, id := range ids {
				failures = append(failures, indexed{i, failure{
					rule: files[i].base() + "/" + nc.Rule.Name, stack: stack, logicalID: id, message: message,
				}})
			}
		}
		for i := range files {
			switch {
			case failed[i]:
				rep.checks.fail++
			case passed[i]:
				rep.checks.pass++
			default:
				rep.checks.skip++
			}
		}
	}
	// In the order of the rule files, then of the templates.
	sort.SliceStable(failures, func(a, b int) bool { return failures[a].file < failures[b].file })
	for _, f := range failures {
		rep.failures = append(rep.failures, f.failure)
	}
	return rep, nil
}

// scan reads the report of one failing rule in document order: the logical
// IDs of the resources it reaches (each once, in the order first named) and
// the first Control Tower message.
func scan(raw json.RawMessage) (ids []string, message string, err error) {
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return ids, message, nil
		}
		if err != nil {
			return nil, "", err
		}
		s, ok := tok.(string) // object keys and string values
		if !ok {
			continue
		}
		for _, m := range resourcePath.FindAllStringSubmatch(s, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				ids = append(ids, m[1])
			}
		}
		if message == "" {
			message = strings.TrimSpace(controlMessage.FindString(s))
		}
	}
}
