package test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/constructs/delivery"
	"ecs-bluegreen/test/testapp"
)

// The L3 constructs are also tested on their own, outside the app's wiring,
// so that every optional prop is exercised: one app holds a stack per
// construct and is synthesized once.

const (
	testCertificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
	testConnectionArn  = "arn:aws:codeconnections:us-east-1:123456789012:connection/12345678-1234-1234-1234-123456789012"
)

// svc is the blue/green service construct under test: one stack holding two
// services, one with every default and one with a certificate, custom
// test-listener peers, pre-traffic checks and a traffic shift CodeDeploy
// does not predefine.
var svc struct {
	stack   awscdk.Stack
	vpc     awsec2.IVpc
	tpl     assertions.Template
	plain   bluegreen.Service // every optional prop left nil
	withTLS bluegreen.Service // certificate and explicit test-listener peers
}

// dlv is the pipeline construct under test: one stack holding two services
// and two pipelines releasing to them, one with every optional prop left
// unset and one with every optional prop set.
var dlv struct {
	stack         awscdk.Stack
	tpl           assertions.Template
	staging, prod bluegreen.Service
	plain, custom delivery.Pipeline
}

// constructTemplates maps the construct test stacks' IDs to their templates.
var constructTemplates map[string]assertions.Template

// TestTemplateValidationFailsSynth proves that CDK's built-in CloudFormation
// validation gates `cdk synth`: cdk.json turns its findings into errors.
// (make test's cli-synth step checks that it ran.)
func TestTemplateValidationFailsSynth(t *testing.T) {
	const flag = "@aws-cdk/core:validateAgainstDefaultRules"
	if v := testapp.Context(nil)[flag]; v != true {
		t.Errorf("cdk.json sets %s to %v; want true, so that a template finding fails cdk synth", flag, v)
	}
}

// buildConstructStacks builds the construct test stacks in one app, with
// cdk.json's context (feature flags), and synthesizes it once.
func buildConstructStacks() {
	ctx := testapp.Context(nil)
	a := awscdk.NewApp(&awscdk.AppProps{
		Context: &ctx,
		// As for the app (see testapp.New): starting the built-in
		// validation's engine would double this package's run time.
		BuiltinCloudFormationValidation: jsii.Bool(false),
	})
	env := &awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("us-east-1")}}

	svc.stack = awscdk.NewStack(a, jsii.String("ServiceConstructTest"), env)
	svc.vpc = awsec2.NewVpc(svc.stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
	svc.plain = bluegreen.NewService(svc.stack, "Plain", &bluegreen.ServiceProps{Vpc: svc.vpc, NamePrefix: jsii.String("plain-svc")})
	svc.withTLS = bluegreen.NewService(svc.stack, "Tls", &bluegreen.ServiceProps{
		Vpc:                svc.vpc,
		NamePrefix:         jsii.String("tls-svc"),
		Certificate:        awscertificatemanager.Certificate_FromCertificateArn(svc.stack, jsii.String("Cert"), jsii.String(testCertificateArn)),
		TestListenerPort:   jsii.Number(9000),
		TestListenerPeers:  &[]awsec2.IPeer{awsec2.Peer_Ipv4(jsii.String("192.0.2.0/24"))},
		RemovalPolicy:      awscdk.RemovalPolicy_DESTROY,
		PreTrafficChecks:   &[]*bluegreen.PreTrafficCheck{{Path: jsii.String("/api/ready"), Status: jsii.Number(204)}},
		PreTrafficRequests: jsii.Number(3),
		TrafficShift:       bluegreen.Linear(20, 2),
	})

	dlv.stack = awscdk.NewStack(a, jsii.String("PipelineConstructTest"), env)
	vpc := awsec2.NewVpc(dlv.stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
	dlv.staging = bluegreen.NewService(dlv.stack, "Staging", &bluegreen.ServiceProps{Vpc: vpc, NamePrefix: jsii.String("svc-stg")})
	dlv.prod = bluegreen.NewService(dlv.stack, "Production", &bluegreen.ServiceProps{Vpc: vpc, NamePrefix: jsii.String("svc-prd"), ContainerName: jsii.String("web"), ContainerPort: jsii.Number(8000)})
	dlv.plain = delivery.NewPipeline(dlv.stack, "Plain", &delivery.PipelineProps{
		NamePrefix:  jsii.String("plain"),
		GitHubOwner: jsii.String("octo-org"),
		GitHubRepo:  jsii.String("shop"),
		Environments: []*delivery.DeployEnvironment{
			{Name: jsii.String("staging"), Service: dlv.staging},
			{Name: jsii.String("production"), Service: dlv.prod, RequireApproval: true},
		},
	})
	dlv.custom = delivery.NewPipeline(dlv.stack, "Custom", &delivery.PipelineProps{
		NamePrefix:        jsii.String("custom"),
		GitHubOwner:       jsii.String("octo-org"),
		GitHubRepo:        jsii.String("shop"),
		GitHubBranch:      jsii.String("release/v2"),
		ConnectionArn:     jsii.String(testConnectionArn),
		NotificationEmail: jsii.String("ops@example.com"),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		LogRetention:      awslogs.RetentionDays_ONE_WEEK,
		Environments: []*delivery.DeployEnvironment{
			{Name: jsii.String("qa"), Service: dlv.staging, RequireApproval: true},
		},
		ImagesKeptPerEnvironment: jsii.Number(3),
	})

	testapp.Synth(a)
	svc.tpl = assertions.Template_FromStack(svc.stack, nil)
	dlv.tpl = assertions.Template_FromStack(dlv.stack, nil)
	constructTemplates = map[string]assertions.Template{
		*svc.stack.Node().Id(): svc.tpl,
		*dlv.stack.Node().Id(): dlv.tpl,
	}
}
