package rules

import (
	"strings"
	"testing"
)

// TestCheckDNSName proves which names a service's domain may be: DNS names
// of at least two labels within DNS's length limits, in lower case, with no
// wildcard and no trailing dot.
func TestCheckDNSName(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	rows := []struct {
		name string
		ok   bool
	}{
		{"example.com", true},
		{"app.example.com", true},
		{"my-app.eu-1.example.co.uk", true},
		{"1app.example.com", true},
		{label63 + ".example.com", true},
		{strings.Repeat(label63+".", 3) + strings.Repeat("a", 61), true},  // 253
		{strings.Repeat(label63+".", 3) + strings.Repeat("a", 62), false}, // 254
		{strings.Repeat("a", 64) + ".example.com", false},
		{"localhost", false},
		{"", false},
		{"App.example.com", false},
		{"app.example.com.", false},
		{"*.example.com", false},
		{"-app.example.com", false},
		{"app-.example.com", false},
		{"app..example.com", false},
		{"app_1.example.com", false},
		{"app.example.com/path", false},
		{"https://app.example.com", false},
	}
	for _, r := range rows {
		if got := CheckDNSName(r.name) == ""; got != r.ok {
			t.Errorf("CheckDNSName(%q) accepts = %v, want %v", r.name, got, r.ok)
		}
	}
}

// TestInZone proves that a name is in a zone when it is the zone's apex or
// below it, and never by a shared suffix alone.
func TestInZone(t *testing.T) {
	rows := []struct {
		name, zone string
		ok         bool
	}{
		{"example.com", "example.com", true},
		{"app.example.com", "example.com", true},
		{"a.b.example.com", "example.com", true},
		{"badexample.com", "example.com", false},
		{"example.com", "app.example.com", false},
		{"app.example.org", "example.com", false},
	}
	for _, r := range rows {
		if got := InZone(r.name, r.zone); got != r.ok {
			t.Errorf("InZone(%q, %q) = %v, want %v", r.name, r.zone, got, r.ok)
		}
	}
}

// TestCheckHostedZoneID proves the hosted zone id format: "Z" and
// upper-case letters and digits, up to 32 characters, and a hint for the
// /hostedzone/ form ListHostedZones returns.
func TestCheckHostedZoneID(t *testing.T) {
	rows := []struct {
		id   string
		ok   bool
		hint string
	}{
		{"Z1D633PJN98FT9", true, ""},
		{"Z0123456789ABCDEFGHIJ", true, ""},
		{"Z" + strings.Repeat("A", 31), true, ""},
		{"Z" + strings.Repeat("A", 32), false, ""},
		{"Z", false, ""},
		{"z1d633pjn98ft9", false, ""},
		{"A1D633PJN98FT9", false, ""},
		{"Z1D633-PJN98FT9", false, ""},
		{"", false, ""},
		{"/hostedzone/Z1D633PJN98FT9", false, "without the /hostedzone/ prefix: Z1D633PJN98FT9"},
	}
	for _, r := range rows {
		msg := CheckHostedZoneID(r.id)
		if got := msg == ""; got != r.ok {
			t.Errorf("CheckHostedZoneID(%q) accepts = %v, want %v", r.id, got, r.ok)
		}
		if r.hint != "" && !strings.Contains(msg, r.hint) {
			t.Errorf("CheckHostedZoneID(%q) = %q, want the hint %q", r.id, msg, r.hint)
		}
	}
}
