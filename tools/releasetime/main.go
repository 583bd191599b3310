// Command releasetime reads the synthesized templates in a cloud assembly
// (default cdk.out) and prints, per environment and for the whole release,
// the minimum time from a finished build to 100% production traffic, and the
// longest time a failing release can serve production traffic before its
// rollback starts. Everything comes from the templates: health checks,
// deployment configurations, termination waits and bake times, alarm periods.
//
// An environment is released by one of two engines: CodeDeploy (an
// AWS::CodeDeploy::DeploymentGroup) or Amazon ECS's own blue/green
// deployments (an AWS::ECS::Service whose DeploymentController is ECS; see
// ecs.go for its timing).
//
//	go run ./tools/releasetime [cdk.out]
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"ecs-bluegreen/rules"
)

// The release engines.
const (
	engineCodeDeploy = "CodeDeploy"
	engineECS        = "ECS"
)

type env struct {
	name    string
	engine  string // engineCodeDeploy or engineECS
	healthy int    // seconds for a new task to pass the target group's health checks
	shift   int    // seconds from first production traffic to 100%
	// terminationWait is the seconds both versions run after 100%, before
	// the deployment completes: CodeDeploy's termination wait, ECS's bake
	// time.
	terminationWait int
	// deploymentConfig is CodeDeploy's deployment configuration, or ECS's
	// strategy ("CANARY 10% +5m").
	deploymentConfig string
	alarms           rules.AlarmWindow // the slowest rollback alarm
	hookTimeout      int               // seconds the pre-traffic hook may take, 0 when there is none
}

func main() {
	dir := "cdk.out"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	envs, order, err := read(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "releasetime:", err)
		os.Exit(1)
	}
	report(os.Stdout, dir, envs, order)
}

// report prints the timing of the environments, in release order.
func report(w io.Writer, dir string, envs map[string]*env, order []string) {
	fmt.Fprintf(w, "Release timing from the templates in %s (container start and image pull not included)\n\n", dir)
	width := 45 // the configuration column, wider when a configuration is longer
	for _, e := range envs {
		width = max(width, len(e.deploymentConfig))
	}
	fmt.Fprintf(w, "%-11s %-10s %-*s %8s %8s %8s %10s %12s\n", "environment", "engine", width, "deployment configuration", "healthy", "shift", "wait", "to 100%", "bad release")
	total := 0
	for i, name := range order {
		e := envs[name]
		toFull := e.healthy + e.shift
		fmt.Fprintf(w, "%-11s %-10s %-*s %7ds %7ds %7ds %9s %12s\n", e.name, e.engine, width, e.deploymentConfig, e.healthy, e.shift, e.terminationWait, dur(toFull), dur(e.alarms.DetectionSeconds()))
		if i < len(order)-1 {
			// The pipeline's deploy action completes when the deployment does,
			// after the termination wait or bake time; only then does the next
			// stage start.
			total += toFull + e.terminationWait
		} else {
			total += toFull
		}
	}
	fmt.Fprintln(w, "(wait: CodeDeploy's termination wait or ECS's bake time; an environment's deploy step ends after it)")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Minimum time from build finished to 100%% production traffic: %s (%d s), with an immediate approval\n", dur(total), total)
	for _, name := range order {
		e := envs[name]
		fmt.Fprintf(w, "Longest a failing release serves %s traffic before rollback starts: %s (%s)\n", e.name, dur(e.alarms.DetectionSeconds()), e.alarms)
		if e.hookTimeout > 0 {
			fmt.Fprintf(w, "  (a release that fails the pre-traffic smoke test serves no %s traffic; the hook may take up to %s)\n", e.name, dur(e.hookTimeout))
		}
	}
}

func dur(s int) string { return fmt.Sprintf("%dm%02ds", s/60, s%60) }

type template struct {
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
}

func read(dir string) (map[string]*env, []string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil || len(files) == 0 {
		return nil, nil, fmt.Errorf("no templates in %s; run `make synth` first", dir)
	}
	envs := map[string]*env{}
	var stageNames []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		var t template
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", f, err)
		}
		e, err := readEnv(t)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", f, err)
		}
		if e != nil {
			if _, dup := envs[e.name]; dup {
				return nil, nil, fmt.Errorf("%s: a second release engine for environment %s", f, e.name)
			}
			envs[e.name] = e
		}
		for _, r := range t.Resources {
			if r.Type == "AWS::CodePipeline::Pipeline" {
				for _, st := range asList(r.Properties["Stages"]) {
					stageNames = append(stageNames, fmt.Sprint(asMap(st)["Name"]))
				}
			}
		}
	}
	if len(envs) == 0 {
		return nil, nil, fmt.Errorf("no release engine (a CodeDeploy deployment group, or an ECS service with the ECS deployment controller) in the templates of %s", dir)
	}
	// Release order: the order of the pipeline's deploy stages, else by name
	// with production last.
	var order []string
	for _, s := range stageNames {
		for name := range envs {
			if strings.Contains(strings.ToLower(s), "deploy") && strings.Contains(strings.ToLower(s), name) && !slices.Contains(order, name) {
				order = append(order, name)
			}
		}
	}
	for name := range envs {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	if len(stageNames) == 0 {
		sort.Slice(order, func(i, j int) bool {
			return order[i] != "production" && (order[j] == "production" || order[i] < order[j])
		})
	}
	return envs, order, nil
}

// readEnv reads the one environment a template holds, or nil when it holds
// no release engine: neither a CodeDeploy deployment group nor an ECS
// service with the ECS deployment controller.
func readEnv(t template) (*env, error) {
	e := &env{}
	var engines []string // logical ids of the release engines' resources
	for id, r := range t.Resources {
		p := r.Properties
		switch r.Type {
		case "AWS::CodeDeploy::DeploymentGroup":
			engines = append(engines, id)
		case "AWS::ECS::Service":
			if dig(p, "DeploymentController", "Type") == engineECS {
				engines = append(engines, id)
			}
		case "AWS::ElasticLoadBalancingV2::TargetGroup":
			if h := num(p["HealthyThresholdCount"]) * num(p["HealthCheckIntervalSeconds"]); h > e.healthy {
				e.healthy = h
			}
		}
	}
	switch len(engines) {
	case 0:
		return nil, nil
	case 1:
	default:
		sort.Strings(engines)
		return nil, fmt.Errorf("more than one release engine (%s); a template holds one environment", strings.Join(engines, ", "))
	}
	id := engines[0]
	p := t.Resources[id].Properties
	if t.Resources[id].Type == "AWS::CodeDeploy::DeploymentGroup" {
		return e, readCodeDeploy(t, id, p, e)
	}
	return e, readECS(t, id, p, e)
}

// readCodeDeploy reads the environment a CodeDeploy deployment group
// releases.
func readCodeDeploy(t template, id string, p map[string]any, e *env) error {
	e.engine = engineCodeDeploy
	e.name = tagValue(p["Tags"], "Environment")
	name, seconds, err := deploymentConfig(t, p["DeploymentConfigName"])
	if err != nil {
		return err
	}
	e.deploymentConfig, e.shift = name, seconds
	e.terminationWait = 60 * num(dig(p, "BlueGreenDeploymentConfiguration", "TerminateBlueInstancesOnDeploymentSuccess", "TerminationWaitTimeInMinutes"))
	if alarms := asList(dig(p, "AlarmConfiguration", "Alarms")); len(alarms) > 0 {
		names := make([]any, len(alarms))
		for i, a := range alarms {
			names[i] = asMap(a)["Name"]
		}
		if e.alarms, err = slowestAlarm(t, "deployment group "+id, names); err != nil {
			return err
		}
	} else {
		// No alarm configuration to follow: the slowest alarm in the template.
		for _, r := range t.Resources {
			if w := window(r.Type, r.Properties); w.DetectionSeconds() > e.alarms.DetectionSeconds() {
				e.alarms = w
			}
		}
	}
	for _, r := range t.Resources {
		if r.Type == "AWS::Lambda::Function" && isPreTraffic(r.Properties["Tags"]) {
			e.hookTimeout = num(r.Properties["Timeout"])
		}
	}
	return nil
}

// readECS reads the environment an ECS service with the ECS deployment
// controller releases itself.
func readECS(t template, id string, p map[string]any, e *env) error {
	e.engine = engineECS
	if e.name = tagValue(p["Tags"], "Environment"); e.name == "" {
		return fmt.Errorf("ECS service %s has no Environment tag", id)
	}
	config := asMap(p["DeploymentConfiguration"])
	release, err := ecsDeployment(id, config)
	if err != nil {
		return err
	}
	e.deploymentConfig, e.shift, e.terminationWait = release.label, release.shift, release.bake
	names, err := ecsAlarmNames(id, config)
	if err != nil {
		return err
	}
	if e.alarms, err = slowestAlarm(t, "ECS service "+id, names); err != nil {
		return err
	}
	// The pre-traffic check is the function a lifecycle hook runs before
	// production traffic shifts; its timeout bounds one invocation.
	for _, fn := range ecsHookFunctions(config) {
		r, ok := t.Resources[fn]
		if !ok || r.Type != "AWS::Lambda::Function" {
			return fmt.Errorf("ECS service %s: lifecycle hook target %s is not a Lambda function in the template", id, fn)
		}
		e.hookTimeout = max(e.hookTimeout, num(r.Properties["Timeout"]))
	}
	return nil
}

// slowestAlarm is the alarm window, of the alarms named, that takes longest
// to detect a failing release. A name is a {Ref} to an alarm in the template
// (an alarm's Ref is its name) or the literal AlarmName of one; owner names
// the resource that lists them in errors.
func slowestAlarm(t template, owner string, names []any) (rules.AlarmWindow, error) {
	var slowest rules.AlarmWindow
	for _, name := range names {
		logical, _ := asMap(name)["Ref"].(string)
		r, ok := t.Resources[logical]
		if logical == "" {
			for _, c := range t.Resources {
				if c.Type == "AWS::CloudWatch::Alarm" && c.Properties["AlarmName"] == name {
					r, ok = c, true
				}
			}
		}
		if !ok || r.Type != "AWS::CloudWatch::Alarm" {
			return rules.AlarmWindow{}, fmt.Errorf("%s: rollback alarm %v is not an AWS::CloudWatch::Alarm in the template, so its period is unknown", owner, jsonString(name))
		}
		if w := window(r.Type, r.Properties); w.DetectionSeconds() > slowest.DetectionSeconds() {
			slowest = w
		}
	}
	return slowest, nil
}

// window is the timing of a CloudWatch alarm resource, zero for any other.
func window(typ string, p map[string]any) rules.AlarmWindow {
	if typ != "AWS::CloudWatch::Alarm" {
		return rules.AlarmWindow{}
	}
	return rules.AlarmWindow{PeriodSeconds: num(p["Period"]), EvaluationPeriods: num(p["EvaluationPeriods"])}
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

// deploymentConfig names a deployment group's configuration and derives its
// traffic-shifting time in seconds: by the rules' table for a configuration
// CodeDeploy predefines, or from the TrafficRoutingConfig of one in the same
// template that the group refers to.
func deploymentConfig(t template, name any) (string, int, error) {
	logical, _ := asMap(name)["Ref"].(string)
	r, ok := t.Resources[logical]
	if logical == "" || !ok || r.Type != "AWS::CodeDeploy::DeploymentConfig" {
		shift, ok := rules.CodeDeployPredefined(fmt.Sprint(name))
		if !ok {
			return "", 0, fmt.Errorf("deployment configuration %v is neither one CodeDeploy predefines (%s) nor defined in the template",
				name, strings.Join(rules.CodeDeployPredefinedNames(), ", "))
		}
		return fmt.Sprint(name), seconds(shift), nil
	}
	routing := asMap(r.Properties["TrafficRoutingConfig"])
	var shift rules.TrafficShift
	switch routing["Type"] {
	case "TimeBasedCanary":
		c := asMap(routing["TimeBasedCanary"])
		shift = rules.Canary(float64(num(c["CanaryPercentage"])), float64(num(c["CanaryInterval"])))
	case "TimeBasedLinear":
		l := asMap(routing["TimeBasedLinear"])
		shift = rules.Linear(float64(num(l["LinearPercentage"])), float64(num(l["LinearInterval"])))
	case "AllAtOnce", nil:
	default:
		return "", 0, fmt.Errorf("deployment configuration %s: traffic routing %v is not AllAtOnce, TimeBasedCanary or TimeBasedLinear", logical, routing["Type"])
	}
	if err := shift.Validate(); err != nil {
		return "", 0, fmt.Errorf("deployment configuration %s: %v", logical, err)
	}
	return fmt.Sprintf("%s (%s)", logical, shift), seconds(shift), nil
}

// seconds is the traffic-shifting time of a valid shift.
func seconds(shift rules.TrafficShift) int { return int(math.Round(60 * shift.MinutesToFull())) }

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func num(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case string:
		return atoi(x)
	}
	return 0
}

func tagValue(tags any, key string) string {
	for _, tag := range asList(tags) {
		if m := asMap(tag); m["Key"] == key {
			return fmt.Sprint(m["Value"])
		}
	}
	return ""
}

func dig(v any, path ...string) any {
	for _, p := range path {
		v = asMap(v)[p]
	}
	return v
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any         { l, _ := v.([]any); return l }
