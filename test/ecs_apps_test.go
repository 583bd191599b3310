package test

import (
	"sync"
	"testing"
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

var (
	ecsOnce       sync.Once
	ecsSyntheses  map[string]*checkedSynthesis
	ecsSynthError error
)

// ecsApp returns the ECS synthesis named which ("ecs" or "mixed").
func ecsApp(t *testing.T, which string) *checkedSynthesis {
	t.Helper()
	ecsOnce.Do(func() {
		ecsSyntheses = map[string]*checkedSynthesis{}
		for name, overrides := range ecsOverrides {
			s, err := synthesizeChecked(overrides)
			if err != nil {
				ecsSynthError = err
				return
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
