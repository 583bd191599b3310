package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDeploymentConfig derives traffic-shifting time from a deployment
// group's configuration: a name CodeDeploy predefines (read by the rules'
// table, not by parsing the name), or a configuration defined in the
// template, as the blue/green construct creates for a shift CodeDeploy
// does not predefine. Anything else is an error, not a guess.
func TestDeploymentConfig(t *testing.T) {
	ref := map[string]any{"Ref": "C"}
	for _, c := range []struct {
		name    string
		routing string // TrafficRoutingConfig of the template's configuration C
		config  any    // the group's DeploymentConfigName
		want    int
		err     string
	}{
		{name: "predefined all at once", config: "CodeDeployDefault.ECSAllAtOnce", want: 0},
		{name: "predefined canary", config: "CodeDeployDefault.ECSCanary10Percent15Minutes", want: 900},
		{name: "predefined linear", config: "CodeDeployDefault.ECSLinear10PercentEvery3Minutes", want: 1620},
		{name: "a name that only looks predefined", config: "CodeDeployDefault.ECSCanary20Percent5Minutes",
			err: "deployment configuration CodeDeployDefault.ECSCanary20Percent5Minutes is neither one CodeDeploy predefines"},
		{name: "custom linear", config: ref, routing: `{"Type": "TimeBasedLinear", "TimeBasedLinear": {"LinearPercentage": 30, "LinearInterval": 2}}`, want: 360},
		{name: "custom canary", config: ref, routing: `{"Type": "TimeBasedCanary", "TimeBasedCanary": {"CanaryPercentage": 20, "CanaryInterval": 7}}`, want: 420},
		{name: "custom all at once", config: ref, routing: `{"Type": "AllAtOnce"}`, want: 0},
		{name: "custom shift CodeDeploy refuses", config: ref, routing: `{"Type": "TimeBasedLinear", "TimeBasedLinear": {"LinearPercentage": 0, "LinearInterval": 2}}`,
			err: "deployment configuration C: linear 0% every 2 minutes: the percentage must be a whole number from 1 to 99"},
		{name: "unknown routing", config: ref, routing: `{"Type": "TimeBasedSomething"}`,
			err: "traffic routing TimeBasedSomething is not AllAtOnce, TimeBasedCanary or TimeBasedLinear"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tpl template
			body := `{"Resources": {}}`
			if c.routing != "" {
				body = `{"Resources": {"C": {"Type": "AWS::CodeDeploy::DeploymentConfig", "Properties": {"ComputePlatform": "ECS", "TrafficRoutingConfig": ` + c.routing + `}}}}`
			}
			if err := json.Unmarshal([]byte(body), &tpl); err != nil {
				t.Fatal(err)
			}
			name, got, err := deploymentConfig(tpl, c.config)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("%s: %d s, %v; want %d s", name, got, err, c.want)
			}
		})
	}
}

// TestRead reads health checks, deployment settings and alarms from a
// minimal template and orders environments by the pipeline's stages.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	env := func(name, config string, wait int) string {
		return `{"Resources": {
  "G": {"Type": "AWS::CodeDeploy::DeploymentGroup", "Properties": {"DeploymentConfigName": "` + config + `",
    "Tags": [{"Key": "Environment", "Value": "` + name + `"}],
    "BlueGreenDeploymentConfiguration": {"TerminateBlueInstancesOnDeploymentSuccess": {"TerminationWaitTimeInMinutes": ` + strconv.Itoa(wait) + `}}}},
  "T": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"HealthyThresholdCount": 3, "HealthCheckIntervalSeconds": 15}},
  "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 60, "EvaluationPeriods": 3}}}}`
	}
	files := map[string]string{
		"A.template.json": env("production", "CodeDeployDefault.ECSCanary10Percent15Minutes", 20),
		"B.template.json": env("staging", "CodeDeployDefault.ECSAllAtOnce", 5),
		"C.template.json": `{"Resources": {"P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {"Stages": [{"Name": "Source"}, {"Name": "Deploy-staging"}, {"Name": "Deploy-production"}]}}}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	envs, order, err := read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != "staging" || order[1] != "production" {
		t.Fatalf("order = %v, want staging, production", order)
	}
	p := envs["production"]
	if p.healthy != 45 || p.shift != 900 || p.terminationWait != 1200 || p.alarms.DetectionSeconds() != 240 {
		t.Errorf("production = %+v", *p)
	}
}
