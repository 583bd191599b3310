// Package nagsuppress records cdk-nag suppressions on the app's resources
// without loading cdk-nag into the CDK runtime.
//
// cdk-nag reads a resource's suppressions from its template metadata, in the
// format its README documents for templates that CDK did not write
// ("cdk_nag": {"rules_to_suppress": [{"id", "reason", "applies_to"}]}), and
// NagSuppressions.addResourceSuppressions writes exactly that metadata. This
// package writes the same metadata with CDK's own AddMetadata, with the
// checks, the merging and the encoding of cdk-nag 2.38: so that `cdk synth`
// never loads cdk-nag, whose package pulls about 270 modules and a dozen
// aws-cdk-lib service modules into the runtime (about a tenth of the app's
// synthesis). The checks still run cdk-nag itself, and its tests compare
// this package's metadata with cdk-nag's for the same suppressions.
//
// One difference is visible in the templates: the Go runtime hands every map
// to CDK with its keys sorted, so an entry reads applies_to, id, reason where
// cdk-nag writes reason, id, applies_to. cdk-nag reads entries by key.
package nagsuppress

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// metadataKey is the metadata entry cdk-nag reads suppressions from.
const metadataKey = "cdk_nag"

// Rule is one suppression: the cdk-nag rule, why its findings are accepted,
// and, for the granular rules, the findings it accepts (all of the rule's
// findings on the resource when empty).
type Rule struct {
	ID        string
	Reason    string
	AppliesTo []string
}

// finding matches a rule id that names a finding ("AwsSolutions-IAM5[...]"):
// cdk-nag rejects it, since findings belong in AppliesTo.
var finding = regexp.MustCompile(`\[.*\]`)

// problems returns what cdk-nag would reject in rules, one message each.
func problems(rules ...Rule) []string {
	var out []string
	for _, r := range rules {
		if m := finding.FindString(r.ID); m != "" {
			out = append(out, fmt.Sprintf("suppression %s: the id contains a finding %s; a finding must be suppressed with AppliesTo", r.ID, m))
		}
		// cdk-nag counts JavaScript string length: UTF-16 code units.
		if len(utf16.Encode([]rune(r.Reason))) < 10 {
			out = append(out, fmt.Sprintf("suppression %s: the reason must have 10 characters or more", r.ID))
		}
	}
	return out
}

// Add records rules on the CloudFormation resource of c: c itself or its
// default child, as cdk-nag does. It panics when c has no CloudFormation
// resource (a suppression that would land nowhere) or when cdk-nag would
// reject a rule, naming every problem; the app reports a panic as an error.
// A rule already recorded on the resource is not recorded twice.
func Add(c constructs.IConstruct, rules ...Rule) {
	res := resourceOf(c)
	if res == nil {
		panic(fmt.Sprintf("%s: cdk-nag suppressions need a CloudFormation resource, and this construct has none", *c.Node().Path()))
	}
	if bad := problems(rules...); len(bad) > 0 {
		panic(fmt.Sprintf("%s: %s", *c.Node().Path(), strings.Join(bad, "; ")))
	}
	var entries []any
	if existing, ok := res.GetMetadata(jsii.String(metadataKey)).(map[string]any); ok {
		entries, _ = existing["rules_to_suppress"].([]any)
	}
	for _, r := range rules {
		e := entry(r)
		if !contains(entries, e) {
			entries = append(entries, e)
		}
	}
	res.AddMetadata(jsii.String(metadataKey), map[string]any{"rules_to_suppress": entries})
}

// resourceOf is the CloudFormation resource cdk-nag puts a construct's
// suppressions on: its default child when it has one, else itself. A
// CloudFormation resource is taken as it is: it has no children, so no
// default child.
func resourceOf(c constructs.IConstruct) awscdk.CfnResource {
	if res, ok := c.(awscdk.CfnResource); ok {
		return res
	}
	target := c
	if child := c.Node().DefaultChild(); child != nil {
		target = child
	}
	res, _ := target.(awscdk.CfnResource)
	return res
}

// entry is a rule in cdk-nag's metadata format: a reason with a character
// beyond Latin-1 is base64-encoded and marked, as cdk-nag does.
func entry(r Rule) map[string]any {
	m := map[string]any{"id": r.ID, "reason": r.Reason}
	if len(r.AppliesTo) > 0 {
		applies := make([]any, len(r.AppliesTo))
		for i, a := range r.AppliesTo {
			applies[i] = a
		}
		m["applies_to"] = applies
	}
	if strings.ContainsFunc(r.Reason, func(c rune) bool { return c > 255 }) {
		m["reason"] = base64.StdEncoding.EncodeToString([]byte(r.Reason))
		m["is_reason_encoded"] = true
	}
	return m
}

func contains(entries []any, entry map[string]any) bool {
	for _, e := range entries {
		if reflect.DeepEqual(e, entry) {
			return true
		}
	}
	return false
}

// AddToChildren records rules on the CloudFormation resource of c and of
// every construct below it (each construct's default child or itself), as
// cdk-nag's applyToChildren does. It panics when no construct in the tree
// has a CloudFormation resource, or on a rule cdk-nag would reject.
func AddToChildren(c constructs.IConstruct, rules ...Rule) {
	added := false
	for _, child := range *c.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if resourceOf(child) != nil {
			Add(child, rules...)
			added = true
		}
	}
	if !added {
		Add(c, rules...)
	}
}
