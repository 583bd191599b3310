// Package test holds app-level assertion tests over the stacks that `cdk
// synth` produces with the checked-in cdk.json. The app is synthesized once
// for the whole package and shared.
package test

import (
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/testapp"
)

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
