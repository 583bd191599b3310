// Package stacks composes the app's constructs into CloudFormation stacks.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/internal/keypolicy"
	"ecs-bluegreen/internal/trust"
	"ecs-bluegreen/rules"
)

// ServiceStackProps configures one environment's stack.
type ServiceStackProps struct {
	awscdk.StackProps
	// Config is the whole app configuration (names, tags). Required.
	Config *config.Config
	// Environment is the environment this stack holds. Required.
	Environment *config.Environment
}

// ServiceStack is one environment: its VPC and its blue/green service. Pass
// its Stack field, not the struct, where CDK expects a construct.
type ServiceStack struct {
	awscdk.Stack
	Vpc     awsec2.IVpc
	Service bluegreen.Service
}

// NewServiceStack creates the stack of one environment (staging or production).
func NewServiceStack(scope constructs.Construct, id string, props *ServiceStackProps) *ServiceStack {
	if props == nil || props.Config == nil || props.Environment == nil {
		panic("stacks: ServiceStackProps with Config and Environment is required")
	}
	cfg, env := props.Config, props.Environment
	sprops := props.StackProps
	if sprops.Description == nil {
		sprops.Description = jsii.String(fmt.Sprintf("%s %s: VPC and blue/green ECS service (%s)", cfg.Project, env.Name, cfg.EnvironmentSuffix))
	}
	stack := awscdk.NewStack(scope, &id, &sprops)
	s := &ServiceStack{Stack: stack}
	removal := RemovalPolicy(env)
	retention := RetentionDays(env.LogRetentionDays)

	logKey := newLogsKey(stack, "LogsKey", cfg.ResourcePrefix(env), removal)
	flowLogs := awslogs.NewLogGroup(stack, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: removal,
		EncryptionKey: logKey,
	})
	s.Vpc = awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String(env.VpcCidr)),
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(float64(env.NatGateways)),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			// Only the load balancer and the NAT gateways live in the public
			// subnets, and both bring their own addresses.
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24), MapPublicIpOnLaunch: jsii.Bool(false)},
			{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(24)},
		},
		FlowLogs: &map[string]*awsec2.FlowLogOptions{
			"All": {
				Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
				TrafficType: awsec2.FlowLogTrafficType_ALL,
			},
		},
	})

	// The flow-log role's confused-deputy conditions (Amazon VPC user guide,
	// "IAM role for publishing flow logs to CloudWatch Logs"): this account,
	// and its flow logs.
	trust.Restrict(s.Vpc.Node().FindChild(jsii.String("All")).Node().FindChild(jsii.String("IAMRole")).(awsiam.IRole), stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ec2"), Resource: jsii.String("vpc-flow-log"), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	}))

	var certificate awscertificatemanager.ICertificate
	if env.CertificateArn != "" {
		certificate = awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(env.CertificateArn))
	}
	var testPeers *[]awsec2.IPeer
	if env.TestListenerCidr != "" {
		testPeers = &[]awsec2.IPeer{awsec2.Peer_Ipv4(jsii.String(env.TestListenerCidr))}
	}

	var firewall *bluegreen.FirewallProps
	if env.Waf {
		firewall = &bluegreen.FirewallProps{RateLimit: jsii.Number(float64(env.WafRateLimit))}
	}
	var egress *[]*bluegreen.EgressRule
	if env.TaskEgress != nil {
		rules := make([]*bluegreen.EgressRule, len(env.TaskEgress))
		for i, e := range env.TaskEgress {
			rules[i] = &bluegreen.EgressRule{Cidr: jsii.String(e.Cidr), Port: jsii.Number(float64(e.Port))}
		}
		egress = &rules
	}

	alarmTopic := newAlarmTopic(stack, env, cfg.ResourcePrefix(env), removal)
	s.Service = bluegreen.NewService(stack, "Service", &bluegreen.ServiceProps{
		LatencyP99Threshold:      latencyThreshold(env),
		AlarmTopic:               alarmTopic,
		Firewall:                 firewall,
		TaskEgress:               egress,
		Vpc:                      s.Vpc,
		NamePrefix:               jsii.String(cfg.ResourcePrefix(env)),
		Cpu:                      jsii.Number(float64(env.TaskCpu)),
		MemoryLimitMiB:           jsii.Number(float64(env.TaskMemoryMiB)),
		MinCapacity:              jsii.Number(float64(env.MinCapacity)),
		MaxCapacity:              jsii.Number(float64(env.MaxCapacity)),
		TargetUtilizationPercent: jsii.Number(float64(env.CpuTargetPercent)),
		RequestsPerTarget:        jsii.Number(float64(env.RequestsPerTask)),
		ContainerPort:            jsii.Number(float64(env.ContainerPort)),
		HealthCheckPath:          jsii.String(env.HealthCheckPath),
		PlaceholderImage:         jsii.String(env.PlaceholderImage),
		Environment:              containerVariables(env),
		Secrets:                  containerSecrets(env),
		Engine:                   env.Engine,
		Certificate:              certificate,
		Domain:                   domain(stack, env),
		TestListenerPort:         jsii.Number(float64(env.TestListenerPort)),
		TestListenerPeers:        testPeers,
		TrafficShift:             trafficShift(env),
		TerminationWaitTime:      awscdk.Duration_Minutes(jsii.Number(float64(env.TerminationWaitMinutes))),
		Alarm5xxThreshold:        jsii.Number(float64(env.Alarm5xxThreshold)),
		AlarmPeriod:              awscdk.Duration_Seconds(jsii.Number(rules.AlarmPeriodSeconds)),
		AlarmEvaluationPeriods:   jsii.Number(rules.AlarmEvaluationPeriods),
		PreTrafficChecks:         preTrafficChecks(env),
		PreTrafficRequests:       jsii.Number(float64(env.SmokeRequests)),
		RemovalPolicy:            removal,
		LogRetention:             retention,
		LogEncryptionKey:         logKey,
		// Load balancer access logs are kept as long as the environment's other logs.
		AccessLogsExpiration: awscdk.Duration_Days(jsii.Number(float64(env.LogRetentionDays))),
	})

	awscdk.NewCfnOutput(stack, jsii.String("ProductionUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("URL of the production listener (live traffic)"),
		Value:       s.Service.ProductionUrl(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("TestUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("URL of the test listener (the new version during a deployment; reachable only from allowed CIDRs)"),
		Value:       s.Service.TestUrl(),
	})
	return s
}

// newLogsKey creates a customer-managed key, rotated yearly, that CloudWatch
// Logs may use for the log groups of this account and region, and only for
// them: the encryption context names the log group.
func newLogsKey(stack awscdk.Stack, id, prefix string, removal awscdk.RemovalPolicy) awskms.Key {
	key := awskms.NewKey(stack, jsii.String(id), &awskms.KeyProps{
		Alias:             jsii.String("alias/" + prefix + "-logs"),
		Description:       jsii.String(fmt.Sprintf("%s: encrypts the CloudWatch Logs log groups", prefix)),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	key.AddToResourcePolicy(keypolicy.CloudWatchLogs(stack), nil)
	key.AddToResourcePolicy(keypolicy.GrantsOnlyForAwsResources(), nil)
	return key
}

// RemovalPolicy maps an environment's configured removal policy.
func RemovalPolicy(env *config.Environment) awscdk.RemovalPolicy {
	return removalPolicy(env.RemovalPolicy)
}

// removalPolicy maps a validated "destroy" or "retain".
func removalPolicy(policy string) awscdk.RemovalPolicy {
	if policy == "destroy" {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// RetentionDays maps a validated number of days to CDK's enum.
func RetentionDays(days int) awslogs.RetentionDays {
	names := map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
		7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
		150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
		400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
		1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
		2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
		3653: awslogs.RetentionDays_TEN_YEARS,
	}
	if r, ok := names[days]; ok {
		return r
	}
	panic(fmt.Sprintf("stacks: %d is not a CloudWatch Logs retention", days))
}

// preTrafficChecks are the requests of the environment's smokeChecks key
// (the configuration keeps its key names: they are what users write).
func preTrafficChecks(env *config.Environment) *[]*bluegreen.PreTrafficCheck {
	checks := make([]*bluegreen.PreTrafficCheck, 0, len(env.SmokeChecks))
	for _, c := range env.SmokeChecks {
		checks = append(checks, &bluegreen.PreTrafficCheck{Path: jsii.String(c.Path), Status: jsii.Number(float64(c.Status))})
	}
	return &checks
}

// trafficShift is the traffic shift of the environment's deploymentConfig,
// which the configuration accepts only as a name CodeDeploy predefines.
func trafficShift(env *config.Environment) *bluegreen.TrafficShift {
	shift, ok := rules.CodeDeployPredefined(env.DeploymentConfig)
	if !ok {
		panic(fmt.Sprintf("stacks: %s.deploymentConfig %q is not a deployment configuration CodeDeploy predefines", env.Name, env.DeploymentConfig))
	}
	return &shift
}
