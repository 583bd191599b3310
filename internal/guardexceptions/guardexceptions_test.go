package guardexceptions

import (
	"reflect"
	"strings"
	"testing"
)

const reason = "a reason long enough for a reviewer to read and accept"

func TestParseReadsEntries(t *testing.T) {
	data := `# a comment
- rule: ct-s3-pr-9.guard/s3_bucket_object_lock_enabled_check
  resources: ["Pipeline/DeliveryArtifactBucket*", "*/ServiceAccessLogsBucket*"]
  reason: >-
    Pipeline artifacts are build outputs
    that expire after 90 days.

- rule: ct-sqs-pr-1.guard/sqs_dlq_check
  reason: '` + reason + `'
`
	got, err := Parse("x.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{
			Rule:      "ct-s3-pr-9.guard/s3_bucket_object_lock_enabled_check",
			Resources: []string{"Pipeline/DeliveryArtifactBucket*", "*/ServiceAccessLogsBucket*"},
			// A folded scalar joins its lines with spaces.
			Reason: "Pipeline artifacts are build outputs that expire after 90 days.",
			Line:   2,
		},
		// No resources: every resource.
		{Rule: "ct-sqs-pr-1.guard/sqs_dlq_check", Resources: []string{"*"}, Reason: reason, Line: 8},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if f, n, id := got[0].RuleFile(), got[0].RuleName(), got[0].ControlID(); f != "ct-s3-pr-9.guard" || n != "s3_bucket_object_lock_enabled_check" || id != "CT.S3.PR.9" {
		t.Errorf("rule parts %q %q %q", f, n, id)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string // every one must appear in the error
	}{
		{"unknown key", "- rule: a.guard/r\n  reason: " + reason + "\n  resource: [\"x\"]\n", []string{"line 3: field resource not found"}},
		{"key given twice", "- rule: a.guard/r\n  rule: b.guard/r\n  reason: " + reason + "\n", []string{`mapping key "rule" already defined`}},
		{"resources not a list", "- rule: a.guard/r\n  resources: Staging/X*\n  reason: " + reason + "\n", []string{"cannot unmarshal"}},
		{"not a list of entries", "rule: a.guard/r\n", []string{"cannot unmarshal"}},
		{"two documents", "- rule: a.guard/r\n  reason: " + reason + "\n---\n- rule: b.guard/r\n", []string{"one YAML document expected"}},
		{"rule without a rule file", "- rule: s3_bucket_logging_enabled_check\n  reason: " + reason + "\n", []string{`x.yaml:1: rule must be "<rule file>/<rule name>", got "s3_bucket_logging_enabled_check"`}},
		{"short reason", "- rule: a.guard/r\n  reason: because\n", []string{"x.yaml:1: a.guard/r: give a reason"}},
		{"empty resources", "- rule: a.guard/r\n  resources: []\n  reason: " + reason + "\n", []string{"resources is empty"}},
		{"empty pattern", "- rule: a.guard/r\n  resources: [\"\"]\n  reason: " + reason + "\n", []string{"an empty resource pattern"}},
		{"every problem at once", "- rule: r\n  reason: no\n- rule: a.guard/r\n  resources: []\n  reason: " + reason + "\n", []string{"x.yaml:1: rule must be", "x.yaml:1: r: give a reason", "x.yaml:3: a.guard/r: resources is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.data))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, target string
		want            bool
	}{
		{"Staging/ServiceLoadBalancer*", "Staging/ServiceLoadBalancerBE9EEC3A", true},
		{"Staging/ServiceLoadBalancer*", "Production/ServiceLoadBalancerBE9EEC3A", false},
		{"*/ServiceBlue*Alarm*", "Production/ServiceBlue5xxAlarm1C1E1FE0", true},
		{"*/ServiceBlue*Alarm*", "Production/ServiceGreen5xxAlarm1C1E1FE0", false},
		// Anchored at both ends.
		{"Staging/Service", "Staging/ServiceLogGroup", false},
		{"Service*", "Staging/ServiceLogGroup", false},
		// Only "*" is special: a dot is a dot.
		{"Staging/a.b", "Staging/axb", false},
		{"*", "Pipeline/(template)", true},
	} {
		if got := Match(tc.pattern, tc.target); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.target, got, tc.want)
		}
	}
}
