package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// DNS names of a service's own domain: what ACM issues a certificate for
// and what Route 53 holds an alias record of.

// CertificateNameLimit is the longest name ACM puts in a certificate's
// common name: "the length of the domain name (technically, the Common
// Name) ... cannot exceed 64 octets (characters), including periods"
// (ACM API reference, RequestCertificate, DomainName:
// https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html).
// CDK's Certificate refuses a longer name too.
const CertificateNameLimit = 64

// dnsNameLimit and dnsLabelLimit are the DNS limits the same page and
// CloudFormation's DomainValidationOption (pattern and maximum 253,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-certificatemanager-certificate-domainvalidationoption.html)
// state: 253 octets in all, 63 per label.
const (
	dnsNameLimit  = 253
	dnsLabelLimit = 63
)

// dnsLabelRe is one label: letters, digits and inner hyphens. Upper case is
// refused so that one name has one spelling in the templates.
var dnsLabelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// hostedZoneIDRe is a Route 53 hosted zone id as CloudFormation and CDK take
// it: "Z" and upper-case letters and digits, at most 32 characters
// (Route 53 API reference, HostedZone, Id: "Maximum length of 32",
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_HostedZone.html).
// ListHostedZones returns it as "/hostedzone/Z...", which CloudFormation
// does not accept (the DomainValidationOption page above), so that form is
// refused with a hint.
var hostedZoneIDRe = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)

// CheckDNSName returns "" for a name the service can be reached at (at
// least two labels, no wildcard, no trailing dot), else what is allowed.
func CheckDNSName(name string) string {
	const allowed = "must be a DNS name such as app.example.com: lower-case letters, digits and inner hyphens in labels of up to 63 characters, 253 in all, without a trailing dot or a wildcard"
	labels := strings.Split(name, ".")
	if len(name) > dnsNameLimit || len(labels) < 2 {
		return allowed
	}
	for _, l := range labels {
		if len(l) > dnsLabelLimit || !dnsLabelRe.MatchString(l) {
			return allowed
		}
	}
	return ""
}

// InZone reports whether name is zone itself or a name below it.
func InZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// CheckHostedZoneID returns "" for a well-formed hosted zone id, else what
// is allowed.
func CheckHostedZoneID(id string) string {
	if hostedZoneIDRe.MatchString(id) {
		return ""
	}
	msg := `must be a Route 53 hosted zone id: "Z" followed by upper-case letters and digits, at most 32 characters (for example Z0123456789ABCDEFGHIJ)`
	if strings.HasPrefix(id, "/hostedzone/") {
		msg += fmt.Sprintf(", without the /hostedzone/ prefix: %s", strings.TrimPrefix(id, "/hostedzone/"))
	}
	return msg
}
