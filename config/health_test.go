package config_test

import (
	"testing"

	"ecs-bluegreen/config"
)

// healthRejectRows are the failure rows of the alarm and Slack keys.
func healthRejectRows() []rejectRow {
	const (
		latencyAllowed   = "must be 0 (no latency alarm) or 1 to 4000000 milliseconds"
		emailAllowed     = "must be a plain e-mail address such as ops@example.com, or empty"
		workspaceAllowed = "must be a Slack workspace id such as T0123ABCD"
		channelAllowed   = "must be a Slack channel id such as C0123ABCD"
	)
	var rows []rejectRow
	for _, env := range []string{"staging", "production"} {
		k := func(key string) string { return env + "." + key }
		rows = append(rows,
			rejectRow{name: env + " latencyP99Ms negative", ctx: fakeContext{k("latencyP99Ms"): -1.0}, key: k("latencyP99Ms"), shown: "-1", allowed: latencyAllowed},
			rejectRow{name: env + " latencyP99Ms beyond the load balancer's longest wait", ctx: fakeContext{k("latencyP99Ms"): "4000001"}, key: k("latencyP99Ms"), shown: q("4000001"), allowed: latencyAllowed},
			rejectRow{name: env + " latencyP99Ms not whole", ctx: fakeContext{k("latencyP99Ms"): 0.5}, key: k("latencyP99Ms"), shown: "0.5", allowed: "must be a whole number"},
			rejectRow{name: env + " alarmEmail not an address", ctx: fakeContext{k("alarmEmail"): "ops"}, key: k("alarmEmail"), shown: q("ops"), allowed: emailAllowed},
			rejectRow{name: env + " alarmEmail with a display name", ctx: fakeContext{k("alarmEmail"): "Ops <ops@example.com>"}, key: k("alarmEmail"), shown: q("Ops <ops@example.com>"), allowed: emailAllowed},
			rejectRow{name: env + " alarmEmail without a dotted domain", ctx: fakeContext{k("alarmEmail"): "ops@localhost"}, key: k("alarmEmail"), shown: q("ops@localhost"), allowed: emailAllowed},
		)
	}
	return append(rows,
		rejectRow{name: "slackWorkspaceId not a workspace id", ctx: fakeContext{"slackWorkspaceId": "C0123ABCD", "slackChannelId": "C0123ABCD"}, key: "slackWorkspaceId", shown: q("C0123ABCD"), allowed: workspaceAllowed},
		rejectRow{name: "slackWorkspaceId lower case", ctx: fakeContext{"slackWorkspaceId": "t0123abcd", "slackChannelId": "C0123ABCD"}, key: "slackWorkspaceId", shown: q("t0123abcd"), allowed: workspaceAllowed},
		rejectRow{name: "slackChannelId not a channel id", ctx: fakeContext{"slackWorkspaceId": "T0123ABCD", "slackChannelId": "#general"}, key: "slackChannelId", shown: q("#general"), allowed: channelAllowed},
		rejectRow{name: "slackChannelId too short", ctx: fakeContext{"slackWorkspaceId": "T0123ABCD", "slackChannelId": "C012"}, key: "slackChannelId", shown: q("C012"), allowed: channelAllowed},
		rejectRow{name: "slackWorkspaceId without slackChannelId", ctx: fakeContext{"slackWorkspaceId": "T0123ABCD"}, key: "slackChannelId", shown: q(""), allowed: "must be set with slackWorkspaceId (both or neither)"},
		rejectRow{name: "slackChannelId without slackWorkspaceId", ctx: fakeContext{"slackChannelId": "C0123ABCD"}, key: "slackWorkspaceId", shown: q(""), allowed: "must be set with slackChannelId (both or neither)"},
	)
}

// The alarm keys' defaults differ per environment, and good values load.
func TestHealthKeys(t *testing.T) {
	noAmbientCredentials(t)
	cfg, err := config.Load(fakeContext{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Staging.LatencyP99Ms != 0 || cfg.Production.LatencyP99Ms != 1000 {
		t.Errorf("latencyP99Ms defaults %d and %d, want 0 (off) in staging and 1000 in production", cfg.Staging.LatencyP99Ms, cfg.Production.LatencyP99Ms)
	}
	if cfg.Staging.AlarmEmail != "" || cfg.Production.AlarmEmail != "" || cfg.Chat() {
		t.Errorf("alarm e-mail %q/%q or Slack %q/%q set by default", cfg.Staging.AlarmEmail, cfg.Production.AlarmEmail, cfg.SlackWorkspaceId, cfg.SlackChannelId)
	}
	cfg, err = config.Load(fakeContext{
		"staging.latencyP99Ms": "1", "production.latencyP99Ms": 0.0, "production.alarmEmail": "oncall@example.com",
		"slackWorkspaceId": "T0123ABCD", "slackChannelId": "G0123ABCDEF",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Staging.LatencyP99Ms != 1 || cfg.Production.LatencyP99Ms != 0 || cfg.Production.AlarmEmail != "oncall@example.com" || !cfg.Chat() ||
		cfg.SlackWorkspaceId != "T0123ABCD" || cfg.SlackChannelId != "G0123ABCDEF" {
		t.Errorf("values not read: %+v %+v %q %q", cfg.Staging, cfg.Production, cfg.SlackWorkspaceId, cfg.SlackChannelId)
	}
}
