package config_test

import (
	"errors"
	"strings"
	"testing"

	"ecs-bluegreen/config"
)

// Each stack's account defaults to account; set, each is its own.
func TestAccountsDefaultToAccount(t *testing.T) {
	noAmbientCredentials(t)
	cfg, err := config.Load(fakeContext{"account": "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	want := config.Accounts{Pipeline: "111111111111", Staging: "111111111111", Production: "111111111111"}
	if cfg.Accounts != want || cfg.Accounts.CrossAccount() {
		t.Errorf("accounts %+v (cross-account %v), want %+v in one account", cfg.Accounts, cfg.Accounts.CrossAccount(), want)
	}
	cfg, err = config.Load(fakeContext{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Accounts != (config.Accounts{}) {
		t.Errorf("accounts %+v without account, want all empty (account-agnostic)", cfg.Accounts)
	}
	cfg, err = config.Load(fakeContext{"pipeline.account": "111111111111", "staging.account": "222222222222", "production.account": "333333333333"})
	if err != nil {
		t.Fatal(err)
	}
	want = config.Accounts{Pipeline: "111111111111", Staging: "222222222222", Production: "333333333333"}
	if cfg.Accounts != want || !cfg.Accounts.CrossAccount() || cfg.Accounts.Of(&cfg.Production) != "333333333333" || cfg.Accounts.Of(&cfg.Staging) != "222222222222" {
		t.Errorf("accounts %+v, want %+v", cfg.Accounts, want)
	}
	cfg, err = config.Load(fakeContext{"account": "111111111111", "production.account": "333333333333"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Accounts.Staging != "111111111111" || cfg.Accounts.Pipeline != "111111111111" || !cfg.Accounts.CrossAccount() {
		t.Errorf("accounts %+v: staging and pipeline should default to account", cfg.Accounts)
	}
}

// Every bad account key is named in one error.
func TestAccountsRejected(t *testing.T) {
	noAmbientCredentials(t)
	for _, row := range []struct {
		name string
		ctx  fakeContext
		want []string
	}{
		{"malformed ids", fakeContext{"pipeline.account": "1111", "staging.account": "22222222222a", "production.account": "3333333333333"}, []string{
			`pipeline.account = "1111": must be a 12-digit AWS account id`,
			`staging.account = "22222222222a": must be a 12-digit AWS account id`,
			`production.account = "3333333333333": must be a 12-digit AWS account id`,
		}},
		{"another account without the pipeline's", fakeContext{"staging.account": "222222222222", "production.account": "333333333333"}, []string{
			`pipeline.account = "": must be set (here or as account) when another stack lives in another account`,
		}},
		{"the pipeline's account without the environments'", fakeContext{"pipeline.account": "111111111111"}, []string{
			`staging.account = "": must be set`,
			`production.account = "": must be set`,
		}},
	} {
		t.Run(row.name, func(t *testing.T) {
			_, err := config.Load(row.ctx)
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("error %v, want a *config.Error", err)
			}
			if len(cerr.Problems) != len(row.want) {
				t.Errorf("%d problems, want %d: %v", len(cerr.Problems), len(row.want), err)
			}
			for _, w := range row.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// accountRejectRows are the failure rows of the account keys.
func accountRejectRows() []rejectRow {
	const allowed = "must be a 12-digit AWS account id, or empty for account"
	var rows []rejectRow
	for _, part := range []string{"pipeline", "staging", "production"} {
		key := part + ".account"
		rows = append(rows,
			rejectRow{name: key + " too short", ctx: fakeContext{key: "12345678901"}, key: key, shown: q("12345678901"), allowed: allowed},
			rejectRow{name: key + " not digits", ctx: fakeContext{key: "12345678901x"}, key: key, shown: q("12345678901x"), allowed: allowed},
		)
	}
	return rows
}

// The Slack channel lives in the pipeline's account: it posts the alarms of
// the environments in that account only, and the configuration warns about
// each other one.
func TestSlackAcrossAccountsWarns(t *testing.T) {
	noAmbientCredentials(t)
	slack := func(extra fakeContext) fakeContext {
		ctx := fakeContext{"slackWorkspaceId": "T0123ABCDE", "slackChannelId": "C0123ABCDE"}
		for k, v := range extra {
			ctx[k] = v
		}
		return ctx
	}
	cfg, err := config.Load(slack(fakeContext{"account": "111111111111", "production.account": "333333333333"}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ChatsAbout(&cfg.Staging) || cfg.ChatsAbout(&cfg.Production) {
		t.Errorf("ChatsAbout staging %v, production %v; want the pipeline's account only", cfg.ChatsAbout(&cfg.Staging), cfg.ChatsAbout(&cfg.Production))
	}
	var about []string
	for _, w := range cfg.Warnings {
		if strings.HasPrefix(w, "slackChannelId:") {
			about = append(about, w)
		}
	}
	if len(about) != 1 || !strings.Contains(about[0], "not the alarms of production (account 333333333333)") {
		t.Errorf("warnings %q, want one about production", about)
	}
	cfg, err = config.Load(slack(fakeContext{"account": "111111111111"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range cfg.Warnings {
		if strings.HasPrefix(w, "slackChannelId:") {
			t.Errorf("one account: unexpected warning %q", w)
		}
	}
}
