package test

import (
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"ecs-bluegreen/test/testapp"
)

// The ECS syntheses, shared by every test that needs the ecs engine:
//
//   - "ecs": both environments on ecs, staging with a linear shift and
//     production with a canary, so that each ECS strategy with steps is
//     synthesized;
//   - "mixed": staging on ecs (all at once: BLUE_GREEN), production on
//     codedeploy, as cdk.json has it otherwise.
//
// Both carry cdk-nag's AwsSolutions checks, as the main synthesis does.
var ecsOverrides = map[string]map[string]any{
	"ecs": {
		"staging.engine":              "ecs",
		"production.engine":           "ecs",
		"staging.deploymentConfig":    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
		"production.deploymentConfig": "CodeDeployDefault.ECSCanary10Percent5Minutes",
	},
	"mixed": {
		"staging.engine": "ecs",
		// The health keys outside the migrated environment: Chatbot and
		// an alarm e-mail (test/health_test.go).
		"slackWorkspaceId":      "T0123ABCD",
		"slackChannelId":        "C0123ABCD",
		"production.alarmEmail": "oncall@example.com",
	},
}

// ecsSynthesis is one of the ECS syntheses.
type ecsSynthesis struct {
	app       *testapp.App
	assembly  cxapi.CloudAssembly
	templates map[string]assertions.Template
}

var (
	ecsOnce       sync.Once
	ecsSyntheses  map[string]*ecsSynthesis
	ecsSynthError error
)

// ecsApp returns the ECS synthesis named which ("ecs" or "mixed").
func ecsApp(t *testing.T, which string) *ecsSynthesis {
	t.Helper()
	ecsOnce.Do(func() {
		ecsSyntheses = map[string]*ecsSynthesis{}
		for name, overrides := range ecsOverrides {
			ctx := map[string]any{"@aws-cdk/core:failSynthOnValidationErrors": false}
			for k, v := range overrides {
				ctx[k] = v
			}
			a, err := testapp.New(ctx)
			if err != nil {
				ecsSynthError = err
				return
			}
			awscdk.Aspects_Of(a.App).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
			s := &ecsSynthesis{app: a, assembly: a.Synth(), templates: map[string]assertions.Template{}}
			for _, id := range a.StackIDs() {
				s.templates[id] = assertions.Template_FromStack(a.Stack(id), nil)
			}
			ecsSyntheses[name] = s
		}
	})
	if ecsSynthError != nil {
		t.Fatalf("ECS synthesis: %v", ecsSynthError)
	}
	s, ok := ecsSyntheses[which]
	if !ok {
		t.Fatalf("no ECS synthesis %q", which)
	}
	return s
}

// template is a stack's template in the synthesis.
func (s *ecsSynthesis) template(t *testing.T, id string) assertions.Template {
	t.Helper()
	tpl, ok := s.templates[id]
	if !ok {
		t.Fatalf("stack %q not synthesized; have %v", id, s.app.StackIDs())
	}
	return tpl
}

// resources are a stack's resources of one type, by logical ID.
func (s *ecsSynthesis) resources(t *testing.T, id, resourceType string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for k, v := range templateResources(t, s.template(t, id)) {
		if v["Type"] == resourceType {
			out[k] = v
		}
	}
	return out
}
