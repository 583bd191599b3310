package test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/test/testapp"
)

// The domain synthesis: both environments on their own names in one
// hosted zone, staging below the zone on codedeploy with the certificate
// the construct creates, production at the zone's apex on ecs with a
// certificate made elsewhere (certificateArn), so that TLS on the test
// listener is proven under both engines and with both kinds of
// certificate. cdk-nag's AwsSolutions checks run on it, as on the others.
const (
	domainZoneID   = "Z0123456789ABCDEFGHIJ"
	domainZoneName = "example.com"
	stagingDomain  = "app-stg.example.com"
	prodDomain     = "example.com"
	tlsPolicy      = "ELBSecurityPolicy-TLS13-1-2-2021-06"
)

var domainOverrides = map[string]any{
	"staging.domainName":        stagingDomain,
	"staging.hostedZoneId":      domainZoneID,
	"staging.hostedZoneName":    domainZoneName,
	"production.domainName":     prodDomain,
	"production.hostedZoneId":   domainZoneID,
	"production.hostedZoneName": domainZoneName,
	"production.certificateArn": testCertificateArn,
	"production.engine":         "ecs",
}

var (
	domainOnce      sync.Once
	domainSynthesis *checkedSynthesis
	domainError     error
)

// domainApp returns the domain synthesis.
func domainApp(t *testing.T) *checkedSynthesis {
	t.Helper()
	domainOnce.Do(func() {
		domainSynthesis, domainError = synthesizeChecked(domainOverrides)
	})
	if domainError != nil {
		t.Fatalf("domain synthesis: %v", domainError)
	}
	return domainSynthesis
}

// domainEnvironment is one environment of the domain synthesis.
type domainEnvironment struct {
	id, name string
	// certificate is what the listeners name: the created certificate's
	// Ref, or the given ARN.
	certificate any
}

func domainEnvironments(t *testing.T) []domainEnvironment {
	s := domainApp(t)
	created, _ := onlyResource(t, s.resources(t, "Staging", "AWS::CertificateManager::Certificate"), "certificate")
	return []domainEnvironment{
		{"Staging", stagingDomain, ref(created)},
		{"Production", prodDomain, testCertificateArn},
	}
}

// TestDomainCertificateIsDnsValidatedInTheZone proves the certificate the
// construct creates for a domain: the domain's name alone, validated
// through DNS by a record in the configured zone; and that a given
// certificate (certificateArn) is used instead of creating one.
func TestDomainCertificateIsDnsValidatedInTheZone(t *testing.T) {
	s := domainApp(t)
	_, cert := onlyResource(t, s.resources(t, "Staging", "AWS::CertificateManager::Certificate"), "certificate in staging")
	props := asMap(cert["Properties"])
	want := map[string]any{
		"DomainName":              stagingDomain,
		"ValidationMethod":        "DNS",
		"DomainValidationOptions": []any{map[string]any{"DomainName": stagingDomain, "HostedZoneId": domainZoneID}},
	}
	for k, v := range want {
		if compact(props[k]) != compact(v) {
			t.Errorf("certificate %s = %s, want %s", k, compact(props[k]), compact(v))
		}
	}
	if props["SubjectAlternativeNames"] != nil {
		t.Errorf("certificate names more than the domain: %s", compact(props["SubjectAlternativeNames"]))
	}
	if n := len(s.resources(t, "Production", "AWS::CertificateManager::Certificate")); n != 0 {
		t.Errorf("production has certificateArn, yet %d certificates are created", n)
	}
}

// TestDomainListenersServeTls proves the listeners of an environment with a
// domain: production HTTPS on 443 with the current TLS policy, port 80 a
// permanent redirect to it (created after the production listener, which
// frees port 80 when a domain is added later), and the test listener
// HTTPS on its port with the same certificate and policy.
func TestDomainListenersServeTls(t *testing.T) {
	s := domainApp(t)
	for _, e := range domainEnvironments(t) {
		t.Run(e.id, func(t *testing.T) {
			listeners := s.resources(t, e.id, "AWS::ElasticLoadBalancingV2::Listener")
			if len(listeners) != 3 {
				t.Fatalf("%d listeners, want production, redirect and test", len(listeners))
			}
			byPort := map[float64]string{}
			for logical, l := range listeners {
				byPort[asMap(l["Properties"])["Port"].(float64)] = logical
			}
			certs := []any{map[string]any{"CertificateArn": e.certificate}}
			for _, port := range []float64{443, 8080} {
				l := asMap(listeners[byPort[port]]["Properties"])
				if l["Protocol"] != "HTTPS" || l["SslPolicy"] != tlsPolicy || compact(l["Certificates"]) != compact(certs) {
					t.Errorf("listener on %v: protocol %v, policy %v, certificates %s; want HTTPS, %s, %s",
						port, l["Protocol"], l["SslPolicy"], compact(l["Certificates"]), tlsPolicy, compact(certs))
				}
			}
			redirect := listeners[byPort[80]]
			wantActions := []any{map[string]any{"Type": "redirect", "RedirectConfig": map[string]any{"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}}
			if p := asMap(redirect["Properties"]); p["Protocol"] != "HTTP" || compact(p["DefaultActions"]) != compact(wantActions) {
				t.Errorf("port 80: %v %s, want HTTP with %s", p["Protocol"], compact(p["DefaultActions"]), compact(wantActions))
			}
			if !containsValue(asList(redirect["DependsOn"]), byPort[443]) {
				t.Errorf("redirect listener DependsOn %v, want the production listener %s", redirect["DependsOn"], byPort[443])
			}
		})
	}
}

// TestDomainTestListenerKeepsBothEngines proves that the TLS test listener
// is still the one each engine routes: CodeDeploy's test traffic route
// (staging) and the test rule ECS rewrites, on that listener and named by
// the service (production).
func TestDomainTestListenerKeepsBothEngines(t *testing.T) {
	s := domainApp(t)
	testListener := func(id string) string {
		for logical, l := range s.resources(t, id, "AWS::ElasticLoadBalancingV2::Listener") {
			if asMap(l["Properties"])["Port"] == 8080.0 {
				return logical
			}
		}
		t.Fatalf("%s: no test listener", id)
		return ""
	}

	_, dg := onlyResource(t, s.resources(t, "Staging", "AWS::CodeDeploy::DeploymentGroup"), "deployment group")
	route := dig(asMap(dg["Properties"]), "LoadBalancerInfo", "TargetGroupPairInfoList")
	if got, want := compact(dig(asList(route)[0], "TestTrafficRoute", "ListenerArns")), compact([]any{ref(testListener("Staging"))}); got != want {
		t.Errorf("staging: CodeDeploy test traffic route %s, want %s", got, want)
	}

	listener := testListener("Production")
	var rule string
	for logical, r := range s.resources(t, "Production", "AWS::ElasticLoadBalancingV2::ListenerRule") {
		if compact(asMap(r["Properties"])["ListenerArn"]) == compact(ref(listener)) {
			rule = logical
		}
	}
	if rule == "" {
		t.Fatalf("production: no rule on the test listener %s", listener)
	}
	_, svc := onlyResource(t, s.resources(t, "Production", "AWS::ECS::Service"), "service")
	lbs := asList(asMap(svc["Properties"])["LoadBalancers"])
	if got := compact(dig(lbs[0], "AdvancedConfiguration", "TestListenerRule")); got != compact(ref(rule)) {
		t.Errorf("production: the service's test listener rule is %s, want %s", got, compact(ref(rule)))
	}
}

// TestDomainAliasRecordPointsAtTheLoadBalancer proves the alias A record of
// the domain's name in the zone, to the load balancer, and that no AAAA
// record exists: the load balancer is IPv4 only.
func TestDomainAliasRecordPointsAtTheLoadBalancer(t *testing.T) {
	s := domainApp(t)
	for _, e := range domainEnvironments(t) {
		t.Run(e.id, func(t *testing.T) {
			alb, _ := onlyResource(t, s.resources(t, e.id, "AWS::ElasticLoadBalancingV2::LoadBalancer"), "load balancer")
			_, rec := onlyResource(t, s.resources(t, e.id, "AWS::Route53::RecordSet"), "record")
			p := asMap(rec["Properties"])
			want := map[string]any{
				"Type": "A", "Name": e.name + ".", "HostedZoneId": domainZoneID,
				"AliasTarget": map[string]any{
					"DNSName":      map[string]any{"Fn::Join": []any{"", []any{"dualstack.", map[string]any{"Fn::GetAtt": []any{alb, "DNSName"}}}}},
					"HostedZoneId": map[string]any{"Fn::GetAtt": []any{alb, "CanonicalHostedZoneID"}},
				},
			}
			for k, v := range want {
				if compact(p[k]) != compact(v) {
					t.Errorf("record %s = %s, want %s", k, compact(p[k]), compact(v))
				}
			}
			if lb := asMap(s.resources(t, e.id, "AWS::ElasticLoadBalancingV2::LoadBalancer")[alb]["Properties"]); lb["IpAddressType"] != nil && lb["IpAddressType"] != "ipv4" {
				t.Errorf("load balancer IpAddressType %v: a dual-stack load balancer needs an AAAA alias too", lb["IpAddressType"])
			}
		})
	}
}

// TestDomainUrls proves that with a domain the pre-traffic check calls the
// test listener by the domain's name (which the certificate covers), and
// that the ProductionUrl and TestUrl outputs and the approval's link use it.
func TestDomainUrls(t *testing.T) {
	s := domainApp(t)
	for _, e := range domainEnvironments(t) {
		t.Run(e.id, func(t *testing.T) {
			if got, want := preTrafficTestURL(t, s.template(t, e.id)), "https://"+e.name+":8080"; got != want {
				t.Errorf("TEST_URL = %v, want %s", got, want)
			}
			outputs := asMap((*s.template(t, e.id).ToJSON())["Outputs"])
			for key, want := range map[string]string{"ProductionUrl": "https://" + e.name, "TestUrl": "https://" + e.name + ":8080"} {
				if got := dig(outputs, key, "Value"); got != want {
					t.Errorf("output %s = %v, want %s", key, got, want)
				}
			}
		})
	}
	t.Run("approval link", func(t *testing.T) {
		cfg := approvalConfiguration(t, s.resources(t, "Pipeline", "AWS::CodePipeline::Pipeline"))
		if cfg["ExternalEntityLink"] != "https://"+stagingDomain || !strings.Contains(fmt.Sprint(cfg["CustomData"]), "at https://"+stagingDomain+".") {
			t.Errorf("approval: link %v, text %v; want https://%s", cfg["ExternalEntityLink"], cfg["CustomData"], stagingDomain)
		}
	})
}

// TestNoDomainCreatesNoDomainResources proves that cdk.json's configuration
// (no domain) creates no certificate and no record, and keeps the test
// listener on HTTP and the URLs on the load balancer's own name.
func TestNoDomainCreatesNoDomainResources(t *testing.T) {
	for _, id := range []string{"Staging", "Production"} {
		t.Run(id, func(t *testing.T) {
			for _, typ := range []string{"AWS::CertificateManager::Certificate", "AWS::Route53::RecordSet"} {
				if n := len(resources(t, id, typ)); n != 0 {
					t.Errorf("%d %s without a domain", n, typ)
				}
			}
			for _, l := range resources(t, id, "AWS::ElasticLoadBalancingV2::Listener") {
				if p := asMap(l["Properties"]); p["Protocol"] != "HTTP" || p["Certificates"] != nil {
					t.Errorf("listener on %v: %v with %s, want HTTP without a certificate", p["Port"], p["Protocol"], compact(p["Certificates"]))
				}
			}
			if got := fmt.Sprint(preTrafficTestURL(t, template(t, id))); !strings.HasPrefix(got, "map[Fn::Join:[ [http://") {
				t.Errorf("TEST_URL = %s, want http:// and the load balancer's name", got)
			}
		})
	}
	cfg := approvalConfiguration(t, resources(t, "Pipeline", "AWS::CodePipeline::Pipeline"))
	if strings.Contains(compact(cfg), "example.com") {
		t.Errorf("approval names a domain without one: %s", compact(cfg))
	}
}

// TestDomainSynthesisPassesCdkNag proves cdk-nag's AwsSolutions checks over
// the domain synthesis: no unsuppressed error or warning, and no other
// error or warning annotation.
func TestDomainSynthesisPassesCdkNag(t *testing.T) { domainApp(t).requireNagClean(t) }

// TestServiceConstructRefusesBadDomains proves the construct's checks of
// its Domain prop, every problem in one error. The services are never
// synthesized: NewService refuses them first.
func TestServiceConstructRefusesBadDomains(t *testing.T) {
	ctx := testapp.Context(nil)
	a := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	stack := awscdk.NewStack(a, jsii.String("BadDomains"), &awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("us-east-1")}})
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(domainZoneID), ZoneName: jsii.String(domainZoneName),
	})
	byID := awsroute53.HostedZone_FromHostedZoneId(stack, jsii.String("ZoneById"), jsii.String(domainZoneID))
	cert := awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Cert"), jsii.String(testCertificateArn))
	long := strings.Repeat("a", 60) + ".example.com"
	rows := []struct {
		name   string
		domain *bluegreen.DomainProps
		cert   awscertificatemanager.ICertificate
		want   []string
	}{
		{"nothing given", &bluegreen.DomainProps{}, nil, []string{"Domain.Name is required", "Domain.HostedZone is required"}},
		{"bad name, zone without a name", &bluegreen.DomainProps{Name: jsii.String("App.example.com"), HostedZone: byID}, nil,
			[]string{`Domain.Name "App.example.com": must be a DNS name`, "Domain.HostedZone has no zone name"}},
		{"name outside the zone", &bluegreen.DomainProps{Name: jsii.String("app.example.org"), HostedZone: zone}, nil,
			[]string{`Domain.Name "app.example.org" is not in Domain.HostedZone "example.com"`}},
		{"name too long for a created certificate, and outside the zone", &bluegreen.DomainProps{Name: jsii.String(strings.Repeat("a", 60) + ".example.org"), HostedZone: zone}, nil,
			[]string{"has 72 characters: ACM's certificate name has at most 64", "is not in Domain.HostedZone"}},
	}
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			msg := newServicePanic(stack, fmt.Sprintf("Bad%d", i), &bluegreen.ServiceProps{Vpc: vpc, NamePrefix: jsii.String("bad-svc"), Domain: row.domain, Certificate: row.cert})
			if msg == "" {
				t.Fatal("NewService accepted the domain")
			}
			for _, w := range row.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not say %q:\n%s", w, msg)
				}
			}
			if n := strings.Count(msg, "\n") + 1; n != len(row.want) {
				t.Errorf("%d problems, want %d:\n%s", n, len(row.want), msg)
			}
		})
	}
	t.Run("a long name with a given certificate", func(t *testing.T) {
		if msg := newServicePanic(stack, "LongWithCert", &bluegreen.ServiceProps{Vpc: vpc, NamePrefix: jsii.String("ok-svc"),
			Domain: &bluegreen.DomainProps{Name: jsii.String(long), HostedZone: zone}, Certificate: cert}); msg != "" {
			t.Errorf("NewService refused it: %s", msg)
		}
	})
}

// newServicePanic runs NewService and returns its panic's message, or "".
func newServicePanic(stack awscdk.Stack, id string, props *bluegreen.ServiceProps) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	bluegreen.NewService(stack, id, props)
	return ""
}

// preTrafficTestURL is the TEST_URL of a template's pre-traffic function.
func preTrafficTestURL(t *testing.T, tpl assertions.Template) any {
	t.Helper()
	for _, r := range templateResources(t, tpl) {
		if r["Type"] != "AWS::Lambda::Function" {
			continue
		}
		if v := dig(asMap(r["Properties"]), "Environment", "Variables", "TEST_URL"); v != nil {
			return v
		}
	}
	t.Fatal("no function with TEST_URL")
	return nil
}

// approvalConfiguration is the configuration of the pipeline's one manual
// approval action.
func approvalConfiguration(t *testing.T, pipelines map[string]map[string]any) map[string]any {
	t.Helper()
	_, p := onlyResource(t, pipelines, "pipeline")
	for _, stage := range asList(asMap(p["Properties"])["Stages"]) {
		for _, a := range asList(asMap(stage)["Actions"]) {
			if dig(a, "ActionTypeId", "Category") == "Approval" {
				return asMap(asMap(a)["Configuration"])
			}
		}
	}
	t.Fatal("no approval action")
	return nil
}
