// Package bluegreen provides an L3 construct for a containerised web service
// on ECS Fargate behind an Application Load Balancer, released blue/green with
// automatic rollback on failure and on alarm. CodeDeploy shifts the traffic
// today; the construct's surface does not depend on it (see Release).
package bluegreen

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"ecs-bluegreen/constructs/bluegreen/smoketest"
	"ecs-bluegreen/internal/logbucket"
	"ecs-bluegreen/internal/trust"
	"ecs-bluegreen/rules"
)

// ServiceProps configures a blue/green service. Optional fields are nil for
// their default.
type ServiceProps struct {
	// Vpc holds the load balancer (public subnets) and the tasks (private
	// subnets with egress). Required.
	Vpc awsec2.IVpc
	// NamePrefix starts every physical name (cluster, service, load balancer,
	// target groups, task family, CodeDeploy application and group, log group,
	// alarms). "<NamePrefix>-green" must fit in 32 characters. Required.
	NamePrefix *string

	// TaskCpu is the Fargate task CPU in units (256, 512, 1024, 2048, 4096,
	// 8192 or 16384). Default: 256.
	TaskCpu *float64
	// TaskMemoryMiB is the Fargate task memory; it must be a size Fargate
	// accepts with TaskCpu. Default: 512.
	TaskMemoryMiB *float64
	// MinCapacity is the fewest tasks Application Auto Scaling keeps
	// running; the service's task count belongs to the scaler, and the
	// template sets none. Default: 1.
	MinCapacity *float64
	// MaxCapacity is the most tasks the scaler runs; at least MinCapacity.
	// Default: - twice MinCapacity.
	MaxCapacity *float64
	// TargetUtilizationPercent is the average CPU utilization target
	// tracking keeps the service at (1 to 100). Default: 60.
	TargetUtilizationPercent *float64
	// RequestsPerTarget is the number of load balancer requests per task per
	// minute, over both target groups, that target tracking keeps the
	// service at. Default: 1000.
	RequestsPerTarget *float64
	// ContainerName names the application container. Default: "app".
	ContainerName *string
	// ContainerPort is the port the container listens on. Default: 80.
	ContainerPort *float64
	// HealthCheckPath is requested by the target groups' health checks. Default: "/".
	HealthCheckPath *string
	// PlaceholderImage runs until the pipeline's first release; it must answer
	// the health check on ContainerPort. Default: nginx from ECR Public.
	PlaceholderImage awsecs.ContainerImage

	// Certificate, when set, makes the production listener HTTPS on 443 and
	// turns port 80 into a redirect to it. Default: - HTTP on port 80.
	Certificate awscertificatemanager.ICertificate
	// Firewall, when set, puts a WAF web ACL with AWS's managed rule groups
	// and a per-address rate limit in front of the load balancer.
	// Default: - no firewall.
	Firewall *FirewallProps
	// TaskEgress is what the tasks may connect to. The tasks pull their image
	// and write their logs over HTTPS, so a list needs port 443 to those
	// endpoints. Default: - anywhere, any port.
	TaskEgress *[]*EgressRule
	// TestListenerPort is where the new version is reachable before it takes
	// production traffic. Default: 8080.
	TestListenerPort *float64
	// TestListenerPeers may reach the test listener. Default: - the VPC's CIDR.
	TestListenerPeers *[]awsec2.IPeer

	// TrafficShift is how production traffic moves to a new version.
	// Default: AllAtOnce().
	TrafficShift *TrafficShift
	// TerminationWait keeps the old task set (and the deployment, with its
	// alarm rollback) after all traffic moved: whole minutes, up to two days.
	// With the TrafficShift it must keep the deployment open until the alarms
	// can fire, AlarmPeriod x AlarmEvaluationPeriods plus a minute of metric
	// delay after production traffic first reaches the new version (3 minutes
	// with all at once and the default alarms). Default: 5 minutes.
	TerminationWait awscdk.Duration
	// Alarm5xxThreshold is the per-minute count of target 5xx responses that,
	// for AlarmEvaluationPeriods minutes running, rolls a deployment back. Default: 5.
	Alarm5xxThreshold *float64
	// AlarmPeriod is the period of the rollback alarms. Default: 1 minute.
	AlarmPeriod awscdk.Duration
	// AlarmEvaluationPeriods is how many periods in a row must breach. Default: 2.
	AlarmEvaluationPeriods *float64

	// SmokeChecks are requests the pre-traffic validation sends to the test
	// listener besides HealthCheckPath (which it always checks for 200-399).
	// Default: - the health-check path only.
	SmokeChecks *[]*SmokeCheck
	// SmokeRequests is how many requests each check sends. Default: 5.
	SmokeRequests *float64
	// SmokeTestEgressPeers are the public addresses the validation function's
	// requests leave the VPC from; the test listener admits them. Default: -
	// the Elastic IPs of the VPC's NAT gateways (a VPC created with awsec2.NewVpc).
	SmokeTestEgressPeers *[]awsec2.IPeer

	// RemovalPolicy applies to the log groups and the access-log buckets
	// created here (DESTROY empties the buckets first) and, when retained,
	// protects the load balancer from deletion. Default: RETAIN.
	RemovalPolicy awscdk.RemovalPolicy
	// LogRetention is how long container logs are kept. Default: one month.
	LogRetention awslogs.RetentionDays
	// LogEncryptionKey encrypts the log groups created here; its key policy
	// must let CloudWatch Logs use it. Default: - CloudWatch Logs' own encryption.
	LogEncryptionKey awskms.IKey
	// AccessLogsBucket receives the load balancer's access logs; load
	// balancer log delivery supports only SSE-S3 encryption. Default: - a new
	// bucket (SSE-S3, TLS only, versioned, objects expiring after
	// AccessLogsExpiration), with its server access logs in a second bucket.
	AccessLogsBucket awss3.IBucket
	// AccessLogsExpiration is how long the created access-log buckets keep
	// objects. Default: 90 days.
	AccessLogsExpiration awscdk.Duration
}

// EgressRule is one destination the tasks may connect to.
type EgressRule struct {
	// Cidr is an IPv4 block. Required.
	Cidr *string
	// Port is a TCP port. Required.
	Port *float64
}

// SmokeCheck is one request of the pre-traffic validation.
type SmokeCheck struct {
	// Path is requested on the test listener. Required.
	Path *string
	// Status is the exact status expected. Default: - any 200-399.
	Status *float64
}

// Service is a blue/green ECS service and everything a pipeline needs to
// release to it.
type Service interface {
	constructs.Construct
	Cluster() awsecs.ICluster
	Service() awsecs.FargateService
	TaskDefinition() awsecs.FargateTaskDefinition
	// TaskDefinitionFamily is the family every release registers a revision in.
	TaskDefinitionFamily() *string
	ExecutionRole() awsiam.IRole
	TaskRole() awsiam.IRole
	ContainerName() *string
	ContainerPort() *float64
	LoadBalancer() elbv2.ApplicationLoadBalancer
	// AccessLogsBucket holds the load balancer's access logs.
	AccessLogsBucket() awss3.IBucket
	ProductionListener() elbv2.ApplicationListener
	TestListener() elbv2.ApplicationListener
	BlueTargetGroup() elbv2.ApplicationTargetGroup
	GreenTargetGroup() elbv2.ApplicationTargetGroup
	// Release is the engine that shifts traffic between the target groups,
	// with what a pipeline needs to start a release.
	Release() Release
	// PreTrafficHook is the function CodeDeploy runs at AfterAllowTestTraffic;
	// the AppSpec of every release names it.
	PreTrafficHook() awslambda.IFunction
	// Alarms are the rollback alarms, covering both target groups.
	Alarms() []awscloudwatch.IAlarm
	// ScalableTarget owns the task count, between MinCapacity and MaxCapacity.
	ScalableTarget() awsapplicationautoscaling.CfnScalableTarget
	// KeepWarmRule invokes PreTrafficHook daily, so that Lambda never
	// reclaims its network interfaces between releases.
	KeepWarmRule() awsevents.Rule
	// WebAcl is the firewall in front of the load balancer, nil without Firewall.
	WebAcl() awswafv2.CfnWebACL
	ProductionUrl() *string
	TestUrl() *string
}

type service struct {
	constructs.Construct
	cluster          awsecs.ICluster
	svc              awsecs.FargateService
	taskDef          awsecs.FargateTaskDefinition
	family           *string
	executionRole    awsiam.IRole
	taskRole         awsiam.IRole
	containerName    *string
	containerPort    *float64
	alb              elbv2.ApplicationLoadBalancer
	accessLogs       awss3.IBucket
	prodListener     elbv2.ApplicationListener
	testListener     elbv2.ApplicationListener
	blue, green      elbv2.ApplicationTargetGroup
	release          *codeDeployRelease
	alarms           []awscloudwatch.IAlarm
	hook             awslambda.IFunction
	deployRole       awsiam.IRole
	scaling          awsapplicationautoscaling.CfnScalableTarget
	keepWarm         awsevents.Rule
	webAcl           awswafv2.CfnWebACL
	linkedRole       constructs.IDependable
	albSg            awsec2.SecurityGroup
	prodUrl, testUrl *string
}

// NewService creates the blue/green service. It panics on props that cannot
// work (missing VPC or name prefix, names over AWS's limits, a task size
// Fargate refuses, a release its alarms could not roll back), listing every
// problem at once, as CDK constructs do.
func NewService(scope constructs.Construct, id string, props *ServiceProps) Service {
	r, err := resolve(props)
	if err != nil {
		panic(err)
	}
	this := constructs.NewConstruct(scope, &id)
	s := &service{Construct: this, containerName: jsii.String(r.containerName), containerPort: jsii.Number(r.port)}
	name := func(suffix string) *string { return jsii.String(r.prefix + suffix) }

	s.linkedRole = ensureEcsServiceLinkedRole(this, r)
	s.cluster = awsecs.NewCluster(this, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc:                 props.Vpc,
		ClusterName:         name(""),
		ContainerInsightsV2: awsecs.ContainerInsights_ENABLED,
	})
	s.cluster.Node().AddDependency(s.linkedRole)

	s.buildLoadBalancer(props, r, name)
	s.buildFirewall(props.Firewall, r)
	s.buildTaskDefinition(r, name)
	s.buildService(props, r, name)
	s.buildScaling(r)
	s.buildAlarms(r, name)
	s.buildDeployment(r, name)
	s.buildPreTrafficHook(props, r, name)
	return s
}

func (s *service) buildLoadBalancer(props *ServiceProps, r resolved, name func(string) *string) {
	this := s.Construct
	albSg := awsec2.NewSecurityGroup(this, jsii.String("LoadBalancerSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String(fmt.Sprintf("%s load balancer: production ports from anywhere, test port from allowed peers", r.prefix)),
		AllowAllOutbound: jsii.Bool(false),
	})
	s.albSg = albSg
	s.alb = elbv2.NewApplicationLoadBalancer(this, jsii.String("LoadBalancer"), &elbv2.ApplicationLoadBalancerProps{
		Vpc:                     props.Vpc,
		InternetFacing:          jsii.Bool(true),
		LoadBalancerName:        name(""),
		SecurityGroup:           albSg,
		VpcSubnets:              &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		DropInvalidHeaderFields: jsii.Bool(true),
		DeletionProtection:      jsii.Bool(r.removal == awscdk.RemovalPolicy_RETAIN),
	})
	s.accessLogs = props.AccessLogsBucket
	if s.accessLogs == nil {
		s.accessLogs = s.newAccessLogBuckets(r)
	}
	// CDK's bucket policy for the delivery scopes the objects to this
	// account's prefix (AWSLogs/<account>/), as the Elastic Load Balancing
	// guide ("Enable access logs") says to; it documents no aws:SourceArn or
	// aws:SourceAccount for the log delivery, so none is added.
	s.alb.LogAccessLogs(s.accessLogs, nil)
	// Only the production ports are open to the internet: the test port
	// admits the VPC, the configured peers and the NAT gateways.
	cdknag.NagSuppressions_AddResourceSuppressions(albSg, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-EC23"),
		Reason: jsii.String("internet-facing load balancer of a public web service: ports 80 and 443 accept 0.0.0.0/0 by design; the test listener port admits only the VPC, the configured peers and the NAT gateways' addresses"),
	}}, jsii.Bool(false))

	s.blue = s.targetGroup("BlueTargetGroup", props.Vpc, r, name("-blue"))
	s.green = s.targetGroup("GreenTargetGroup", props.Vpc, r, name(rules.GreenSuffix))

	scheme := "http"
	if props.Certificate != nil {
		scheme = "https"
		s.prodListener = s.alb.AddListener(jsii.String("ProductionListener"), &elbv2.BaseApplicationListenerProps{
			Port:                jsii.Number(443),
			Protocol:            elbv2.ApplicationProtocol_HTTPS,
			Certificates:        &[]elbv2.IListenerCertificate{elbv2.ListenerCertificate_FromCertificateManager(props.Certificate)},
			SslPolicy:           elbv2.SslPolicy_RECOMMENDED_TLS,
			DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{s.blue},
			Open:                jsii.Bool(false),
		})
		s.alb.AddListener(jsii.String("HttpRedirectListener"), &elbv2.BaseApplicationListenerProps{
			Port:     jsii.Number(80),
			Protocol: elbv2.ApplicationProtocol_HTTP,
			DefaultAction: elbv2.ListenerAction_Redirect(&elbv2.RedirectOptions{
				Protocol: jsii.String("HTTPS"), Port: jsii.String("443"), Permanent: jsii.Bool(true),
			}),
			Open: jsii.Bool(false),
		})
		albSg.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from the internet"), nil)
	} else {
		s.prodListener = s.alb.AddListener(jsii.String("ProductionListener"), &elbv2.BaseApplicationListenerProps{
			Port:                jsii.Number(80),
			Protocol:            elbv2.ApplicationProtocol_HTTP,
			DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{s.blue},
			Open:                jsii.Bool(false),
		})
	}
	albSg.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(80)), jsii.String("HTTP from the internet"), nil)

	// The test listener starts on the green target group: CodeDeploy routes it
	// to the replacement task set during a deployment, before production traffic moves.
	s.testListener = s.alb.AddListener(jsii.String("TestListener"), &elbv2.BaseApplicationListenerProps{
		Port:                jsii.Number(r.testPort),
		Protocol:            elbv2.ApplicationProtocol_HTTP,
		DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{s.green},
		Open:                jsii.Bool(false),
	})
	peers := []awsec2.IPeer{awsec2.Peer_Ipv4(props.Vpc.VpcCidrBlock())}
	if props.TestListenerPeers != nil && len(*props.TestListenerPeers) > 0 {
		peers = *props.TestListenerPeers
	}
	for _, peer := range peers {
		albSg.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(r.testPort)), jsii.String("test listener from allowed peers"), nil)
	}

	dns := *s.alb.LoadBalancerDnsName()
	s.prodUrl = jsii.String(fmt.Sprintf("%s://%s", scheme, dns))
	s.testUrl = jsii.String(fmt.Sprintf("http://%s:%v", dns, r.testPort))
}

func (s *service) targetGroup(id string, vpc awsec2.IVpc, r resolved, tgName *string) elbv2.ApplicationTargetGroup {
	return elbv2.NewApplicationTargetGroup(s.Construct, jsii.String(id), &elbv2.ApplicationTargetGroupProps{
		Vpc:             vpc,
		TargetGroupName: tgName,
		TargetType:      elbv2.TargetType_IP,
		Protocol:        elbv2.ApplicationProtocol_HTTP,
		Port:            jsii.Number(r.port),
		// Release speed: a new task takes traffic after 2 passing checks 10 s
		// apart (the default 5 x 30 s holds a release for 2.5 minutes), and a
		// broken one is out after 3 failures. 5 s timeout < 10 s interval, as required.
		HealthCheck: &elbv2.HealthCheck{
			Path:                    jsii.String(r.healthPath),
			HealthyHttpCodes:        jsii.String("200-399"),
			Interval:                awscdk.Duration_Seconds(jsii.Number(10)),
			Timeout:                 awscdk.Duration_Seconds(jsii.Number(5)),
			HealthyThresholdCount:   jsii.Number(2),
			UnhealthyThresholdCount: jsii.Number(3),
		},
		// Draining: requests to a web service finish in seconds; the 300 s
		// default only delays every task-set swap and rollback.
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
	})
}

// newAccessLogBuckets creates the bucket of the load balancer's access logs
// and the bucket that receives that bucket's own server access logs. Load
// balancer and S3 server access log delivery both support only SSE-S3.
func (s *service) newAccessLogBuckets(r resolved) awss3.IBucket {
	// The last bucket of the chain keeps no access logs of its own: they
	// would recurse into itself.
	serverLogs := logbucket.New(s.Construct, "ServerAccessLogsBucket", r.accessLogsExpiration, r.removal, nil)
	accessLogs := logbucket.New(s.Construct, "AccessLogsBucket", r.accessLogsExpiration, r.removal, serverLogs)
	// On teardown the load balancer goes first, then the access-log bucket
	// is emptied (S3 logs those deletions to the second bucket), and only
	// then is the server-access-log bucket emptied.
	// The L1 only: a dependency of the L2 would reach its listeners too.
	logbucket.EmptiedAfter(accessLogs, s.alb.Node().DefaultChild())
	logbucket.EmptiedAfter(serverLogs, logbucket.Emptying(accessLogs))
	return accessLogs
}

func (s *service) buildTaskDefinition(r resolved, name func(string) *string) {
	this := s.Construct
	s.family = name("")
	ecsTasks := awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil)
	// Both roles have fixed names, so that a policy elsewhere (the image
	// repository's, the deploy roles' iam:PassRole) can name them without a
	// reference that goes stale, and CloudFormation cannot replace them
	// silently: it refuses to replace a resource with a custom name.
	executionRole := awsiam.NewRole(this, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		RoleName:    name("-execution"),
		AssumedBy:   ecsTasks,
		Description: jsii.String(fmt.Sprintf("%s: lets ECS pull the image and write container logs", r.prefix)),
	})
	// ecr:GetAuthorizationToken accepts only "*" (AWS service authorization
	// reference); the repository itself grants pulls to this role.
	executionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ecr:GetAuthorizationToken"),
		Resources: jsii.Strings("*"),
	}))
	s.executionRole = executionRole
	cdknag.NagSuppressions_AddResourceSuppressions(executionRole.Node().FindChild(jsii.String("DefaultPolicy")), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("ecr:GetAuthorizationToken accepts only \"*\" (it has no resource type in the service authorization reference); pulls themselves are granted per repository"),
		AppliesTo: &[]interface{}{"Resource::*"},
	}}, jsii.Bool(false))
	// The task role's trust takes the confused-deputy conditions the ECS
	// developer guide shows for it ("Amazon ECS task IAM role"): this
	// account, and any ECS resource of it (a cluster-specific aws:SourceArn
	// is not supported). The guide documents no such condition for the task
	// execution role, which ECS itself assumes, so its trust is left alone.
	s.taskRole = awsiam.NewRole(this, jsii.String("TaskRole"), &awsiam.RoleProps{
		RoleName: name("-task"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Stack_Of(this).Account()},
				"ArnLike": map[string]interface{}{"aws:SourceArn": awscdk.Stack_Of(this).FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("ecs"), Resource: jsii.String("*"), ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME,
				})},
			},
		}),
		Description: jsii.String(fmt.Sprintf("%s: the application's own AWS permissions", r.prefix)),
	})
	s.taskDef = awsecs.NewFargateTaskDefinition(this, jsii.String("TaskDefinition"), &awsecs.FargateTaskDefinitionProps{
		Family:         s.family,
		Cpu:            jsii.Number(r.cpu),
		MemoryLimitMiB: jsii.Number(r.memory),
		ExecutionRole:  s.executionRole,
		TaskRole:       s.taskRole,
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
	logGroup := awslogs.NewLogGroup(this, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/ecs/" + r.prefix),
		Retention:     r.retention,
		RemovalPolicy: r.removal,
		EncryptionKey: r.logKey,
	})
	s.taskDef.AddContainer(s.containerName, &awsecs.ContainerDefinitionOptions{
		ContainerName: s.containerName,
		Image:         r.image,
		Essential:     jsii.Bool(true),
		// A hard limit equal to the task's memory: the only container may use
		// all of it, and never more.
		MemoryLimitMiB: jsii.Number(r.memory),
		Logging: awsecs.LogDrivers_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup:     logGroup,
			StreamPrefix: jsii.String(r.containerName),
		}),
		PortMappings: &[]*awsecs.PortMapping{{
			ContainerPort: jsii.Number(r.port),
			Protocol:      awsecs.Protocol_TCP,
		}},
	})
}

func (s *service) buildService(props *ServiceProps, r resolved, name func(string) *string) {
	this := s.Construct
	serviceSg := awsec2.NewSecurityGroup(this, jsii.String("ServiceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String(fmt.Sprintf("%s tasks: container port from the load balancer only", r.prefix)),
		AllowAllOutbound: jsii.Bool(props.TaskEgress == nil),
	})
	if props.TaskEgress != nil {
		for _, e := range *props.TaskEgress {
			serviceSg.AddEgressRule(awsec2.Peer_Ipv4(e.Cidr), awsec2.Port_Tcp(e.Port), jsii.String(fmt.Sprintf("task egress to %s port %v", *e.Cidr, *e.Port)), nil)
		}
	}
	s.svc = awsecs.NewFargateService(this, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster:              s.cluster,
		TaskDefinition:       s.taskDef,
		ServiceName:          name(""),
		DeploymentController: &awsecs.DeploymentController{Type: awsecs.DeploymentControllerType_CODE_DEPLOY},
		SecurityGroups:       &[]awsec2.ISecurityGroup{serviceSg},
		VpcSubnets:           &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		AssignPublicIp:       jsii.Bool(false),
		// Grace period: ECS ignores load-balancer health checks this long after
		// a task starts, enough for the placeholder or a typical web app to
		// boot, short enough that a crash-looping task is replaced quickly.
		HealthCheckGracePeriod: awscdk.Duration_Seconds(jsii.Number(60)),
		MinHealthyPercent:      jsii.Number(100),
		MaxHealthyPercent:      jsii.Number(200),
		EnableECSManagedTags:   jsii.Bool(true),
		PropagateTags:          awsecs.PropagatedTagSource_SERVICE,
	})
	s.svc.AttachToApplicationTargetGroup(s.blue)
	s.svc.Connections().AllowFrom(s.alb, awsec2.Port_Tcp(jsii.Number(r.port)), jsii.String("container port from the load balancer"))

	// Day-two safety: the service names its task definition by family, so
	// CloudFormation never has a reason to update it when the task definition
	// changes (CodeDeploy owns which revision runs after the first release).
	// Without the reference, the creation order must be stated explicitly.
	cfnService := s.svc.Node().DefaultChild().(awsecs.CfnService)
	cfnService.AddPropertyOverride(jsii.String("TaskDefinition"), s.family)
	s.svc.Node().AddDependency(s.taskDef, s.linkedRole)
}

func (s *service) buildAlarms(r resolved, name func(string) *string) {
	this := s.Construct
	for _, tg := range []struct {
		id    string
		group elbv2.ApplicationTargetGroup
	}{{"Blue", s.blue}, {"Green", s.green}} {
		// CodeDeploy alternates which target group holds the new version, so
		// both are watched.
		fiveXX := tg.group.Metrics().HttpCodeTarget(elbv2.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{
			Period:    r.alarmPeriod,
			Statistic: jsii.String("Sum"),
		})
		unhealthy := tg.group.Metrics().Custom(jsii.String("UnHealthyHostCount"), &awscloudwatch.MetricOptions{
			Period:    r.alarmPeriod,
			Statistic: jsii.String("Maximum"),
		})
		lower := map[string]string{"Blue": "blue", "Green": "green"}[tg.id]
		s.alarms = append(s.alarms,
			awscloudwatch.NewAlarm(this, jsii.String(tg.id+"5xxAlarm"), &awscloudwatch.AlarmProps{
				AlarmName:          name("-" + lower + "-5xx"),
				AlarmDescription:   jsii.String(fmt.Sprintf("Target 5xx responses on the %s target group; rolls back a deployment in progress", lower)),
				Metric:             fiveXX,
				Threshold:          jsii.Number(r.threshold),
				EvaluationPeriods:  jsii.Number(r.evaluation),
				DatapointsToAlarm:  jsii.Number(r.evaluation),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			}),
			awscloudwatch.NewAlarm(this, jsii.String(tg.id+"UnhealthyHostsAlarm"), &awscloudwatch.AlarmProps{
				AlarmName:          name("-" + lower + "-unhealthy"),
				AlarmDescription:   jsii.String(fmt.Sprintf("Unhealthy targets in the %s target group; rolls back a deployment in progress", lower)),
				Metric:             unhealthy,
				Threshold:          jsii.Number(1),
				EvaluationPeriods:  jsii.Number(r.evaluation),
				DatapointsToAlarm:  jsii.Number(r.evaluation),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			}),
		)
	}
}

func (s *service) buildDeployment(r resolved, name func(string) *string) {
	this := s.Construct
	application := codedeploy.NewEcsApplication(this, jsii.String("Application"), &codedeploy.EcsApplicationProps{
		ApplicationName: name(""),
	})
	dg := codedeploy.NewEcsDeploymentGroup(this, jsii.String("DeploymentGroup"), &codedeploy.EcsDeploymentGroupProps{
		Application:         application,
		DeploymentGroupName: name(""),
		Service:             s.svc,
		DeploymentConfig:    codeDeployConfig(this, r.shift, name("")),
		BlueGreenDeploymentConfig: &codedeploy.EcsBlueGreenDeploymentConfig{
			Listener:            s.prodListener,
			TestListener:        s.testListener,
			BlueTargetGroup:     s.blue,
			GreenTargetGroup:    s.green,
			TerminationWaitTime: r.terminationWait,
		},
		Alarms: alarmRefs(s.alarms),
		AutoRollback: &codedeploy.AutoRollbackConfig{
			FailedDeployment:  jsii.Bool(true),
			StoppedDeployment: jsii.Bool(true),
			DeploymentInAlarm: jsii.Bool(true),
		},
	})
	s.release = &codeDeployRelease{application: application, deploymentGroup: dg}
	s.deployRole = dg.Role()
	// CodeDeploy's confused-deputy conditions (CodeDeploy user guide,
	// "Cross-service confused deputy prevention"): this account, and the
	// deployment groups of this application.
	trust.Restrict(dg.Role(), awscdk.Stack_Of(this).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("codedeploy"), Resource: jsii.String("deploymentgroup"),
		ResourceName: jsii.String(r.prefix + "/*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(dg.Role(), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM4"),
		Reason: jsii.String("AWSCodeDeployRoleForECS is the policy AWS documents for CodeDeploy's ECS blue/green service role and maintains as the service changes; " +
			"an inline copy could not be verified without an account and a missing action fails a deployment mid-traffic-shift. Invoking the validation function is granted separately"),
		AppliesTo: &[]interface{}{"Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS"},
	}}, jsii.Bool(false))
}

func (s *service) Cluster() awsecs.ICluster                       { return s.cluster }
func (s *service) Service() awsecs.FargateService                 { return s.svc }
func (s *service) TaskDefinition() awsecs.FargateTaskDefinition   { return s.taskDef }
func (s *service) TaskDefinitionFamily() *string                  { return s.family }
func (s *service) ExecutionRole() awsiam.IRole                    { return s.executionRole }
func (s *service) TaskRole() awsiam.IRole                         { return s.taskRole }
func (s *service) ContainerName() *string                         { return s.containerName }
func (s *service) ContainerPort() *float64                        { return s.containerPort }
func (s *service) LoadBalancer() elbv2.ApplicationLoadBalancer    { return s.alb }
func (s *service) AccessLogsBucket() awss3.IBucket                { return s.accessLogs }
func (s *service) ProductionListener() elbv2.ApplicationListener  { return s.prodListener }
func (s *service) TestListener() elbv2.ApplicationListener        { return s.testListener }
func (s *service) BlueTargetGroup() elbv2.ApplicationTargetGroup  { return s.blue }
func (s *service) GreenTargetGroup() elbv2.ApplicationTargetGroup { return s.green }
func (s *service) Release() Release                               { return s.release }
func (s *service) Alarms() []awscloudwatch.IAlarm                 { return s.alarms }
func (s *service) PreTrafficHook() awslambda.IFunction            { return s.hook }
func (s *service) KeepWarmRule() awsevents.Rule                   { return s.keepWarm }
func (s *service) WebAcl() awswafv2.CfnWebACL                     { return s.webAcl }
func (s *service) ProductionUrl() *string                         { return s.prodUrl }
func (s *service) TestUrl() *string                               { return s.testUrl }

func orFloat(v *float64, def float64) float64 {
	if v == nil {
		return def
	}
	return *v
}

func orString(v *string, def string) string {
	if v == nil || *v == "" {
		return def
	}
	return *v
}

func alarmRefs(alarms []awscloudwatch.IAlarm) *[]interfacesawscloudwatch.IAlarmRef {
	refs := make([]interfacesawscloudwatch.IAlarmRef, len(alarms))
	for i, a := range alarms {
		refs[i] = a
	}
	return &refs
}

// smokeTimeoutMs bounds each validation request; a healthy service answers
// its health check far faster, and a hung one must not hold the deployment.
const smokeTimeoutMs = 3000

// buildPreTrafficHook creates the AfterAllowTestTraffic validation: a
// function in the private subnets that requests the test listener through the
// NAT gateways (the ALB is internet-facing, so its DNS name resolves to public
// addresses) and reports the result to CodeDeploy.
func (s *service) buildPreTrafficHook(props *ServiceProps, r resolved, name func(string) *string) {
	this := s.Construct
	type check struct {
		Path   string   `json:"path"`
		Status *float64 `json:"status,omitempty"`
	}
	checks := []check{{Path: r.healthPath}}
	if props.SmokeChecks != nil {
		for _, c := range *props.SmokeChecks {
			checks = append(checks, check{Path: *c.Path, Status: c.Status})
		}
	}
	checksJSON, err := json.Marshal(checks)
	if err != nil {
		panic(err)
	}
	// Worst case every request times out; CodeDeploy waits for the report.
	timeout := math.Min(900, math.Ceil(float64(len(checks))*r.smokeRequests*smokeTimeoutMs/1000)+30)

	logGroup := awslogs.NewLogGroup(this, jsii.String("PreTrafficHookLogs"), &awslogs.LogGroupProps{
		Retention:     r.retention,
		RemovalPolicy: r.removal,
		EncryptionKey: r.logKey,
	})
	// Lambda documents no aws:SourceArn or aws:SourceAccount in an execution
	// role's trust policy ("Defining Lambda function permissions with an
	// execution role"), so this trust has no confused-deputy condition.
	role := awsiam.NewRole(this, jsii.String("PreTrafficHookRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("%s pre-traffic validation: report to CodeDeploy, write its logs", r.prefix)),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logGroup.LogGroupArn()),
	}))
	// The report goes to this service's deployment group only: the action's
	// resource type is the deployment group, as CDK's grant for Lambda
	// deployment groups (grantPutLifecycleEventHookExecutionStatus) scopes it.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("codedeploy:PutLifecycleEventHookExecutionStatus"),
		Resources: &[]*string{s.release.deploymentGroup.DeploymentGroupArn()},
	}))
	// A function in a VPC needs Lambda to manage its network interfaces: the
	// statement of AWS's managed AWSLambdaVPCAccessExecutionRole. These
	// actions are evaluated against interfaces that do not exist yet (and
	// the Describe actions support no resource type), so AWS documents them with "*".
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
			"ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
		Resources: jsii.Strings("*"),
	}))

	sg := awsec2.NewSecurityGroup(this, jsii.String("PreTrafficHookSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String(fmt.Sprintf("%s pre-traffic validation: test listener and AWS APIs only", r.prefix)),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(r.testPort)), jsii.String("test listener, through the NAT gateways"), nil)
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("CodeDeploy API, through the NAT gateways"), nil)

	fn := awslambda.NewFunction(this, jsii.String("PreTrafficHook"), &awslambda.FunctionProps{
		FunctionName: name("-pretraffic"),
		Description:  jsii.String(fmt.Sprintf("%s: AfterAllowTestTraffic smoke test on the test listener", r.prefix)),
		// nodejs22.x: the Node.js major the handler's unit tests run on.
		Runtime:        awslambda.Runtime_NODEJS_22_X(),
		Architecture:   awslambda.Architecture_ARM_64(),
		Handler:        jsii.String(smoketest.Handler),
		Code:           smoketest.Code(),
		MemorySize:     jsii.Number(128),
		Timeout:        awscdk.Duration_Seconds(jsii.Number(timeout)),
		Role:           role,
		LogGroup:       logGroup,
		Vpc:            props.Vpc,
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		SecurityGroups: &[]awsec2.ISecurityGroup{sg},
		Environment: &map[string]*string{
			"TEST_URL":   s.testUrl,
			"CHECKS":     jsii.String(string(checksJSON)),
			"REQUESTS":   jsii.String(fmt.Sprint(r.smokeRequests)),
			"TIMEOUT_MS": jsii.String(fmt.Sprint(smokeTimeoutMs)),
		},
	})
	awscdk.Tags_Of(fn).Add(jsii.String("Purpose"), jsii.String("pre-traffic validation"), nil)
	s.hook = fn
	s.keepWarm = keepWarm(this, fn, r.prefix)
	cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-L1"),
		Reason: jsii.String("nodejs22.x deliberately matches the Node.js major the handler's unit tests run on (package.json pins Node.js 22 for them); runtime and tests move to a new major together, in one change"),
	}}, jsii.Bool(false))
	cdknag.NagSuppressions_AddResourceSuppressions(role.Node().FindChild(jsii.String("DefaultPolicy")), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("\"*\" only for the network-interface actions Lambda needs for a function in a VPC (AWSLambdaVPCAccessExecutionRole): they act on interfaces that do not exist yet; " +
			"the CodeDeploy report is scoped to the deployment group and the log actions to the function's log group"),
		AppliesTo: &[]interface{}{"Resource::*"},
	}}, jsii.Bool(false))

	// CodeDeploy invokes the hook, by the unqualified name the AppSpec gives,
	// with the deployment group's service role: the function itself, no
	// version or alias.
	s.deployRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{fn.FunctionArn()},
	}))

	// The function reaches the internet-facing ALB from the NAT gateways'
	// public addresses: admit exactly those to the test listener.
	peers := natPeers(props.Vpc)
	if props.SmokeTestEgressPeers != nil {
		peers = *props.SmokeTestEgressPeers
	}
	if len(peers) == 0 {
		panic(fmt.Errorf("bluegreen: cannot find NAT gateway addresses in the VPC; set SmokeTestEgressPeers"))
	}
	for _, peer := range peers {
		s.albSg.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(r.testPort)), jsii.String("test listener from the pre-traffic validation (NAT gateway)"), nil)
	}
}

// natPeers returns the Elastic IPs of the NAT gateways CDK created in the
// VPC's public subnets.
func natPeers(vpc awsec2.IVpc) []awsec2.IPeer {
	var peers []awsec2.IPeer
	for _, subnet := range *vpc.PublicSubnets() {
		eip, ok := subnet.Node().TryFindChild(jsii.String("EIP")).(awsec2.CfnEIP)
		if !ok || eip == nil {
			continue
		}
		peers = append(peers, awsec2.Peer_Ipv4(jsii.String(*eip.AttrPublicIp()+"/32")))
	}
	return peers
}
