// Package test holds app-level assertion tests over the stacks that `cdk
// synth` produces with the checked-in cdk.json. The app is synthesized once
// for the whole package and shared.
package test

import (
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/testapp"
)

// synthesisBudget is the number of app syntheses this package may run: the
// shared app, one with a configured connection ARN, one for day-two changes.
const synthesisBudget = 3

var (
	// app is the app synthesized with cdk.json's defaults.
	app *testapp.App
	// templates maps each stack's construct ID to its template.
	templates map[string]assertions.Template
)

func TestMain(m *testing.M) {
	app = testapp.MustSynth(nil)
	templates = map[string]assertions.Template{}
	for _, id := range app.StackIDs() {
		templates[id] = assertions.Template_FromStack(app.Stack(id), nil)
	}
	code := m.Run()
	// Each stack is synthesized once for the whole package; the few tests
	// that need other configuration build one small app each.
	n := testapp.Syntheses.Load()
	fmt.Printf("test: %d app syntheses for %d stacks (budget %d)\n", n, len(templates), synthesisBudget)
	if n > synthesisBudget && code == 0 {
		fmt.Printf("test: %d syntheses exceed the budget of %d; share the synthesized app\n", n, synthesisBudget)
		code = 1
	}
	jsii.Close()
	os.Exit(code)
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
func resources(t *testing.T, id, resourceType string) map[string]map[string]interface{} {
	t.Helper()
	found := template(t, id).FindResources(jsii.String(resourceType), nil)
	out := map[string]map[string]interface{}{}
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
	props        interface{}
}

// checkRequirements asserts each requirement on each of the given stacks.
func checkRequirements(t *testing.T, stackIDs []string, reqs []requirement) {
	t.Helper()
	for _, id := range stackIDs {
		for _, r := range reqs {
			t.Run(id+"/"+r.name, func(t *testing.T) {
				tpl := template(t, id)
				check(t, func() { tpl.HasResourceProperties(jsii.String(r.resourceType), r.props) })
			})
		}
	}
}

// allResources returns every resource of a stack's template, keyed by logical ID.
func allResources(t *testing.T, id string) map[string]interface{} {
	t.Helper()
	tpl := *template(t, id).ToJSON()
	res, _ := tpl["Resources"].(map[string]interface{})
	return res
}
