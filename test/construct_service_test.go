package test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
)

// Tests of bluegreen.NewService on its own (see svc in constructs_test.go).

// svcHas asserts that the service test stack has a resource with these properties.
func svcHas(t *testing.T, resourceType string, props map[string]interface{}) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%v", r)
		}
	}()
	svc.tpl.HasResourceProperties(jsii.String(resourceType), assertions.Match_ObjectLike(&props))
}

// TestServiceConstructDefaults proves the documented default of every optional prop.
func TestServiceConstructDefaults(t *testing.T) {
	rows := []struct {
		name, resourceType string
		props              map[string]interface{}
	}{
		{"TaskCpu 256, TaskMemoryMiB 512, ContainerName app, ContainerPort 80, placeholder nginx", "AWS::ECS::TaskDefinition", map[string]interface{}{
			"Family": "plain-svc", "Cpu": "256", "Memory": "512",
			"ContainerDefinitions": []interface{}{obj(map[string]interface{}{
				"Name": "app", "Image": "public.ecr.aws/nginx/nginx:stable-alpine",
				"PortMappings": []interface{}{obj(map[string]interface{}{"ContainerPort": 80})},
			})},
		}},
		{"no DesiredCount: the scalable target owns the count", "AWS::ECS::Service", map[string]interface{}{"ServiceName": "plain-svc", "DesiredCount": assertions.Match_Absent()}},
		{"MinCapacity 1, MaxCapacity twice that", "AWS::ApplicationAutoScaling::ScalableTarget", map[string]interface{}{
			"MinCapacity": 1, "MaxCapacity": 2,
			"ResourceId": map[string]interface{}{"Fn::Join": []interface{}{"", arrayWith("service/", "/")}},
		}},
		{"TargetUtilizationPercent 60", "AWS::ApplicationAutoScaling::ScalingPolicy", map[string]interface{}{
			"PolicyName": "plain-svc-cpu", "TargetTrackingScalingPolicyConfiguration": obj(map[string]interface{}{"TargetValue": 60}),
		}},
		{"RequestsPerTarget 1000", "AWS::ApplicationAutoScaling::ScalingPolicy", map[string]interface{}{
			"PolicyName": "plain-svc-requests", "TargetTrackingScalingPolicyConfiguration": obj(map[string]interface{}{"TargetValue": 1000}),
		}},
		{"HealthCheckPath /", "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]interface{}{"Name": "plain-svc-blue", "HealthCheckPath": "/"}},
		{"release-speed tuning: 10 s checks, 2 to pass, 3 to fail, 30 s draining", "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]interface{}{
			"Name": "plain-svc-green", "HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 5,
			"HealthyThresholdCount": 2, "UnhealthyThresholdCount": 3,
			"TargetGroupAttributes": arrayWith(map[string]interface{}{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}),
		}},
		{"health-check grace period 60 s", "AWS::ECS::Service", map[string]interface{}{"ServiceName": "plain-svc", "HealthCheckGracePeriodSeconds": 60}},
		{"production listener HTTP 80 without a certificate", "AWS::ElasticLoadBalancingV2::Listener", map[string]interface{}{"Port": 80, "Protocol": "HTTP",
			"DefaultActions": []interface{}{obj(map[string]interface{}{"Type": "forward"})}}},
		{"TestListenerPort 8080", "AWS::ElasticLoadBalancingV2::Listener", map[string]interface{}{"Port": 8080, "Protocol": "HTTP"}},
		{"DeploymentConfig all at once, TerminationWait 5 minutes", "AWS::CodeDeploy::DeploymentGroup", map[string]interface{}{
			"DeploymentGroupName": "plain-svc", "DeploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
			"BlueGreenDeploymentConfiguration": obj(map[string]interface{}{"TerminateBlueInstancesOnDeploymentSuccess": obj(map[string]interface{}{"TerminationWaitTimeInMinutes": 5})}),
		}},
		{"Alarm5xxThreshold 5, AlarmPeriod 1 minute, AlarmEvaluationPeriods 2", "AWS::CloudWatch::Alarm", map[string]interface{}{
			"AlarmName": "plain-svc-blue-5xx", "Threshold": 5, "Period": 60, "EvaluationPeriods": 2, "DatapointsToAlarm": 2,
		}},
		{"RemovalPolicy RETAIN protects the load balancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", map[string]interface{}{
			"Name":                   "plain-svc",
			"LoadBalancerAttributes": arrayWith(map[string]interface{}{"Key": "deletion_protection.enabled", "Value": "true"}),
		}},
		{"LogRetention one month", "AWS::Logs::LogGroup", map[string]interface{}{"LogGroupName": "/ecs/plain-svc", "RetentionInDays": 30}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) { svcHas(t, r.resourceType, r.props) })
	}
	retained := svc.tpl.FindResources(jsii.String("AWS::Logs::LogGroup"), map[string]interface{}{
		"Properties": obj(map[string]interface{}{"LogGroupName": "/ecs/plain-svc"}), "DeletionPolicy": "Retain",
	})
	if len(*retained) != 1 {
		t.Errorf("default RemovalPolicy: log group not retained")
	}
}

// TestServiceConstructCertificateServesHttpsAndRedirects proves that a certificate turns the
// production listener into HTTPS on 443 and port 80 into a redirect to it,
// and that explicit peers replace the VPC range on the test listener.
func TestServiceConstructCertificateServesHttpsAndRedirects(t *testing.T) {
	svcHas(t, "AWS::ElasticLoadBalancingV2::Listener", map[string]interface{}{
		"Port": 443, "Protocol": "HTTPS",
		"Certificates":   []interface{}{map[string]interface{}{"CertificateArn": testCertificateArn}},
		"DefaultActions": []interface{}{obj(map[string]interface{}{"Type": "forward"})},
	})
	svcHas(t, "AWS::ElasticLoadBalancingV2::Listener", map[string]interface{}{
		"Port": 80, "Protocol": "HTTP",
		"DefaultActions": []interface{}{obj(map[string]interface{}{
			"Type":           "redirect",
			"RedirectConfig": obj(map[string]interface{}{"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}),
		})},
	})
	svcHas(t, "AWS::EC2::SecurityGroup", map[string]interface{}{
		"SecurityGroupIngress": arrayWith(
			obj(map[string]interface{}{"CidrIp": "0.0.0.0/0", "FromPort": 443}),
			obj(map[string]interface{}{"CidrIp": "192.0.2.0/24", "FromPort": 9000, "ToPort": 9000}),
		),
	})
	if url := *svc.withTLS.ProductionUrl(); !strings.HasPrefix(url, "https://") {
		t.Errorf("ProductionUrl = %s, want https://", url)
	}
	if url := *svc.withTLS.TestUrl(); !strings.HasPrefix(url, "http://") || !strings.HasSuffix(url, ":9000") {
		t.Errorf("TestUrl = %s, want http://...:9000", url)
	}
	// With explicit peers, the VPC's range is not also admitted to the test port.
	found := svc.tpl.FindResources(jsii.String("AWS::EC2::SecurityGroup"), map[string]interface{}{
		"Properties": obj(map[string]interface{}{"SecurityGroupIngress": arrayWith(obj(map[string]interface{}{
			"FromPort": 9000, "CidrIp": obj(map[string]interface{}{"Fn::GetAtt": assertions.Match_AnyValue()}),
		}))}),
	})
	if len(*found) != 0 {
		t.Errorf("test port 9000 also open to the VPC range despite explicit peers")
	}
}

// TestServiceConstructExposesWhatAPipelineNeeds proves the getters return the inner resources.
func TestServiceConstructExposesWhatAPipelineNeeds(t *testing.T) {
	release, ok := svc.plain.Release().(bluegreen.CodeDeployRelease)
	if !ok || release.Engine() != bluegreen.EngineCodeDeploy || release.DeploymentGroup() == nil || release.Application() == nil {
		t.Fatalf("Release() = %v, want a CodeDeploy release with its application and deployment group", svc.plain.Release())
	}
	if svc.plain.TaskDefinition() == nil ||
		svc.plain.ExecutionRole() == nil || svc.plain.TaskRole() == nil || svc.plain.Cluster() == nil || svc.plain.Service() == nil ||
		svc.plain.LoadBalancer() == nil || svc.plain.ProductionListener() == nil || svc.plain.TestListener() == nil ||
		svc.plain.BlueTargetGroup() == nil || svc.plain.GreenTargetGroup() == nil {
		t.Fatal("a getter returned nil")
	}
	if got := *svc.plain.TaskDefinitionFamily(); got != "plain-svc" {
		t.Errorf("TaskDefinitionFamily = %s", got)
	}
	if *svc.plain.ContainerName() != "app" || *svc.plain.ContainerPort() != 80 {
		t.Errorf("container = %s:%v", *svc.plain.ContainerName(), *svc.plain.ContainerPort())
	}
	if n := len(svc.plain.Alarms()); n != 4 {
		t.Errorf("%d alarms, want 4 (5xx and unhealthy hosts on each target group)", n)
	}
}

// TestServiceConstructRejectsInvalidProps proves the construct refuses props
// that cannot work, naming the problem.
func TestServiceConstructRejectsInvalidProps(t *testing.T) {
	rows := []struct {
		name  string
		props *bluegreen.ServiceProps
		want  string
	}{
		{"missing VPC", &bluegreen.ServiceProps{NamePrefix: jsii.String("x")}, "Vpc and NamePrefix are required"},
		{"missing prefix", &bluegreen.ServiceProps{Vpc: svc.vpc}, "Vpc and NamePrefix are required"},
		{"prefix too long for a target group name", &bluegreen.ServiceProps{Vpc: svc.vpc, NamePrefix: jsii.String(strings.Repeat("a", 27))}, "AWS allows 32"},
		{"test port on a production port", &bluegreen.ServiceProps{Vpc: svc.vpc, NamePrefix: jsii.String("x"), TestListenerPort: jsii.Number(443)}, "collides"},
		{"canary percentage 0", &bluegreen.ServiceProps{Vpc: svc.vpc, NamePrefix: jsii.String("x"), TrafficShift: bluegreen.Canary(0, 5)}, "percentage must be a whole number from 1 to 99"},
		{"linear 100 percent", &bluegreen.ServiceProps{Vpc: svc.vpc, NamePrefix: jsii.String("x"), TrafficShift: bluegreen.Linear(100, 1)}, "percentage must be a whole number from 1 to 99"},
		{"canary interval in fractions of a minute", &bluegreen.ServiceProps{Vpc: svc.vpc, NamePrefix: jsii.String("x"), TrafficShift: bluegreen.Canary(10, 1.5)}, "interval must be a whole number of minutes"},
	}
	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			defer func() {
				got := recover()
				if got == nil || !strings.Contains(got.(error).Error(), r.want) {
					t.Errorf("panic = %v, want one containing %q", got, r.want)
				}
			}()
			bluegreen.NewService(svc.stack, "Invalid"+string(rune('A'+i)), r.props)
		})
	}
}

// TestServiceConstructPreTrafficHook proves the AfterAllowTestTraffic validation: the
// function's configuration, its role (report to CodeDeploy, write its own
// logs, VPC networking; nothing else), its network path to the test listener
// through the NAT gateways, and CodeDeploy's permission to invoke it.
func TestServiceConstructPreTrafficHook(t *testing.T) {
	svcHas(t, "AWS::Lambda::Function", map[string]interface{}{
		"FunctionName": "tls-svc-pretraffic", "Runtime": "nodejs22.x", "Handler": "index.handler",
		"VpcConfig": obj(map[string]interface{}{"SubnetIds": assertions.Match_AnyValue()}),
		"Environment": map[string]interface{}{"Variables": obj(map[string]interface{}{
			"CHECKS":   `[{"path":"/"},{"path":"/api/ready","status":204}]`,
			"REQUESTS": "3", "TIMEOUT_MS": "3000",
			"TEST_URL": obj(map[string]interface{}{"Fn::Join": assertions.Match_AnyValue()}),
		})},
	})
	svcHas(t, "AWS::Lambda::Function", map[string]interface{}{
		"FunctionName": "plain-svc-pretraffic",
		"Environment":  map[string]interface{}{"Variables": obj(map[string]interface{}{"CHECKS": `[{"path":"/"}]`, "REQUESTS": "5"})},
	})
	// The role's policy: exactly these actions.
	policies := svc.tpl.FindResources(jsii.String("AWS::IAM::Policy"), map[string]interface{}{
		"Properties": obj(map[string]interface{}{"Roles": []interface{}{obj(map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHookRole"))})}}),
	})
	if len(*policies) != 1 {
		t.Fatalf("%d policies on the hook role, want 1", len(*policies))
	}
	var actions []string
	for _, p := range *policies {
		for _, st := range (*p)["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			switch a := st.(map[string]interface{})["Action"].(type) {
			case string:
				actions = append(actions, a)
			case []interface{}:
				for _, x := range a {
					actions = append(actions, x.(string))
				}
			}
		}
	}
	// The network-interface actions of AWSLambdaVPCAccessExecutionRole, the
	// function's log group, and the report to CodeDeploy.
	want := "codedeploy:PutLifecycleEventHookExecutionStatus ec2:AssignPrivateIpAddresses ec2:CreateNetworkInterface ec2:DeleteNetworkInterface ec2:DescribeNetworkInterfaces ec2:DescribeSubnets ec2:UnassignPrivateIpAddresses logs:CreateLogStream logs:PutLogEvents"
	slices.Sort(actions)
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("hook role actions:\n got %s\nwant %s", got, want)
	}
	// The report to CodeDeploy names this service's deployment group only.
	svcHas(t, "AWS::IAM::Policy", map[string]interface{}{
		"Roles": []interface{}{obj(map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHookRole"))})},
		"PolicyDocument": obj(map[string]interface{}{"Statement": arrayWith(obj(map[string]interface{}{
			"Action": "codedeploy:PutLifecycleEventHookExecutionStatus", "Effect": "Allow",
			"Resource": map[string]interface{}{"Fn::Join": []interface{}{"", arrayWith(":deploymentgroup:", map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TlsDeploymentGroup"))})}},
		}))}),
	})
	// A daily scheduled invocation keeps the VPC function Active, and only
	// that rule may invoke it through EventBridge.
	svcHas(t, "AWS::Events::Rule", map[string]interface{}{
		"Name": "tls-svc-pretraffic-warm", "ScheduleExpression": "rate(1 day)", "State": "ENABLED",
		"Targets": []interface{}{obj(map[string]interface{}{
			"Arn":         map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHook")), "Arn"}},
			"RetryPolicy": map[string]interface{}{"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
		})},
	})
	svcHas(t, "AWS::Lambda::Permission", map[string]interface{}{
		"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
		"FunctionName": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHook")), "Arn"}},
		"SourceArn":    map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHookKeepWarm")), "Arn"}},
	})
	// The test listener admits the NAT gateway's address.
	svcHas(t, "AWS::EC2::SecurityGroup", map[string]interface{}{
		"SecurityGroupIngress": arrayWith(obj(map[string]interface{}{
			"FromPort": 9000, "ToPort": 9000,
			"CidrIp": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{
				map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^VpcPublicSubnet1EIP")), "PublicIp"}}, "/32",
			}}},
		})),
	})
	// The function's own egress: the test port and HTTPS, nothing else.
	svcHas(t, "AWS::EC2::SecurityGroup", map[string]interface{}{
		"GroupDescription": assertions.Match_StringLikeRegexp(jsii.String("tls-svc pre-traffic validation")),
		"SecurityGroupEgress": []interface{}{
			obj(map[string]interface{}{"CidrIp": "0.0.0.0/0", "FromPort": 9000, "ToPort": 9000}),
			obj(map[string]interface{}{"CidrIp": "0.0.0.0/0", "FromPort": 443, "ToPort": 443}),
		},
	})
	// CodeDeploy's service role for the group may invoke the function.
	svcHas(t, "AWS::IAM::Policy", map[string]interface{}{
		"Roles": []interface{}{obj(map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TlsDeploymentGroupServiceRole"))})},
		"PolicyDocument": obj(map[string]interface{}{"Statement": arrayWith(obj(map[string]interface{}{
			"Action": "lambda:InvokeFunction", "Effect": "Allow",
			"Resource": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHook")), "Arn"}},
		}))}),
	})
	if svc.withTLS.PreTrafficHook() == nil {
		t.Error("PreTrafficHook() is nil")
	}
}

// TestServiceConstructTrafficShift proves that a traffic shift CodeDeploy
// predefines uses that configuration (the plain service's default, all at
// once, in TestServiceConstructDefaults) and that any other gets a
// deployment configuration of its own, used by the service's group. (What
// each shift means is tested with the rules package.)
func TestServiceConstructTrafficShift(t *testing.T) {
	configs := svc.tpl.FindResources(jsii.String("AWS::CodeDeploy::DeploymentConfig"), map[string]interface{}{
		"Properties": map[string]interface{}{
			"ComputePlatform": "ECS",
			"TrafficRoutingConfig": map[string]interface{}{
				"Type":            "TimeBasedLinear",
				"TimeBasedLinear": map[string]interface{}{"LinearPercentage": 20, "LinearInterval": 2},
			},
		},
	})
	if len(*configs) != 1 {
		t.Fatalf("%d linear 20%%/2 min deployment configurations, want 1", len(*configs))
	}
	for logical := range *configs {
		svcHas(t, "AWS::CodeDeploy::DeploymentGroup", map[string]interface{}{
			"DeploymentGroupName":  "tls-svc",
			"DeploymentConfigName": map[string]interface{}{"Ref": logical},
		})
	}
}
