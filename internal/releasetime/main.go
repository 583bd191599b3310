// Command releasetime reads the synthesized templates in a cloud assembly
// (default cdk.out) and prints, per environment and for the whole release,
// the minimum time from a finished build to 100% production traffic, and the
// longest time a failing release can serve production traffic before its
// rollback starts. Everything comes from the templates: health checks,
// deployment configurations, termination waits, alarm periods.
//
//	go run ./internal/releasetime [cdk.out]
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// metricDelay is how late ALB metrics reach CloudWatch after the minute they
// describe; an alarm cannot see a bad minute before then.
const metricDelay = 60

type env struct {
	name             string
	healthy          int // seconds for a new task to pass the target group's health checks
	shift            int // seconds from first production traffic to 100%
	terminationWait  int
	deploymentConfig string
	alarmDetect      int // seconds from the first bad minute to ALARM
	alarmDesc        string
	hookTimeout      int // seconds the pre-traffic hook may take, 0 when there is none
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
		fmt.Printf("%-11s %-45s %7ds %7ds %7ds %9s %12s\n", e.name, e.deploymentConfig, e.healthy, e.shift, e.terminationWait, dur(toFull), dur(e.alarmDetect))
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
		fmt.Printf("Longest a failing release serves %s traffic before rollback starts: %s (%s + %d s metric delay)\n", e.name, dur(e.alarmDetect), e.alarmDesc, metricDelay)
		if e.hookTimeout > 0 {
			fmt.Printf("  (a release that fails the pre-traffic smoke test serves no %s traffic; the hook may take up to %s)\n", e.name, dur(e.hookTimeout))
		}
	}
}

func dur(s int) string { return fmt.Sprintf("%dm%02ds", s/60, s%60) }

type template struct {
	Resources map[string]struct {
		Type       string                 `json:"Type"`
		Properties map[string]interface{} `json:"Properties"`
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
		if e := readEnv(t); e != nil {
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
			if strings.Contains(strings.ToLower(s), "deploy") && strings.Contains(strings.ToLower(s), name) && !contains(order, name) {
				order = append(order, name)
			}
		}
	}
	for name := range envs {
		if !contains(order, name) {
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

var (
	canaryRe = regexp.MustCompile(`Canary(\d+)Percent(\d+)Minutes?$`)
	linearRe = regexp.MustCompile(`Linear(\d+)PercentEvery(\d+)Minutes?$`)
)

func readEnv(t template) *env {
	e := &env{}
	found := false
	for _, r := range t.Resources {
		p := r.Properties
		switch r.Type {
		case "AWS::CodeDeploy::DeploymentGroup":
			found = true
			e.name = tagValue(p["Tags"], "Environment")
			e.deploymentConfig, e.shift = deploymentConfig(t, p["DeploymentConfigName"])
			e.terminationWait = 60 * num(dig(p, "BlueGreenDeploymentConfiguration", "TerminateBlueInstancesOnDeploymentSuccess", "TerminationWaitTimeInMinutes"))
		case "AWS::ElasticLoadBalancingV2::TargetGroup":
			if h := num(p["HealthyThresholdCount"]) * num(p["HealthCheckIntervalSeconds"]); h > e.healthy {
				e.healthy = h
			}
		case "AWS::CloudWatch::Alarm":
			period, evals := num(p["Period"]), num(p["EvaluationPeriods"])
			if d := period*evals + metricDelay; d > e.alarmDetect {
				e.alarmDetect = d
				e.alarmDesc = fmt.Sprintf("%d x %d s alarm periods", evals, period)
			}
		case "AWS::Lambda::Function":
			if strings.Contains(strings.ToLower(tagValue(p["Tags"], "Purpose")), "pre-traffic") {
				e.hookTimeout = num(p["Timeout"])
			}
		}
	}
	if !found {
		return nil
	}
	return e
}

// deploymentConfig names a deployment group's configuration and derives its
// traffic-shifting time: from the name of a configuration CodeDeploy
// predefines, or from the TrafficRoutingConfig of one in the same template
// that the group refers to.
func deploymentConfig(t template, name interface{}) (string, int) {
	logical, _ := asMap(name)["Ref"].(string)
	r, ok := t.Resources[logical]
	if logical == "" || !ok || r.Type != "AWS::CodeDeploy::DeploymentConfig" {
		return fmt.Sprint(name), shiftSeconds(fmt.Sprint(name))
	}
	routing := asMap(r.Properties["TrafficRoutingConfig"])
	switch routing["Type"] {
	case "TimeBasedCanary":
		c := asMap(routing["TimeBasedCanary"])
		return fmt.Sprintf("%s (canary %d%%, %d min)", logical, num(c["CanaryPercentage"]), num(c["CanaryInterval"])),
			60 * num(c["CanaryInterval"])
	case "TimeBasedLinear":
		l := asMap(routing["TimeBasedLinear"])
		percent, interval := num(l["LinearPercentage"]), num(l["LinearInterval"])
		return fmt.Sprintf("%s (linear %d%% every %d min)", logical, percent, interval), 60 * linearSteps(percent) * interval
	}
	return logical + " (all at once)", 0
}

// shiftSeconds derives the traffic-shifting time from a CodeDeploy ECS
// predefined configuration name.
func shiftSeconds(name string) int {
	if m := canaryRe.FindStringSubmatch(name); m != nil {
		return 60 * atoi(m[2])
	}
	if m := linearRe.FindStringSubmatch(name); m != nil {
		return 60 * linearSteps(atoi(m[1])) * atoi(m[2])
	}
	return 0
}

// linearSteps is the number of waits in a linear shift of percent per step:
// the first step moves traffic at once, the last one whatever is left.
func linearSteps(percent int) int {
	if percent <= 0 {
		return 0
	}
	return (100+percent-1)/percent - 1
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func num(v interface{}) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case string:
		return atoi(x)
	}
	return 0
}

func tagValue(tags interface{}, key string) string {
	for _, tag := range asList(tags) {
		if m := asMap(tag); m["Key"] == key {
			return fmt.Sprint(m["Value"])
		}
	}
	return ""
}

func dig(v interface{}, path ...string) interface{} {
	for _, p := range path {
		v = asMap(v)[p]
	}
	return v
}

func asMap(v interface{}) map[string]interface{} { m, _ := v.(map[string]interface{}); return m }
func asList(v interface{}) []interface{}         { l, _ := v.([]interface{}); return l }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
