package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"ecs-bluegreen/config"
)

// unsetContext, as a row's CDK_CONTEXT_JSON, leaves the variable unset: the
// app was not started by the CLI.
const unsetContext = "<unset>"

// setCLIContext sets the environment the CDK CLI starts the app with, for
// the length of the test, without the caller's credentials.
func setCLIContext(t *testing.T, contextJSON, overflowPath string) {
	t.Helper()
	noAmbientCredentials(t)
	t.Setenv("CDK_CONTEXT_JSON", contextJSON)
	if contextJSON == unsetContext {
		os.Unsetenv("CDK_CONTEXT_JSON") // t.Setenv restores it afterwards
	}
	t.Setenv("CONTEXT_OVERFLOW_LOCATION_ENV", overflowPath)
}

// CheckCLIContext validates the CLI's context and hands back its warnings
// apart from the error, so that the app prints each warning once, first.
func TestCheckCLIContext(t *testing.T) {
	const (
		unset  = unsetContext
		typo   = `unknown context key "stagin.taskCpu" is ignored; did you mean "staging.taskCpu"?`
		noWarn = ""
	)
	rows := []struct {
		name        string
		contextJSON string
		wantChecked bool
		wantWarning string // the one warning expected; "" means none
		wantErr     string // substring of the error; "" means none
		wantConfig  bool   // the error is a *config.Error
	}{
		{name: "not started by the CLI", contextJSON: unset},
		{name: "valid context", contextJSON: `{"staging.taskCpu": "512"}`, wantChecked: true},
		{name: "typo only warns", contextJSON: `{"stagin.taskCpu": 512}`, wantChecked: true, wantWarning: typo},
		{name: "bad value", contextJSON: `{"staging.taskCpu": "300"}`, wantChecked: true,
			wantErr: "staging.taskCpu = 300", wantConfig: true},
		{name: "typo and bad value", contextJSON: `{"stagin.taskCpu": 512, "staging.natGateways": 3}`, wantChecked: true,
			wantWarning: typo, wantErr: "staging.natGateways = 3", wantConfig: true},
		{name: "malformed variable", contextJSON: `{"project": `, wantChecked: true, wantErr: "is not valid JSON"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			setCLIContext(t, row.contextJSON, "")
			_, warnings, checked, err := config.CheckCLIContext()
			if checked != row.wantChecked {
				t.Errorf("checked = %v, want %v", checked, row.wantChecked)
			}
			switch {
			case row.wantWarning == noWarn && len(warnings) > 0:
				t.Errorf("unexpected warnings: %q", warnings)
			case row.wantWarning != noWarn && (len(warnings) != 1 || warnings[0] != row.wantWarning):
				t.Errorf("warnings = %q, want [%q]", warnings, row.wantWarning)
			}
			if row.wantErr == "" {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), row.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, row.wantErr)
			}
			var cfgErr *config.Error
			if errors.As(err, &cfgErr) != row.wantConfig {
				t.Errorf("error is a *config.Error: %v, want %v", !row.wantConfig, row.wantConfig)
			}
			// The warnings come back on their own; the message must not
			// repeat them.
			if strings.Contains(err.Error(), "warning:") {
				t.Errorf("error repeats the warnings:\n%s", err)
			}
		})
	}
}
