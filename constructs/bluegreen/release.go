package bluegreen

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/nagsuppress"
	"ecs-bluegreen/internal/trust"
	"ecs-bluegreen/rules"
)

// The Service interface and ServiceProps describe a blue/green release
// without naming what shifts the traffic: two target groups behind a
// production and a test listener, rollback alarms, a pre-traffic check
// function and a TrafficShift. The engine that carries a release out sits
// behind Release, so that a second engine (such as ECS's native blue/green)
// can be added without changing what the construct exposes.

// Engine names what moves production traffic from the running version to a
// new one: the domain's own type (rules.Engine), so that the configuration
// and the construct check a release against one set of limits.
type Engine = rules.Engine

// EngineCodeDeploy is a CodeDeploy ECS deployment group: the service runs
// under the CODE_DEPLOY deployment controller, and each release is a
// CodeDeploy deployment that runs the pre-traffic check at
// AfterAllowTestTraffic and rolls back on failure, stop or alarm.
const EngineCodeDeploy = rules.EngineCodeDeploy

// EngineEcs is ECS's own blue/green deployment: the service runs under the
// ECS deployment controller with the BLUE_GREEN, CANARY or LINEAR strategy,
// and each release is a CloudFormation update of the stack's image
// parameter alone (EcsRelease), which registers a task definition revision
// and starts an ECS deployment; ECS runs the pre-traffic check as its
// POST_TEST_TRAFFIC_SHIFT lifecycle hook and rolls back on a failed hook,
// on the circuit breaker or on alarm, and CloudFormation fails the update.
const EngineEcs = rules.EngineECS

// Release is how new versions reach a Service. Each engine has an
// interface of its own (CodeDeployRelease) with what a pipeline needs to
// start a release; the delivery pipeline has one deploy path per engine
// (constructs/delivery/engine.go) and refuses an engine it has none for.
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

// EcsRelease is a Release carried out by ECS. CloudFormation is the one
// writer of the task definition and the service: `cdk deploy` changes the
// infrastructure and keeps the parameter's previous value (the image that
// runs), and a release changes the parameter alone on the stack's current
// template, so that neither undoes the other.
type EcsRelease interface {
	Release
	// ImageParameter holds the image the service runs. Its default is the
	// placeholder image, which only the stack's creation uses.
	ImageParameter() awscdk.CfnParameter
	// Stack is the stack a release updates.
	Stack() awscdk.Stack
	// ReleaseTimeout bounds a release, from the stack update to the end of
	// the bake time: the pre-traffic check at its slowest, the traffic
	// shift and the bake time, plus releaseMarginMinutes for the tasks to
	// start and pass their health checks, and for a rollback.
	ReleaseTimeout() awscdk.Duration
}

// releaseMarginMinutes is the part of ReleaseTimeout for what the
// configuration does not time: tasks starting, image pulls, health checks,
// and ECS's rollback.
const releaseMarginMinutes = 60

type ecsRelease struct {
	parameter awscdk.CfnParameter
	timeout   awscdk.Duration
}

func (r *ecsRelease) Engine() Engine                      { return EngineEcs }
func (r *ecsRelease) ImageParameter() awscdk.CfnParameter { return r.parameter }
func (r *ecsRelease) Stack() awscdk.Stack                 { return awscdk.Stack_Of(r.parameter) }
func (r *ecsRelease) ReleaseTimeout() awscdk.Duration     { return r.timeout }

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
// passed the pre-traffic check: all at once, in two steps (canary) or in
// equal steps (linear). Create one with AllAtOnce, Canary or Linear. It is
// the domain's own type (rules.TrafficShift), so that the configuration and
// the release-time tool read a shift the way the construct deploys it.
type TrafficShift = rules.TrafficShift

// AllAtOnce moves all production traffic in one step.
func AllAtOnce() *TrafficShift { return shift(rules.AllAtOnce()) }

// Canary moves percent of production traffic, then the rest after minutes.
func Canary(percent, minutes float64) *TrafficShift { return shift(rules.Canary(percent, minutes)) }

// Linear moves percent of production traffic every minutes until all of it
// has moved.
func Linear(percent, minutes float64) *TrafficShift { return shift(rules.Linear(percent, minutes)) }

func shift(t TrafficShift) *TrafficShift { return &t }

// codeDeployConfig is the CodeDeploy deployment configuration of a valid
// shift: the one CodeDeploy predefines where it has one, else a new one in
// scope.
func codeDeployConfig(scope constructs.Construct, t TrafficShift, name *string) codedeploy.IEcsDeploymentConfig {
	id := jsii.String("DeploymentConfig")
	if predefined, ok := t.CodeDeployPredefinedName(); ok {
		return codedeploy.EcsDeploymentConfig_FromEcsDeploymentConfigName(scope, id, jsii.String(predefined))
	}
	var routing codedeploy.TrafficRouting
	interval := awscdk.Duration_Minutes(jsii.Number(t.Minutes()))
	switch t.Kind() {
	case rules.ShiftCanary:
		routing = codedeploy.TrafficRouting_TimeBasedCanary(&codedeploy.TimeBasedCanaryTrafficRoutingProps{
			Percentage: jsii.Number(t.Percent()), Interval: interval,
		})
	case rules.ShiftLinear:
		routing = codedeploy.TrafficRouting_TimeBasedLinear(&codedeploy.TimeBasedLinearTrafficRoutingProps{
			Percentage: jsii.Number(t.Percent()), Interval: interval,
		})
	default:
		routing = codedeploy.TrafficRouting_AllAtOnce()
	}
	return codedeploy.NewEcsDeploymentConfig(scope, id, &codedeploy.EcsDeploymentConfigProps{DeploymentConfigName: name, TrafficRouting: routing})
}

// buildDeployment creates the CodeDeploy application and deployment group
// that carry out each release, rolling back on failure, stop or alarm.
func (s *service) buildDeployment(r resolved, name func(string) *string) {
	this := s.Construct
	application := codedeploy.NewEcsApplication(this, jsii.String("Application"), &codedeploy.EcsApplicationProps{
		ApplicationName: name(""),
	})
	dg := codedeploy.NewEcsDeploymentGroup(this, jsii.String("DeploymentGroup"), &codedeploy.EcsDeploymentGroupProps{
		Application:         application,
		DeploymentGroupName: name(""),
		Service:             s.svc,
		DeploymentConfig:    codeDeployConfig(this, r.shift, name("")),
		BlueGreenDeploymentConfig: &codedeploy.EcsBlueGreenDeploymentConfig{
			Listener:            s.prodListener,
			TestListener:        s.testListener,
			BlueTargetGroup:     s.blue,
			GreenTargetGroup:    s.green,
			TerminationWaitTime: r.terminationWait,
		},
		Alarms: alarmRefs(s.alarms),
		AutoRollback: &codedeploy.AutoRollbackConfig{
			FailedDeployment:  jsii.Bool(true),
			StoppedDeployment: jsii.Bool(true),
			DeploymentInAlarm: jsii.Bool(true),
		},
	})
	s.release = &codeDeployRelease{application: application, deploymentGroup: dg}
	s.deploymentGroup = dg
	s.deployRole = dg.Role()
	// CodeDeploy's confused-deputy conditions (CodeDeploy user guide,
	// "Cross-service confused deputy prevention"): this account, and the
	// deployment groups of this application.
	trust.Restrict(dg.Role(), awscdk.Stack_Of(this).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("codedeploy"), Resource: jsii.String("deploymentgroup"),
		ResourceName: jsii.String(r.prefix + "/*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	}))
	nagsuppress.Add(dg.Role(), nagsuppress.Rule{
		ID: "AwsSolutions-IAM4",
		Reason: "AWSCodeDeployRoleForECS is the policy AWS documents for CodeDeploy's ECS blue/green service role and maintains as the service changes; " +
			"an inline copy could not be verified without an account and a missing action fails a deployment mid-traffic-shift. Invoking the validation function is granted separately",
		AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS"},
	})
}

// alarmRefs lists alarms as the references a deployment group takes.
func alarmRefs(alarms []awscloudwatch.IAlarm) *[]interfacesawscloudwatch.IAlarmRef {
	refs := make([]interfacesawscloudwatch.IAlarmRef, len(alarms))
	for i, a := range alarms {
		refs[i] = a
	}
	return &refs
}
