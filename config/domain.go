package config

import (
	"fmt"

	"ecs-bluegreen/rules"
)

// readDomain reads the environment's own domain: domainName, served over
// HTTPS, in the Route 53 public hosted zone hostedZoneId named
// hostedZoneName. The zone is never looked up (synthesis stays offline), so
// its name is given beside its id. The three keys are set together or not
// at all; each bad or missing one is reported under its own name.
func readDomain(r *reader, k func(string) string, e *Environment) {
	e.DomainName = r.str(k("domainName"), "",
		"DNS name the environment is served at over HTTPS, in hostedZoneName (the zone's apex or a name below it). Set: a DNS-validated ACM certificate for it (or certificateArn), the production listener on 443, the test listener on TLS, and an alias record to the load balancer. Set with hostedZoneId and hostedZoneName, or not at all.",
		func(s string) string {
			if s == "" {
				return ""
			}
			return rules.CheckDNSName(s)
		})
	e.HostedZoneId = r.str(k("hostedZoneId"), "",
		"Id of the Route 53 public hosted zone holding domainName, in the environment's account (Z and upper-case letters and digits).",
		func(s string) string {
			if s == "" {
				return ""
			}
			return rules.CheckHostedZoneID(s)
		})
	e.HostedZoneName = r.str(k("hostedZoneName"), "",
		"Name of that hosted zone, such as example.com (the zone is not looked up, so its name is given here).",
		func(s string) string {
			if s == "" {
				return ""
			}
			return rules.CheckDNSName(s)
		})

	set := map[string]string{"domainName": e.DomainName, "hostedZoneId": e.HostedZoneId, "hostedZoneName": e.HostedZoneName}
	any := false
	for _, v := range set {
		any = any || v != ""
	}
	if !any {
		return
	}
	for _, key := range []string{"domainName", "hostedZoneId", "hostedZoneName"} {
		if set[key] == "" {
			r.fail(k(key), "", fmt.Sprintf("must be set with %s, %s and %s (all three or none)", k("domainName"), k("hostedZoneId"), k("hostedZoneName")))
		}
	}
	nameOK := e.DomainName != "" && rules.CheckDNSName(e.DomainName) == ""
	zoneOK := e.HostedZoneName != "" && rules.CheckDNSName(e.HostedZoneName) == ""
	if nameOK && zoneOK && !rules.InZone(e.DomainName, e.HostedZoneName) {
		r.fail(k("domainName"), e.DomainName, fmt.Sprintf("must be %s = %q or a name below it: the alias record and the certificate's validation record go into that zone", k("hostedZoneName"), e.HostedZoneName))
	}
	// With certificateArn the certificate is made elsewhere and may carry
	// the name as a subject alternative name, up to 253 characters; the one
	// created here names it as its common name.
	if nameOK && e.CertificateArn == "" && len(e.DomainName) > rules.CertificateNameLimit {
		r.fail(k("domainName"), e.DomainName, fmt.Sprintf("has %d characters; ACM's certificate name (its common name) has at most %d: use a shorter name, or a certificate made elsewhere that covers it (%s)",
			len(e.DomainName), rules.CertificateNameLimit, k("certificateArn")))
	}
}
