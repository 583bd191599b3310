package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestShiftSeconds derives traffic-shifting time from every predefined
// CodeDeploy ECS configuration name.
func TestShiftSeconds(t *testing.T) {
	for name, want := range map[string]int{
		"CodeDeployDefault.ECSAllAtOnce":                    0,
		"CodeDeployDefault.ECSCanary10Percent5Minutes":      300,
		"CodeDeployDefault.ECSCanary10Percent15Minutes":     900,
		"CodeDeployDefault.ECSLinear10PercentEvery1Minutes": 540,
		"CodeDeployDefault.ECSLinear10PercentEvery3Minutes": 1620,
	} {
		if got := shiftSeconds(name); got != want {
			t.Errorf("shiftSeconds(%s) = %d, want %d", name, got, want)
		}
	}
}

// TestCustomDeploymentConfig derives traffic-shifting time from a deployment
// configuration defined in the template, as the blue/green construct
// creates for a shift CodeDeploy does not predefine.
func TestCustomDeploymentConfig(t *testing.T) {
	for _, c := range []struct {
		routing string
		want    int
	}{
		{`{"Type": "TimeBasedLinear", "TimeBasedLinear": {"LinearPercentage": 30, "LinearInterval": 2}}`, 360},
		{`{"Type": "TimeBasedCanary", "TimeBasedCanary": {"CanaryPercentage": 20, "CanaryInterval": 7}}`, 420},
		{`{"Type": "AllAtOnce"}`, 0},
	} {
		var tpl template
		body := `{"Resources": {"C": {"Type": "AWS::CodeDeploy::DeploymentConfig", "Properties": {"ComputePlatform": "ECS", "TrafficRoutingConfig": ` + c.routing + `}}}}`
		if err := json.Unmarshal([]byte(body), &tpl); err != nil {
			t.Fatal(err)
		}
		name, got := deploymentConfig(tpl, map[string]interface{}{"Ref": "C"})
		if got != c.want {
			t.Errorf("%s: %d s, want %d", name, got, c.want)
		}
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
	if p.healthy != 45 || p.shift != 900 || p.terminationWait != 1200 || p.alarmDetect != 240 {
		t.Errorf("production = %+v", *p)
	}
}
