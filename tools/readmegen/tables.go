package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"ecs-bluegreen/internal/guardexceptions"
)

// suppressionRow is the suppressions of one rule, finding and reason, in
// every resource and stack that has them.
type suppressionRow struct {
	rule     string
	findings []string
	reason   string
	// stacks maps each resource path to the indices of the stacks in which
	// it carries the suppression.
	stacks    map[string][]int
	firstSeen int // the first stack's index
}

// reference is a reference in a cdk-nag finding: <LogicalId> or
// <LogicalId.Attribute>.
var reference = regexp.MustCompile(`<([A-Za-z0-9]+)((?:\.[A-Za-z0-9]+)*)>`)

// finding renders a cdk-nag finding so that it reads the same in every
// stack: a reference to a resource of the template names its construct path
// (<Delivery/ArtifactBucket.Arn>), the stack's region is <region> and its
// account <AWS::AccountId>, as in an environment-agnostic stack.
func finding(s stack, raw json.RawMessage) string {
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		var re struct {
			Regex string `json:"regex"`
		}
		if json.Unmarshal(raw, &re) == nil && re.Regex != "" {
			return "regex " + re.Regex
		}
		return string(raw)
	}
	text = reference.ReplaceAllStringFunc(text, func(m string) string {
		sub := reference.FindStringSubmatch(m)
		if r, ok := s.resources[sub[1]]; ok && r.Metadata.Path != "" {
			return "<" + s.path(r) + sub[2] + ">"
		}
		return m
	})
	text = strings.ReplaceAll(text, "<AWS::Region>", "<region>")
	if s.region != "" {
		text = strings.ReplaceAll(text, ":"+s.region+":", ":<region>:")
	}
	if s.account != "" {
		text = strings.ReplaceAll(text, ":"+s.account+":", ":<AWS::AccountId>:")
	}
	return text
}

// suppressionTable renders the cdk-nag suppressions of every stack, with the
// heading that counts them.
func suppressionTable(stacks []stack) string {
	rows := map[string]*suppressionRow{}
	counts := make([]int, len(stacks))
	for si, s := range stacks {
		for _, r := range s.resources {
			if r.Metadata.Nag == nil {
				continue
			}
			for _, rule := range r.Metadata.Nag.Rules {
				counts[si]++
				var findings []string
				for _, raw := range rule.AppliesTo {
					findings = append(findings, finding(s, raw))
				}
				key := rule.ID + "\x00" + strings.Join(findings, "\x00") + "\x00" + rule.Reason
				row := rows[key]
				if row == nil {
					row = &suppressionRow{rule: rule.ID, findings: findings, reason: rule.Reason, stacks: map[string][]int{}, firstSeen: si}
					rows[key] = row
				}
				p := s.path(r)
				if in := row.stacks[p]; len(in) == 0 || in[len(in)-1] != si {
					row.stacks[p] = append(in, si)
				}
			}
		}
	}
	sorted := make([]*suppressionRow, 0, len(rows))
	for _, r := range rows {
		sorted = append(sorted, r)
	}
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.firstSeen != b.firstSeen {
			return a.firstSeen < b.firstSeen
		}
		if a.rule != b.rule {
			return a.rule < b.rule
		}
		if fa, fb := strings.Join(a.findings, ","), strings.Join(b.findings, ","); fa != fb {
			return fa < fb
		}
		return a.reason < b.reason
	})

	total := 0
	perStack := make([]string, len(stacks))
	for i, s := range stacks {
		total += counts[i]
		perStack[i] = fmt.Sprintf("%d in %s", counts[i], s.name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### cdk-nag suppressions (%d: %s)\n\n", total, strings.Join(perStack, ", "))
	b.WriteString("Each row applies once in every stack it names.\n\n")
	b.WriteString("| rule (finding) | resource | reason |\n|---|---|---|\n")
	for _, r := range sorted {
		rule := r.rule
		if len(r.findings) > 0 {
			rule += " (" + codeList(r.findings) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", rule, resourceList(r.stacks, stacks), text(r.reason))
	}
	return b.String()
}

// resourceList renders resource paths, each followed by the stacks it is in,
// or, for consecutive paths in the same stacks, by those stacks once:
// `A`, `B` (Staging, Production), `C` (Staging).
func resourceList(in map[string][]int, stacks []stack) string {
	paths := make([]string, 0, len(in))
	for p := range in {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	names := func(idx []int) string {
		n := make([]string, len(idx))
		for i, si := range idx {
			n[i] = stacks[si].name
		}
		return strings.Join(n, ", ")
	}
	var parts []string
	for i, p := range paths {
		part := code(p)
		if i == len(paths)-1 || names(in[p]) != names(in[paths[i+1]]) {
			part += " (" + names(in[p]) + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// exceptionTable renders the entries of guard-exceptions.yaml.
func exceptionTable(entries []guardexceptions.Entry) string {
	var b strings.Builder
	b.WriteString("| rule | resources | reason |\n|---|---|---|\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "| %s %s | %s | %s |\n", e.ControlID(), code(e.RuleName()), codeList(e.Resources), text(strings.TrimSpace(e.Reason)))
	}
	return b.String()
}

func codeList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

// code renders s as a code span in a table cell.
func code(s string) string { return "`" + strings.ReplaceAll(s, "|", `\|`) + "`" }

// text renders prose for a table cell: code spans stay as written, and
// outside them the characters Markdown would read as a column break, an
// HTML tag or emphasis are escaped.
func text(s string) string {
	parts := strings.Split(s, "`")
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			parts[i] = strings.ReplaceAll(p, "|", `\|`) // inside a code span
			continue
		}
		parts[i] = strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", `\<`, "*", `\*`).Replace(p)
	}
	return strings.Join(parts, "`")
}
