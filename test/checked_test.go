package test

import (
	"maps"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"ecs-bluegreen/test/testapp"
)

// checkedSynthesis is an app built with other configuration than cdk.json's
// and synthesized once with cdk-nag's AwsSolutions checks, shared by every
// test that reads it (the ECS, domain, day-two and three-account syntheses).
type checkedSynthesis struct {
	app       *testapp.App
	assembly  cxapi.CloudAssembly
	templates map[string]assertions.Template
}

// synthesizeChecked builds the app with cdk.json's context plus overrides
// and synthesizes it with cdk-nag. CDK's own CloudFormation validation runs
// in `cdk synth` (make test), so its findings do not fail this synthesis.
func synthesizeChecked(overrides map[string]any) (*checkedSynthesis, error) {
	ctx := map[string]any{"@aws-cdk/core:failSynthOnValidationErrors": false}
	maps.Copy(ctx, overrides)
	a, err := testapp.New(ctx)
	if err != nil {
		return nil, err
	}
	awscdk.Aspects_Of(a.App).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	s := &checkedSynthesis{app: a, assembly: a.Synth(), templates: map[string]assertions.Template{}}
	for _, id := range a.StackIDs() {
		s.templates[id] = assertions.Template_FromStack(a.Stack(id), nil)
	}
	return s, nil
}

// template is a stack's template in the synthesis.
func (s *checkedSynthesis) template(t *testing.T, id string) assertions.Template {
	t.Helper()
	tpl, ok := s.templates[id]
	if !ok {
		t.Fatalf("stack %q not synthesized; have %v", id, s.app.StackIDs())
	}
	return tpl
}

// resources are a stack's resources of one type, by logical ID.
func (s *checkedSynthesis) resources(t *testing.T, id, resourceType string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for k, v := range templateResources(t, s.template(t, id)) {
		if v["Type"] == resourceType {
			out[k] = v
		}
	}
	return out
}

// requireNagClean fails on any unsuppressed AwsSolutions error or warning,
// and on any other error or warning annotation, in each stack.
func (s *checkedSynthesis) requireNagClean(t *testing.T) {
	t.Helper()
	for _, id := range s.app.StackIDs() {
		t.Run(id, func(t *testing.T) {
			for _, f := range findings(s.assembly.GetStackArtifact(jsii.String(id)).Messages()) {
				if f.level == annotationLevels["aws:cdk:error"] || f.level == annotationLevels["aws:cdk:warning"] {
					t.Errorf("%s %s: %s", f.level, f.path, f.message)
				}
			}
		})
	}
}
