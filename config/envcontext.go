package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// The CDK CLI hands the app its context (cdk.json, cdk.context.json and -c
// values, merged) in these environment variables; large contexts overflow
// into a JSON file. The CDK App reads the same variables.
const (
	contextEnv         = "CDK_CONTEXT_JSON"
	contextOverflowEnv = "CONTEXT_OVERFLOW_LOCATION_ENV"
)

// mapContext is a Context over a plain map.
type mapContext map[string]any

func (m mapContext) TryGetContext(key *string) any { return m[*key] }
func (m mapContext) GetAllContext(*map[string]any) any {
	return map[string]any(m)
}

// MapContext returns a Context over the given values, as cdk.json holds them.
func MapContext(values map[string]any) Context { return mapContext(values) }

// ContextFromEnv returns the context the CLI passed, so that configuration
// can be validated before the CDK runtime starts. ok is false when the app
// was not started by the CLI.
func ContextFromEnv() (ctx Context, ok bool, err error) {
	raw, ok := os.LookupEnv(contextEnv)
	if !ok {
		return nil, false, nil
	}
	values := map[string]any{}
	if err := json.Unmarshal([]byte(raw), &values); err != nil {
		return nil, true, fmt.Errorf("the context passed by the CDK CLI (%s) is not valid JSON: %v", contextEnv, err)
	}
	if path := os.Getenv(contextOverflowEnv); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, true, fmt.Errorf("reading the CDK CLI's context overflow file: %v", err)
		}
		overflow := map[string]any{}
		if err := json.Unmarshal(data, &overflow); err != nil {
			return nil, true, fmt.Errorf("the CDK CLI's context overflow file %s is not valid JSON: %v", path, err)
		}
		for k, v := range overflow {
			values[k] = v
		}
	}
	return mapContext(values), true, nil
}

// CheckCLIContext validates the context the CDK CLI passed before the CDK
// runtime starts, so that bad configuration fails in milliseconds and
// nothing is synthesized, and returns the configuration for the app to
// build, so that it is read once. checked is false when the app was not
// started by the CLI; then nothing was read and the caller must Load the
// app's own context (and report its warnings).
//
// warnings, such as likely typos in key names, are returned whether or not
// the configuration is valid, for the caller to print before the error. A
// *Error returned here leaves its Warnings empty, so that printing both shows
// each warning once.
func CheckCLIContext() (cfg *Config, warnings []string, checked bool, err error) {
	ctx, checked, err := ContextFromEnv()
	if err != nil || !checked {
		return nil, nil, checked, err
	}
	cfg, err = Load(ctx)
	var cfgErr *Error
	if errors.As(err, &cfgErr) {
		return nil, cfgErr.Warnings, true, &Error{Problems: cfgErr.Problems}
	}
	if err != nil {
		return nil, nil, true, err
	}
	return cfg, cfg.Warnings, true, nil
}
