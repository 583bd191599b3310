package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The timing of Amazon ECS's own blue/green engine (deployment controller
// ECS), read from an AWS::ECS::Service's DeploymentConfiguration.
//
// ECS runs a deployment in this order: the green revision scales up and its
// tasks pass the target group's health checks, test traffic moves to it, the
// POST_TEST_TRAFFIC_SHIFT hook runs, then production traffic moves as the
// strategy says, and after all of it has moved both revisions keep running
// for BakeTimeInMinutes, during which the alarms can still roll back; only
// then is blue terminated and the deployment (and the pipeline's deploy
// step) complete.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html
//
// The production traffic shift, by strategy:
//
//   - BLUE_GREEN moves all of it at once: no shift time.
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html
//   - CANARY moves CanaryPercent, waits CanaryBakeTimeInMinutes, then moves
//     the rest at once: the shift takes the canary bake time.
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html
//     https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html
//   - LINEAR moves StepPercent per step, the last step whatever is left, so
//     ceil(100 / StepPercent) steps; StepBakeTimeInMinutes follows every step
//     but the one that reaches 100%, so the shift takes
//     (ceil(100 / StepPercent) - 1) step bake times. CloudFormation's own
//     33-hour check counts the steps the same way (100/p - 1 when p divides
//     100, else floor(100/p)).
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-linear.html
//     https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-linearconfiguration.html
//
// BakeTimeInMinutes follows the last step of every strategy.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-deploymentconfiguration.html
//
// The API has defaults for fields left out (a canary of 5% for 10 minutes,
// linear 10% every 6 minutes); the tool does not apply them but requires
// every field that sets the timing, so that a template that leaves one out
// is an error rather than a number the tool made up.

// ecsBakeMaxMinutes is the longest bake time ECS accepts, for the
// deployment's bake time and a canary's or linear step's (24 hours).
const ecsBakeMaxMinutes = 1440

// ecsRelease is the timing of one ECS-controlled service's deployment.
type ecsRelease struct {
	label string // "CANARY 10% +5m"
	shift int    // seconds from first production traffic to 100%
	bake  int    // seconds both revisions run after 100%
}

// ecsDeployment derives the release timing of the service whose
// DeploymentConfiguration is config; logical names the service in errors.
func ecsDeployment(logical string, config map[string]any) (ecsRelease, error) {
	fail := func(format string, a ...any) (ecsRelease, error) {
		return ecsRelease{}, fmt.Errorf("ECS service %s: "+format, append([]any{logical}, a...)...)
	}
	bake, err := minutes(config, "BakeTimeInMinutes")
	if err != nil {
		return fail("DeploymentConfiguration.%v", err)
	}
	r := ecsRelease{bake: 60 * bake}
	switch strategy := config["Strategy"]; strategy {
	case "BLUE_GREEN":
		r.label = "BLUE_GREEN"
	case "CANARY":
		c := asMap(config["CanaryConfiguration"])
		if c == nil {
			return fail("strategy CANARY needs DeploymentConfiguration.CanaryConfiguration")
		}
		tenths, err := percent(c, "CanaryPercent", 1)
		if err != nil {
			return fail("CanaryConfiguration.%v", err)
		}
		m, err := minutes(c, "CanaryBakeTimeInMinutes")
		if err != nil {
			return fail("CanaryConfiguration.%v", err)
		}
		r.label, r.shift = fmt.Sprintf("CANARY %s%% +%dm", tenthsString(tenths), m), 60*m
	case "LINEAR":
		l := asMap(config["LinearConfiguration"])
		if l == nil {
			return fail("strategy LINEAR needs DeploymentConfiguration.LinearConfiguration")
		}
		tenths, err := percent(l, "StepPercent", 30)
		if err != nil {
			return fail("LinearConfiguration.%v", err)
		}
		m, err := minutes(l, "StepBakeTimeInMinutes")
		if err != nil {
			return fail("LinearConfiguration.%v", err)
		}
		steps := (1000 + tenths - 1) / tenths // ceil(100 / StepPercent), in tenths of a percent
		r.label, r.shift = fmt.Sprintf("LINEAR %s%% every %dm", tenthsString(tenths), m), 60*m*(steps-1)
	case nil:
		return fail("DeploymentConfiguration.Strategy is not set (ECS would do a rolling update, which has no blue/green timing)")
	default:
		return fail("deployment strategy %v is not BLUE_GREEN, CANARY or LINEAR", strategy)
	}
	return r, nil
}

// minutes reads a whole number of minutes from 0 to ecsBakeMaxMinutes.
func minutes(m map[string]any, key string) (int, error) {
	v, ok := number(m[key])
	if !ok {
		return 0, fmt.Errorf("%s is not set (want whole minutes from 0 to %d)", key, ecsBakeMaxMinutes)
	}
	if v != math.Trunc(v) || v < 0 || v > ecsBakeMaxMinutes {
		return 0, fmt.Errorf("%s is %v, not whole minutes from 0 to %d", key, v, ecsBakeMaxMinutes)
	}
	return int(v), nil
}

// percent reads a percentage that ECS takes in multiples of 0.1 from
// minTenths/10 to 100, and returns it in tenths of a percent so that step
// counts are integer arithmetic.
func percent(m map[string]any, key string, minTenths int) (int, error) {
	v, ok := number(m[key])
	if !ok {
		return 0, fmt.Errorf("%s is not set", key)
	}
	tenths := int(math.Round(v * 10))
	if math.Abs(v*10-float64(tenths)) > 1e-6 || tenths < minTenths || tenths > 1000 {
		return 0, fmt.Errorf("%s is %v, not a multiple of 0.1 from %s to 100", key, v, tenthsString(minTenths))
	}
	return tenths, nil
}

func tenthsString(tenths int) string {
	return strconv.FormatFloat(float64(tenths)/10, 'f', -1, 64)
}

// number reads a template number, which CDK may write as a string.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// truth reads a template boolean, which CDK may write as a string.
func truth(v any) bool { return v == true || v == "true" }

// ecsAlarmNames lists the rollback alarms of an ECS deployment
// configuration: Alarms must be enabled with rollback, or a failing release
// would never be rolled back by them.
func ecsAlarmNames(logical string, config map[string]any) ([]any, error) {
	a := asMap(config["Alarms"])
	names := asList(a["AlarmNames"])
	if !truth(a["Enable"]) || !truth(a["Rollback"]) || len(names) == 0 {
		return nil, fmt.Errorf("ECS service %s: DeploymentConfiguration.Alarms must name alarms with Enable and Rollback true; without them a failing release is not rolled back", logical)
	}
	return names, nil
}

// preProductionStages are the lifecycle stages that run before any
// production traffic reaches the green revision.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html
var preProductionStages = []string{"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT"}

// ecsHookFunctions lists the logical ids of the Lambda functions that the
// deployment's lifecycle hooks run before production traffic shifts: a
// release they fail serves no production traffic.
func ecsHookFunctions(config map[string]any) []string {
	var ids []string
	for _, h := range asList(config["LifecycleHooks"]) {
		hook := asMap(h)
		getAtt := asList(asMap(hook["HookTargetArn"])["Fn::GetAtt"])
		if len(getAtt) != 2 || getAtt[1] != "Arn" {
			continue
		}
		stages := asList(hook["LifecycleStages"])
		early := len(stages) > 0
		for _, s := range stages {
			early = early && slices.Contains(preProductionStages, fmt.Sprint(s))
		}
		if id, ok := getAtt[0].(string); ok && early {
			ids = append(ids, id)
		}
	}
	return ids
}

// isPreTraffic tells the pre-traffic validation function by its tag.
func isPreTraffic(tags any) bool {
	return strings.Contains(strings.ToLower(tagValue(tags, "Purpose")), "pre-traffic")
}
