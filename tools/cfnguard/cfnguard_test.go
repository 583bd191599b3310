package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ecs-bluegreen/internal/guardexceptions"
)

// fixtureTemplates hold the resources the fixture rules under
// testdata/rules check.
var fixtureTemplates = []string{"testdata/Tiny.template.json", "testdata/Described.template.json"}

// installedGuard is cfn-guard from node_modules; tests that run it skip when
// npm ci has not run (make test runs it first).
func installedGuard(t *testing.T) guard {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	g, err := findGuard(filepath.Join(root, "node_modules"))
	if err != nil {
		t.Skip(err)
	}
	return g
}

func TestSelectRulesPicksTheFilesForTheTypesInUse(t *testing.T) {
	sel := fixtureSelection(t)
	var got []string
	for _, f := range sel.files {
		got = append(got, f.dir+"/"+f.base()+" "+strings.Join(f.names, ","))
	}
	want := []string{
		// A file that names no type runs on every template.
		"any/ct-any-pr-1.guard template_described_check",
		// Selected by Type == "..." and by let X = "..."; the helper
		// check(properties) is no rule of its own.
		"queues/ct-q-pr-1.guard queue_encrypted_check",
		"queues/ct-q-pr-2.guard queue_dlq_check",
		// buckets/ct-b-pr-1.guard checks AWS::S3::Bucket, which is not in use.
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("selected\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := sel.dirs(); !reflect.DeepEqual(d, []string{"any", "queues"}) {
		t.Errorf("dirs %v", d)
	}
	if want := []string{"AWS::SNS::Topic"}; !reflect.DeepEqual(sel.uncovered, want) {
		t.Errorf("uncovered %v, want %v", sel.uncovered, want)
	}
}

func TestSelectRulesListsTypesNoRuleChecks(t *testing.T) {
	sel, err := selectRules("testdata/rules", map[string]bool{
		"AWS::SQS::Queue": true, "AWS::SNS::Topic": true, "AWS::CDK::Metadata": true, "Custom::Thing": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	// CDK's metadata and custom resources are no AWS types to check.
	if want := []string{"AWS::SNS::Topic"}; !reflect.DeepEqual(sel.uncovered, want) {
		t.Errorf("uncovered %v, want %v", sel.uncovered, want)
	}
}

func TestSelectRulesRejectsARuleNameInTwoFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"ct-a-pr-1.guard", "ct-a-pr-2.guard"} {
		text := "let T = \"AWS::SQS::Queue\"\nrule same_check when %T not empty {\n  Resources exists\n}\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := selectRules(dir, map[string]bool{"AWS::SQS::Queue": true})
	if err == nil || !strings.Contains(err.Error(), "rule same_check is defined in") {
		t.Errorf("error %v, want one naming same_check", err)
	}
}

// fixtureFiles are rule files as selectRules returns them.
var fixtureFiles = []ruleFile{
	{path: "r/a/ct-a-pr-1.guard", dir: "a", names: []string{"alpha_check"}},
	{path: "r/b/ct-b-pr-1.guard", dir: "b", names: []string{"beta_check"}},
}

func TestReadReport(t *testing.T) {
	// The shape of cfn-guard's --structured JSON, cut down: the resources
	// a failure reaches are named in paths and messages, the control's
	// message is the first line of a custom message.
	out := `[
 {"name": "/x/cdk.out/Staging.template.json", "compliant": ["alpha_check"], "not_applicable": ["beta_check"],
  "not_compliant": []},
 {"name": "/x/cdk.out/Pipeline.template.json", "compliant": [], "not_applicable": [],
  "not_compliant": [
   {"Rule": {"name": "beta_check", "messages": {"custom_message": null}, "checks": [
     {"Rule": {"name": "check", "messages": {"custom_message": "\n  [CT.B.PR.1]: buckets are versioned\n  [FIX]: enable it.\n"}, "checks": [
       {"Clause": {"Unary": {"check": {"UnResolved": {"value": {"traversed_to": {"path": "/Resources/BucketB2/Properties"},
        "reason": "Could not find key Versioning inside struct at path /Resources/BucketB2/Properties[L:9,C:17]"}}}}}},
       {"Clause": {"Binary": {"from": {"path": "/Resources/BucketA1/Properties/Versioning"}}}},
       {"Clause": {"Binary": {"from": {"path": "/Resources/BucketB2/Properties/Other"}}}}
     ]}}
   ]}},
   {"Rule": {"name": "alpha_check", "checks": [{"Clause": {"Unary": {"check": {"Resolved": {"value": {"path": "/Description"}}}}}}]}}
  ]}
]`
	rep, err := readReport([]byte(out), fixtureFiles)
	if err != nil {
		t.Fatal(err)
	}
	// Staging: alpha passes, beta does not apply. Pipeline: both fail.
	if want := (checks{pass: 1, fail: 2, skip: 1}); rep.checks != want {
		t.Errorf("checks %+v, want %+v", rep.checks, want)
	}
	want := []failure{
		// In rule file order, each resource once, in the order first named.
		{rule: "ct-a-pr-1.guard/alpha_check", stack: "Pipeline", logicalID: "(template)"},
		{rule: "ct-b-pr-1.guard/beta_check", stack: "Pipeline", logicalID: "BucketB2", message: "[CT.B.PR.1]: buckets are versioned"},
		{rule: "ct-b-pr-1.guard/beta_check", stack: "Pipeline", logicalID: "BucketA1", message: "[CT.B.PR.1]: buckets are versioned"},
	}
	if !reflect.DeepEqual(rep.failures, want) {
		t.Errorf("failures\n%+v\nwant\n%+v", rep.failures, want)
	}
}

func TestReadReportRejects(t *testing.T) {
	for _, tc := range []struct{ name, out, want string }{
		{"not JSON", `cfn-guard: error`, "unreadable cfn-guard report"},
		{"a rule no selected file defines", `[{"name": "S.template.json", "compliant": [], "not_compliant": [{"Rule": {"name": "gamma_check"}}]}]`, "rule gamma_check fails, and no selected rule file defines it"},
		{"a failure without a rule", `[{"name": "S.template.json", "compliant": [], "not_compliant": [{"Clause": {}}]}]`, "a failure without a rule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := readReport([]byte(tc.out), fixtureFiles); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestHold(t *testing.T) {
	const reason = "a reason long enough for the exceptions file"
	failures := []failure{
		{rule: "a.guard/x", stack: "Staging", logicalID: "LogsBucket1"},
		{rule: "a.guard/x", stack: "Production", logicalID: "LogsBucket1"},
		{rule: "a.guard/x", stack: "Pipeline", logicalID: "ArtifactBucket2"},
		{rule: "b.guard/y", stack: "Staging", logicalID: "LogsBucket1"},
	}
	entries := []guardexceptions.Entry{
		// Matches two failures; its second pattern matches nothing.
		{Rule: "a.guard/x", Resources: []string{"*/LogsBucket*", "Staging/Gone*"}, Reason: reason, Line: 1},
		// The same failure may be matched twice; it counts once as excepted.
		{Rule: "a.guard/x", Resources: []string{"Staging/*"}, Reason: reason, Line: 5},
		// Another rule's pattern does not except a.guard/x.
		{Rule: "c.guard/z", Resources: []string{"Pipeline/*"}, Reason: reason, Line: 9},
	}
	got := hold(failures, entries)
	if got.excepted != 2 {
		t.Errorf("excepted %d, want 2", got.excepted)
	}
	if want := []int{2, 1, 0}; !reflect.DeepEqual(got.uses, want) {
		t.Errorf("uses %v, want %v", got.uses, want)
	}
	if want := []int{1, 5}; len(got.matched) == 0 || !reflect.DeepEqual(got.matched[0].lines, want) {
		t.Errorf("matched %+v, want Staging's failure matched by the entries at lines %v", got.matched, want)
	}
	if want := []failure{failures[2], failures[3]}; !reflect.DeepEqual(got.unexpected, want) {
		t.Errorf("unexpected %+v, want %+v", got.unexpected, want)
	}
	var stale []string
	for _, s := range got.stale {
		stale = append(stale, s.entry.Rule+" "+s.pattern)
	}
	if want := []string{"a.guard/x Staging/Gone*", "c.guard/z Pipeline/*"}; !reflect.DeepEqual(stale, want) {
		t.Errorf("stale %v, want %v", stale, want)
	}
}

// TestOneRunReportsEachRuleFile runs the real cfn-guard once over several
// rule files and templates and reads its report back per rule file.
func TestOneRunReportsEachRuleFile(t *testing.T) {
	g := installedGuard(t)
	sel := fixtureSelection(t)
	out, err := g.validate(sel.files, fixtureTemplates)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := readReport(out, sel.files)
	if err != nil {
		t.Fatal(err)
	}
	// Tiny: encrypted (pass), no dead-letter queue, no description.
	// Described: described (pass), its dead-letter queue is neither
	// encrypted nor has one of its own.
	if want := (checks{pass: 2, fail: 4}); rep.checks != want {
		t.Errorf("checks %+v, want %+v", rep.checks, want)
	}
	var got []string
	for _, f := range rep.failures {
		got = append(got, f.rule+" "+f.target()+" "+f.message)
	}
	want := []string{
		"ct-any-pr-1.guard/template_described_check Tiny/(template) [CT.ANY.PR.1]: fixture: templates have a description",
		"ct-q-pr-1.guard/queue_encrypted_check Described/DeadLetterQueue9F481546 [CT.Q.PR.1]: fixture: queues use SSE-SQS",
		"ct-q-pr-2.guard/queue_dlq_check Tiny/Queue4A7E3555 [CT.Q.PR.2]: fixture: queues have a dead-letter queue",
		"ct-q-pr-2.guard/queue_dlq_check Described/DeadLetterQueue9F481546 [CT.Q.PR.2]: fixture: queues have a dead-letter queue",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("failures\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRun runs the command on a template with one Control Tower failure
// (a queue without a dead-letter queue), against exceptions files that
// except it, miss it, or list more than fails.
func TestRun(t *testing.T) {
	installedGuard(t)
	const reason = "reason: >-\n    the fixture queue is itself a dead-letter queue, which nothing redrives\n"
	for _, tc := range []struct {
		name, exceptions string
		code             int
		stdout, stderr   []string
	}{
		{
			name:       "excepted",
			exceptions: "- rule: ct-sqs-pr-1.guard/sqs_dlq_check\n  resources: [\"Tiny/Queue*\"]\n  " + reason,
			stdout: []string{
				"cfn-guard: 1 templates (Tiny)\n",
				"cfn-guard: no Control Tower rules for AWS::SNS::Topic\n",
				"cfn-guard: 1 failing resources, 1 excepted by 1 entries of ",
				"  excepted  ct-sqs-pr-1.guard/sqs_dlq_check  Tiny/Queue*  (1)\n",
				"  failing   ct-sqs-pr-1.guard/sqs_dlq_check  Tiny/Queue4A7E3555  excepted by ",
				"cfn-guard: no failures beyond the listed exceptions\n",
			},
		},
		{
			name:       "not excepted",
			exceptions: "",
			code:       1,
			stderr: []string{
				"  FAIL      ct-sqs-pr-1.guard/sqs_dlq_check  Tiny/Queue4A7E3555\n            [CT.SQS.PR.1]: Require any Amazon SQS queue to have a dead-letter queue configured\n",
				"cfn-guard: 1 failures not in ",
			},
		},
		{
			name:       "stale",
			exceptions: "- rule: ct-sqs-pr-1.guard/sqs_dlq_check\n  resources: [\"Tiny/Queue*\", \"Tiny/Gone*\"]\n  " + reason,
			code:       1,
			stdout:     []string{"  excepted  ct-sqs-pr-1.guard/sqs_dlq_check  Tiny/Queue* Tiny/Gone*  (1)\n"},
			stderr: []string{
				"  STALE     ct-sqs-pr-1.guard/sqs_dlq_check Tiny/Gone* (",
				".yaml:1): matches no failure; remove it\n",
				"0 failures not in ",
				", 1 stale exceptions\n",
			},
		},
		{
			name:       "unreadable exceptions",
			exceptions: "- rule: ct-sqs-pr-1.guard/sqs_dlq_check\n  because: no\n",
			code:       2,
			stderr:     []string{"field because not found"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "exceptions.yaml")
			if err := os.WriteFile(file, []byte(tc.exceptions), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(file, true, []string{"testdata/Tiny.template.json"}, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, &stdout, &stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, &stdout)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
		})
	}
}

// fixtureSelection is the rule files the fixture templates select.
func fixtureSelection(t *testing.T) selection {
	t.Helper()
	types, err := resourceTypes(fixtureTemplates)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := selectRules("testdata/rules", types)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}
