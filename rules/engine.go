package rules

import (
	"fmt"
	"math"
)

// Engine is what carries out a blue/green release of the service.
type Engine string

const (
	// EngineCodeDeploy releases through CodeDeploy (deployment controller
	// CODE_DEPLOY): a deployment group, task sets and a deployment
	// configuration.
	EngineCodeDeploy Engine = "codedeploy"
	// EngineECS releases through Amazon ECS's own blue/green deployments
	// (deployment controller ECS): the service's deployment configuration
	// names a strategy, a bake time and lifecycle hooks.
	EngineECS Engine = "ecs"
)

// Engines lists the engines, the default (CodeDeploy) first.
func Engines() []Engine { return []Engine{EngineCodeDeploy, EngineECS} }

// Valid reports whether e is one of Engines.
func (e Engine) Valid() bool { return e == EngineCodeDeploy || e == EngineECS }

// The strategies of an ECS deployment configuration (DeploymentConfiguration
// strategy) that carry out a TrafficShift; see TrafficShift.ECSStrategy.
const (
	ECSStrategyBlueGreen = "BLUE_GREEN"
	ECSStrategyCanary    = "CANARY"
	ECSStrategyLinear    = "LINEAR"
)

// ECSStrategy is the ECS deployment strategy that carries out the shift:
// BLUE_GREEN moves all traffic at once, CANARY moves Percent (canaryPercent)
// and the rest after Minutes (canaryBakeTimeInMinutes), LINEAR moves Percent
// (stepPercent) every Minutes (stepBakeTimeInMinutes).
func (t TrafficShift) ECSStrategy() string {
	switch t.kind {
	case ShiftCanary:
		return ECSStrategyCanary
	case ShiftLinear:
		return ECSStrategyLinear
	}
	return ECSStrategyBlueGreen
}

// The limits Amazon ECS puts on a blue/green deployment (deployment
// controller ECS). Where the ECS API reference and the CDK L2 (aws-cdk-lib
// 2.276.0, aws-ecs/lib/base/base-service.js, validateCanaryConfiguration and
// validateLinearConfiguration) differ, the stricter applies.
const (
	// ECSMinCanaryPercent and ECSMaxShiftPercent bound canaryPercent: "multiples
	// of 0.1 from 0.1 to 100.0"
	// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html);
	// the L2 accepts the same range.
	ECSMinCanaryPercent = 0.1
	// ECSMinLinearPercent bounds stepPercent: "multiples of 0.1 from 3.0 to
	// 100.0"
	// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html);
	// the L2 accepts the same range.
	ECSMinLinearPercent = 3.0
	ECSMaxShiftPercent  = 100.0
	// ECSMaxShiftBakeMinutes bounds canaryBakeTimeInMinutes and
	// stepBakeTimeInMinutes: whole minutes from 0 to 1440 (24 hours), in the
	// API reference pages above and in the L2, which also refuses a part of
	// a minute.
	ECSMaxShiftBakeMinutes = 1440
	// ECSMaxDeploymentMinutes is the longest CloudFormation lets an ECS
	// deployment's configured time be (33 hours): it rejects a CANARY whose
	// BakeTimeInMinutes + CanaryBakeTimeInMinutes, and a LINEAR whose
	// BakeTimeInMinutes + StepBakeTimeInMinutes x its number of steps,
	// exceeds it, because its operations time out after 36 hours
	// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-canaryconfiguration.html,
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-linearconfiguration.html).
	// The same 36-hour timeout bounds a BLUE_GREEN deployment, whose only
	// configured time is BakeTimeInMinutes, so the limit applies to it too.
	// Neither the ECS API reference (API_DeploymentConfiguration) nor the
	// CloudFormation DeploymentConfiguration page
	// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-deploymentconfiguration.html)
	// gives bakeTimeInMinutes another range than a whole number of minutes,
	// and the L2 only converts bakeTime to whole minutes.
	ECSMaxDeploymentMinutes = 33 * 60
	// ECSMaxBakeMinutes bounds BakeTimeInMinutes itself: whole minutes from
	// 0 to 1440 in the CloudFormation registry schema of AWS::ECS::Service
	// (DeploymentConfiguration.BakeTimeInMinutes: minimum 0, maximum 1440),
	// the schema CloudFormation validates templates against and cfn-lint
	// bundles.
	ECSMaxBakeMinutes = 1440
)

// ecsMultipleOfTenth applies the L2's test of "a multiple of 0.1": percent
// x 10 must be a whole float64 (every tenth from 0.1 to 100 written in
// decimal passes it, so it agrees with the API's wording there).
func ecsMultipleOfTenth(percent float64) bool {
	x := percent * 10
	return !math.IsInf(x, 0) && !math.IsNaN(x) && x == math.Trunc(x)
}

// DeploymentSetting names the part of a release a DeploymentProblem is
// about, so that a caller can name its own key or prop.
type DeploymentSetting int

const (
	// SettingEngine is the engine itself.
	SettingEngine DeploymentSetting = iota
	// SettingShift is the traffic shift.
	SettingShift
	// SettingWait is the wait after all traffic moved: CodeDeploy's
	// termination wait, ECS's bake time (BakeTimeInMinutes).
	SettingWait
)

// DeploymentProblem is one thing an engine cannot carry out.
type DeploymentProblem struct {
	Setting DeploymentSetting
	Message string
}

func (p DeploymentProblem) Error() string { return p.Message }

// MaxWaitMinutes is the longest wait after all traffic moved that the
// engine accepts after this shift: CodeDeploy keeps the original task set up
// to MaxTerminationWaitMinutes; under ECS the bake time is at most
// ECSMaxBakeMinutes, and with the shift it must fit ECSMaxDeploymentMinutes. It is 0 for an unknown engine
// and for a shift that alone outlasts the ECS limit.
func (e Engine) MaxWaitMinutes(shift TrafficShift) int {
	switch e {
	case EngineCodeDeploy:
		return MaxTerminationWaitMinutes
	case EngineECS:
		return min(ECSMaxBakeMinutes, max(0, ECSMaxDeploymentMinutes-int(math.Ceil(shift.MinutesToFull()))))
	}
	return 0
}

// CheckDeployment reports everything about a release with this shift and
// this wait after all traffic moved (in minutes) that the engine cannot
// carry out, each problem marked with the setting it is about. The alarm
// rule (AlarmWindow.CheckTerminationWait) applies to both engines as well
// and is not repeated here.
func CheckDeployment(engine Engine, shift TrafficShift, waitMinutes int) []DeploymentProblem {
	var problems []DeploymentProblem
	add := func(s DeploymentSetting, format string, args ...any) {
		problems = append(problems, DeploymentProblem{Setting: s, Message: fmt.Sprintf(format, args...)})
	}
	switch engine {
	case EngineCodeDeploy:
		for _, err := range unwrapJoined(shift.Validate()) {
			add(SettingShift, "engine codedeploy: %v", err)
		}
		if waitMinutes < 0 || waitMinutes > MaxTerminationWaitMinutes {
			add(SettingWait, "engine codedeploy keeps the original task set 0 to %d minutes after all traffic moved, not %d", MaxTerminationWaitMinutes, waitMinutes)
		}
	case EngineECS:
		shiftOK := true
		switch shift.Kind() {
		case ShiftCanary, ShiftLinear:
			name, lowest := "canaryPercent", ECSMinCanaryPercent
			bake := "canaryBakeTimeInMinutes"
			if shift.Kind() == ShiftLinear {
				name, lowest, bake = "stepPercent", ECSMinLinearPercent, "stepBakeTimeInMinutes"
			}
			if p := shift.Percent(); !ecsMultipleOfTenth(p) || p < lowest || p > ECSMaxShiftPercent {
				add(SettingShift, "engine ecs: %s: the percentage (%s) must be a multiple of 0.1 from %v to %v", shift, name, lowest, ECSMaxShiftPercent)
				shiftOK = false
			}
			if m := shift.Minutes(); !whole(m) || m < 0 || m > ECSMaxShiftBakeMinutes {
				add(SettingShift, "engine ecs: %s: the interval (%s) must be a whole number of minutes from 0 to %d", shift, bake, ECSMaxShiftBakeMinutes)
				shiftOK = false
			}
		}
		limit := engine.MaxWaitMinutes(shift)
		switch {
		case waitMinutes < 0:
			add(SettingWait, "engine ecs: the bake time (BakeTimeInMinutes) must be a whole number of minutes from 0 to %d, not %d", limit, waitMinutes)
		case !shiftOK:
			// The shift's own problems are reported; its length means nothing.
		case shift.MinutesToFull() > ECSMaxDeploymentMinutes:
			add(SettingShift, "engine ecs: %s takes %v minutes; CloudFormation rejects an ECS deployment configured to take over %d minutes (33 hours)",
				shift, shift.MinutesToFull(), ECSMaxDeploymentMinutes)
		case waitMinutes > limit && limit == ECSMaxBakeMinutes:
			add(SettingWait, "engine ecs: the bake time (BakeTimeInMinutes) must be from 0 to %d minutes (one day), not %d", limit, waitMinutes)
		case waitMinutes > limit:
			add(SettingWait, "engine ecs: after %s (%v minutes) the bake time (BakeTimeInMinutes) must be from 0 to %d minutes, not %d: CloudFormation rejects an ECS deployment configured to take over %d minutes (33 hours)",
				shift, shift.MinutesToFull(), limit, waitMinutes, ECSMaxDeploymentMinutes)
		}
	default:
		add(SettingEngine, "engine %q: must be one of %s", string(engine), describeEngines())
	}
	return problems
}

func describeEngines() string {
	s := ""
	for i, e := range Engines() {
		if i > 0 {
			s += ", "
		}
		s += string(e)
	}
	return s
}

// unwrapJoined lists the errors errors.Join put together.
func unwrapJoined(err error) []error {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

// The pre-traffic check's timing. The check requests each of its paths
// (the health-check path and every smoke check) a number of times, each
// request bounded by PreTrafficRequestSeconds, and needs
// PreTrafficOverheadSeconds beyond them to start and to report; a Lambda
// function runs at most LambdaMaxTimeoutSeconds.
const (
	PreTrafficRequestSeconds  = 3
	PreTrafficOverheadSeconds = 30
	// LambdaMaxTimeoutSeconds is the longest timeout Lambda allows a
	// function (15 minutes).
	LambdaMaxTimeoutSeconds = 900
	// ECSHookTimeoutMinutes is how long Amazon ECS waits for a lifecycle hook
	// unless its timeoutConfiguration says otherwise: 1440 (24 hours), in a
	// range of 1 to 20160
	// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookTimeoutConfiguration.html).
	// It is far longer than a Lambda function can run, so LambdaMaxTimeoutSeconds
	// is the limit that binds under both engines.
	ECSHookTimeoutMinutes = 1440
)

// PreTrafficWorstCaseSeconds is how long the pre-traffic check runs when
// every request times out: paths paths requested requests times each.
func PreTrafficWorstCaseSeconds(paths, requests int) int {
	return paths*requests*PreTrafficRequestSeconds + PreTrafficOverheadSeconds
}

// HookLimitSeconds is the longest the pre-traffic check may run under the
// engine: a Lambda function's longest timeout, and under ECS also the hook
// timeout ECS waits for (ECSHookTimeoutMinutes), whichever is shorter. It is
// 0 for an unknown engine.
func (e Engine) HookLimitSeconds() int {
	switch e {
	case EngineCodeDeploy:
		return LambdaMaxTimeoutSeconds
	case EngineECS:
		return min(LambdaMaxTimeoutSeconds, ECSHookTimeoutMinutes*60)
	}
	return 0
}

// MaxPreTrafficRequests is the most requests per path that keep the
// pre-traffic check's worst case within the engine's hook limit for this
// many paths; 0 when not even one request fits.
func (e Engine) MaxPreTrafficRequests(paths int) int {
	if paths < 1 {
		return 0
	}
	return max(0, (e.HookLimitSeconds()-PreTrafficOverheadSeconds)/(paths*PreTrafficRequestSeconds))
}
