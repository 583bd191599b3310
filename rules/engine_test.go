package rules

import (
	"strconv"
	"strings"
	"testing"
)

// TestEngines proves the engine names, the default first, and which
// strings are engines.
func TestEngines(t *testing.T) {
	if got := Engines(); len(got) != 2 || got[0] != "codedeploy" || got[1] != "ecs" || EngineCodeDeploy != "codedeploy" || EngineECS != "ecs" {
		t.Errorf("Engines = %v, want [codedeploy ecs]", got)
	}
	for _, e := range []Engine{"", "CodeDeploy", "ECS", "fargate"} {
		if e.Valid() {
			t.Errorf("%q is not an engine", e)
		}
	}
}

// TestECSStrategy proves the ECS strategy that carries out each shape of
// shift.
func TestECSStrategy(t *testing.T) {
	for shift, want := range map[TrafficShift]string{
		AllAtOnce():    "BLUE_GREEN",
		{}:             "BLUE_GREEN",
		Canary(10, 5):  "CANARY",
		Linear(10, 3):  "LINEAR",
		Canary(100, 0): "CANARY",
	} {
		if got := shift.ECSStrategy(); got != want {
			t.Errorf("%s: ECSStrategy = %q, want %q", shift, got, want)
		}
	}
}

// TestCheckDeployment has one row per limit of each engine, each asserting
// the setting and the message, at and past each edge, and proves that every
// problem of one release is reported at once.
func TestCheckDeployment(t *testing.T) {
	type want struct {
		setting DeploymentSetting
		text    string
	}
	const (
		canaryPercent = "the percentage (canaryPercent) must be a multiple of 0.1 from 0.1 to 100"
		linearPercent = "the percentage (stepPercent) must be a multiple of 0.1 from 3 to 100"
		canaryBake    = "the interval (canaryBakeTimeInMinutes) must be a whole number of minutes from 0 to 1440"
		linearBake    = "the interval (stepBakeTimeInMinutes) must be a whole number of minutes from 0 to 1440"
	)
	rows := []struct {
		name   string
		engine Engine
		shift  TrafficShift
		wait   int
		want   []want
	}{
		// CodeDeploy: the shift's own rules and the termination wait.
		{"codedeploy predefined canary", EngineCodeDeploy, Canary(10, 5), 2880, nil},
		{"codedeploy wait over two days", EngineCodeDeploy, AllAtOnce(), 2881, []want{{SettingWait, "engine codedeploy keeps the original task set 0 to 2880 minutes after all traffic moved, not 2881"}}},
		{"codedeploy negative wait", EngineCodeDeploy, AllAtOnce(), -1, []want{{SettingWait, "not -1"}}},
		{"codedeploy canary of 100%", EngineCodeDeploy, Canary(100, 5), 0, []want{{SettingShift, "engine codedeploy: canary 100%, the rest after 5 minutes: the percentage must be a whole number from 1 to 99"}}},
		{"codedeploy interval 0", EngineCodeDeploy, Linear(10, 0), 0, []want{{SettingShift, "the interval must be a whole number of minutes from 1 to 2880"}}},

		// ECS: what CodeDeploy refuses, ECS may carry out.
		{"ecs blue/green at one day", EngineECS, AllAtOnce(), 1440, nil},
		// The registry schema's maximum of BakeTimeInMinutes.
		{"ecs blue/green bake over a day", EngineECS, AllAtOnce(), 1441, []want{{SettingWait,
			"engine ecs: the bake time (BakeTimeInMinutes) must be from 0 to 1440 minutes (one day), not 1441"}}},
		{"ecs smallest canary, no bake", EngineECS, Canary(0.1, 0), 0, nil},
		{"ecs canary of 100%, longest bake", EngineECS, Canary(100, 1440), 540, nil},
		{"ecs smallest linear step", EngineECS, Linear(3, 60), 0, nil},
		{"ecs linear in tenths", EngineECS, Linear(12.5, 1), 0, nil},
		{"ecs canary percentage below 0.1", EngineECS, Canary(0.05, 5), 0, []want{{SettingShift, "engine ecs: canary 0.05%, the rest after 5 minutes: " + canaryPercent}}},
		{"ecs canary percentage over 100", EngineECS, Canary(100.1, 5), 0, []want{{SettingShift, canaryPercent}}},
		{"ecs canary percentage not in tenths", EngineECS, Canary(10.25, 5), 0, []want{{SettingShift, canaryPercent}}},
		{"ecs canary percentage a hundredth off a tenth", EngineECS, Canary(0.31, 5), 0, []want{{SettingShift, canaryPercent}}},
		{"ecs linear step below 3%", EngineECS, Linear(2.9, 1), 0, []want{{SettingShift, "engine ecs: linear 2.9% every 1 minutes: " + linearPercent}}},
		{"ecs canary bake over a day", EngineECS, Canary(10, 1441), 0, []want{{SettingShift, canaryBake}}},
		{"ecs canary bake in part of a minute", EngineECS, Canary(10, 1.5), 0, []want{{SettingShift, canaryBake}}},
		{"ecs linear bake over a day", EngineECS, Linear(50, 1441), 0, []want{{SettingShift, linearBake}}},
		{"ecs negative bake time", EngineECS, AllAtOnce(), -1, []want{{SettingWait, "engine ecs: the bake time (BakeTimeInMinutes) must be a whole number of minutes from 0 to 1440, not -1"}}},
		// CloudFormation's 33 hours: the bake time plus the shift's minutes.
		{"ecs canary and bake over 33 hours", EngineECS, Canary(10, 1440), 541, []want{{SettingWait, "must be from 0 to 540 minutes, not 541"}}},
		// 4% steps: 24 bakes of 60 minutes.
		{"ecs linear and bake at 33 hours", EngineECS, Linear(4, 60), 540, nil},
		{"ecs linear and bake over 33 hours", EngineECS, Linear(4, 60), 541, []want{{SettingWait, "must be from 0 to 540 minutes, not 541"}}},
		// 3% steps: 33 bakes of a day, 47520 minutes alone.
		{"ecs linear alone over 33 hours", EngineECS, Linear(3, 1440), 0, []want{{SettingShift,
			"engine ecs: linear 3% every 1440 minutes takes 47520 minutes; CloudFormation rejects an ECS deployment configured to take over 1980 minutes (33 hours)"}}},
		{"ecs every problem at once", EngineECS, Linear(1, 2000), -5, []want{{SettingShift, linearPercent}, {SettingShift, linearBake}, {SettingWait, "not -5"}}},

		{"unknown engine", Engine("fargate"), AllAtOnce(), 0, []want{{SettingEngine, `engine "fargate": must be one of codedeploy, ecs`}}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got := CheckDeployment(r.engine, r.shift, r.wait)
			if len(got) != len(r.want) {
				t.Fatalf("CheckDeployment = %q, want %d problems", got, len(r.want))
			}
			for i, w := range r.want {
				if got[i].Setting != w.setting || !strings.Contains(got[i].Error(), w.text) {
					t.Errorf("problem %d = %d %q, want %d containing %q", i, got[i].Setting, got[i], w.setting, w.text)
				}
			}
		})
	}
	// Every tenth ECS documents, as a decimal number, passes the L2's test.
	for i := 1; i <= 1000; i++ {
		p, err := strconv.ParseFloat(strconv.FormatFloat(float64(i)/10, 'f', 1, 64), 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := CheckDeployment(EngineECS, Canary(p, 1), 0); len(got) != 0 {
			t.Errorf("canary %v%%: %q", p, got)
		}
		if got := CheckDeployment(EngineECS, Linear(p, 0), 0); (len(got) == 0) != (i >= 30) {
			t.Errorf("linear %v%%: %q", p, got)
		}
	}
	if got := EngineECS.MaxWaitMinutes(Linear(3, 1440)); got != 0 {
		t.Errorf("MaxWaitMinutes after a shift over 33 hours = %d, want 0", got)
	}
	if got := Engine("").MaxWaitMinutes(AllAtOnce()); got != 0 {
		t.Errorf("MaxWaitMinutes of no engine = %d, want 0", got)
	}
}

// TestPreTrafficHook proves the pre-traffic check's worst case and the
// limit that binds it under each engine: Lambda's 900 s, shorter than the
// hook timeout ECS waits for.
func TestPreTrafficHook(t *testing.T) {
	if got := PreTrafficWorstCaseSeconds(1, 5); got != 45 {
		t.Errorf("5 requests to one path: %d s, want 45", got)
	}
	if got := PreTrafficWorstCaseSeconds(10, 29); got != 900 {
		t.Errorf("29 requests to ten paths: %d s, want 900", got)
	}
	for _, e := range Engines() {
		if got := e.HookLimitSeconds(); got != 900 {
			t.Errorf("%s: HookLimitSeconds = %d, want 900", e, got)
		}
		for paths, want := range map[int]int{1: 290, 6: 48, 10: 29, 290: 1, 291: 0, 0: 0} {
			if got := e.MaxPreTrafficRequests(paths); got != want {
				t.Errorf("%s: MaxPreTrafficRequests(%d) = %d, want %d", e, paths, got, want)
			}
			if n := e.MaxPreTrafficRequests(paths); n > 0 && (PreTrafficWorstCaseSeconds(paths, n) > 900 || PreTrafficWorstCaseSeconds(paths, n+1) <= 900) {
				t.Errorf("%s: %d requests to %d paths is not the most that fit", e, n, paths)
			}
		}
	}
	if ECSHookTimeoutMinutes*60 <= LambdaMaxTimeoutSeconds {
		t.Error("ECS's hook timeout binds: HookLimitSeconds(ecs) must follow it")
	}
	if got := Engine("x").HookLimitSeconds(); got != 0 {
		t.Errorf("HookLimitSeconds of no engine = %d, want 0", got)
	}
}
