package rules

import (
	"strings"
	"testing"
)

// TestCodeDeployPredefined proves the table of CodeDeploy's predefined ECS
// deployment configurations: each name is the shift CodeDeploy carries out
// under it, takes the minutes CodeDeploy documents, and deploys under that
// very name again; nothing else is predefined.
func TestCodeDeployPredefined(t *testing.T) {
	rows := []struct {
		name          string
		shift         TrafficShift
		minutesToFull float64
	}{
		{"CodeDeployDefault.ECSAllAtOnce", AllAtOnce(), 0},
		{"CodeDeployDefault.ECSCanary10Percent5Minutes", Canary(10, 5), 5},
		{"CodeDeployDefault.ECSCanary10Percent15Minutes", Canary(10, 15), 15},
		{"CodeDeployDefault.ECSLinear10PercentEvery1Minutes", Linear(10, 1), 9},
		{"CodeDeployDefault.ECSLinear10PercentEvery3Minutes", Linear(10, 3), 27},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			shift, ok := CodeDeployPredefined(r.name)
			if !ok || shift != r.shift {
				t.Fatalf("CodeDeployPredefined = %v, %v; want %v", shift, ok, r.shift)
			}
			if got := shift.MinutesToFull(); got != r.minutesToFull {
				t.Errorf("%s takes %v minutes, want %v", shift, got, r.minutesToFull)
			}
			if name, ok := shift.CodeDeployPredefinedName(); !ok || name != r.name {
				t.Errorf("%s deploys as %q, %v", shift, name, ok)
			}
			if err := shift.Validate(); err != nil {
				t.Errorf("a predefined shift is invalid: %v", err)
			}
		})
	}
	names := CodeDeployPredefinedNames()
	if len(names) != len(rows) {
		t.Errorf("%d predefined names, want %d: %v", len(names), len(rows), names)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("names not sorted: %v", names)
		}
	}
	for _, other := range []TrafficShift{Canary(20, 5), Linear(20, 2), Canary(10, 6)} {
		if name, ok := other.CodeDeployPredefinedName(); ok {
			t.Errorf("%s: CodeDeploy predefines no such shift, got %q", other, name)
		}
	}
	if _, ok := CodeDeployPredefined("CodeDeployDefault.ECSBlueGreen"); ok {
		t.Error("an unknown name is predefined")
	}
}

// TestTrafficShift proves what each shift means: its steps, how long it
// takes to move all traffic, and how it reads; the zero value is all at once.
func TestTrafficShift(t *testing.T) {
	rows := []struct {
		shift            TrafficShift
		kind             ShiftKind
		percent, minutes float64
		minutesToFull    float64
		text             string
	}{
		{AllAtOnce(), ShiftAllAtOnce, 100, 0, 0, "all at once"},
		{TrafficShift{}, ShiftAllAtOnce, 100, 0, 0, "all at once"},
		{Canary(10, 15), ShiftCanary, 10, 15, 15, "canary 10%, the rest after 15 minutes"},
		{Linear(10, 3), ShiftLinear, 10, 3, 27, "linear 10% every 3 minutes"},
		// 20% steps: 20, 40, 60, 80, 100, four waits.
		{Linear(20, 2), ShiftLinear, 20, 2, 8, "linear 20% every 2 minutes"},
		// 30% steps: 30, 60, 90, then the last 10%.
		{Linear(30, 1), ShiftLinear, 30, 1, 3, "linear 30% every 1 minutes"},
		{Linear(99, 7), ShiftLinear, 99, 7, 7, "linear 99% every 7 minutes"},
	}
	for _, r := range rows {
		t.Run(r.text, func(t *testing.T) {
			s := r.shift
			if s.Kind() != r.kind || s.Percent() != r.percent || s.Minutes() != r.minutes {
				t.Errorf("kind, percent, minutes = %v, %v, %v; want %v, %v, %v", s.Kind(), s.Percent(), s.Minutes(), r.kind, r.percent, r.minutes)
			}
			if got := s.MinutesToFull(); got != r.minutesToFull {
				t.Errorf("MinutesToFull = %v, want %v", got, r.minutesToFull)
			}
			if got := s.String(); got != r.text {
				t.Errorf("String = %q, want %q", got, r.text)
			}
		})
	}
}

// TestTrafficShiftValidate has one row per rule of what CodeDeploy accepts
// (whole percentages 1 to 99, whole minutes 1 to 2880), each asserting the
// message, and proves that both problems of one shift are reported at once.
func TestTrafficShiftValidate(t *testing.T) {
	const percent, interval = "the percentage must be a whole number from 1 to 99", "the interval must be a whole number of minutes from 1 to 2880"
	rows := []struct {
		name  string
		shift TrafficShift
		want  []string
	}{
		{"all at once", AllAtOnce(), nil},
		{"smallest canary", Canary(1, 1), nil},
		{"largest linear", Linear(99, 2880), nil},
		{"percentage 0", Canary(0, 5), []string{"canary 0%, the rest after 5 minutes: " + percent}},
		{"percentage 100", Linear(100, 1), []string{"linear 100% every 1 minutes: " + percent}},
		{"fraction of a percent", Canary(12.5, 5), []string{percent}},
		{"interval 0", Linear(10, 0), []string{interval}},
		{"interval over two days", Canary(10, 2881), []string{interval}},
		{"fraction of a minute", Canary(10, 1.5), []string{"canary 10%, the rest after 1.5 minutes: " + interval}},
		{"both at once", Linear(0, 0), []string{percent, interval}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			err := r.shift.Validate()
			if len(r.want) == 0 {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", r.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(r.want) {
				t.Errorf("%d problems, want %d: %v", len(lines), len(r.want), err)
			}
			for _, w := range r.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestCheckTerminationWait proves the alarm-window rule: a deployment stays
// open at least the alarms' detection time after production traffic first
// reaches the new version, and the minimum termination wait is the shortest
// that keeps it open that long.
func TestCheckTerminationWait(t *testing.T) {
	rows := []struct {
		name    string
		window  AlarmWindow
		shift   TrafficShift
		wait    int
		minimum int
		ok      bool
	}{
		// 2 x 60 s + 60 s = 180 s.
		{"all at once, exactly the detection time", DefaultAlarmWindow(), AllAtOnce(), 3, 3, true},
		{"all at once, a minute short", DefaultAlarmWindow(), AllAtOnce(), 2, 3, false},
		{"a 1-minute canary counts its interval", DefaultAlarmWindow(), Canary(10, 1), 1, 2, false},
		{"a 1-minute canary with two minutes' wait", DefaultAlarmWindow(), Canary(10, 1), 2, 2, true},
		{"a 5-minute canary needs no wait", DefaultAlarmWindow(), Canary(10, 5), 0, 0, true},
		{"a linear shift counts every step", DefaultAlarmWindow(), Linear(50, 2), 1, 1, true},
		// 2 x 300 s + 60 s = 660 s: 11 minutes.
		{"five-minute periods", AlarmWindow{PeriodSeconds: 300, EvaluationPeriods: 2}, AllAtOnce(), 10, 11, false},
		// 3 x 10 s + 60 s = 90 s: a part of a minute rounds up.
		{"ten-second periods", AlarmWindow{PeriodSeconds: 10, EvaluationPeriods: 3}, AllAtOnce(), 1, 2, false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			minimum, ok := r.window.CheckTerminationWait(r.shift, r.wait)
			if minimum != r.minimum || ok != r.ok {
				t.Errorf("CheckTerminationWait(%s, %d) with %s = %d, %v; want %d, %v", r.shift, r.wait, r.window, minimum, ok, r.minimum, r.ok)
			}
			if open := OpenSeconds(r.shift, r.wait); (open >= r.window.DetectionSeconds()) != r.ok {
				t.Errorf("open %d s, detection %d s, but ok = %v", open, r.window.DetectionSeconds(), r.ok)
			}
		})
	}
	if d := DefaultAlarmWindow(); d.DetectionSeconds() != 180 || d.String() != "2 x 60 s alarm periods + 60 s metric delay" {
		t.Errorf("default alarm window %s: %d s, want 180 s", d, d.DetectionSeconds())
	}
}

// TestFargateSizes proves the task sizes Fargate accepts and how they read
// in a message.
func TestFargateSizes(t *testing.T) {
	rows := []struct {
		cpu, memory int
		ok          bool
	}{
		{256, 512, true}, {256, 2048, true}, {256, 4096, false}, {256, 768, false},
		// The largest size of each CPU, and the next step above it.
		{512, 4096, true}, {512, 5120, false}, {1024, 8192, true}, {1024, 9216, false}, {2048, 16384, true}, {2048, 17408, false},
		{4096, 30720, true}, {4096, 31744, false}, {4096, 30721, false},
		{8192, 16384, true}, {8192, 18432, false}, {16384, 122880, true}, {16384, 131072, false},
		{300, 512, false}, {32768, 65536, false},
	}
	for _, r := range rows {
		if got := FargateAccepts(r.cpu, r.memory); got != r.ok {
			t.Errorf("FargateAccepts(%d, %d) = %v, want %v", r.cpu, r.memory, got, r.ok)
		}
	}
	if got, want := DescribeFargateCpus(), "256, 512, 1024, 2048, 4096, 8192 or 16384"; got != want {
		t.Errorf("DescribeFargateCpus = %q, want %q", got, want)
	}
	for cpu, want := range map[int]string{256: "512, 1024, 2048", 512: "1024 to 4096 in steps of 1024", 8192: "16384 to 61440 in steps of 4096"} {
		if got := DescribeFargateMemory(cpu); got != want {
			t.Errorf("DescribeFargateMemory(%d) = %q, want %q", cpu, got, want)
		}
	}
	if mem, ok := FargateMemory(256); !ok || len(mem) != 3 || mem[0] != 512 {
		t.Errorf("FargateMemory(256) = %v, %v", mem, ok)
	}
	if _, ok := FargateMemory(300); ok {
		t.Error("FargateMemory(300) reports a CPU Fargate does not offer")
	}
	// The caller's copy does not change the table.
	mem, _ := FargateMemory(256)
	mem[0] = 1
	if !FargateAccepts(256, 512) {
		t.Error("changing FargateMemory's result changed the table")
	}
}

// TestNameLimit proves the 32-character limit and that the green target
// group's name is the one it bounds.
func TestNameLimit(t *testing.T) {
	for _, r := range []struct {
		prefix string
		fits   bool
	}{
		{strings.Repeat("a", 26), true},
		{strings.Repeat("a", 27), false},
		{"webapp-stg-dev", true},
	} {
		name := LongestName(r.prefix)
		if name != r.prefix+"-green" {
			t.Errorf("LongestName(%q) = %q", r.prefix, name)
		}
		if got := FitsNameLimit(name); got != r.fits {
			t.Errorf("FitsNameLimit(%q) (%d characters) = %v, want %v", name, len(name), got, r.fits)
		}
	}
}
