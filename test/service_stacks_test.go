package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/rules"
)

// environments pairs each environment stack's construct ID with its configuration.
func environments() map[string]*config.Environment {
	return map[string]*config.Environment{"Staging": &app.Config.Staging, "Production": &app.Config.Production}
}

// TestEnvironmentRequirements proves every property the blue/green service
// must have, in both environments, with the values from cdk.json.
func TestEnvironmentRequirements(t *testing.T) {
	for id, env := range environments() {
		prefix := app.Config.ResourcePrefix(env)
		reqs := []requirement{
			{"load balancer is internet-facing in public subnets, named with the suffix", "AWS::ElasticLoadBalancingV2::LoadBalancer", obj(map[string]any{
				"Scheme": "internet-facing", "Type": "application", "Name": prefix,
			})},
			{"production listener on port 80 forwards to the blue target group", "AWS::ElasticLoadBalancingV2::Listener", obj(map[string]any{
				"Port": 80, "Protocol": "HTTP",
				"DefaultActions": []any{obj(map[string]any{"Type": "forward", "TargetGroupArn": refTo(t, id, "AWS::ElasticLoadBalancingV2::TargetGroup", prefix+"-blue")})},
			})},
			{"test listener on its own port forwards to the green target group", "AWS::ElasticLoadBalancingV2::Listener", obj(map[string]any{
				"Port": env.TestListenerPort, "Protocol": "HTTP",
				"DefaultActions": []any{obj(map[string]any{"Type": "forward", "TargetGroupArn": refTo(t, id, "AWS::ElasticLoadBalancingV2::TargetGroup", prefix+"-green")})},
			})},
			{"production port open to the internet", "AWS::EC2::SecurityGroup", obj(map[string]any{
				"SecurityGroupIngress": arrayWith(obj(map[string]any{"CidrIp": "0.0.0.0/0", "FromPort": 80, "ToPort": 80, "IpProtocol": "tcp"})),
			})},
			{"test port open only to the VPC's own range by default", "AWS::EC2::SecurityGroup", obj(map[string]any{
				"SecurityGroupIngress": arrayWith(obj(map[string]any{
					"CidrIp":   map[string]any{"Fn::GetAtt": []any{logicalID(t, id, "AWS::EC2::VPC", nil), "CidrBlock"}},
					"FromPort": env.TestListenerPort, "ToPort": env.TestListenerPort,
				})),
			})},
			{"blue target group: IP targets, health check on the configured path", "AWS::ElasticLoadBalancingV2::TargetGroup", obj(map[string]any{
				"Name": prefix + "-blue", "TargetType": "ip", "Port": env.ContainerPort, "Protocol": "HTTP", "HealthCheckPath": env.HealthCheckPath,
			})},
			{"green target group: IP targets, health check on the configured path", "AWS::ElasticLoadBalancingV2::TargetGroup", obj(map[string]any{
				"Name": prefix + "-green", "TargetType": "ip", "Port": env.ContainerPort, "Protocol": "HTTP", "HealthCheckPath": env.HealthCheckPath,
			})},
			{"cluster with Container Insights", "AWS::ECS::Cluster", obj(map[string]any{
				"ClusterName":     prefix,
				"ClusterSettings": arrayWith(map[string]any{"Name": "containerInsights", "Value": "enabled"}),
			})},
			{"Fargate task definition with the configured size, placeholder image and logs", "AWS::ECS::TaskDefinition", obj(map[string]any{
				"Family": prefix, "Cpu": fmt.Sprint(env.TaskCpu), "Memory": fmt.Sprint(env.TaskMemoryMiB),
				"NetworkMode": "awsvpc", "RequiresCompatibilities": []any{"FARGATE"},
				"ContainerDefinitions": []any{obj(map[string]any{
					"Name": "app", "Image": env.PlaceholderImage, "Essential": true,
					"PortMappings":     []any{obj(map[string]any{"ContainerPort": env.ContainerPort, "Protocol": "tcp"})},
					"LogConfiguration": obj(map[string]any{"LogDriver": "awslogs"}),
				})},
			})},
			// Its retention: TestEveryLogGroupHasRetention.
			{"container log group named for the service", "AWS::Logs::LogGroup", obj(map[string]any{
				"LogGroupName": "/ecs/" + prefix,
			})},
			{"Fargate service in private subnets under the CODE_DEPLOY controller", "AWS::ECS::Service", obj(map[string]any{
				"ServiceName": prefix, "LaunchType": "FARGATE",
				// No DesiredCount: TestScalableTargetOwnsTheTaskCount.
				"DeploymentController": map[string]any{"Type": "CODE_DEPLOY"},
				"NetworkConfiguration": obj(map[string]any{"AwsvpcConfiguration": obj(map[string]any{"AssignPublicIp": "DISABLED"})}),
				"LoadBalancers":        []any{obj(map[string]any{"ContainerName": "app", "ContainerPort": env.ContainerPort})},
			})},
			{"Application Auto Scaling owns the task count, between the configured bounds, with its service-linked role", "AWS::ApplicationAutoScaling::ScalableTarget", obj(map[string]any{
				"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
				"MinCapacity": env.MinCapacity, "MaxCapacity": env.MaxCapacity, "RoleARN": assertions.Match_Absent(),
			})},
			{"target tracking on the service's average CPU", "AWS::ApplicationAutoScaling::ScalingPolicy", obj(map[string]any{
				"PolicyName": prefix + "-cpu", "PolicyType": "TargetTrackingScaling",
				"TargetTrackingScalingPolicyConfiguration": obj(map[string]any{
					"TargetValue":                   env.CpuTargetPercent,
					"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
				}),
			})},
			{"target tracking on requests per healthy task summed over both target groups", "AWS::ApplicationAutoScaling::ScalingPolicy", obj(map[string]any{
				"PolicyName": prefix + "-requests", "PolicyType": "TargetTrackingScaling",
				"TargetTrackingScalingPolicyConfiguration": obj(map[string]any{
					"TargetValue": env.RequestsPerTask,
					"CustomizedMetricSpecification": map[string]any{"Metrics": arrayWith(
						requestMetric(t, id, "requestsblue", "RequestCount", "Sum", prefix+"-blue"),
						requestMetric(t, id, "requestsgreen", "RequestCount", "Sum", prefix+"-green"),
						requestMetric(t, id, "healthyblue", "HealthyHostCount", "Average", prefix+"-blue"),
						requestMetric(t, id, "healthygreen", "HealthyHostCount", "Average", prefix+"-green"),
						obj(map[string]any{
							"Expression": "(FILL(requestsblue, 0) + FILL(requestsgreen, 0)) / (FILL(healthyblue, 0) + FILL(healthygreen, 0))",
							"ReturnData": true,
						}),
					)},
				}),
			})},
			{"service names its task definition by family, so stack updates never fight CodeDeploy", "AWS::ECS::Service", obj(map[string]any{
				"TaskDefinition": prefix,
			})},
			{"service security group admits only the load balancer, on the container port", "AWS::EC2::SecurityGroupIngress", obj(map[string]any{
				"IpProtocol": "tcp", "FromPort": env.ContainerPort, "ToPort": env.ContainerPort,
				"SourceSecurityGroupId": assertions.Match_ObjectLike(&map[string]any{"Fn::GetAtt": assertions.Match_AnyValue()}),
			})},
			{"CodeDeploy ECS application", "AWS::CodeDeploy::Application", obj(map[string]any{
				"ApplicationName": prefix, "ComputePlatform": "ECS",
			})},
			{"deployment group: both target groups, production and test routes, configured traffic shifting", "AWS::CodeDeploy::DeploymentGroup", obj(map[string]any{
				"DeploymentGroupName":  prefix,
				"DeploymentConfigName": env.DeploymentConfig,
				"DeploymentStyle":      map[string]any{"DeploymentOption": "WITH_TRAFFIC_CONTROL", "DeploymentType": "BLUE_GREEN"},
				"LoadBalancerInfo": map[string]any{"TargetGroupPairInfoList": []any{obj(map[string]any{
					"TargetGroups": []any{
						obj(map[string]any{"Name": assertions.Match_AnyValue()}),
						obj(map[string]any{"Name": assertions.Match_AnyValue()}),
					},
					"ProdTrafficRoute": obj(map[string]any{"ListenerArns": assertions.Match_AnyValue()}),
					"TestTrafficRoute": obj(map[string]any{"ListenerArns": assertions.Match_AnyValue()}),
				})}},
				"BlueGreenDeploymentConfiguration": obj(map[string]any{
					"TerminateBlueInstancesOnDeploymentSuccess": obj(map[string]any{
						"Action": "TERMINATE", "TerminationWaitTimeInMinutes": env.TerminationWaitMinutes,
					}),
				}),
			})},
			{"VPC flow logs capture all traffic", "AWS::EC2::FlowLog", obj(map[string]any{
				"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
			})},
			{"VPC with the configured CIDR", "AWS::EC2::VPC", obj(map[string]any{"CidrBlock": env.VpcCidr})},
		}
		checkRequirements(t, []string{id}, reqs)
	}
}

// TestScalableTargetOwnsTheTaskCount proves that no ECS service of any
// template this package synthesizes (the app, the day-two app, the
// construct test) sets DesiredCount, and that a scalable target of its
// desired count names each one: the scaler owns the task count, and a
// template value would reset it on every update.
//
// Contract home: who owns the task count.
func TestScalableTargetOwnsTheTaskCount(t *testing.T) {
	services := 0
	for name, tpl := range synthesizedTemplates(t) {
		res := templateResources(t, tpl)
		scaled := map[string]bool{}
		for _, r := range res {
			if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget" && dig(r, "Properties", "ScalableDimension") == "ecs:service:DesiredCount" {
				for _, id := range referencedIDs(dig(r, "Properties", "ResourceId")) {
					scaled[id] = true
				}
			}
		}
		for logical, r := range res {
			if r["Type"] != "AWS::ECS::Service" {
				continue
			}
			services++
			if v, ok := asMap(r["Properties"])["DesiredCount"]; ok {
				t.Errorf("%s/%s sets DesiredCount %v; the scalable target owns the task count", name, logical, v)
			}
			if !scaled[logical] {
				t.Errorf("%s/%s: no scalable target of its desired count", name, logical)
			}
		}
	}
	if services < 8 {
		t.Fatalf("only %d services found; the walk is broken", services)
	}
}

// TestServiceCreatedAfterItsTaskDefinition proves the creation order that
// naming the task definition by family gives up: without a reference,
// CloudFormation creates the service after the task definition only because
// the service depends on it (CDK's service adds the dependency under the
// CODE_DEPLOY controller; the construct relies on that).
func TestServiceCreatedAfterItsTaskDefinition(t *testing.T) {
	for id := range environments() {
		t.Run(id, func(t *testing.T) {
			taskDef := logicalID(t, id, "AWS::ECS::TaskDefinition", nil)
			for logical, svc := range resources(t, id, "AWS::ECS::Service") {
				if !containsValue(asList(svc["DependsOn"]), taskDef) {
					t.Errorf("service %s does not depend on task definition %s; DependsOn = %v", logical, taskDef, svc["DependsOn"])
				}
			}
		})
	}
}

// TestDeploymentGroupTargetGroupsAreBlueAndGreen proves LoadBalancerInfo
// names exactly the two target groups of the environment.
func TestDeploymentGroupTargetGroupsAreBlueAndGreen(t *testing.T) {
	for id, env := range environments() {
		prefix := app.Config.ResourcePrefix(env)
		for _, dg := range resources(t, id, "AWS::CodeDeploy::DeploymentGroup") {
			pairs := dig(dg, "Properties", "LoadBalancerInfo", "TargetGroupPairInfoList").([]any)
			groups := dig(pairs[0], "TargetGroups").([]any)
			var got []string
			for _, g := range groups {
				ref := dig(g, "Name", "Fn::GetAtt").([]any)
				got = append(got, ref[0].(string))
			}
			want := []string{
				logicalID(t, id, "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"Name": prefix + "-blue"}),
				logicalID(t, id, "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"Name": prefix + "-green"}),
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: deployment group target groups = %v, want blue then green %v", id, got, want)
			}
		}
	}
}

// TestDeploymentStaysOpenUntilAlarmsCanFire proves, from the templates, that
// each environment keeps its deployment open (traffic-shift time plus
// termination wait) at least as long as its slowest alarm takes to fire.
func TestDeploymentStaysOpenUntilAlarmsCanFire(t *testing.T) {
	for id := range environments() {
		var slowest rules.AlarmWindow
		for _, a := range resources(t, id, "AWS::CloudWatch::Alarm") {
			p := a["Properties"].(map[string]any)
			w := rules.AlarmWindow{PeriodSeconds: int(p["Period"].(float64)), EvaluationPeriods: int(p["EvaluationPeriods"].(float64))}
			if w.DetectionSeconds() > slowest.DetectionSeconds() {
				slowest = w
			}
		}
		for _, dg := range resources(t, id, "AWS::CodeDeploy::DeploymentGroup") {
			name := dig(dg, "Properties", "DeploymentConfigName").(string)
			shift, ok := rules.CodeDeployPredefined(name)
			if !ok {
				t.Fatalf("%s: %s is not a deployment configuration CodeDeploy predefines", id, name)
			}
			wait := dig(dg, "Properties", "BlueGreenDeploymentConfiguration", "TerminateBlueInstancesOnDeploymentSuccess", "TerminationWaitTimeInMinutes").(float64)
			if minimum, ok := slowest.CheckTerminationWait(shift, int(wait)); !ok {
				t.Errorf("%s: deployment open %d s after traffic starts, alarms need %d s (%s); a termination wait of %d minutes, want at least %d",
					id, rules.OpenSeconds(shift, int(wait)), slowest.DetectionSeconds(), slowest, int(wait), minimum)
			}
		}
	}
}

// TestEnvironmentDefaults proves the documented per-environment traffic
// shift: staging all at once, production a canary. (That staging is
// disposable and production keeps its data and load balancer:
// TestDataIsKeptWhereItMatters and TestLoadBalancerDeletionProtection.)
func TestEnvironmentDefaults(t *testing.T) {
	checkRequirements(t, []string{"Staging"}, []requirement{
		{"staging shifts traffic all at once", "AWS::CodeDeploy::DeploymentGroup", obj(map[string]any{"DeploymentConfigName": "CodeDeployDefault.ECSAllAtOnce"})},
	})
	checkRequirements(t, []string{"Production"}, []requirement{
		{"production shifts 10% then the rest after 5 minutes", "AWS::CodeDeploy::DeploymentGroup", obj(map[string]any{"DeploymentConfigName": "CodeDeployDefault.ECSCanary10Percent5Minutes"})},
	})
}

// TestVpcSpansTwoZones proves two public and two private subnets in distinct AZs.
func TestVpcSpansTwoZones(t *testing.T) {
	for id, env := range environments() {
		subnets := resources(t, id, "AWS::EC2::Subnet")
		public, private := 0, 0
		zones := map[string]bool{}
		for _, s := range subnets {
			p := s["Properties"].(map[string]any)
			zones[fmt.Sprint(p["AvailabilityZone"])] = true
			if subnetType(p) == "Public" {
				public++
			} else {
				private++
			}
		}
		if public != 2 || private != 2 || len(zones) != 2 {
			t.Errorf("%s: %d public and %d private subnets over %d zones, want 2, 2, 2", id, public, private, len(zones))
		}
		if n := len(resources(t, id, "AWS::EC2::NatGateway")); n != env.NatGateways {
			t.Errorf("%s: %d NAT gateways, want %d", id, n, env.NatGateways)
		}
	}
}

// subnetType is the aws-cdk:subnet-type tag CDK puts on every subnet it creates.
func subnetType(props map[string]any) string {
	for _, tag := range asList(props["Tags"]) {
		if dig(tag, "Key") == "aws-cdk:subnet-type" {
			return fmt.Sprint(dig(tag, "Value"))
		}
	}
	return ""
}

// TestUrlOutputs proves each environment stack outputs its production and test URLs.
func TestUrlOutputs(t *testing.T) {
	for id, env := range environments() {
		tpl := template(t, id)
		outputs := *tpl.FindOutputs(jsii.String("*"), nil)
		for name, port := range map[string]string{"ProductionUrl": "", "TestUrl": fmt.Sprintf(":%d", env.TestListenerPort)} {
			out, ok := outputs[name]
			if !ok {
				t.Errorf("%s: output %s missing", id, name)
				continue
			}
			value := fmt.Sprint((*out)["Value"])
			if !strings.Contains(value, "DNSName") || !strings.Contains(value, "http://") || (port != "" && !strings.Contains(value, port)) {
				t.Errorf("%s: output %s = %s, want http://<load balancer DNS name>%s", id, name, value, port)
			}
		}
	}
}

// logicalID finds the one resource of a type in a stack of the app whose
// properties contain props.
func logicalID(t *testing.T, stackID, resourceType string, props map[string]any) string {
	t.Helper()
	return logicalIDIn(t, template(t, stackID), resourceType, props)
}

// logicalIDIn finds the one resource of a type in a template whose
// properties contain props.
func logicalIDIn(t *testing.T, tpl assertions.Template, resourceType string, props map[string]any) string {
	t.Helper()
	var match any
	if props != nil {
		match = map[string]any{"Properties": obj(props)}
	}
	found := *tpl.FindResources(jsii.String(resourceType), match)
	if len(found) != 1 {
		t.Fatalf("%d %s resources match %v, want 1", len(found), resourceType, props)
	}
	for id := range found {
		return id
	}
	return ""
}

// refTo is a {"Ref": id} for the resource of a type with the given Name.
func refTo(t *testing.T, stackID, resourceType, name string) map[string]any {
	return refToIn(t, template(t, stackID), resourceType, map[string]any{"Name": name})
}

// refToIn is a {"Ref": id} for the one resource of a type in a template
// whose properties contain props.
func refToIn(t *testing.T, tpl assertions.Template, resourceType string, props map[string]any) map[string]any {
	return map[string]any{"Ref": logicalIDIn(t, tpl, resourceType, props)}
}

// requestMetric matches one metric query of the request-scaling policy: an
// ALB metric of one target group, not returned on its own.
func requestMetric(t *testing.T, stack, id, metric, stat, group string) assertions.Matcher {
	return obj(map[string]any{
		"Id": id, "ReturnData": false,
		"MetricStat": map[string]any{
			"Stat": stat,
			"Metric": obj(map[string]any{
				"Namespace": "AWS/ApplicationELB", "MetricName": metric,
				"Dimensions": arrayWith(map[string]any{
					"Name": "TargetGroup", "Value": map[string]any{"Fn::GetAtt": []any{logicalID(t, stack, "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"Name": group}), "TargetGroupFullName"}},
				}),
			}),
		},
	})
}
