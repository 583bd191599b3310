package rules

import (
	"fmt"
	"math"
)

// The rollback alarms' timing. CodeDeploy acts on alarms only while a
// deployment is in progress, so a deployment must stay open at least its
// alarms' detection time after production traffic first reaches the new
// version (see AlarmWindow.CheckTerminationWait).
const (
	// AlarmPeriodSeconds is one minute: ALB target-group metrics are published
	// every 60 s, so a shorter period only adds missing datapoints, and CDK's
	// five-minute default would outlast a five-minute canary.
	AlarmPeriodSeconds = 60
	// AlarmEvaluationPeriods is two: one bad minute can be a blip during a
	// task-set swap, two in a row is a bad release.
	AlarmEvaluationPeriods = 2
	// MetricDelaySeconds is how late ALB metrics typically arrive in CloudWatch
	// after the period they describe; an alarm cannot see a bad period before then.
	MetricDelaySeconds = 60
	// MaxTerminationWaitMinutes is the longest CodeDeploy keeps the original
	// task set after all traffic moved (two days).
	MaxTerminationWaitMinutes = 2880
)

// AlarmWindow is the timing of a rollback alarm: the length of its period
// and how many periods in a row must breach.
type AlarmWindow struct {
	PeriodSeconds     int
	EvaluationPeriods int
}

// DefaultAlarmWindow is AlarmEvaluationPeriods periods of AlarmPeriodSeconds.
func DefaultAlarmWindow() AlarmWindow {
	return AlarmWindow{PeriodSeconds: AlarmPeriodSeconds, EvaluationPeriods: AlarmEvaluationPeriods}
}

// DetectionSeconds is the longest a failing release serves traffic before
// the alarm is in ALARM and CodeDeploy starts the rollback: every period
// must breach, and the last one's datapoint arrives MetricDelaySeconds late.
func (w AlarmWindow) DetectionSeconds() int {
	return w.PeriodSeconds*w.EvaluationPeriods + MetricDelaySeconds
}

// String spells out DetectionSeconds: "2 x 60 s alarm periods + 60 s metric delay".
func (w AlarmWindow) String() string {
	return fmt.Sprintf("%d x %d s alarm periods + %d s metric delay", w.EvaluationPeriods, w.PeriodSeconds, MetricDelaySeconds)
}

// OpenSeconds is how long a deployment stays open after production traffic
// first reaches the new version: the rest of the shift, then the
// termination wait.
func OpenSeconds(shift TrafficShift, terminationWaitMinutes int) int {
	return int(math.Round(shift.MinutesToFull()*60)) + terminationWaitMinutes*60
}

// CheckTerminationWait applies the rule that a deployment must stay open at
// least the alarms' detection time after production traffic first reaches
// the new version, so that its alarms can still roll it back. It returns
// the shortest termination wait, in whole minutes, that keeps a deployment
// with this (valid) shift open that long, and whether terminationWaitMinutes
// reaches it.
func (w AlarmWindow) CheckTerminationWait(shift TrafficShift, terminationWaitMinutes int) (minimum int, ok bool) {
	short := w.DetectionSeconds() - OpenSeconds(shift, 0)
	if short > 0 {
		minimum = (short + 59) / 60
	}
	return minimum, terminationWaitMinutes >= minimum
}
