package test

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/providernag"
)

// cdk-nag's AwsSolutions rules run on every stack of the app (TestMain adds
// them to the shared app), which is held to no unsuppressed finding, no
// warning, and a reason on every suppression.
//
// The rules test for L1 classes, so during the synthesis they skip the
// resources CDK writes as plain CfnResource objects: the roles and functions
// of its custom-resource providers. After the synthesis, the same packs
// evaluate those resources as their L1 classes (providernag.Evaluate, on the
// synthesized templates); their findings and reports count like the others.

// finding is one annotation, as reported.
type finding struct {
	level         cxapi.SynthesisMessageLevel
	path, message string
}

// annotationLevels maps the metadata type of an annotation to its level.
var annotationLevels = map[string]cxapi.SynthesisMessageLevel{
	"aws:cdk:error":   cxapi.SynthesisMessageLevel_ERROR,
	"aws:cdk:warning": cxapi.SynthesisMessageLevel_WARNING,
	"aws:cdk:info":    cxapi.SynthesisMessageLevel_INFO,
}

func findings(msgs *[]*cxapi.SynthesisMessage) []finding {
	var out []finding
	for _, m := range *msgs {
		msg := fmt.Sprint(m.Entry.Data)
		if i := strings.Index(msg, "\n"); i > 0 {
			msg = msg[:i]
		}
		out = append(out, finding{level: m.Level, path: *m.Id, message: msg})
	}
	return out
}

// TestAwsSolutionsFindingsAreFixedOrSuppressed proves that no stack has an
// unsuppressed AwsSolutions error or warning, its plain CfnResources
// included, and that CDK itself reported no error or warning on any
// construct.
func TestAwsSolutionsFindingsAreFixedOrSuppressed(t *testing.T) {
	ids := app.StackIDs()
	if len(ids) != 3 {
		t.Fatalf("stacks %v, want staging, production and pipeline", ids)
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			// The messages of the stack's artifact are what
			// Annotations_FromStack would search; reading them from the
			// shared synthesis spares a synthesis of the whole app per stack.
			all := findings(assembly.GetStackArtifact(jsii.String(id)).Messages())
			for _, r := range plainEvaluation(t, id).Resources {
				switch {
				case r.View == nil:
					t.Errorf("%s (%s): a plain CfnResource with no L1 class to present to cdk-nag; no rule checks it", r.Path, r.Type)
				case len(r.Packs) == 0:
					t.Errorf("%s (%s): no NagPack applies to it", r.Path, r.Type)
				}
				for _, m := range r.Messages {
					all = append(all, finding{level: annotationLevels[m.Level], path: r.Path, message: m.Text})
				}
			}
			for _, f := range all {
				nag := strings.HasPrefix(f.message, "AwsSolutions-")
				switch {
				case f.level == cxapi.SynthesisMessageLevel_ERROR && nag:
					t.Errorf("unsuppressed error %s: %s", f.path, f.message)
				case f.level == cxapi.SynthesisMessageLevel_WARNING && nag:
					t.Errorf("unsuppressed warning %s: %s", f.path, f.message)
				// Anything else (a CDK validation error, a deprecation
				// warning) also stands between a change and a user.
				case f.level == cxapi.SynthesisMessageLevel_ERROR:
					t.Errorf("error annotation %s: %s", f.path, f.message)
				case f.level == cxapi.SynthesisMessageLevel_WARNING:
					t.Errorf("warning annotation %s: %s", f.path, f.message)
				}
			}
		})
	}
}

// suppression is one entry of a resource's Metadata.cdk_nag.rules_to_suppress.
type suppression struct {
	stack, path, logicalID, id, reason string
	appliesTo                          []string
}

// suppressions reads every suppression from the synthesized templates, and
// fails on any suppression that is not attached to a resource.
func suppressions(t *testing.T) map[string][]suppression {
	t.Helper()
	out := map[string][]suppression{}
	for _, id := range app.StackIDs() {
		tpl, _ := assembly.GetStackArtifact(jsii.String(id)).Template().(map[string]any)
		if tpl == nil {
			t.Fatalf("%s: no template", id)
		}
		if meta, _ := tpl["Metadata"].(map[string]any); meta != nil && meta["cdk_nag"] != nil {
			t.Errorf("%s: stack-wide cdk-nag suppressions %v; suppress on the resource instead", id, meta["cdk_nag"])
		}
		out[id] = nil
		paths := constructPaths(app.Stack(id))
		resources, _ := tpl["Resources"].(map[string]any)
		for logical, r := range resources {
			meta, _ := r.(map[string]any)["Metadata"].(map[string]any)
			nagMeta, _ := meta["cdk_nag"].(map[string]any)
			rules, _ := nagMeta["rules_to_suppress"].([]any)
			for _, rule := range rules {
				rm := rule.(map[string]any)
				s := suppression{stack: id, path: paths[logical], logicalID: logical, id: fmt.Sprint(rm["id"]), reason: fmt.Sprint(rm["reason"])}
				applies, _ := rm["applies_to"].([]any)
				for _, a := range applies {
					s.appliesTo = append(s.appliesTo, fmt.Sprint(a))
				}
				out[id] = append(out[id], s)
			}
		}
		sort.Slice(out[id], func(i, j int) bool {
			a, b := out[id][i], out[id][j]
			return a.path+a.id+strings.Join(a.appliesTo, ",") < b.path+b.id+strings.Join(b.appliesTo, ",")
		})
	}
	return out
}

// constructPaths maps the logical ID of each resource of a stack to its
// construct path, as cdk-nag's reports name resources.
func constructPaths(stack awscdk.Stack) map[string]string {
	out := map[string]string{}
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if is := awscdk.CfnElement_IsCfnElement(c); is != nil && *is {
			out[fmt.Sprint(stack.Resolve(stack.GetLogicalId(c.(awscdk.CfnElement))))] = *c.Node().Path()
		}
	}
	return out
}

// granularRules report one finding per wildcard or managed policy; their
// suppressions must name the findings they accept.
var granularRules = map[string]bool{"AwsSolutions-IAM4": true, "AwsSolutions-IAM5": true}

// TestEverySuppressionIsExplainedAndUsed proves that each suppression sits on
// one resource, gives a reason, names its findings (appliesTo) where the rule
// reports findings, and still suppresses something: cdk-nag's report lists
// it as the reason of a suppressed finding. It prints the count per stack.
func TestEverySuppressionIsExplainedAndUsed(t *testing.T) {
	suppressed := suppressedFindings(t)
	all := suppressions(t)
	total := 0
	for _, id := range app.StackIDs() {
		for _, s := range all[id] {
			where := fmt.Sprintf("%s %s %v", s.path, s.id, s.appliesTo)
			if len(s.reason) < 40 {
				t.Errorf("%s: reason %q is too short to convince a reviewer", where, s.reason)
			}
			if granularRules[s.id] && len(s.appliesTo) == 0 {
				t.Errorf("%s: suppresses every finding of the rule; list them in appliesTo", where)
			}
			for _, a := range s.appliesTo {
				if a == "" || a == "*" {
					t.Errorf("%s: appliesTo %q names no finding", where, a)
				}
			}
			keys := []string{s.path + " " + s.id}
			if len(s.appliesTo) > 0 {
				keys = nil
				for _, a := range s.appliesTo {
					keys = append(keys, s.path+" "+s.id+" ["+a+"]")
				}
			}
			for _, k := range keys {
				if !suppressed[k] {
					t.Errorf("stale suppression: %s suppresses nothing; remove it", k)
				}
			}
		}
		total += len(all[id])
		t.Logf("%s: %d cdk-nag suppressions", id, len(all[id]))
		record("nag: %s: %d suppressions\n", id, len(all[id]))
	}
	t.Logf("%d cdk-nag suppressions in total", total)
	record("nag: %d suppressions in total over %d stacks\n", total, len(all))
}

// suppressedFindings reads cdk-nag's reports: each finding it suppressed,
// keyed by "<construct path> <rule>" and, for a granular rule,
// "<construct path> <rule> [<finding>]".
func suppressedFindings(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, row := range reportRows(t) {
		if row.compliance != "Suppressed" {
			continue
		}
		key := row.path + " " + row.rule
		if strings.HasPrefix(row.reason, "[") {
			if end := strings.Index(row.reason, "] "); end > 0 {
				key += " " + row.reason[:end+1]
			}
		}
		out[key] = true
	}
	return out
}

// reportRow is one line of a cdk-nag report: a rule's outcome on a resource.
type reportRow struct {
	stack, rule, path, compliance, reason string
}

// reportRows reads every cdk-nag report: the packs' reports of the
// synthesis, one per stack, and their reports on the plain resources, whose
// rows name each resource by its construct path in the app.
func reportRows(t *testing.T) []reportRow {
	t.Helper()
	reports, _ := filepath.Glob(filepath.Join(*assembly.Directory(), "AwsSolutions-*-NagReport.csv"))
	if len(reports) != len(app.StackIDs()) {
		t.Fatalf("%d cdk-nag reports in %s, want one per stack", len(reports), *assembly.Directory())
	}
	var out []reportRow
	read := func(stack, report string, paths map[string]string) {
		f, err := os.Open(report)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", report, err)
		}
		for _, row := range rows[1:] { // Rule ID, Resource ID, Compliance, Exception Reason, ...
			if len(row) < 4 {
				continue
			}
			path := row[1]
			if paths != nil {
				real, ok := paths[path]
				if !ok {
					t.Fatalf("%s: row on %s, which is no plain resource's view", report, path)
				}
				path = real
			}
			out = append(out, reportRow{stack: stack, rule: row[0], path: path, compliance: row[2], reason: row[3]})
		}
	}
	for _, report := range reports {
		read("", report, nil)
	}
	for _, id := range app.StackIDs() {
		ev := plainEvaluation(t, id)
		for _, report := range ev.Reports {
			read(id, report, ev.ViewPaths)
		}
	}
	return out
}

var (
	plainOnce sync.Once
	plainErr  error
	plain     map[string]*providernag.Evaluation
)

// plainEvaluation returns what the app's packs found on the plain
// CfnResources of a stack. The evaluation runs once per test process, on
// the shared synthesis, and synthesizes nothing.
func plainEvaluation(t *testing.T, id string) *providernag.Evaluation {
	t.Helper()
	plainOnce.Do(func() {
		plain = map[string]*providernag.Evaluation{}
		outdir := filepath.Join(*assembly.Directory(), "plain-resources")
		for _, sid := range app.StackIDs() {
			ev, err := providernag.Evaluate(app.Stack(sid), *assembly.GetStackArtifact(jsii.String(sid)).TemplateFullPath(), outdir)
			if err != nil {
				plainErr = err
				return
			}
			plain[sid] = ev
		}
	})
	if plainErr != nil {
		t.Fatal(plainErr)
	}
	return plain[id]
}

// evaluatedBy names the rules that must have evaluated every resource of a
// type, whether CDK wrote it as an L1 or as a plain CfnResource: a role is
// checked for AWS managed policies and wildcards, a function for its runtime.
var evaluatedBy = map[string][]string{
	"AWS::IAM::Role":        {"AwsSolutions-IAM4", "AwsSolutions-IAM5"},
	"AWS::Lambda::Function": {"AwsSolutions-L1"},
}

// TestCdkNagEvaluatesEveryRoleAndFunction proves that cdk-nag's rules saw
// every IAM role and Lambda function of every template, those of CDK's
// custom-resource providers included: each has a line in a report for each
// rule of evaluatedBy. It prints what was evaluated.
func TestCdkNagEvaluatesEveryRoleAndFunction(t *testing.T) {
	rows := reportRows(t)
	seen := map[string]map[string]bool{} // construct path -> rules
	for _, row := range rows {
		if seen[row.path] == nil {
			seen[row.path] = map[string]bool{}
		}
		seen[row.path][row.rule] = true
	}
	total := 0
	for _, id := range app.StackIDs() {
		paths := constructPaths(app.Stack(id))
		plainPaths := map[string]bool{}
		ev := plainEvaluation(t, id)
		for _, r := range ev.Resources {
			plainPaths[r.Path] = true
		}
		counts := map[string]int{}
		for logical, r := range allResources(t, id) {
			typ := fmt.Sprint(dig(r, "Type"))
			rules, ok := evaluatedBy[typ]
			if !ok {
				continue
			}
			path := paths[logical]
			for _, rule := range rules {
				if !seen[path][rule] {
					t.Errorf("%s: %s (%s) was not evaluated by %s", id, path, typ, rule)
				}
			}
			counts[typ]++
			if plainPaths[path] {
				counts["plain "+typ]++
			}
			total++
		}
		findings, suppressed := 0, 0
		for _, row := range rows {
			if row.stack == id && (row.compliance == "Non-Compliant" || row.compliance == "Suppressed") {
				findings++
				if row.compliance == "Suppressed" {
					suppressed++
				}
			}
		}
		record("nag: %s: %d roles (%d plain) and %d functions (%d plain) evaluated; %d plain resources, %d findings on them, %d suppressed\n", id,
			counts["AWS::IAM::Role"], counts["plain AWS::IAM::Role"], counts["AWS::Lambda::Function"], counts["plain AWS::Lambda::Function"],
			len(ev.Resources), findings, suppressed)
	}
	if total == 0 {
		t.Fatal("no role or function in any template; the walk is broken")
	}
}
