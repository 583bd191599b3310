// Command releasetime reads the synthesized templates in a cloud assembly
// (default cdk.out) and prints, per environment and for the whole release,
// the minimum time from a finished build to 100% production traffic, and the
// longest time a failing release can serve production traffic before its
// rollback starts. Everything comes from the templates: health checks,
// deployment configurations, termination waits, alarm periods.
//
//	go run ./tools/releasetime [cdk.out]
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"ecs-bluegreen/rules"
)

type env struct {
	name             string
	healthy          int // seconds for a new task to pass the target group's health checks
	shift            int // seconds from first production traffic to 100%
	terminationWait  int
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
	fmt.Printf("Release timing from the templates in %s (container start and image pull not included)\n\n", dir)
	fmt.Printf("%-11s %-45s %8s %8s %8s %10s %12s\n", "environment", "deployment configuration", "healthy", "shift", "wait", "to 100%", "bad release")
	total := 0
	for i, name := range order {
		e := envs[name]
		toFull := e.healthy + e.shift
		fmt.Printf("%-11s %-45s %7ds %7ds %7ds %9s %12s\n", e.name, e.deploymentConfig, e.healthy, e.shift, e.terminationWait, dur(toFull), dur(e.alarms.DetectionSeconds()))
		if i < len(order)-1 {
			// The pipeline's deploy action completes when the deployment does,
			// after the termination wait; only then does the next stage start.
			total += toFull + e.terminationWait
		} else {
			total += toFull
		}
	}
	fmt.Println()
	fmt.Printf("Minimum time from build finished to 100%% production traffic: %s (%d s), with an immediate approval\n", dur(total), total)
	for _, name := range order {
		e := envs[name]
		fmt.Printf("Longest a failing release serves %s traffic before rollback starts: %s (%s)\n", e.name, dur(e.alarms.DetectionSeconds()), e.alarms)
		if e.hookTimeout > 0 {
			fmt.Printf("  (a release that fails the pre-traffic smoke test serves no %s traffic; the hook may take up to %s)\n", e.name, dur(e.hookTimeout))
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
		return nil, nil, fmt.Errorf("no CodeDeploy deployment group in the templates of %s", dir)
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
// no deployment group.
func readEnv(t template) (*env, error) {
	e := &env{}
	found := false
	for _, r := range t.Resources {
		p := r.Properties
		switch r.Type {
		case "AWS::CodeDeploy::DeploymentGroup":
			found = true
			e.name = tagValue(p["Tags"], "Environment")
			name, seconds, err := deploymentConfig(t, p["DeploymentConfigName"])
			if err != nil {
				return nil, err
			}
			e.deploymentConfig, e.shift = name, seconds
			e.terminationWait = 60 * num(dig(p, "BlueGreenDeploymentConfiguration", "TerminateBlueInstancesOnDeploymentSuccess", "TerminationWaitTimeInMinutes"))
		case "AWS::ElasticLoadBalancingV2::TargetGroup":
			if h := num(p["HealthyThresholdCount"]) * num(p["HealthCheckIntervalSeconds"]); h > e.healthy {
				e.healthy = h
			}
		case "AWS::CloudWatch::Alarm":
			w := rules.AlarmWindow{PeriodSeconds: num(p["Period"]), EvaluationPeriods: num(p["EvaluationPeriods"])}
			if w.DetectionSeconds() > e.alarms.DetectionSeconds() {
				e.alarms = w
			}
		case "AWS::Lambda::Function":
			if strings.Contains(strings.ToLower(tagValue(p["Tags"], "Purpose")), "pre-traffic") {
				e.hookTimeout = num(p["Timeout"])
			}
		}
	}
	if !found {
		return nil, nil
	}
	return e, nil
}

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
