package config

import (
	"encoding/json"
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
type mapContext map[string]interface{}

func (m mapContext) TryGetContext(key *string) interface{} { return m[*key] }
func (m mapContext) GetAllContext(*map[string]interface{}) interface{} {
	return map[string]interface{}(m)
}

// MapContext returns a Context over the given values, as cdk.json holds them.
func MapContext(values map[string]interface{}) Context { return mapContext(values) }

// ContextFromEnv returns the context the CLI passed, so that configuration
// can be validated before the CDK runtime starts. ok is false when the app
// was not started by the CLI.
func ContextFromEnv() (ctx Context, ok bool, err error) {
	raw, ok := os.LookupEnv(contextEnv)
	if !ok {
		return nil, false, nil
	}
	values := map[string]interface{}{}
	if err := json.Unmarshal([]byte(raw), &values); err != nil {
		return nil, true, fmt.Errorf("the context passed by the CDK CLI (%s) is not valid JSON: %v", contextEnv, err)
	}
	if path := os.Getenv(contextOverflowEnv); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, true, fmt.Errorf("reading the CDK CLI's context overflow file: %v", err)
		}
		overflow := map[string]interface{}{}
		if err := json.Unmarshal(data, &overflow); err != nil {
			return nil, true, fmt.Errorf("the CDK CLI's context overflow file %s is not valid JSON: %v", path, err)
		}
		for k, v := range overflow {
			values[k] = v
		}
	}
	return mapContext(values), true, nil
}
