package bluegreen

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/rules"
)

// DomainProps serves the service at a name of a Route 53 public hosted zone
// over HTTPS. With it the construct creates, unless ServiceProps.Certificate
// is given, a certificate for Name that ACM validates through a record
// CloudFormation writes into HostedZone; both listeners serve TLS with it
// (production on 443, port 80 redirecting; the test listener on its port);
// an alias record points Name at the load balancer; and the pre-traffic
// check, ProductionUrl and TestUrl use Name.
type DomainProps struct {
	// Name is the DNS name the service answers at: HostedZone's apex or a
	// name below it, at most 64 characters when the construct creates the
	// certificate (ACM's limit on a certificate's common name). Required.
	Name *string
	// HostedZone is the public hosted zone that holds Name, in the stack's
	// account (CloudFormation writes the validation and alias records into
	// it). Its zone name must be known: import it with
	// awsroute53.HostedZone_FromHostedZoneAttributes, not FromHostedZoneId.
	// Required.
	HostedZone awsroute53.IHostedZone
}

// checkDomain reports every Domain prop that cannot work. A name that is a
// token is not checked.
func checkDomain(p *ServiceProps) []error {
	d := p.Domain
	if d == nil {
		return nil
	}
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	name := ""
	if d.Name == nil || *d.Name == "" {
		add("Domain.Name is required")
	} else if name = *d.Name; !unresolved(name) {
		if msg := rules.CheckDNSName(name); msg != "" {
			add("Domain.Name %q: %s", name, msg)
			name = ""
		} else if p.Certificate == nil && len(name) > rules.CertificateNameLimit {
			add("Domain.Name %q has %d characters: ACM's certificate name has at most %d; use a shorter name or give a Certificate that covers it",
				name, len(name), rules.CertificateNameLimit)
		}
	} else {
		name = ""
	}
	if d.HostedZone == nil {
		add("Domain.HostedZone is required")
		return problems
	}
	zone, ok := zoneName(d.HostedZone)
	switch {
	case !ok:
		add("Domain.HostedZone has no zone name: import it with HostedZone_FromHostedZoneAttributes, which records the name, not FromHostedZoneId")
	case name != "" && !unresolved(zone) && !rules.InZone(name, trimDot(zone)):
		add("Domain.Name %q is not in Domain.HostedZone %q: it must be the zone's apex or a name below it", name, zone)
	}
	return problems
}

// zoneName reads a hosted zone's name; a zone imported by id alone throws
// when asked (CDK's HostedZone.fromHostedZoneId).
func zoneName(z awsroute53.IHostedZone) (name string, ok bool) {
	defer func() {
		if recover() != nil {
			name, ok = "", false
		}
	}()
	return *z.ZoneName(), true
}

func trimDot(s string) string {
	if len(s) > 0 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// serviceCertificate is the certificate of the listeners: the one given, or
// with a Domain and none given, a new one for the domain's name, validated
// through DNS in its zone (CertificateValidation_FromDns: CloudFormation
// adds the validation record to the zone and waits until ACM has issued the
// certificate; "the HostedZoneId option ... causes ACM to add your CNAME to
// the domain record",
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-certificatemanager-certificate-domainvalidationoption.html).
//
// A given certificate is used as it is for the domain: its names cannot be
// read without an AWS call, so they are not compared with Domain.Name. It
// must cover the name; the pre-traffic check requests
// https://<Name>:<test port> and verifies the certificate (Node.js fetch
// does by default), so a certificate that does not cover the name fails
// every release before production traffic moves to it.
func (s *service) serviceCertificate(props *ServiceProps) awscertificatemanager.ICertificate {
	if props.Certificate != nil || props.Domain == nil {
		return props.Certificate
	}
	return awscertificatemanager.NewCertificate(s.Construct, jsii.String("Certificate"), &awscertificatemanager.CertificateProps{
		DomainName: props.Domain.Name,
		Validation: awscertificatemanager.CertificateValidation_FromDns(props.Domain.HostedZone),
	})
}

// testListenerTLS gives the test listener's props TLS with the
// certificate: with a Domain only, since only then does the pre-traffic
// check call it by a name a certificate covers (without one it calls the
// load balancer's generated name, which no certificate of the team's can
// cover, so TLS there would fail every check). Neither engine depends on
// the protocol: CodeDeploy swaps the listener's default action and ECS
// rewrites its rule, both by ARN, and the listener is updated in place
// (Protocol, Certificates and SslPolicy need no replacement,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-listener.html).
func testListenerTLS(props *elbv2.BaseApplicationListenerProps, certificate awscertificatemanager.ICertificate) {
	props.Protocol = elbv2.ApplicationProtocol_HTTPS
	props.Certificates = &[]elbv2.IListenerCertificate{elbv2.ListenerCertificate_FromCertificateManager(certificate)}
	props.SslPolicy = elbv2.SslPolicy_RECOMMENDED_TLS
}

// buildAliasRecord points the domain's name at the load balancer: an alias
// A record (Route 53 answers with the load balancer's current addresses,
// "Choosing between alias and non-alias records",
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html).
// The load balancer is IPv4 only (its default IpAddressType, ipv4), so no
// AAAA record is created: one would answer with no address. A dual-stack
// load balancer would need a second, AAAA, alias record.
func (s *service) buildAliasRecord(d *DomainProps) {
	awsroute53.NewARecord(s.Construct, jsii.String("AliasRecord"), &awsroute53.ARecordProps{
		Zone:       d.HostedZone,
		RecordName: d.Name,
		Target:     awsroute53.RecordTarget_FromAlias(awsroute53targets.NewLoadBalancerTarget(s.alb, nil)),
		Comment:    jsii.String("the service's own name, on its load balancer"),
	})
}
