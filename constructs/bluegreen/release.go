package bluegreen

import (
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The Service interface and ServiceProps describe a blue/green release
// without naming what shifts the traffic: two target groups behind a
// production and a test listener, rollback alarms, a pre-traffic validation
// function and a TrafficShift. The engine that carries a release out sits
// behind Release, so that a second engine (such as ECS's native blue/green)
// can be added without changing what the construct exposes.

// Engine names what moves production traffic from the running version to a
// new one.
type Engine string

// EngineCodeDeploy is a CodeDeploy ECS deployment group: the service runs
// under the CODE_DEPLOY deployment controller, and each release is a
// CodeDeploy deployment that runs the pre-traffic validation at
// AfterAllowTestTraffic and rolls back on failure, stop or alarm.
const EngineCodeDeploy Engine = "CodeDeploy"

// Release is how new versions reach a Service. A pipeline type-switches on
// the engine's own interface (CodeDeployRelease) for what it needs to start
// a release, and refuses an engine it does not support.
type Release interface {
	// Engine names the engine.
	Engine() Engine
}

// CodeDeployRelease is a Release carried out by CodeDeploy.
type CodeDeployRelease interface {
	Release
	Application() codedeploy.IEcsApplication
	DeploymentGroup() codedeploy.IEcsDeploymentGroup
}

type codeDeployRelease struct {
	application     codedeploy.IEcsApplication
	deploymentGroup codedeploy.IEcsDeploymentGroup
}

func (r *codeDeployRelease) Engine() Engine                          { return EngineCodeDeploy }
func (r *codeDeployRelease) Application() codedeploy.IEcsApplication { return r.application }
func (r *codeDeployRelease) DeploymentGroup() codedeploy.IEcsDeploymentGroup {
	return r.deploymentGroup
}

// TrafficShift is how production traffic moves to a new version once it has
// passed the pre-traffic validation: all at once, in two steps (canary) or in
// equal steps (linear). Create one with AllAtOnce, Canary or Linear.
type TrafficShift struct {
	kind    shiftKind
	percent float64
	minutes float64
}

type shiftKind int

const (
	allAtOnce shiftKind = iota
	canary
	linear
)

// AllAtOnce moves all production traffic in one step.
func AllAtOnce() *TrafficShift { return &TrafficShift{kind: allAtOnce, percent: 100} }

// Canary moves percent of production traffic, then the rest after minutes.
func Canary(percent, minutes float64) *TrafficShift {
	return &TrafficShift{kind: canary, percent: percent, minutes: minutes}
}

// Linear moves percent of production traffic every minutes until all of it
// has moved.
func Linear(percent, minutes float64) *TrafficShift {
	return &TrafficShift{kind: linear, percent: percent, minutes: minutes}
}

// MinutesToFull is the time from the first step of the shift to the last.
func (t *TrafficShift) MinutesToFull() float64 {
	switch t.kind {
	case canary:
		return t.minutes
	case linear:
		return (math.Ceil(100/t.percent) - 1) * t.minutes
	}
	return 0
}

func (t *TrafficShift) String() string {
	switch t.kind {
	case canary:
		return fmt.Sprintf("canary %v%%, the rest after %v minutes", t.percent, t.minutes)
	case linear:
		return fmt.Sprintf("linear %v%% every %v minutes", t.percent, t.minutes)
	}
	return "all at once"
}

// validate reports a shift CodeDeploy cannot carry out: whole percentages
// from 1 to 99 and whole minutes from 1 to 2880 (two days).
func (t *TrafficShift) validate() error {
	if t.kind == allAtOnce {
		return nil
	}
	if t.percent != math.Trunc(t.percent) || t.percent < 1 || t.percent > 99 {
		return fmt.Errorf("bluegreen: TrafficShift %s: the percentage must be a whole number from 1 to 99", t)
	}
	if t.minutes != math.Trunc(t.minutes) || t.minutes < 1 || t.minutes > 2880 {
		return fmt.Errorf("bluegreen: TrafficShift %s: the interval must be a whole number of minutes from 1 to 2880", t)
	}
	return nil
}

// codeDeployPredefined names the deployment configurations CodeDeploy
// predefines for ECS; any other shift gets a configuration of its own.
var codeDeployPredefined = map[TrafficShift]string{
	{kind: allAtOnce, percent: 100}:          "CodeDeployDefault.ECSAllAtOnce",
	{kind: canary, percent: 10, minutes: 5}:  "CodeDeployDefault.ECSCanary10Percent5Minutes",
	{kind: canary, percent: 10, minutes: 15}: "CodeDeployDefault.ECSCanary10Percent15Minutes",
	{kind: linear, percent: 10, minutes: 1}:  "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
	{kind: linear, percent: 10, minutes: 3}:  "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
}

// CodeDeployPredefinedName is the name of the deployment configuration
// CodeDeploy predefines for this shift, if it has one.
func (t *TrafficShift) CodeDeployPredefinedName() (string, bool) {
	name, ok := codeDeployPredefined[*t]
	return name, ok
}

// codeDeployConfig is the CodeDeploy deployment configuration of the shift:
// a predefined one where CodeDeploy has it, else a new one in scope.
func (t *TrafficShift) codeDeployConfig(scope constructs.Construct, name *string) codedeploy.IEcsDeploymentConfig {
	id := jsii.String("DeploymentConfig")
	if name, ok := t.CodeDeployPredefinedName(); ok {
		return codedeploy.EcsDeploymentConfig_FromEcsDeploymentConfigName(scope, id, jsii.String(name))
	}
	var routing codedeploy.TrafficRouting
	interval := awscdk.Duration_Minutes(jsii.Number(t.minutes))
	if t.kind == canary {
		routing = codedeploy.TrafficRouting_TimeBasedCanary(&codedeploy.TimeBasedCanaryTrafficRoutingProps{
			Percentage: jsii.Number(t.percent), Interval: interval,
		})
	} else {
		routing = codedeploy.TrafficRouting_TimeBasedLinear(&codedeploy.TimeBasedLinearTrafficRoutingProps{
			Percentage: jsii.Number(t.percent), Interval: interval,
		})
	}
	return codedeploy.NewEcsDeploymentConfig(scope, id, &codedeploy.EcsDeploymentConfigProps{DeploymentConfigName: name, TrafficRouting: routing})
}
