package bluegreen

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	targets "github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen/pretraffic"
	"ecs-bluegreen/internal/nagsuppress"
	"ecs-bluegreen/rules"
)

// preTrafficTimeoutMs bounds each request of the pre-traffic check; a healthy
// service answers its health check far faster, and a hung one must not hold
// the deployment.
const preTrafficTimeoutMs = rules.PreTrafficRequestSeconds * 1000

// Under ECS, a check that got no answer is retried: preTrafficAttempts
// invocations in all, preTrafficRetrySeconds apart (the callBackDelay).
const (
	preTrafficAttempts     = 3
	preTrafficRetrySeconds = 30
)

// preTrafficTimeout is the function's timeout in seconds: every request
// timing out, and the report; resolve refuses a check that cannot fit in
// Lambda's limit.
func preTrafficTimeout(r resolved) int {
	return min(rules.LambdaMaxTimeoutSeconds, rules.PreTrafficWorstCaseSeconds(r.preTrafficPaths, int(math.Ceil(r.preTrafficRequests))))
}

// buildPreTrafficHook creates the pre-traffic check CodeDeploy runs at
// AfterAllowTestTraffic: a function in the private subnets that requests the
// test listener through the NAT gateways (the ALB is internet-facing, so its
// DNS name resolves to public addresses) and reports the result to CodeDeploy.
//
// The descriptions and the Purpose tag below still say "pre-traffic
// validation" and "smoke test": they are deployed values (the build
// contract test and the release-time tool find the function by its tag),
// so they change only with a change that is meant to change the templates.
func (s *service) buildPreTrafficHook(props *ServiceProps, r resolved, name func(string) *string) {
	this := s.Construct
	type check struct {
		Path   string   `json:"path"`
		Status *float64 `json:"status,omitempty"`
	}
	checks := []check{{Path: r.healthPath}}
	if props.PreTrafficChecks != nil {
		for _, c := range *props.PreTrafficChecks {
			checks = append(checks, check{Path: *c.Path, Status: c.Status})
		}
	}
	checksJSON, err := json.Marshal(checks)
	if err != nil {
		panic(err)
	}
	timeout := float64(preTrafficTimeout(r))
	environment := map[string]*string{
		"TEST_URL":   s.testUrl,
		"CHECKS":     jsii.String(string(checksJSON)),
		"REQUESTS":   jsii.String(fmt.Sprint(r.preTrafficRequests)),
		"TIMEOUT_MS": jsii.String(fmt.Sprint(preTrafficTimeoutMs)),
	}
	if s.engine == EngineEcs {
		// Under ECS a check that got no answer is asked again through the
		// hook contract (IN_PROGRESS with a callBackDelay).
		environment["MAX_ATTEMPTS"] = jsii.String(fmt.Sprint(preTrafficAttempts))
		environment["RETRY_DELAY_SECONDS"] = jsii.String(fmt.Sprint(preTrafficRetrySeconds))
	}

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
	// Under CodeDeploy the report goes to this service's deployment group
	// only: the action's resource type is the deployment group, as CDK's
	// grant for Lambda deployment groups
	// (grantPutLifecycleEventHookExecutionStatus) scopes it. Under ECS the
	// function answers in its return value and calls no AWS API.
	if s.engine == EngineCodeDeploy {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("codedeploy:PutLifecycleEventHookExecutionStatus"),
			Resources: &[]*string{s.deploymentGroup.DeploymentGroupArn()},
		}))
	}
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
	if s.engine == EngineCodeDeploy {
		sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("CodeDeploy API, through the NAT gateways"), nil)
	}

	fn := awslambda.NewFunction(this, jsii.String("PreTrafficHook"), &awslambda.FunctionProps{
		FunctionName: name("-pretraffic"),
		Description:  jsii.String(fmt.Sprintf("%s: AfterAllowTestTraffic smoke test on the test listener", r.prefix)),
		// nodejs22.x: the Node.js major the handler's unit tests run on.
		Runtime:        awslambda.Runtime_NODEJS_22_X(),
		Architecture:   awslambda.Architecture_ARM_64(),
		Handler:        jsii.String(pretraffic.Handler),
		Code:           pretraffic.Code(),
		MemorySize:     jsii.Number(128),
		Timeout:        awscdk.Duration_Seconds(jsii.Number(timeout)),
		Role:           role,
		LogGroup:       logGroup,
		Vpc:            props.Vpc,
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		SecurityGroups: &[]awsec2.ISecurityGroup{sg},
		Environment:    &environment,
	})
	awscdk.Tags_Of(fn).Add(jsii.String("Purpose"), jsii.String("pre-traffic validation"), nil)
	s.hook = fn
	keepWarm(this, fn, r.prefix)
	nagsuppress.Add(fn, nagsuppress.Rule{
		ID:     "AwsSolutions-L1",
		Reason: "nodejs22.x deliberately matches the Node.js major the handler's unit tests run on (package.json pins Node.js 22 for them); runtime and tests move to a new major together, in one change",
	})
	nagsuppress.Add(role.Node().FindChild(jsii.String("DefaultPolicy")), nagsuppress.Rule{
		ID: "AwsSolutions-IAM5",
		Reason: "\"*\" only for the network-interface actions Lambda needs for a function in a VPC (AWSLambdaVPCAccessExecutionRole): they act on interfaces that do not exist yet; " +
			"the CodeDeploy report is scoped to the deployment group and the log actions to the function's log group",
		AppliesTo: []string{"Resource::*"},
	})

	if s.engine == EngineEcs {
		s.ecsHook(fn, r.prefix)
	} else {
		// CodeDeploy invokes the hook, by the unqualified name the AppSpec
		// gives, with the deployment group's service role: the function
		// itself, no version or alias.
		s.deployRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("lambda:InvokeFunction"),
			Resources: &[]*string{fn.FunctionArn()},
		}))
	}

	// The function reaches the internet-facing ALB from the NAT gateways'
	// public addresses: admit exactly those to the test listener.
	peers := natPeers(props.Vpc)
	if props.PreTrafficEgressPeers != nil {
		peers = *props.PreTrafficEgressPeers
	}
	if len(peers) == 0 {
		panic(fmt.Errorf("bluegreen: cannot find NAT gateway addresses in the VPC; set PreTrafficEgressPeers"))
	}
	for _, peer := range peers {
		s.albSg.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(r.testPort)), jsii.String("test listener from the pre-traffic validation (NAT gateway)"), nil)
	}
}

// keepWarmHours is how often the pre-traffic function is invoked between
// releases. Lambda reclaims the network interfaces of a VPC function that
// has been idle for weeks and marks it Inactive; the next invocation fails
// while they are recreated. A daily no-op invocation keeps it Active, so the
// first release after a quiet month is not failed by its own check.
const keepWarmHours = 24

// keepWarm invokes fn on a schedule with EventBridge's scheduled event,
// which the handler answers without reporting to any deployment.
func keepWarm(scope constructs.Construct, fn awslambda.IFunction, prefix string) {
	awsevents.NewRule(scope, jsii.String("PreTrafficHookKeepWarm"), &awsevents.RuleProps{
		RuleName:    jsii.String(prefix + "-pretraffic-warm"),
		Description: jsii.String(fmt.Sprintf("%s: invokes the pre-traffic function every %d hours so that Lambda keeps its network interfaces", prefix, keepWarmHours)),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(keepWarmHours))),
		Targets: &[]awsevents.IRuleTarget{targets.NewLambdaFunction(fn, &targets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		})},
	})
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
