package bluegreen

import (
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/nagsuppress"
	"ecs-bluegreen/rules"
)

// The ECS engine. ECS moves traffic by rewriting the weights of listener
// rules, so under it the production and test routes are rules that forward
// to both target groups, and ECS changes them through an infrastructure
// role scoped to these listeners, rules and target groups. The listeners
// themselves are the ones CodeDeploy uses, default actions included (a rule
// for every path leaves them nothing to answer): ECS documents no support
// for listeners that mix forward and other actions, and an environment
// that moves from CodeDeploy to ECS keeps its listeners unchanged. A release is a CloudFormation
// update of the image parameter alone: the task definition names the image
// by the parameter, and the service names the task definition by its ARN,
// so the update registers a revision and starts an ECS deployment, which
// CloudFormation waits for and fails on when ECS rolls back.

// ImageParameterDescription describes the image parameter in the template.
const ImageParameterDescription = "Image the service runs. Releases set it; cdk deploy keeps its previous value. The default is the placeholder, used only when the stack is created."

// routeRulePriority is the priority of the production and test routes: the
// only rule of each listener.
const routeRulePriority = 1

// ecsRoute gives a listener the rule ECS rewrites: every path, forwarded to
// the blue target group (weight 1) and the green one (weight 0), the
// weights the ECS developer guide gives the primary and alternate groups
// ("Migrating CodeDeploy blue/green deployments to Amazon ECS blue/green
// deployments"). They are what CloudFormation created; after each release
// ECS owns them, and a stack update that changed this rule would put them
// back, sending traffic to a target group that may have no tasks
// (aws/aws-cdk#36649): the day-two test keeps it unchanged under every
// safe key.
func (s *service) ecsRoute(id string, listener elbv2.ApplicationListener) elbv2.ApplicationListenerRule {
	return elbv2.NewApplicationListenerRule(s.Construct, jsii.String(id), &elbv2.ApplicationListenerRuleProps{
		Listener:   listener,
		Priority:   jsii.Number(routeRulePriority),
		Conditions: &[]elbv2.ListenerCondition{elbv2.ListenerCondition_PathPatterns(jsii.Strings("/*"))},
		Action: elbv2.ListenerAction_WeightedForward(&[]*elbv2.WeightedTargetGroup{
			{TargetGroup: s.blue, Weight: jsii.Number(1)},
			{TargetGroup: s.green, Weight: jsii.Number(0)},
		}, nil),
	})
}

// ecsImage creates the image parameter and returns the image that names it.
func (s *service) ecsImage(r resolved) awsecs.ContainerImage {
	s.imageParameter = awscdk.NewCfnParameter(s.Construct, jsii.String("Image"), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Default:     jsii.String(r.image),
		Description: jsii.String(ImageParameterDescription),
		MinLength:   jsii.Number(1),
	})
	// The pre-traffic check at its slowest is every attempt timing out.
	hookSeconds := preTrafficAttempts * (preTrafficTimeout(r) + preTrafficRetrySeconds)
	releaseMinutes := float64(rules.OpenSeconds(r.shift, int(*r.terminationWait.ToMinutes(nil)))+hookSeconds)/60 + releaseMarginMinutes
	s.release = &ecsRelease{parameter: s.imageParameter, timeout: awscdk.Duration_Minutes(jsii.Number(math.Ceil(releaseMinutes)))}
	return awsecs.ContainerImage_FromRegistry(s.imageParameter.ValueAsString(), nil)
}

// ecsStrategy is the deployment strategy of a shift, with its bake times:
// all at once is BLUE_GREEN, canary and linear are CANARY and LINEAR with
// the shift's percent and minutes, and the termination wait is the bake
// time after all traffic moved.
func ecsStrategy(r resolved, props *awsecs.FargateServiceProps) {
	props.DeploymentStrategy = awsecs.DeploymentStrategy(r.shift.ECSStrategy())
	props.BakeTime = r.terminationWait
	step := &awsecs.TrafficShiftConfig{
		StepPercent:  jsii.Number(r.shift.Percent()),
		StepBakeTime: awscdk.Duration_Minutes(jsii.Number(r.shift.Minutes())),
	}
	switch r.shift.Kind() {
	case rules.ShiftCanary:
		props.CanaryConfiguration = step
	case rules.ShiftLinear:
		props.LinearConfiguration = step
	}
}

// ecsAttach registers the service with the blue target group and gives
// ECS the alternate (green) target group with the production and test
// routes, and the infrastructure role that rewrites them.
func (s *service) ecsAttach(r resolved) {
	this := s.Construct
	role := awsiam.NewRole(this, jsii.String("LoadBalancerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("%s: lets ECS move traffic between the target groups during a release", r.prefix)),
	})
	// The ECS developer guide's trust policy for this role names the
	// service principal only ("Amazon ECS infrastructure IAM role"): it
	// documents no aws:SourceArn or aws:SourceAccount that ECS sends when it
	// assumes it, so none is added (a condition ECS does not meet would fail
	// every release mid-deployment).
	for _, st := range loadBalancerStatements(s) {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(st))
	}
	nagsuppress.Add(role.Node().FindChild(jsii.String("DefaultPolicy")), nagsuppress.Rule{
		ID: "AwsSolutions-IAM5",
		Reason: "\"*\" only for the elasticloadbalancing Describe actions, which have no resource type in the service authorization reference; " +
			"the rules, listeners and target groups ECS changes are named one by one, in place of the managed AmazonECSInfrastructureRolePolicyForLoadBalancers",
		AppliesTo: []string{"Resource::*"},
	})

	s.svc.LoadBalancerTarget(&awsecs.LoadBalancerTargetOptions{
		ContainerName: s.containerName,
		ContainerPort: s.containerPort,
		AlternateTarget: awsecs.NewAlternateTarget(jsii.String("Alternate"), &awsecs.AlternateTargetProps{
			AlternateTargetGroup: s.green,
			ProductionListener:   awsecs.ListenerRuleConfiguration_ApplicationListenerRule(s.prodRoute),
			TestListener:         awsecs.ListenerRuleConfiguration_ApplicationListenerRule(s.testRoute),
			Role:                 role,
		}),
	}).AttachToApplicationTargetGroup(s.blue)
}

// buildEcsDeployment makes every rollback alarm roll an ECS deployment back.
func (s *service) buildEcsDeployment() {
	// By their fixed names: a reference would make the service depend on
	// the alarms, which CDK warns can close a dependency cycle.
	names := make([]*string, len(s.alarms))
	for i, a := range s.alarms {
		names[i] = a.Node().DefaultChild().(awscloudwatch.CfnAlarm).AlarmName()
	}
	s.svc.EnableDeploymentAlarms(&names, &awsecs.DeploymentAlarmOptions{Behavior: awsecs.AlarmBehavior_ROLLBACK_ON_ALARM})
}

// loadBalancerStatements are what ECS may do with the load balancer during
// a release, in place of the managed AmazonECSInfrastructureRolePolicyForLoadBalancers
// (which allows them on every load balancer of the account): modify the
// two route rules and their listeners, register and deregister targets in
// the two target groups, and read what those actions need; the Describe
// actions accept only "*" in the service authorization reference.
func loadBalancerStatements(s *service) []*awsiam.PolicyStatementProps {
	return []*awsiam.PolicyStatementProps{
		{
			Sid:       jsii.String("ReadLoadBalancing"),
			Actions:   jsii.Strings("elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"),
			Resources: jsii.Strings("*"),
		},
		{
			Sid:       jsii.String("RewriteRoutes"),
			Actions:   jsii.Strings("elasticloadbalancing:ModifyRule"),
			Resources: &[]*string{s.prodRoute.ListenerRuleArn(), s.testRoute.ListenerRuleArn()},
		},
		{
			Sid:       jsii.String("ModifyListeners"),
			Actions:   jsii.Strings("elasticloadbalancing:ModifyListener"),
			Resources: &[]*string{s.prodListener.ListenerArn(), s.testListener.ListenerArn()},
		},
		{
			Sid:       jsii.String("RegisterTargets"),
			Actions:   jsii.Strings("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"),
			Resources: &[]*string{s.blue.TargetGroupArn(), s.green.TargetGroupArn()},
		},
	}
}

// ecsHook makes fn the service's POST_TEST_TRAFFIC_SHIFT lifecycle hook,
// invoked with a role of its own that may invoke fn only.
func (s *service) ecsHook(fn awslambda.IFunction, prefix string) {
	role := awsiam.NewRole(s.Construct, jsii.String("PreTrafficHookInvokeRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("%s: lets ECS run the pre-traffic check as a lifecycle hook", prefix)),
	})
	// As for the load balancer role, the guide documents no confused-deputy
	// condition for the hook's role ("Required IAM permissions for Amazon
	// ECS blue/green deployments").
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{fn.FunctionArn()},
	}))
	s.svc.AddLifecycleHook(awsecs.NewDeploymentLifecycleLambdaTarget(fn, jsii.String("PreTrafficHookTarget"), &awsecs.DeploymentLifecycleLambdaTargetProps{
		Role:            role,
		LifecycleStages: &[]awsecs.DeploymentLifecycleStage{awsecs.DeploymentLifecycleStage_POST_TEST_TRAFFIC_SHIFT},
	}))
}
