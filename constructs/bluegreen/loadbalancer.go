package bluegreen

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/logbucket"
	"ecs-bluegreen/internal/nagsuppress"
	"ecs-bluegreen/rules"
)

// buildLoadBalancer creates the internet-facing load balancer and its
// security group, the access-log buckets (unless AccessLogsBucket is given),
// the blue and green target groups, the production listener (HTTP, or HTTPS
// with a redirect from HTTP) and the test listener.
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
	accessLogs := props.AccessLogsBucket
	if accessLogs == nil {
		accessLogs = s.newAccessLogBuckets(r)
	}
	// CDK's bucket policy for the delivery scopes the objects to this
	// account's prefix (AWSLogs/<account>/), as the Elastic Load Balancing
	// guide ("Enable access logs") says to; it documents no aws:SourceArn or
	// aws:SourceAccount for the log delivery, so none is added.
	s.alb.LogAccessLogs(accessLogs, nil)
	// Only the production ports are open to the internet: the test port
	// admits the VPC, the configured peers and the NAT gateways.
	nagsuppress.Add(albSg, nagsuppress.Rule{
		ID:     "AwsSolutions-EC23",
		Reason: "internet-facing load balancer of a public web service: ports 80 and 443 accept 0.0.0.0/0 by design; the test listener port admits only the VPC, the configured peers and the NAT gateways' addresses",
	})

	s.blue = s.targetGroup("BlueTargetGroup", props.Vpc, r, name("-blue"))
	s.green = s.targetGroup("GreenTargetGroup", props.Vpc, r, name(rules.GreenSuffix))

	scheme := "http"
	certificate := s.serviceCertificate(props)
	if certificate != nil {
		scheme = "https"
		s.prodListener = s.alb.AddListener(jsii.String("ProductionListener"), &elbv2.BaseApplicationListenerProps{
			Port:                jsii.Number(443),
			Protocol:            elbv2.ApplicationProtocol_HTTPS,
			Certificates:        &[]elbv2.IListenerCertificate{elbv2.ListenerCertificate_FromCertificateManager(certificate)},
			SslPolicy:           elbv2.SslPolicy_RECOMMENDED_TLS,
			DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{s.blue},
			Open:                jsii.Bool(false),
		})
		redirect := s.alb.AddListener(jsii.String("HttpRedirectListener"), &elbv2.BaseApplicationListenerProps{
			Port:     jsii.Number(80),
			Protocol: elbv2.ApplicationProtocol_HTTP,
			DefaultAction: elbv2.ListenerAction_Redirect(&elbv2.RedirectOptions{
				Protocol: jsii.String("HTTPS"), Port: jsii.String("443"), Permanent: jsii.Bool(true),
			}),
			Open: jsii.Bool(false),
		})
		// When a certificate (or a domain) comes after the first deploy,
		// the production listener moves from port 80 to 443 in place and
		// this listener is new on port 80: it is created only after the
		// production listener's update, which frees the port ("Resource B is
		// updated before resource A",
		// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-dependson.html).
		redirect.Node().AddDependency(s.prodListener)
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

	// The test listener starts on the green target group: CodeDeploy routes
	// it to the replacement task set during a deployment, before production
	// traffic moves. Under ECS both listeners route by a rule that ECS
	// rewrites (ecsRoute), which takes every request.
	testProps := &elbv2.BaseApplicationListenerProps{
		Port:                jsii.Number(r.testPort),
		Protocol:            elbv2.ApplicationProtocol_HTTP,
		DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{s.green},
		Open:                jsii.Bool(false),
	}
	if props.Domain != nil {
		testListenerTLS(testProps, certificate)
	}
	s.testListener = s.alb.AddListener(jsii.String("TestListener"), testProps)
	if r.engine == EngineEcs {
		s.prodRoute = s.ecsRoute("ProductionRoute", s.prodListener)
		s.testRoute = s.ecsRoute("TestRoute", s.testListener)
	}
	peers := []awsec2.IPeer{awsec2.Peer_Ipv4(props.Vpc.VpcCidrBlock())}
	if props.TestListenerPeers != nil && len(*props.TestListenerPeers) > 0 {
		peers = *props.TestListenerPeers
	}
	for _, peer := range peers {
		albSg.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(r.testPort)), jsii.String("test listener from allowed peers"), nil)
	}

	host, testScheme := *s.alb.LoadBalancerDnsName(), "http"
	if props.Domain != nil {
		s.buildAliasRecord(props.Domain)
		host, testScheme = *props.Domain.Name, "https"
	}
	s.prodUrl = jsii.String(fmt.Sprintf("%s://%s", scheme, host))
	s.testUrl = jsii.String(fmt.Sprintf("%s://%s:%v", testScheme, host, r.testPort))
}

// targetGroup creates one of the two target groups the release engine
// alternates between.
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
