// Package bluegreen provides an L3 construct for a containerised web service
// on ECS Fargate behind an Application Load Balancer, released blue/green with
// automatic rollback on failure and on alarm. Either of two engines shifts
// the traffic (Engine): CodeDeploy, or ECS's own blue/green deployments; the
// construct's surface does not depend on which (see Release).
package bluegreen

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
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

	// Cpu is the Fargate task CPU in units (256, 512, 1024, 2048, 4096,
	// 8192 or 16384). Default: 256.
	Cpu *float64
	// MemoryLimitMiB is the Fargate task memory; it must be a size Fargate
	// accepts with Cpu. Default: 512.
	MemoryLimitMiB *float64
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
	// Environment are the container's plain environment variables; they
	// are written into the template, so never a secret. Default: - none.
	Environment *map[string]*string
	// Secrets are the container's secret environment variables: ECS reads
	// each from Secrets Manager or Parameter Store when a task starts, and
	// the execution role may read exactly these. Default: - none.
	Secrets *map[string]*ContainerSecret
	// ContainerPort is the port the container listens on. Default: 80.
	ContainerPort *float64
	// HealthCheckPath is requested by the target groups' health checks. Default: "/".
	HealthCheckPath *string
	// PlaceholderImage is the image reference (a public registry's, such as
	// ECR Public) that runs until the pipeline's first release; it must
	// answer the health check on ContainerPort. Default: nginx from ECR Public.
	PlaceholderImage *string

	// Certificate, when set, makes the production listener HTTPS on 443 and
	// turns port 80 into a redirect to it. Default: - HTTP on port 80.
	Certificate awscertificatemanager.ICertificate
	// Domain, when set, serves the service at a name of a Route 53 hosted
	// zone over HTTPS: a DNS-validated certificate for it (unless
	// Certificate is given, which must then cover the name), TLS on both
	// listeners, and an alias record to the load balancer. Default: - the
	// load balancer's own DNS name.
	Domain *DomainProps
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

	// Engine is what carries a release out: EngineCodeDeploy (a CodeDeploy
	// deployment group) or EngineEcs (ECS's own blue/green deployments,
	// started by a CloudFormation update of the image parameter).
	// Default: EngineCodeDeploy.
	Engine Engine
	// TrafficShift is how production traffic moves to a new version.
	// Default: AllAtOnce().
	TrafficShift *TrafficShift
	// TerminationWaitTime keeps the old task set (and the deployment, with
	// its alarm rollback) after all traffic moved: whole minutes, up to two
	// days under CodeDeploy; under ECS it is the bake time, up to one day.
	// With the TrafficShift it must keep the deployment open until the alarms
	// can fire, AlarmPeriod x AlarmEvaluationPeriods plus a minute of metric
	// delay after production traffic first reaches the new version (3 minutes
	// with all at once and the default alarms). Default: 5 minutes.
	TerminationWaitTime awscdk.Duration
	// Alarm5xxThreshold is the per-minute count of target 5xx responses that,
	// for AlarmEvaluationPeriods minutes running, rolls a deployment back. Default: 5.
	Alarm5xxThreshold *float64
	// AlarmPeriod is the period of the rollback alarms. Default: 1 minute.
	AlarmPeriod awscdk.Duration
	// AlarmEvaluationPeriods is how many periods in a row must breach. Default: 2.
	AlarmEvaluationPeriods *float64
	// LatencyP99Threshold, when set, adds a rollback alarm on each target
	// group: p99 target response time above it for AlarmEvaluationPeriods
	// periods. At least 1 millisecond. Default: - no latency alarm.
	LatencyP99Threshold awscdk.Duration
	// AlarmTopic, when set, receives the ALARM and OK notifications of every
	// alarm; its policy (and its key's) must let CloudWatch publish.
	// Default: - the alarms notify nobody.
	AlarmTopic awssns.ITopic

	// PreTrafficChecks are requests the pre-traffic check sends to the test
	// listener besides HealthCheckPath (which it always checks for 200-399).
	// Default: - the health-check path only.
	PreTrafficChecks *[]*PreTrafficCheck
	// PreTrafficRequests is how many requests the pre-traffic check sends
	// for each path. Default: 5.
	PreTrafficRequests *float64
	// PreTrafficEgressPeers are the public addresses the pre-traffic check's
	// requests leave the VPC from; the test listener admits them. Default: -
	// the Elastic IPs of the VPC's NAT gateways (a VPC created with awsec2.NewVpc).
	PreTrafficEgressPeers *[]awsec2.IPeer

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

// PreTrafficCheck is one request of the pre-traffic check.
type PreTrafficCheck struct {
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
	// FargateService runs the tasks, under the CODE_DEPLOY deployment
	// controller, or under ECS with EngineEcs.
	FargateService() awsecs.FargateService
	TaskDefinition() awsecs.FargateTaskDefinition
	// TaskDefinitionFamily is the family every release registers a revision in.
	TaskDefinitionFamily() *string
	ExecutionRole() awsiam.IRole
	TaskRole() awsiam.IRole
	ContainerName() *string
	ContainerPort() *float64
	LoadBalancer() elbv2.ApplicationLoadBalancer
	ProductionListener() elbv2.ApplicationListener
	TestListener() elbv2.ApplicationListener
	BlueTargetGroup() elbv2.ApplicationTargetGroup
	GreenTargetGroup() elbv2.ApplicationTargetGroup
	// Release is the engine that shifts traffic between the target groups,
	// with what a pipeline needs to start a release.
	Release() Release
	// PreTrafficHook is the pre-traffic check's function, which CodeDeploy
	// runs at AfterAllowTestTraffic (the AppSpec of every release names it),
	// or ECS as the service's POST_TEST_TRAFFIC_SHIFT lifecycle hook.
	PreTrafficHook() awslambda.IFunction
	// Alarms are the rollback alarms, covering both target groups.
	Alarms() []awscloudwatch.IAlarm
	// Dashboard shows the service's health, named "<NamePrefix>-health".
	Dashboard() awscloudwatch.Dashboard
	ProductionUrl() *string
	TestUrl() *string
}

type service struct {
	constructs.Construct
	cluster       awsecs.ICluster
	svc           awsecs.FargateService
	taskDef       awsecs.FargateTaskDefinition
	family        *string
	executionRole awsiam.IRole
	taskRole      awsiam.IRole
	containerName *string
	containerPort *float64
	alb           elbv2.ApplicationLoadBalancer
	prodListener  elbv2.ApplicationListener
	testListener  elbv2.ApplicationListener
	// prodRoute and testRoute are the listener rules ECS rewrites (EngineEcs only).
	prodRoute, testRoute elbv2.ApplicationListenerRule
	blue, green          elbv2.ApplicationTargetGroup
	engine               Engine
	release              Release
	// deploymentGroup and deployRole (its service role) are the CodeDeploy
	// engine's; nil under ECS.
	deploymentGroup  codedeploy.IEcsDeploymentGroup
	imageParameter   awscdk.CfnParameter
	alarms           []awscloudwatch.IAlarm
	dashboard        awscloudwatch.Dashboard
	hook             awslambda.IFunction
	deployRole       awsiam.IRole
	scaling          awsapplicationautoscaling.CfnScalableTarget
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
	s := &service{Construct: this, engine: r.engine, containerName: jsii.String(r.containerName), containerPort: jsii.Number(r.port)}
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
	s.buildLatencyAlarms(r, name)
	if r.engine == EngineEcs {
		s.buildEcsDeployment()
	} else {
		s.buildDeployment(r, name)
	}
	s.buildPreTrafficHook(props, r, name)
	s.notify(props.AlarmTopic)
	s.buildDashboard(r, name)
	return s
}

func (s *service) Cluster() awsecs.ICluster                       { return s.cluster }
func (s *service) FargateService() awsecs.FargateService          { return s.svc }
func (s *service) TaskDefinition() awsecs.FargateTaskDefinition   { return s.taskDef }
func (s *service) TaskDefinitionFamily() *string                  { return s.family }
func (s *service) ExecutionRole() awsiam.IRole                    { return s.executionRole }
func (s *service) TaskRole() awsiam.IRole                         { return s.taskRole }
func (s *service) ContainerName() *string                         { return s.containerName }
func (s *service) ContainerPort() *float64                        { return s.containerPort }
func (s *service) LoadBalancer() elbv2.ApplicationLoadBalancer    { return s.alb }
func (s *service) ProductionListener() elbv2.ApplicationListener  { return s.prodListener }
func (s *service) TestListener() elbv2.ApplicationListener        { return s.testListener }
func (s *service) BlueTargetGroup() elbv2.ApplicationTargetGroup  { return s.blue }
func (s *service) GreenTargetGroup() elbv2.ApplicationTargetGroup { return s.green }
func (s *service) Release() Release                               { return s.release }
func (s *service) Alarms() []awscloudwatch.IAlarm                 { return s.alarms }
func (s *service) Dashboard() awscloudwatch.Dashboard             { return s.dashboard }
func (s *service) PreTrafficHook() awslambda.IFunction            { return s.hook }
func (s *service) ProductionUrl() *string                         { return s.prodUrl }
func (s *service) TestUrl() *string                               { return s.testUrl }
