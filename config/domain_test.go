package config_test

import (
	"errors"
	"strings"
	"testing"

	"ecs-bluegreen/config"
)

const (
	testZoneID        = "Z0123456789ABCDEFGHIJ"
	testCertificate   = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
	dnsNameAllowed    = "must be a DNS name such as app.example.com"
	zoneIDAllowed     = `must be a Route 53 hosted zone id: "Z" followed by upper-case letters and digits, at most 32 characters`
	allThreeOrNoneFmt = "must be set with %[1]s.domainName, %[1]s.hostedZoneId and %[1]s.hostedZoneName (all three or none)"
)

// domainContext is a valid domain for env, with overrides; a nil value
// leaves the key unset.
func domainContext(env string, overrides map[string]any) fakeContext {
	ctx := fakeContext{
		env + ".domainName":     "app.example.com",
		env + ".hostedZoneId":   testZoneID,
		env + ".hostedZoneName": "example.com",
	}
	for k, v := range overrides {
		if v == nil {
			delete(ctx, env+"."+k)
		} else {
			ctx[env+"."+k] = v
		}
	}
	return ctx
}

// domainRejectRows are the failure rows of the domain keys, one rule each,
// every other domain key valid (TestLoadRejectsBadValues runs them).
func domainRejectRows(env string) []rejectRow {
	row := func(name, key string, overrides map[string]any, shown, allowed string) rejectRow {
		return rejectRow{name: env + " " + name, ctx: domainContext(env, overrides), key: env + "." + key, shown: shown, allowed: allowed}
	}
	long := strings.Repeat("a", 53) + ".example.com" // 65 characters
	missing := strings.ReplaceAll(allThreeOrNoneFmt, "%[1]s", env)
	return []rejectRow{
		row("domainName upper-case", "domainName", map[string]any{"domainName": "App.example.com"}, q("App.example.com"), dnsNameAllowed),
		row("domainName wildcard", "domainName", map[string]any{"domainName": "*.example.com"}, q("*.example.com"), dnsNameAllowed),
		row("domainName a URL", "domainName", map[string]any{"domainName": "https://app.example.com"}, q("https://app.example.com"), dnsNameAllowed),
		row("domainName outside the zone", "domainName", map[string]any{"domainName": "app.example.org"}, q("app.example.org"),
			`must be `+env+`.hostedZoneName = "example.com" or a name below it`),
		row("domainName sharing only a suffix with the zone", "domainName", map[string]any{"domainName": "badexample.com"}, q("badexample.com"),
			`must be `+env+`.hostedZoneName = "example.com" or a name below it`),
		row("domainName longer than ACM's certificate name", "domainName", map[string]any{"domainName": long}, q(long),
			"has 65 characters; ACM's certificate name (its common name) has at most 64"),
		row("domainName missing", "domainName", map[string]any{"domainName": nil}, q(""), missing),
		row("hostedZoneId lower-case", "hostedZoneId", map[string]any{"hostedZoneId": "z0123456789abcdefghij"}, q("z0123456789abcdefghij"), zoneIDAllowed),
		row("hostedZoneId as ListHostedZones gives it", "hostedZoneId", map[string]any{"hostedZoneId": "/hostedzone/" + testZoneID}, q("/hostedzone/"+testZoneID),
			"without the /hostedzone/ prefix: "+testZoneID),
		row("hostedZoneId too long", "hostedZoneId", map[string]any{"hostedZoneId": "Z" + strings.Repeat("A", 32)}, q("Z"+strings.Repeat("A", 32)), zoneIDAllowed),
		row("hostedZoneId missing", "hostedZoneId", map[string]any{"hostedZoneId": nil}, q(""), missing),
		row("hostedZoneName with a trailing dot", "hostedZoneName", map[string]any{"hostedZoneName": "example.com."}, q("example.com."), dnsNameAllowed),
		row("hostedZoneName missing", "hostedZoneName", map[string]any{"hostedZoneName": nil}, q(""), missing),
	}
}

// A domain is accepted at the zone's apex and below it, in either
// environment, and a name longer than ACM's certificate name is accepted
// with a certificate made elsewhere.
func TestLoadAcceptsDomains(t *testing.T) {
	long := strings.Repeat("a", 60) + ".example.com"
	rows := []struct {
		name string
		ctx  fakeContext
		env  func(*config.Config) *config.Environment
		want [3]string
	}{
		{"staging below the zone", domainContext("staging", nil),
			func(c *config.Config) *config.Environment { return &c.Staging }, [3]string{"app.example.com", testZoneID, "example.com"}},
		{"production at the apex", domainContext("production", map[string]any{"domainName": "example.com"}),
			func(c *config.Config) *config.Environment { return &c.Production }, [3]string{"example.com", testZoneID, "example.com"}},
		{"a deeper name with -c values padded", domainContext("production", map[string]any{"domainName": " a.b.example.com "}),
			func(c *config.Config) *config.Environment { return &c.Production }, [3]string{"a.b.example.com", testZoneID, "example.com"}},
		{"a long name with certificateArn", domainContext("production", map[string]any{"domainName": long, "certificateArn": testCertificate}),
			func(c *config.Config) *config.Environment { return &c.Production }, [3]string{long, testZoneID, "example.com"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			noAmbientCredentials(t)
			e := row.env(mustLoad(t, row.ctx))
			if got := [3]string{e.DomainName, e.HostedZoneId, e.HostedZoneName}; got != row.want {
				t.Errorf("domain = %q, want %q", got, row.want)
			}
		})
	}
}

// Every bad or missing domain key is reported at once, each under its name.
func TestLoadReportsEveryDomainProblemAtOnce(t *testing.T) {
	rows := []struct {
		name string
		ctx  fakeContext
		keys []string
	}{
		{"all three malformed", domainContext("production", map[string]any{
			"domainName": "App.example.com", "hostedZoneId": "/hostedzone/Z1", "hostedZoneName": "example.com.",
		}), []string{"production.domainName", "production.hostedZoneId", "production.hostedZoneName"}},
		{"domainName alone", fakeContext{"staging.domainName": "app.example.com"},
			[]string{"staging.hostedZoneId", "staging.hostedZoneName"}},
		{"outside the zone and too long, with a bad id", domainContext("staging", map[string]any{
			"domainName": strings.Repeat("a", 60) + ".example.org", "hostedZoneId": "zzz",
		}), []string{"staging.hostedZoneId", "staging.domainName", "staging.domainName"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			noAmbientCredentials(t)
			_, err := config.Load(row.ctx)
			var cfgErr *config.Error
			if !errors.As(err, &cfgErr) {
				t.Fatalf("want *config.Error, got %T: %v", err, err)
			}
			if len(cfgErr.Problems) != len(row.keys) {
				t.Fatalf("want %d problems, got %d:\n%v", len(row.keys), len(cfgErr.Problems), err)
			}
			for i, key := range row.keys {
				if msg := cfgErr.Problems[i].Error(); !strings.HasPrefix(msg, key+" = ") {
					t.Errorf("problem %d = %q, want it under %s", i, msg, key)
				}
			}
		})
	}
}
