// Package test holds the assertion tests on synthesized templates: the
// stacks that `cdk synth` produces with the checked-in cdk.json, checked by
// cdk-nag, and the L3 constructs on their own with every prop exercised. All
// of them share one test process, so the CDK runtime starts once and each
// stack is synthesized once.
package test

import (
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"ecs-bluegreen/test/testapp"
)

// synthesisBudget is the number of app syntheses this package may run: the
// app as `cdk synth` builds it, checked by cdk-nag; the same app with day-two
// changes and a configured connection; one app holding the constructs' own
// test stacks; the two ECS syntheses (ecsApp), also checked by cdk-nag; and
// the all-ECS app with the day-two changes; and the app with a domain in
// each environment (domainApp). Everything else reads these.
const synthesisBudget = 9

var (
	// app is the app synthesized with cdk.json's defaults.
	app *testapp.App
	// assembly is the cloud assembly of that synthesis, with cdk-nag's reports.
	assembly cxapi.CloudAssembly
	// templates maps each stack's construct ID to its template.
	templates map[string]assertions.Template
)

func TestMain(m *testing.M) {
	code := setUp(m)
	jsii.Close()
	os.Exit(code)
}

func setUp(m *testing.M) int {
	// With cdk.json's annotationsInValidationReport, an error annotation
	// makes Synth throw with a one-line message. This context value lets
	// Synth finish so that the cdk-nag tests name every finding; they fail on
	// any error annotation, so nothing is let through. Templates are the same.
	a, err := testapp.New(map[string]any{"@aws-cdk/core:failSynthOnValidationErrors": false})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	app = a
	// The app's own aspect, which rewrites wildcard IAM actions, was added
	// first and runs first: cdk-nag sees the policies as they are deployed.
	awscdk.Aspects_Of(app.App).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	assembly = app.Synth()
	templates = map[string]assertions.Template{}
	for _, id := range app.StackIDs() {
		// Template_FromStack reads the synthesis above; it does not run another.
		templates[id] = assertions.Template_FromStack(app.Stack(id), nil)
	}
	buildConstructStacks()

	code := m.Run()
	if !syntheses() && code == 0 {
		code = 1
	}
	// Printed by TestMain, so they show in `go test` without -v.
	for _, line := range summary {
		fmt.Print(line)
	}
	return code
}

// summary holds the lines tests record for the run's output: counts of
// suppressions, checked resources and the like.
var summary []string

// record adds a line to the run's summary (see summary).
func record(format string, args ...any) {
	summary = append(summary, fmt.Sprintf(format, args...))
}

// syntheses prints how often the package synthesized each stack, and
// reports false if a stack was synthesized more than once or the package ran
// more app syntheses than its budget.
func syntheses() bool {
	counts := testapp.StackSyntheses()
	apps := testapp.Syntheses.Load()
	ok := true
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if counts[k] != 1 {
			fmt.Printf("test: %s synthesized %d times; read the shared synthesis instead\n", k, counts[k])
			ok = false
		}
	}
	if apps > synthesisBudget {
		fmt.Printf("test: %d app syntheses exceed the budget of %d; share the synthesized app\n", apps, synthesisBudget)
		ok = false
	}
	if ok {
		fmt.Printf("test: %d stacks, each synthesized once, in %d app syntheses (budget %d)\n", len(counts), apps, synthesisBudget)
	}
	return ok
}

// template returns the template of a stack, failing the test if it is missing.
func template(t *testing.T, id string) assertions.Template {
	t.Helper()
	tpl, ok := templates[id]
	if !ok {
		t.Fatalf("stack %q not synthesized; have %v", id, app.StackIDs())
	}
	return tpl
}

// resources returns the resources of a type in a stack, keyed by logical ID.
func resources(t *testing.T, id, resourceType string) map[string]map[string]any {
	t.Helper()
	found := template(t, id).FindResources(jsii.String(resourceType), nil)
	out := map[string]map[string]any{}
	for k, v := range *found {
		out[k] = *v
	}
	return out
}

// check runs an assertions call that panics on mismatch and reports the
// mismatch as a test error instead of crashing the package.
func check(t *testing.T, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%v", r)
		}
	}()
	assertion()
}

// requirement is one row of a table of named requirements on a stack.
type requirement struct {
	name         string
	resourceType string
	props        any
}

// checkRequirements asserts each requirement on each of the given stacks.
func checkRequirements(t *testing.T, stackIDs []string, reqs []requirement) {
	t.Helper()
	for _, id := range stackIDs {
		t.Run(id, func(t *testing.T) { checkRequirementsOn(t, template(t, id), reqs) })
	}
}

// checkRequirementsOn asserts each requirement on a template, one subtest each.
func checkRequirementsOn(t *testing.T, tpl assertions.Template, reqs []requirement) {
	t.Helper()
	for _, r := range reqs {
		t.Run(r.name, func(t *testing.T) {
			check(t, func() { tpl.HasResourceProperties(jsii.String(r.resourceType), r.props) })
		})
	}
}

// allResources returns every resource of a stack's template, keyed by logical ID.
func allResources(t *testing.T, id string) map[string]map[string]any {
	t.Helper()
	return templateResources(t, template(t, id))
}

// templateResources returns every resource of a template, keyed by logical
// ID, failing the test if there is none.
func templateResources(t *testing.T, tpl assertions.Template) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for k, v := range asMap((*tpl.ToJSON())["Resources"]) {
		out[k] = asMap(v)
	}
	if len(out) == 0 {
		t.Fatalf("template has no resources")
	}
	return out
}

// logicalOf is the logical ID of a construct's L1 resource in its stack.
func logicalOf(c constructs.IConstruct) string {
	return *awscdk.Stack_Of(c).GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// obj matches an object holding at least these keys (assertions.Match_ObjectLike).
func obj(m map[string]any) assertions.Matcher { return assertions.Match_ObjectLike(&m) }

// arrayWith matches an array holding these items in this order, among others.
func arrayWith(items ...any) assertions.Matcher {
	return assertions.Match_ArrayWith(&items)
}
