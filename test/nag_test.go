package test

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// cdk-nag's AwsSolutions rules run on every stack of the app (TestMain adds
// them to the shared app), which is held to no unsuppressed finding, no
// warning, and a reason on every suppression.

// finding is one annotation, as reported.
type finding struct {
	level         cxapi.SynthesisMessageLevel
	path, message string
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
// unsuppressed AwsSolutions error or warning, and that CDK itself reported no
// error or warning on any construct.
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
			for _, f := range findings(assembly.GetStackArtifact(jsii.String(id)).Messages()) {
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
		tpl, _ := assembly.GetStackArtifact(jsii.String(id)).Template().(map[string]interface{})
		if tpl == nil {
			t.Fatalf("%s: no template", id)
		}
		if meta, _ := tpl["Metadata"].(map[string]interface{}); meta != nil && meta["cdk_nag"] != nil {
			t.Errorf("%s: stack-wide cdk-nag suppressions %v; suppress on the resource instead", id, meta["cdk_nag"])
		}
		out[id] = nil
		paths := constructPaths(app.Stack(id))
		resources, _ := tpl["Resources"].(map[string]interface{})
		for logical, r := range resources {
			meta, _ := r.(map[string]interface{})["Metadata"].(map[string]interface{})
			nagMeta, _ := meta["cdk_nag"].(map[string]interface{})
			rules, _ := nagMeta["rules_to_suppress"].([]interface{})
			for _, rule := range rules {
				rm := rule.(map[string]interface{})
				s := suppression{stack: id, path: paths[logical], logicalID: logical, id: fmt.Sprint(rm["id"]), reason: fmt.Sprint(rm["reason"])}
				applies, _ := rm["applies_to"].([]interface{})
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
		fmt.Printf("nag: %s: %d suppressions\n", id, len(all[id]))
	}
	t.Logf("%d cdk-nag suppressions in total", total)
	fmt.Printf("nag: %d suppressions in total over %d stacks\n", total, len(all))
}

// suppressedFindings reads cdk-nag's reports of the synthesis: each finding
// it suppressed, keyed by "<construct path> <rule>" and, for a granular
// rule, "<construct path> <rule> [<finding>]".
func suppressedFindings(t *testing.T) map[string]bool {
	t.Helper()
	reports, _ := filepath.Glob(filepath.Join(*assembly.Directory(), "AwsSolutions-*-NagReport.csv"))
	if len(reports) != len(app.StackIDs()) {
		t.Fatalf("%d cdk-nag reports in %s, want one per stack", len(reports), *assembly.Directory())
	}
	out := map[string]bool{}
	for _, report := range reports {
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
			if len(row) < 4 || row[2] != "Suppressed" {
				continue
			}
			key := row[1] + " " + row[0]
			if strings.HasPrefix(row[3], "[") {
				if end := strings.Index(row[3], "] "); end > 0 {
					key += " " + row[3][:end+1]
				}
			}
			out[key] = true
		}
	}
	return out
}
