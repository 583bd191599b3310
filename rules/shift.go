package rules

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// ShiftKind is the shape of a traffic shift.
type ShiftKind int

const (
	// ShiftAllAtOnce moves all production traffic in one step.
	ShiftAllAtOnce ShiftKind = iota
	// ShiftCanary moves a percentage, then the rest after an interval.
	ShiftCanary
	// ShiftLinear moves a percentage every interval until all of it has moved.
	ShiftLinear
)

// MaxShiftMinutes is the longest interval CodeDeploy accepts between the
// steps of a canary or linear shift (two days).
const MaxShiftMinutes = 2880

// TrafficShift is how production traffic moves to a new version once it has
// passed the pre-traffic check: all at once, in two steps (canary) or in
// equal steps (linear). Create one with AllAtOnce, Canary or Linear; the zero
// value is all at once. Two shifts are equal (==) when they move traffic the
// same way.
type TrafficShift struct {
	kind    ShiftKind
	percent float64
	minutes float64
}

// AllAtOnce moves all production traffic in one step.
func AllAtOnce() TrafficShift { return TrafficShift{} }

// Canary moves percent of production traffic, then the rest after minutes.
func Canary(percent, minutes float64) TrafficShift {
	return TrafficShift{kind: ShiftCanary, percent: percent, minutes: minutes}
}

// Linear moves percent of production traffic every minutes until all of it
// has moved.
func Linear(percent, minutes float64) TrafficShift {
	return TrafficShift{kind: ShiftLinear, percent: percent, minutes: minutes}
}

// Kind is the shape of the shift.
func (t TrafficShift) Kind() ShiftKind { return t.kind }

// Percent is the share of production traffic the first step moves: 100 for
// all at once.
func (t TrafficShift) Percent() float64 {
	if t.kind == ShiftAllAtOnce {
		return 100
	}
	return t.percent
}

// Minutes is the interval between steps: 0 for all at once.
func (t TrafficShift) Minutes() float64 {
	if t.kind == ShiftAllAtOnce {
		return 0
	}
	return t.minutes
}

// MinutesToFull is the time from the first step of the shift to the last:
// a linear shift's first step moves traffic at once and its last one
// whatever is left.
func (t TrafficShift) MinutesToFull() float64 {
	switch t.kind {
	case ShiftCanary:
		return t.minutes
	case ShiftLinear:
		return (math.Ceil(100/t.percent) - 1) * t.minutes
	}
	return 0
}

func (t TrafficShift) String() string {
	switch t.kind {
	case ShiftCanary:
		return fmt.Sprintf("canary %v%%, the rest after %v minutes", t.percent, t.minutes)
	case ShiftLinear:
		return fmt.Sprintf("linear %v%% every %v minutes", t.percent, t.minutes)
	}
	return "all at once"
}

// Validate reports every part of the shift CodeDeploy would refuse: it
// accepts whole percentages from 1 to 99 and whole minutes from 1 to
// MaxShiftMinutes.
func (t TrafficShift) Validate() error {
	if t.kind == ShiftAllAtOnce {
		return nil
	}
	var problems []error
	if !whole(t.percent) || t.percent < 1 || t.percent > 99 {
		problems = append(problems, fmt.Errorf("%s: the percentage must be a whole number from 1 to 99", t))
	}
	if !whole(t.minutes) || t.minutes < 1 || t.minutes > MaxShiftMinutes {
		problems = append(problems, fmt.Errorf("%s: the interval must be a whole number of minutes from 1 to %d", t, MaxShiftMinutes))
	}
	return errors.Join(problems...)
}

func whole(v float64) bool { return v == math.Trunc(v) && !math.IsInf(v, 0) }

// codeDeployPredefined lists the deployment configurations CodeDeploy
// predefines for ECS, by name (CodeDeploy user guide, "Predefined deployment
// configurations for an Amazon ECS compute platform").
var codeDeployPredefined = []struct {
	name  string
	shift TrafficShift
}{
	{"CodeDeployDefault.ECSAllAtOnce", AllAtOnce()},
	{"CodeDeployDefault.ECSCanary10Percent5Minutes", Canary(10, 5)},
	{"CodeDeployDefault.ECSCanary10Percent15Minutes", Canary(10, 15)},
	{"CodeDeployDefault.ECSLinear10PercentEvery1Minutes", Linear(10, 1)},
	{"CodeDeployDefault.ECSLinear10PercentEvery3Minutes", Linear(10, 3)},
}

// CodeDeployPredefinedName is the name of the deployment configuration
// CodeDeploy predefines for this shift, if it has one; any other shift
// needs a configuration of its own.
func (t TrafficShift) CodeDeployPredefinedName() (string, bool) {
	for _, p := range codeDeployPredefined {
		if p.shift == t {
			return p.name, true
		}
	}
	return "", false
}

// CodeDeployPredefined is the shift of the deployment configuration that
// CodeDeploy predefines for ECS under name, if there is one.
func CodeDeployPredefined(name string) (TrafficShift, bool) {
	for _, p := range codeDeployPredefined {
		if p.name == name {
			return p.shift, true
		}
	}
	return TrafficShift{}, false
}

// CodeDeployPredefinedNames lists the names of CodeDeploy's predefined ECS
// deployment configurations, sorted.
func CodeDeployPredefinedNames() []string {
	names := make([]string, len(codeDeployPredefined))
	for i, p := range codeDeployPredefined {
		names[i] = p.name
	}
	sort.Strings(names)
	return names
}
