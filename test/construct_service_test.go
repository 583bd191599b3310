package test

import (
	"ecs-bluegreen/rules"

	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
)

// Tests of bluegreen.NewService on its own (see svc in constructs_test.go).

// svcHas asserts that the service test stack has a resource with these properties.
func svcHas(t *testing.T, resourceType string, props map[string]any) {
	t.Helper()
	check(t, func() { svc.tpl.HasResourceProperties(jsii.String(resourceType), obj(props)) })
}

// TestServiceConstructDefaults proves the documented default of every optional prop.
func TestServiceConstructDefaults(t *testing.T) {
	rows := []struct {
		name, resourceType string
		props              map[string]any
	}{
		{"Cpu 256, MemoryLimitMiB 512, ContainerName app, ContainerPort 80, placeholder nginx", "AWS::ECS::TaskDefinition", map[string]any{
			"Family": "plain-svc", "Cpu": "256", "Memory": "512",
			"ContainerDefinitions": []any{obj(map[string]any{
				"Name": "app", "Image": "public.ecr.aws/nginx/nginx:stable-alpine",
				"PortMappings": []any{obj(map[string]any{"ContainerPort": 80})},
			})},
		}},
		// No DesiredCount, the scalable target owns the count: TestScalableTargetOwnsTheTaskCount.
		{"MinCapacity 1, MaxCapacity twice that", "AWS::ApplicationAutoScaling::ScalableTarget", map[string]any{
			"MinCapacity": 1, "MaxCapacity": 2,
			"ResourceId": map[string]any{"Fn::Join": []any{"", arrayWith("service/", "/")}},
		}},
		{"TargetUtilizationPercent 60", "AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
			"PolicyName": "plain-svc-cpu", "TargetTrackingScalingPolicyConfiguration": obj(map[string]any{"TargetValue": 60}),
		}},
		{"RequestsPerTarget 1000", "AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
			"PolicyName": "plain-svc-requests", "TargetTrackingScalingPolicyConfiguration": obj(map[string]any{"TargetValue": 1000}),
		}},
		{"HealthCheckPath /", "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"Name": "plain-svc-blue", "HealthCheckPath": "/"}},
		{"release-speed tuning: 10 s checks, 2 to pass, 3 to fail, 30 s draining", "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{
			"Name": "plain-svc-green", "HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 5,
			"HealthyThresholdCount": 2, "UnhealthyThresholdCount": 3,
			"TargetGroupAttributes": arrayWith(map[string]any{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}),
		}},
		{"health-check grace period 60 s", "AWS::ECS::Service", map[string]any{"ServiceName": "plain-svc", "HealthCheckGracePeriodSeconds": 60}},
		{"production listener HTTP 80 without a certificate", "AWS::ElasticLoadBalancingV2::Listener", map[string]any{"Port": 80, "Protocol": "HTTP",
			"DefaultActions": []any{obj(map[string]any{"Type": "forward"})}}},
		{"TestListenerPort 8080", "AWS::ElasticLoadBalancingV2::Listener", map[string]any{"Port": 8080, "Protocol": "HTTP"}},
		{"DeploymentConfig all at once, TerminationWaitTime 5 minutes", "AWS::CodeDeploy::DeploymentGroup", map[string]any{
			"DeploymentGroupName": "plain-svc", "DeploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
			"BlueGreenDeploymentConfiguration": obj(map[string]any{"TerminateBlueInstancesOnDeploymentSuccess": obj(map[string]any{"TerminationWaitTimeInMinutes": 5})}),
		}},
		{"Alarm5xxThreshold 5, AlarmPeriod 1 minute, AlarmEvaluationPeriods 2", "AWS::CloudWatch::Alarm", map[string]any{
			"AlarmName": "plain-svc-blue-5xx", "Threshold": 5, "Period": 60, "EvaluationPeriods": 2, "DatapointsToAlarm": 2,
		}},
		{"LogRetention one month", "AWS::Logs::LogGroup", map[string]any{"LogGroupName": "/ecs/plain-svc", "RetentionInDays": 30}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) { svcHas(t, r.resourceType, r.props) })
	}
	retained := svc.tpl.FindResources(jsii.String("AWS::Logs::LogGroup"), map[string]any{
		"Properties": obj(map[string]any{"LogGroupName": "/ecs/plain-svc"}), "DeletionPolicy": "Retain",
	})
	if len(*retained) != 1 {
		t.Errorf("default RemovalPolicy: log group not retained")
	}
	// RemovalPolicy RETAIN also protects the load balancer:
	// TestLoadBalancerDeletionProtection.
}

// TestServiceConstructCertificateServesHttpsAndRedirects proves that a certificate turns the
// production listener into HTTPS on 443 and port 80 into a redirect to it,
// and that explicit peers replace the VPC range on the test listener.
func TestServiceConstructCertificateServesHttpsAndRedirects(t *testing.T) {
	svcHas(t, "AWS::ElasticLoadBalancingV2::Listener", map[string]any{
		"Port": 443, "Protocol": "HTTPS",
		"Certificates":   []any{map[string]any{"CertificateArn": testCertificateArn}},
		"DefaultActions": []any{obj(map[string]any{"Type": "forward"})},
	})
	svcHas(t, "AWS::ElasticLoadBalancingV2::Listener", map[string]any{
		"Port": 80, "Protocol": "HTTP",
		"DefaultActions": []any{obj(map[string]any{
			"Type":           "redirect",
			"RedirectConfig": obj(map[string]any{"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}),
		})},
	})
	svcHas(t, "AWS::EC2::SecurityGroup", map[string]any{
		"SecurityGroupIngress": arrayWith(
			obj(map[string]any{"CidrIp": "0.0.0.0/0", "FromPort": 443}),
			obj(map[string]any{"CidrIp": "192.0.2.0/24", "FromPort": 9000, "ToPort": 9000}),
		),
	})
	if url := *svc.withTLS.ProductionUrl(); !strings.HasPrefix(url, "https://") {
		t.Errorf("ProductionUrl = %s, want https://", url)
	}
	if url := *svc.withTLS.TestUrl(); !strings.HasPrefix(url, "http://") || !strings.HasSuffix(url, ":9000") {
		t.Errorf("TestUrl = %s, want http://...:9000", url)
	}
	// With explicit peers, the VPC's range is not also admitted to the test port.
	found := svc.tpl.FindResources(jsii.String("AWS::EC2::SecurityGroup"), map[string]any{
		"Properties": obj(map[string]any{"SecurityGroupIngress": arrayWith(obj(map[string]any{
			"FromPort": 9000, "CidrIp": obj(map[string]any{"Fn::GetAtt": assertions.Match_AnyValue()}),
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
		svc.plain.ExecutionRole() == nil || svc.plain.TaskRole() == nil || svc.plain.Cluster() == nil || svc.plain.FargateService() == nil ||
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

// TestServiceConstructRejectsInvalidProps has one row per validation rule of
// the construct; each asserts its message, naming the prop, the value and
// what is allowed, and that it is the only problem reported. NewService
// panics before it adds anything to the (already synthesized) stack.
func TestServiceConstructRejectsInvalidProps(t *testing.T) {
	const tooEarly = " the deployment would end %d s after production traffic first reaches the new version, before its alarms can fire (%d s: %s); use a TerminationWaitTime of at least %s, or a shorter AlarmPeriod or fewer AlarmEvaluationPeriods"
	rows := []struct {
		name   string
		change func(p *bluegreen.ServiceProps)
		want   string
	}{
		{"Vpc is required", func(p *bluegreen.ServiceProps) { p.Vpc = nil }, "Vpc is required"},
		{"NamePrefix is required", func(p *bluegreen.ServiceProps) { p.NamePrefix = jsii.String("") }, "NamePrefix is required"},
		{"the green target group's name fits 32 characters", func(p *bluegreen.ServiceProps) { p.NamePrefix = jsii.String(strings.Repeat("a", 27)) },
			`NamePrefix "` + strings.Repeat("a", 27) + `" is too long: target group name "` + strings.Repeat("a", 27) + `-green" has 33 characters, AWS allows 32`},
		{"Cpu is a size Fargate offers", func(p *bluegreen.ServiceProps) { p.Cpu = jsii.Number(300) },
			"Cpu 300: Fargate accepts 256, 512, 1024, 2048, 4096, 8192 or 16384"},
		{"MemoryLimitMiB is a size Fargate accepts with Cpu", func(p *bluegreen.ServiceProps) { p.MemoryLimitMiB = jsii.Number(4096) },
			"MemoryLimitMiB 4096: with Cpu 256 Fargate accepts 512, 1024, 2048 MiB"},
		{"MinCapacity at least 1", func(p *bluegreen.ServiceProps) { p.MinCapacity, p.MaxCapacity = jsii.Number(0), jsii.Number(2) }, "MinCapacity 0: must be at least 1"},
		{"MaxCapacity at least MinCapacity", func(p *bluegreen.ServiceProps) { p.MinCapacity, p.MaxCapacity = jsii.Number(3), jsii.Number(2) },
			"MaxCapacity 2: must be at least MinCapacity (3)"},
		{"TargetUtilizationPercent 1 to 100", func(p *bluegreen.ServiceProps) { p.TargetUtilizationPercent = jsii.Number(101) }, "TargetUtilizationPercent 101: must be 1 to 100"},
		{"RequestsPerTarget at least 1", func(p *bluegreen.ServiceProps) { p.RequestsPerTarget = jsii.Number(0) }, "RequestsPerTarget 0: must be at least 1"},
		{"TestListenerPort is not a production port", func(p *bluegreen.ServiceProps) { p.TestListenerPort = jsii.Number(443) },
			"TestListenerPort 443 collides with a production listener port: use a port other than 80 and 443"},
		{"TaskEgress rules have a Cidr and a port", func(p *bluegreen.ServiceProps) {
			p.TaskEgress = &[]*bluegreen.EgressRule{{Cidr: jsii.String("10.0.0.0/8"), Port: jsii.Number(443)}, {Cidr: jsii.String("10.0.0.0/8"), Port: jsii.Number(0)}}
		}, `TaskEgress[1] = {Cidr: "10.0.0.0/8", Port: 0}: needs a Cidr and a Port from 1 to 65535`},
		{"Firewall.RateLimit as WAF accepts", func(p *bluegreen.ServiceProps) { p.Firewall = &bluegreen.FirewallProps{RateLimit: jsii.Number(5)} },
			"Firewall.RateLimit 5: WAF accepts 10 to 2,000,000,000 requests per 5 minutes"},
		{"TrafficShift: whole percentages from 1", func(p *bluegreen.ServiceProps) { p.TrafficShift = bluegreen.Canary(0, 5) },
			"TrafficShift: engine codedeploy: canary 0%, the rest after 5 minutes: the percentage must be a whole number from 1 to 99"},
		{"TrafficShift: whole percentages to 99", func(p *bluegreen.ServiceProps) { p.TrafficShift = bluegreen.Linear(100, 1) },
			"TrafficShift: engine codedeploy: linear 100% every 1 minutes: the percentage must be a whole number from 1 to 99"},
		{"TrafficShift: whole minutes", func(p *bluegreen.ServiceProps) { p.TrafficShift = bluegreen.Canary(10, 1.5) },
			"TrafficShift: engine codedeploy: canary 10%, the rest after 1.5 minutes: the interval must be a whole number of minutes from 1 to 2880"},
		{"TerminationWaitTime in whole minutes", func(p *bluegreen.ServiceProps) { p.TerminationWaitTime = awscdk.Duration_Seconds(jsii.Number(270)) },
			"TerminationWaitTime 4 minutes 30 seconds: must be whole minutes"},
		{"TerminationWaitTime up to two days", func(p *bluegreen.ServiceProps) { p.TerminationWaitTime = awscdk.Duration_Minutes(jsii.Number(2881)) },
			"TerminationWaitTime: engine codedeploy keeps the original task set 0 to 2880 minutes after all traffic moved, not 2881"},
		{"Engine: one of the two", func(p *bluegreen.ServiceProps) { p.Engine = "CodeDeploy" },
			`Engine: engine "CodeDeploy": must be one of codedeploy, ecs`},
		{"Engine ecs: a bake time of at most a day", func(p *bluegreen.ServiceProps) {
			p.Engine, p.TerminationWaitTime = bluegreen.EngineEcs, awscdk.Duration_Minutes(jsii.Number(1441))
		}, "TerminationWaitTime: engine ecs: the bake time (BakeTimeInMinutes) must be from 0 to 1440 minutes (one day), not 1441"},
		{"Engine ecs: linear steps of at least 3%", func(p *bluegreen.ServiceProps) {
			p.Engine, p.TrafficShift = bluegreen.EngineEcs, bluegreen.Linear(2, 1)
		}, "TrafficShift: engine ecs: linear 2% every 1 minutes: the percentage (stepPercent) must be a multiple of 0.1 from 3 to 100"},
		{"Engine ecs: the alarms can fire before the bake time ends", func(p *bluegreen.ServiceProps) {
			p.Engine, p.TrafficShift, p.TerminationWaitTime = bluegreen.EngineEcs, bluegreen.AllAtOnce(), awscdk.Duration_Minutes(jsii.Number(2))
		}, "TerminationWaitTime 2 minutes with TrafficShift all at once:" + fmt.Sprintf(tooEarly, 120, 180, "2 x 60 s alarm periods + 60 s metric delay", "3 minutes")},
		{"PreTrafficRequests within Lambda's 900 s", func(p *bluegreen.ServiceProps) { p.PreTrafficRequests = jsii.Number(300) },
			"PreTrafficRequests 300 with 1 paths: the pre-traffic check could take 930 s, a Lambda function runs at most 900 s"},
		{"Environment: names the runtime accepts", func(p *bluegreen.ServiceProps) {
			p.Environment = &map[string]*string{"LOG-LEVEL": jsii.String("info")}
		}, `Environment["LOG-LEVEL"]: ` + rules.CheckVariableName("LOG-LEVEL")},
		{"Secrets: a name is plain or secret", func(p *bluegreen.ServiceProps) {
			p.Environment = &map[string]*string{"DB_PASSWORD": jsii.String("x")}
			p.Secrets = &map[string]*bluegreen.ContainerSecret{"DB_PASSWORD": bluegreen.SecretFromSsmParameter("/app/db")}
		}, `Secrets["DB_PASSWORD"]: is also in Environment: a name is either plain or secret`},
		{"Secrets: one source each", func(p *bluegreen.ServiceProps) {
			p.Secrets = &map[string]*bluegreen.ContainerSecret{"KEY": {}}
		}, `Secrets["KEY"]: set exactly one of SecretsManagerArn and SsmParameter`},
		{"Secrets: a JSON key belongs to a Secrets Manager secret", func(p *bluegreen.ServiceProps) {
			p.Secrets = &map[string]*bluegreen.ContainerSecret{"KEY": {SsmParameter: jsii.String("/app/key"), JsonKey: jsii.String("k")}}
		}, `Secrets["KEY"]: JsonKey, VersionStage and VersionId apply to a Secrets Manager secret only`},
		{"Secrets: a Secrets Manager ARN", func(p *bluegreen.ServiceProps) {
			p.Secrets = &map[string]*bluegreen.ContainerSecret{"KEY": bluegreen.SecretFromSecretsManager("arn:aws:s3:::bucket/key", nil)}
		}, `Secrets["KEY"]: ` + rules.SecretReferenceForm},
		{"AlarmEvaluationPeriods at least 1", func(p *bluegreen.ServiceProps) { p.AlarmEvaluationPeriods = jsii.Number(0) },
			"AlarmEvaluationPeriods 0: must be a whole number of at least 1"},
		{"all at once: the alarms can fire before the deployment ends", func(p *bluegreen.ServiceProps) {
			p.TrafficShift, p.TerminationWaitTime = bluegreen.AllAtOnce(), awscdk.Duration_Minutes(jsii.Number(2))
		}, "TerminationWaitTime 2 minutes with TrafficShift all at once:" + fmt.Sprintf(tooEarly, 120, 180, "2 x 60 s alarm periods + 60 s metric delay", "3 minutes")},
		{"canary: the interval counts, the wait makes up the rest", func(p *bluegreen.ServiceProps) {
			p.TrafficShift, p.TerminationWaitTime = bluegreen.Canary(10, 1), awscdk.Duration_Minutes(jsii.Number(0))
		}, "TerminationWaitTime 0 minutes with TrafficShift canary 10%, the rest after 1 minutes:" + fmt.Sprintf(tooEarly, 60, 180, "2 x 60 s alarm periods + 60 s metric delay", "2 minutes")},
		{"slower alarms need a longer wait", func(p *bluegreen.ServiceProps) { p.AlarmPeriod = awscdk.Duration_Minutes(jsii.Number(5)) },
			"TerminationWaitTime 5 minutes with TrafficShift all at once:" + fmt.Sprintf(tooEarly, 300, 660, "2 x 300 s alarm periods + 60 s metric delay", "11 minutes")},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			props := &bluegreen.ServiceProps{Vpc: svc.vpc, NamePrefix: jsii.String("x")}
			r.change(props)
			problems := serviceProblems(t, props)
			if len(problems) != 1 || problems[0] != r.want {
				t.Errorf("problems:\n  %s\nwant only:\n  %s", strings.Join(problems, "\n  "), r.want)
			}
		})
	}
	if msg := panicMessage(func() { bluegreen.NewService(svc.stack, "NoProps", nil) }); msg != "bluegreen: props with Vpc and NamePrefix are required" {
		t.Errorf("nil props: %q", msg)
	}
}

// TestServiceConstructAcceptsWhatItCanRollBack proves that the rules' limits
// are not drawn too tight: a release that keeps the deployment open exactly
// as long as the alarms need, the largest Fargate size, and values known
// only at deploy time (tokens, which cannot be checked) are accepted. Each
// row leaves out Vpc, so that the construct panics before it builds
// anything, and asserts that nothing else is reported.
func TestServiceConstructAcceptsWhatItCanRollBack(t *testing.T) {
	token := func(name string) *float64 { return awscdk.Token_AsNumber(awscdk.Fn_Ref(jsii.String(name))) }
	rows := []struct {
		name  string
		props *bluegreen.ServiceProps
	}{
		{"all at once, waiting exactly the 180 s the alarms take", &bluegreen.ServiceProps{TrafficShift: bluegreen.AllAtOnce(), TerminationWaitTime: awscdk.Duration_Minutes(jsii.Number(3))}},
		{"a 1-minute canary and a 2-minute wait", &bluegreen.ServiceProps{TrafficShift: bluegreen.Canary(10, 1), TerminationWaitTime: awscdk.Duration_Minutes(jsii.Number(2))}},
		{"a 5-minute canary needs no wait", &bluegreen.ServiceProps{TrafficShift: bluegreen.Canary(10, 5), TerminationWaitTime: awscdk.Duration_Minutes(jsii.Number(0))}},
		{"faster alarms allow a shorter wait", &bluegreen.ServiceProps{
			TerminationWaitTime: awscdk.Duration_Minutes(jsii.Number(2)), AlarmPeriod: awscdk.Duration_Seconds(jsii.Number(30)), AlarmEvaluationPeriods: jsii.Number(2)}},
		{"the largest Fargate size", &bluegreen.ServiceProps{Cpu: jsii.Number(16384), MemoryLimitMiB: jsii.Number(122880)}},
		{"the longest termination wait", &bluegreen.ServiceProps{TerminationWaitTime: awscdk.Duration_Days(jsii.Number(2))}},
		{"deploy-time values", &bluegreen.ServiceProps{
			NamePrefix: awscdk.Fn_Ref(jsii.String("Prefix")), Cpu: token("Cpu"), MemoryLimitMiB: token("Memory"),
			MinCapacity: token("Min"), TestListenerPort: token("Port"), AlarmEvaluationPeriods: token("Evaluations"),
			TerminationWaitTime: awscdk.Duration_Minutes(token("Wait")), AlarmPeriod: awscdk.Duration_Seconds(token("Period")),
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if r.props.NamePrefix == nil {
				r.props.NamePrefix = jsii.String("x")
			}
			if problems := serviceProblems(t, r.props); len(problems) != 1 || problems[0] != "Vpc is required" {
				t.Errorf("problems:\n  %s\nwant only the missing Vpc", strings.Join(problems, "\n  "))
			}
		})
	}
}

// TestServiceConstructReportsEveryProblemAtOnce proves that one panic lists
// every bad prop, so that a user fixes them in one go.
func TestServiceConstructReportsEveryProblemAtOnce(t *testing.T) {
	prefix := strings.Repeat("b", 30)
	problems := serviceProblems(t, &bluegreen.ServiceProps{
		NamePrefix:          jsii.String(prefix),
		MemoryLimitMiB:      jsii.Number(1000),
		TestListenerPort:    jsii.Number(80),
		RequestsPerTarget:   jsii.Number(0),
		TrafficShift:        bluegreen.AllAtOnce(),
		TerminationWaitTime: awscdk.Duration_Minutes(jsii.Number(1)),
	})
	want := []string{
		"Vpc is required",
		`NamePrefix "` + prefix + `" is too long`,
		"MemoryLimitMiB 1000: with Cpu 256 Fargate accepts 512, 1024, 2048 MiB",
		"RequestsPerTarget 0: must be at least 1",
		"TestListenerPort 80 collides with a production listener port",
		"TerminationWaitTime 1 minute with TrafficShift all at once: the deployment would end 60 s after production traffic first reaches the new version",
	}
	if len(problems) != len(want) {
		t.Errorf("%d problems, want %d:\n  %s", len(problems), len(want), strings.Join(problems, "\n  "))
	}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.HasPrefix(p, w)
		}
		if !found {
			t.Errorf("no problem starting %q in:\n  %s", w, strings.Join(problems, "\n  "))
		}
	}
}

// serviceProblems builds a service from props that must be refused and
// returns the problems its panic lists, one per line after the package's
// prefix. The construct must refuse them before it adds anything to the
// stack, which was synthesized already.
func serviceProblems(t *testing.T, props *bluegreen.ServiceProps) []string {
	t.Helper()
	const prefix = "bluegreen: invalid service props: "
	children := len(*svc.stack.Node().Children())
	refused++
	msg := panicMessage(func() { bluegreen.NewService(svc.stack, fmt.Sprintf("Refused%d", refused), props) })
	if msg == "" {
		t.Fatalf("NewService accepted the props; want a panic starting %q", prefix)
	}
	if !strings.HasPrefix(msg, prefix) {
		t.Fatalf("panic %q, want one starting %q", msg, prefix)
	}
	if n := len(*svc.stack.Node().Children()); n != children {
		t.Errorf("the refused service added %d constructs to the synthesized stack", n-children)
	}
	return strings.Split(strings.TrimPrefix(msg, prefix), "\n")
}

// refused numbers the services serviceProblems builds, so that one accepted
// by mistake does not make the next collide with its ID.
var refused int

// panicMessage runs f and returns the message of the error it panics with.
func panicMessage(f func()) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprint(p)
		}
	}()
	f()
	return ""
}

// TestServiceConstructPreTrafficHook proves the pre-traffic check CodeDeploy
// runs at AfterAllowTestTraffic: the function's configuration, its role
// (report to CodeDeploy, write its own logs, VPC networking; nothing else),
// its network path to the test listener through the NAT gateways, and
// CodeDeploy's permission to invoke it.
func TestServiceConstructPreTrafficHook(t *testing.T) {
	svcHas(t, "AWS::Lambda::Function", map[string]any{
		"FunctionName": "tls-svc-pretraffic", "Runtime": "nodejs22.x", "Handler": "index.handler",
		"VpcConfig": obj(map[string]any{"SubnetIds": assertions.Match_AnyValue()}),
		"Environment": map[string]any{"Variables": obj(map[string]any{
			"CHECKS":   `[{"path":"/"},{"path":"/api/ready","status":204}]`,
			"REQUESTS": "3", "TIMEOUT_MS": "3000",
			"TEST_URL": obj(map[string]any{"Fn::Join": assertions.Match_AnyValue()}),
		})},
	})
	svcHas(t, "AWS::Lambda::Function", map[string]any{
		"FunctionName": "plain-svc-pretraffic",
		"Environment":  map[string]any{"Variables": obj(map[string]any{"CHECKS": `[{"path":"/"}]`, "REQUESTS": "5"})},
	})
	// The role's policy: exactly these actions.
	policies := svc.tpl.FindResources(jsii.String("AWS::IAM::Policy"), map[string]any{
		"Properties": obj(map[string]any{"Roles": []any{obj(map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHookRole"))})}}),
	})
	if len(*policies) != 1 {
		t.Fatalf("%d policies on the hook role, want 1", len(*policies))
	}
	var actions []string
	for _, p := range *policies {
		for _, st := range asList(dig(*p, "Properties", "PolicyDocument", "Statement")) {
			for _, a := range asList(dig(st, "Action")) {
				actions = append(actions, fmt.Sprint(a))
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
	svcHas(t, "AWS::IAM::Policy", map[string]any{
		"Roles": []any{obj(map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHookRole"))})},
		"PolicyDocument": obj(map[string]any{"Statement": arrayWith(obj(map[string]any{
			"Action": "codedeploy:PutLifecycleEventHookExecutionStatus", "Effect": "Allow",
			"Resource": map[string]any{"Fn::Join": []any{"", arrayWith(":deploymentgroup:", map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TlsDeploymentGroup"))})}},
		}))}),
	})
	// A daily scheduled invocation keeps the VPC function Active, and only
	// that rule may invoke it through EventBridge.
	svcHas(t, "AWS::Events::Rule", map[string]any{
		"Name": "tls-svc-pretraffic-warm", "ScheduleExpression": "rate(1 day)", "State": "ENABLED",
		"Targets": []any{obj(map[string]any{
			"Arn":         map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHook")), "Arn"}},
			"RetryPolicy": map[string]any{"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
		})},
	})
	svcHas(t, "AWS::Lambda::Permission", map[string]any{
		"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
		"FunctionName": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHook")), "Arn"}},
		"SourceArn":    map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHookKeepWarm")), "Arn"}},
	})
	// The test listener admits the NAT gateway's address.
	svcHas(t, "AWS::EC2::SecurityGroup", map[string]any{
		"SecurityGroupIngress": arrayWith(obj(map[string]any{
			"FromPort": 9000, "ToPort": 9000,
			"CidrIp": map[string]any{"Fn::Join": []any{"", []any{
				map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^VpcPublicSubnet1EIP")), "PublicIp"}}, "/32",
			}}},
		})),
	})
	// The function's own egress: the test port and HTTPS, nothing else.
	svcHas(t, "AWS::EC2::SecurityGroup", map[string]any{
		"GroupDescription": assertions.Match_StringLikeRegexp(jsii.String("tls-svc pre-traffic validation")),
		"SecurityGroupEgress": []any{
			obj(map[string]any{"CidrIp": "0.0.0.0/0", "FromPort": 9000, "ToPort": 9000}),
			obj(map[string]any{"CidrIp": "0.0.0.0/0", "FromPort": 443, "ToPort": 443}),
		},
	})
	// CodeDeploy's service role for the group may invoke the function.
	svcHas(t, "AWS::IAM::Policy", map[string]any{
		"Roles": []any{obj(map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TlsDeploymentGroupServiceRole"))})},
		"PolicyDocument": obj(map[string]any{"Statement": arrayWith(obj(map[string]any{
			"Action": "lambda:InvokeFunction", "Effect": "Allow",
			"Resource": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^TlsPreTrafficHook")), "Arn"}},
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
	configs := svc.tpl.FindResources(jsii.String("AWS::CodeDeploy::DeploymentConfig"), map[string]any{
		"Properties": map[string]any{
			"ComputePlatform": "ECS",
			"TrafficRoutingConfig": map[string]any{
				"Type":            "TimeBasedLinear",
				"TimeBasedLinear": map[string]any{"LinearPercentage": 20, "LinearInterval": 2},
			},
		},
	})
	if len(*configs) != 1 {
		t.Fatalf("%d linear 20%%/2 min deployment configurations, want 1", len(*configs))
	}
	for logical := range *configs {
		svcHas(t, "AWS::CodeDeploy::DeploymentGroup", map[string]any{
			"DeploymentGroupName":  "tls-svc",
			"DeploymentConfigName": map[string]any{"Ref": logical},
		})
	}
}
