package config_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"ecs-bluegreen/config"
	"ecs-bluegreen/rules"
)

// smokeChecks is a smokeChecks value with n entries, as cdk.json gives it.
func smokeChecks(n int) []any {
	checks := make([]any, n)
	for i := range checks {
		checks[i] = map[string]any{"path": fmt.Sprintf("/check/%d", i), "status": 200.0}
	}
	return checks
}

// The engine is codedeploy unless set; ecs is accepted with the shifts and
// waits it can carry out, up to its limits, and the pre-traffic check may
// take up to Lambda's limit exactly.
func TestLoadEngine(t *testing.T) {
	rows := []struct {
		name  string
		ctx   fakeContext
		check func(c *config.Config) (got, want any)
	}{
		{"codedeploy by default", fakeContext{},
			func(c *config.Config) (any, any) {
				return [2]rules.Engine{c.Staging.Engine, c.Production.Engine}, [2]rules.Engine{rules.EngineCodeDeploy, rules.EngineCodeDeploy}
			}},
		{"ecs as a -c string with spaces, codedeploy set explicitly", fakeContext{"staging.engine": " ecs ", "production.engine": "codedeploy"},
			func(c *config.Config) (any, any) {
				return [2]rules.Engine{c.Staging.Engine, c.Production.Engine}, [2]rules.Engine{rules.EngineECS, rules.EngineCodeDeploy}
			}},
		{"every predefined shift under ecs with its defaults", fakeContext{"staging.engine": "ecs", "production.engine": "ecs"},
			func(c *config.Config) (any, any) {
				return c.Production.DeploymentConfig, "CodeDeployDefault.ECSCanary10Percent5Minutes"
			}},
		{"ecs bake time at one day with all at once", fakeContext{"staging.engine": "ecs", "staging.terminationWaitMinutes": 1440.0},
			func(c *config.Config) (any, any) { return c.Staging.TerminationWaitMinutes, 1440 }},
		{"ecs bake time at one day with a 5-minute canary", fakeContext{"production.engine": "ecs", "production.terminationWaitMinutes": "1440"},
			func(c *config.Config) (any, any) { return c.Production.TerminationWaitMinutes, 1440 }},
		{"ecs bake time at one day with a 27-minute linear shift", fakeContext{"production.engine": "ecs",
			"production.deploymentConfig": "CodeDeployDefault.ECSLinear10PercentEvery3Minutes", "production.terminationWaitMinutes": 1440.0},
			func(c *config.Config) (any, any) { return c.Production.TerminationWaitMinutes, 1440 }},
		{"ecs canary with no bake time", fakeContext{"production.engine": "ecs", "production.terminationWaitMinutes": 0.0},
			func(c *config.Config) (any, any) { return c.Production.TerminationWaitMinutes, 0 }},
		// 29 requests x 10 paths x 3 s + 30 s = 900 s.
		{"pre-traffic check exactly at Lambda's limit", fakeContext{"staging.smokeRequests": 29.0, "staging.smokeChecks": smokeChecks(9),
			"production.engine": "ecs", "production.smokeRequests": 29.0, "production.smokeChecks": smokeChecks(9)},
			func(c *config.Config) (any, any) {
				return [2]int{len(c.Staging.SmokeChecks), len(c.Production.SmokeChecks)}, [2]int{9, 9}
			}},
		{"most smoke requests with four smoke checks", fakeContext{"staging.smokeRequests": 50.0, "staging.smokeChecks": smokeChecks(4)},
			func(c *config.Config) (any, any) { return c.Staging.SmokeRequests, 50 }},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			noAmbientCredentials(t)
			got, want := row.check(mustLoad(t, row.ctx))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// The engine's problems, in both environments and alongside others, are
// reported together, each under its own key; an unknown engine is reported
// alone for its environment.
func TestLoadReportsEngineProblemsAtOnce(t *testing.T) {
	noAmbientCredentials(t)
	_, err := config.Load(fakeContext{
		"staging.engine":                    "fargate",
		"staging.terminationWaitMinutes":    5000.0,
		"production.engine":                 "ecs",
		"production.terminationWaitMinutes": 2000.0,
		"production.smokeRequests":          50.0,
		"production.smokeChecks":            smokeChecks(5),
		"production.removalPolicy":          "snapshot",
	})
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want *config.Error, got %T: %v", err, err)
	}
	want := []string{
		`staging.engine = "fargate": must be one of codedeploy, ecs`,
		"staging.terminationWaitMinutes = 5000: must be between 0 and 2880",
		"production.terminationWaitMinutes = 2000: with CodeDeployDefault.ECSCanary10Percent5Minutes engine ecs: ",
		"production.removalPolicy = ",
		"production.smokeRequests = 50: with 6 paths",
	}
	if len(cfgErr.Problems) != len(want) {
		t.Errorf("want %d problems, got %d:\n%v", len(want), len(cfgErr.Problems), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), "  - "+w) {
			t.Errorf("message does not list %q:\n%s", w, err)
		}
	}
}
