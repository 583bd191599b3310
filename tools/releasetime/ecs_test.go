package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestECSDeployment derives an ECS service's shift and bake time from its
// DeploymentConfiguration; a strategy the tool does not know, or a
// configuration it needs and does not find, is an error naming the service.
func TestECSDeployment(t *testing.T) {
	for _, c := range []struct {
		name, config string
		label        string
		shift, bake  int
		err          string
	}{
		{name: "blue/green moves all at once, then bakes", config: `{"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 5}`,
			label: "BLUE_GREEN", shift: 0, bake: 300},
		// One canary bake of 5 minutes between the two shifts.
		{name: "canary", config: `{"Strategy": "CANARY", "BakeTimeInMinutes": 10, "CanaryConfiguration": {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 5}}`,
			label: "CANARY 10% +5m", shift: 300, bake: 600},
		{name: "canary of a tenth of a percent", config: `{"Strategy": "CANARY", "BakeTimeInMinutes": 0, "CanaryConfiguration": {"CanaryPercent": 0.1, "CanaryBakeTimeInMinutes": 1}}`,
			label: "CANARY 0.1% +1m", shift: 60, bake: 0},
		// 30, 60, 90, 100: four steps, a 4-minute bake after each but the last.
		{name: "linear, a step percent that does not divide 100", config: `{"Strategy": "LINEAR", "BakeTimeInMinutes": 15, "LinearConfiguration": {"StepPercent": 30, "StepBakeTimeInMinutes": 4}}`,
			label: "LINEAR 30% every 4m", shift: 720, bake: 900},
		// 10 steps, 9 bakes of 3 minutes.
		{name: "linear, a step percent that divides 100", config: `{"Strategy": "LINEAR", "BakeTimeInMinutes": 1, "LinearConfiguration": {"StepPercent": 10, "StepBakeTimeInMinutes": 3}}`,
			label: "LINEAR 10% every 3m", shift: 1620, bake: 60},
		// 12.5% divides 100: 8 steps, 7 bakes of 2 minutes.
		{name: "linear, a fractional step", config: `{"Strategy": "LINEAR", "BakeTimeInMinutes": 1, "LinearConfiguration": {"StepPercent": 12.5, "StepBakeTimeInMinutes": 2}}`,
			label: "LINEAR 12.5% every 2m", shift: 840, bake: 60},
		// 100/3.3 = 30.3: 31 steps, 30 bakes of 1 minute.
		{name: "linear, the smallest step", config: `{"Strategy": "LINEAR", "BakeTimeInMinutes": 0, "LinearConfiguration": {"StepPercent": 3.3, "StepBakeTimeInMinutes": 1}}`,
			label: "LINEAR 3.3% every 1m", shift: 1800, bake: 0},
		{name: "linear, one step", config: `{"Strategy": "LINEAR", "BakeTimeInMinutes": 2, "LinearConfiguration": {"StepPercent": 100, "StepBakeTimeInMinutes": 9}}`,
			label: "LINEAR 100% every 9m", shift: 0, bake: 120},
		{name: "numbers written as strings", config: `{"Strategy": "CANARY", "BakeTimeInMinutes": "3", "CanaryConfiguration": {"CanaryPercent": "20", "CanaryBakeTimeInMinutes": "7"}}`,
			label: "CANARY 20% +7m", shift: 420, bake: 180},

		{name: "unknown strategy", config: `{"Strategy": "EXPONENTIAL", "BakeTimeInMinutes": 5}`,
			err: "ECS service S: deployment strategy EXPONENTIAL is not BLUE_GREEN, CANARY or LINEAR"},
		{name: "rolling", config: `{"Strategy": "ROLLING", "BakeTimeInMinutes": 5}`,
			err: "ECS service S: deployment strategy ROLLING is not BLUE_GREEN, CANARY or LINEAR"},
		{name: "no strategy", config: `{"BakeTimeInMinutes": 5}`,
			err: "ECS service S: DeploymentConfiguration.Strategy is not set"},
		{name: "canary without its configuration", config: `{"Strategy": "CANARY", "BakeTimeInMinutes": 5}`,
			err: "ECS service S: strategy CANARY needs DeploymentConfiguration.CanaryConfiguration"},
		{name: "linear without its configuration", config: `{"Strategy": "LINEAR", "BakeTimeInMinutes": 5}`,
			err: "ECS service S: strategy LINEAR needs DeploymentConfiguration.LinearConfiguration"},
		{name: "canary without its bake time", config: `{"Strategy": "CANARY", "BakeTimeInMinutes": 5, "CanaryConfiguration": {"CanaryPercent": 10}}`,
			err: "ECS service S: CanaryConfiguration.CanaryBakeTimeInMinutes is not set"},
		{name: "linear without its step", config: `{"Strategy": "LINEAR", "BakeTimeInMinutes": 5, "LinearConfiguration": {"StepBakeTimeInMinutes": 1}}`,
			err: "ECS service S: LinearConfiguration.StepPercent is not set"},
		{name: "no bake time", config: `{"Strategy": "BLUE_GREEN"}`,
			err: "ECS service S: DeploymentConfiguration.BakeTimeInMinutes is not set"},
		{name: "linear step too small", config: `{"Strategy": "LINEAR", "BakeTimeInMinutes": 5, "LinearConfiguration": {"StepPercent": 2.9, "StepBakeTimeInMinutes": 1}}`,
			err: "ECS service S: LinearConfiguration.StepPercent is 2.9, not a multiple of 0.1 from 3 to 100"},
		{name: "canary percent finer than a tenth", config: `{"Strategy": "CANARY", "BakeTimeInMinutes": 5, "CanaryConfiguration": {"CanaryPercent": 10.05, "CanaryBakeTimeInMinutes": 1}}`,
			err: "CanaryConfiguration.CanaryPercent is 10.05, not a multiple of 0.1 from 0.1 to 100"},
		{name: "bake time beyond a day", config: `{"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 1441}`,
			err: "DeploymentConfiguration.BakeTimeInMinutes is 1441, not whole minutes from 0 to 1440"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var config map[string]any
			if err := json.Unmarshal([]byte(c.config), &config); err != nil {
				t.Fatal(err)
			}
			got, err := ecsDeployment("S", config)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil || got.label != c.label || got.shift != c.shift || got.bake != c.bake {
				t.Errorf("got %+v, %v; want %q, shift %d s, bake %d s", got, err, c.label, c.shift, c.bake)
			}
		})
	}
}

// TestReadECSFixture reads testdata/ecs: both environments released by ECS,
// staging by a canary, production linearly.
func TestReadECSFixture(t *testing.T) {
	envs, order, err := read("testdata/ecs")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "staging,production" {
		t.Fatalf("order = %v, want staging, production", order)
	}
	for _, c := range []struct {
		name                               string
		config                             string
		healthy, shift, wait, detect, hook int
	}{
		// staging: the blue target group's 3 x 10 s beats the green one's
		// 5 x 5 s; the canary's 5 minutes is the shift, the 10-minute bake
		// time the wait. Of the two alarms named (one by Ref, one by its
		// literal AlarmName) the slowest is 3 x 60 s + 60 s delay = 240 s;
		// the unnamed CPU alarm (5 x 300 s) is not a rollback alarm. The hook
		// is the function the POST_TEST_TRAFFIC_SHIFT hook runs (60 s), not
		// the 900 s custom-resource handler.
		{name: "staging", config: "CANARY 10% +5m", healthy: 30, shift: 300, wait: 600, detect: 240, hook: 60},
		// production: 2 x 10 s healthy; 30% steps reach 100% in
		// ceil(100/30) = 4 steps with a 4-minute bake after the first three:
		// 3 x 240 s = 720 s; bake 15 minutes; 2 x 60 s + 60 s = 180 s.
		{name: "production", config: "LINEAR 30% every 4m", healthy: 20, shift: 720, wait: 900, detect: 180, hook: 45},
	} {
		e := envs[c.name]
		if e == nil {
			t.Fatalf("no %s environment", c.name)
		}
		if e.engine != engineECS || e.deploymentConfig != c.config || e.healthy != c.healthy || e.shift != c.shift ||
			e.terminationWait != c.wait || e.alarms.DetectionSeconds() != c.detect || e.hookTimeout != c.hook {
			t.Errorf("%s = %+v, want %+v", c.name, *e, c)
		}
	}
	// To 100%: staging's deploy step is healthy + shift + bake =
	// 30 + 300 + 600 = 930 s; production's is done at 100%, 20 + 720 =
	// 740 s; 930 + 740 = 1670 s = 27m50s.
	var out bytes.Buffer
	report(&out, "testdata/ecs", envs, order)
	if want := "Minimum time from build finished to 100% production traffic: 27m50s (1670 s)"; !strings.Contains(out.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, out.String())
	}
}

// TestReportMixedFixture prints testdata/mixed: staging released by ECS
// blue/green, production by CodeDeploy, in one table.
//
//	staging: healthy 2 x 10 s = 20 s, all at once (shift 0), bake 5 min =
//	  300 s; its deploy step takes 20 + 0 + 300 = 320 s. Alarm 2 x 60 s +
//	  60 s = 3m00s; the hook function's timeout 45 s.
//	production: healthy 20 s; CodeDeployDefault.ECSLinear10PercentEvery1Minutes
//	  moves 10% a minute: 10 steps, 9 minutes = 540 s; to 100% 560 s =
//	  9m20s; its 600 s termination wait comes after 100% and does not count.
//	  Of the group's two alarms the green one is slower: 3 x 60 s + 60 s =
//	  4m00s.
//	total: 320 + 560 = 880 s = 14m40s.
func TestReportMixedFixture(t *testing.T) {
	envs, order, err := read("testdata/mixed")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	report(&out, "testdata/mixed", envs, order)
	want := `Release timing from the templates in testdata/mixed (container start and image pull not included)

environment engine     deployment configuration                           healthy    shift     wait    to 100%  bad release
staging     ECS        BLUE_GREEN                                             20s       0s     300s     0m20s        3m00s
production  CodeDeploy CodeDeployDefault.ECSLinear10PercentEvery1Minutes      20s     540s     600s     9m20s        4m00s
(wait: CodeDeploy's termination wait or ECS's bake time; an environment's deploy step ends after it)

Minimum time from build finished to 100% production traffic: 14m40s (880 s), with an immediate approval
Longest a failing release serves staging traffic before rollback starts: 3m00s (2 x 60 s alarm periods + 60 s metric delay)
  (a release that fails the pre-traffic smoke test serves no staging traffic; the hook may take up to 0m45s)
Longest a failing release serves production traffic before rollback starts: 4m00s (3 x 60 s alarm periods + 60 s metric delay)
  (a release that fails the pre-traffic smoke test serves no production traffic; the hook may take up to 0m45s)
`
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestReadECSErrors: what the tool cannot time is an error naming the
// resource, read from a whole template.
func TestReadECSErrors(t *testing.T) {
	service := func(config string) string {
		return `{"Resources": {
  "Svc": {"Type": "AWS::ECS::Service", "Properties": {"DeploymentController": {"Type": "ECS"},
    "Tags": [{"Key": "Environment", "Value": "staging"}], "DeploymentConfiguration": ` + config + `}},
  "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "a", "Period": 60, "EvaluationPeriods": 2}},
  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 30}}}}`
	}
	alarms := `"Alarms": {"AlarmNames": [{"Ref": "A"}], "Enable": true, "Rollback": true}`
	for _, c := range []struct{ name, template, err string }{
		{"unknown strategy", service(`{"Strategy": "ALL_AT_ONCE", "BakeTimeInMinutes": 5, ` + alarms + `}`),
			"ECS service Svc: deployment strategy ALL_AT_ONCE is not BLUE_GREEN, CANARY or LINEAR"},
		{"missing linear configuration", service(`{"Strategy": "LINEAR", "BakeTimeInMinutes": 5, ` + alarms + `}`),
			"ECS service Svc: strategy LINEAR needs DeploymentConfiguration.LinearConfiguration"},
		{"no rollback alarms", service(`{"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 5}`),
			"ECS service Svc: DeploymentConfiguration.Alarms must name alarms with Enable and Rollback true"},
		{"alarms without rollback", service(`{"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 5, "Alarms": {"AlarmNames": ["a"], "Enable": true, "Rollback": false}}`),
			"ECS service Svc: DeploymentConfiguration.Alarms must name alarms with Enable and Rollback true"},
		{"an alarm not in the template", service(`{"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 5, "Alarms": {"AlarmNames": ["a", "elsewhere"], "Enable": true, "Rollback": true}}`),
			`ECS service Svc: rollback alarm "elsewhere" is not an AWS::CloudWatch::Alarm in the template`},
		{"a hook target that is not a function", service(`{"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 5, ` + alarms + `,
			"LifecycleHooks": [{"HookTargetArn": {"Fn::GetAtt": ["A", "Arn"]}, "LifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]}`),
			"ECS service Svc: lifecycle hook target A is not a Lambda function in the template"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "Staging.template.json"), []byte(c.template), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := read(dir)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want one containing %q", err, c.err)
			}
		})
	}

	// A hook that runs once production traffic moves does not keep a
	// failing release from serving it: no pre-traffic claim.
	dir := t.TempDir()
	body := service(`{"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 5, ` + alarms + `,
		"LifecycleHooks": [{"HookTargetArn": {"Fn::GetAtt": ["Fn", "Arn"]}, "LifecycleStages": ["POST_PRODUCTION_TRAFFIC_SHIFT"]}]}`)
	if err := os.WriteFile(filepath.Join(dir, "Staging.template.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	envs, _, err := read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h := envs["staging"].hookTimeout; h != 0 {
		t.Errorf("hook timeout %d s for a post-production hook, want none", h)
	}
}
