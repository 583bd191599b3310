// Package guardexceptions reads guard-exceptions.yaml: the AWS Control Tower
// (cfn-guard) failures the synthesized templates have on purpose, each with
// the resources it covers and the reason it is accepted.
//
// The file is a YAML list of entries:
//
//   - rule: ct-s3-pr-9.guard/s3_bucket_object_lock_enabled_check
//     resources: ["Pipeline/DeliveryArtifactBucket*"]
//     reason: >-
//     why the failure is a deliberate choice
//
// rule is "<rule file>/<rule name>"; each resource pattern is
// "<stack>/<logical ID>", where "*" matches any characters; resources may be
// left out, which means every resource ("*").
package guardexceptions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// minReason is the shortest reason accepted, in characters: enough for a
// sentence a reviewer can check, not a placeholder.
const minReason = 40

// ruleForm is the form of an entry's rule: "<rule file>/<rule name>".
var ruleForm = regexp.MustCompile(`^[\w.-]+\.guard/\w+$`)

// Entry is one accepted failure.
type Entry struct {
	// Rule is "<rule file>/<rule name>", for example
	// "ct-s3-pr-9.guard/s3_bucket_object_lock_enabled_check".
	Rule string `yaml:"rule"`
	// Resources are "<stack>/<logical ID>" patterns; "*" matches any
	// characters. Default: ["*"], every resource.
	Resources []string `yaml:"resources"`
	// Reason says why the failure is a deliberate choice.
	Reason string `yaml:"reason"`
	// Line is the line of the file where the entry starts.
	Line int `yaml:"-"`
}

// RuleFile is the rule file part of Rule ("ct-s3-pr-9.guard").
func (e Entry) RuleFile() string { f, _, _ := strings.Cut(e.Rule, "/"); return f }

// RuleName is the rule name part of Rule ("s3_bucket_object_lock_enabled_check").
func (e Entry) RuleName() string { _, n, _ := strings.Cut(e.Rule, "/"); return n }

// ControlID is the Control Tower control the rule file implements, as its
// messages name it: ct-s3-pr-9.guard is CT.S3.PR.9.
func (e Entry) ControlID() string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSuffix(e.RuleFile(), ".guard"), "-", "."))
}

// Read reads and checks an exceptions file.
func Read(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads the entries of an exceptions file; name is used in messages.
// Keys other than rule, resources and reason are rejected, and every problem
// of every entry is reported in one error.
func Parse(name string, data []byte) ([]Entry, error) {
	var entries []Entry
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&entries); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: one YAML document expected, found more", name)
	}
	// The lines, from the same text read as nodes.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 1 && len(doc.Content[0].Content) == len(entries) {
		for i, n := range doc.Content[0].Content {
			entries[i].Line = n.Line
		}
	}

	var problems []error
	for i := range entries {
		e := &entries[i]
		at := fmt.Sprintf("%s:%d", name, e.Line)
		if !ruleForm.MatchString(e.Rule) {
			problems = append(problems, fmt.Errorf("%s: rule must be \"<rule file>/<rule name>\", got %q", at, e.Rule))
		}
		if utf8.RuneCountInString(strings.TrimSpace(e.Reason)) < minReason {
			problems = append(problems, fmt.Errorf("%s: %s: give a reason a reviewer would accept (%d characters at least)", at, e.Rule, minReason))
		}
		switch {
		case e.Resources == nil:
			e.Resources = []string{"*"}
		case len(e.Resources) == 0:
			problems = append(problems, fmt.Errorf("%s: %s: resources is empty; list \"<stack>/<logical ID>\" patterns, or leave the key out for every resource", at, e.Rule))
		}
		for _, p := range e.Resources {
			if p == "" {
				problems = append(problems, fmt.Errorf("%s: %s: an empty resource pattern", at, e.Rule))
			}
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return entries, nil
}

// Match reports whether a "<stack>/<logical ID>" target matches a resource
// pattern, in which "*" matches any characters, "/" included.
func Match(pattern, target string) bool {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(target)
}
