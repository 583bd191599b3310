package config_test

import (
	"strings"
	"testing"

	"ecs-bluegreen/config"
	"ecs-bluegreen/rules"
)

// containerConfigRejectRows are the failure rows of the container's
// variables and secrets (rejectRows includes them).
func containerConfigRejectRows(env string) []rejectRow {
	k := func(key string) string { return env + "." + key }
	one := func(name, key string, value any, shown, allowed string) rejectRow {
		return rejectRow{name: env + " " + name, ctx: fakeContext{k(key): value}, key: k(key), shown: shown, allowed: allowed}
	}
	const sm = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db"
	return []rejectRow{
		one("environment not an object", "environment", `["A"]`, q(`["A"]`), "is not valid JSON for this key"),
		one("environment value not a string", "environment", map[string]any{"PORT": 8080.0}, q(`{"PORT":8080}`), "is not valid JSON for this key"),
		one("environment name starting with a digit", "environment", map[string]any{"1X": "a"}, q("1X"), "a variable name must be letters, digits and underscores"),
		one("environment name with a hyphen", "environment", `{"LOG-LEVEL":"info"}`, q("LOG-LEVEL"), "a variable name must be letters, digits and underscores"),
		one("environment name ECS sets", "environment", map[string]any{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/x"}, q("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), "Amazon ECS sets AWS_CONTAINER_CREDENTIALS_RELATIVE_URI in every task"),
		one("environment too large for a task definition", "environment", map[string]any{"BIG": strings.Repeat("x", rules.MaxContainerConfigBytes)}, q("1 variables and 0 secrets"), "Amazon ECS accepts task definitions of at most 64 KiB"),
		one("secrets not an object", "secrets", `"`+sm+`"`, q(`"`+sm+`"`), "is not valid JSON for this key"),
		one("secret name ECS sets", "secrets", map[string]any{"ECS_AGENT_URI": sm}, q("ECS_AGENT_URI"), "Amazon ECS sets ECS_AGENT_URI"),
		one("secret name with a dot", "secrets", map[string]any{"db.password": sm}, q("db.password"), "a variable name must be letters, digits and underscores"),
		{name: env + " secret also a plain variable", key: k("secrets"),
			ctx:   fakeContext{k("environment"): map[string]any{"DB_PASSWORD": "x"}, k("secrets"): map[string]any{"DB_PASSWORD": sm}},
			shown: q("DB_PASSWORD"), allowed: "is also a plain variable in " + k("environment") + ": a name is either plain or secret"},
		one("secret another service's ARN", "secrets", map[string]any{"KEY": "arn:aws:s3:::bucket/key"}, q("KEY: arn:aws:s3:::bucket/key"), rules.SecretReferenceForm),
		one("secret Secrets Manager ARN without secret:", "secrets", map[string]any{"KEY": "arn:aws:secretsmanager:us-east-1:123456789012:app/db"}, q("KEY: arn:aws:secretsmanager:us-east-1:123456789012:app/db"), rules.SecretReferenceForm),
		one("secret Secrets Manager ARN with a bad account", "secrets", map[string]any{"KEY": "arn:aws:secretsmanager:us-east-1:1234:secret:app/db"}, q("KEY: arn:aws:secretsmanager:us-east-1:1234:secret:app/db"), rules.SecretReferenceForm),
		one("secret with too many fields", "secrets", map[string]any{"KEY": sm + ":k:AWSCURRENT:" + strings.Repeat("a", 32) + ":more"}, q("KEY: "+sm+":k:AWSCURRENT:"+strings.Repeat("a", 32)+":more"), rules.SecretReferenceForm),
		one("secret with a bad version id", "secrets", map[string]any{"KEY": sm + "::AWSCURRENT:v1"}, q("KEY: "+sm+"::AWSCURRENT:v1"), `version id "v1" must be 32 to 64 letters, digits or hyphens`),
		one("secret with a bad version stage", "secrets", map[string]any{"KEY": sm + "::AWS CURRENT:"}, q("KEY: "+sm+"::AWS CURRENT:"), `version stage "AWS CURRENT" must be 1 to 256 letters`),
		one("secret parameter name reserved by Systems Manager", "secrets", map[string]any{"KEY": "/aws/reference/x"}, q("KEY: /aws/reference/x"), "a Parameter Store name may not begin with aws or ssm"),
		one("secret parameter hierarchy without a leading slash", "secrets", map[string]any{"KEY": "app/db"}, q("KEY: app/db"), "a hierarchy starts with /"),
		one("secret parameter name with a space", "secrets", map[string]any{"KEY": "db password"}, q("KEY: db password"), "a Parameter Store name is letters, digits and _.-"),
		one("secret parameter ARN with a bad name", "secrets", map[string]any{"KEY": "arn:aws:ssm:us-east-1:123456789012:parameter/a b"}, q("KEY: arn:aws:ssm:us-east-1:123456789012:parameter/a b"), "a Parameter Store name is letters"),
		one("secret empty", "secrets", map[string]any{"KEY": ""}, q("KEY: "), rules.SecretReferenceForm),
	}
}

// Every bad entry is its own problem, all in one message.
func TestContainerConfigReportsEveryBadEntry(t *testing.T) {
	noAmbientCredentials(t)
	_, err := config.Load(fakeContext{
		"staging.environment":    map[string]any{"1A": "x", "OK": "y", "AWS_REGION": "eu-west-1"},
		"staging.secrets":        `{"OK":"arn:aws:secretsmanager:us-east-1:123456789012:secret:a","B-C":"x","D":"arn:aws:s3:::b"}`,
		"production.environment": map[string]any{"GOOD": "1"},
	})
	if err == nil {
		t.Fatal("Load accepted bad container configuration")
	}
	msg := err.Error()
	for _, want := range []string{`staging.environment = "1A"`, `staging.environment = "AWS_REGION"`, `staging.secrets = "OK"`, `staging.secrets = "B-C"`, `staging.secrets = "D: arn:aws:s3:::b"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message does not name %s:\n%s", want, msg)
		}
	}
	if !strings.HasPrefix(msg, "invalid configuration (5 problems)") {
		t.Errorf("want 5 problems:\n%s", msg)
	}
}

// Good references in every accepted form, as a cdk.json object or a -c string.
func TestContainerConfigAcceptsEveryForm(t *testing.T) {
	noAmbientCredentials(t)
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db"
	cfg := mustLoad(t, fakeContext{
		"staging.environment": `{"LOG_LEVEL":"info","_X1":""}`,
		"staging.secrets": map[string]any{
			"WHOLE":    arn,
			"FULL":     arn + "-AbCdEf",
			"KEY":      arn + ":password",
			"STAGE":    arn + "::AWSPREVIOUS:",
			"VERSION":  arn + ":::" + strings.Repeat("0", 8) + "-0000-0000-0000-" + strings.Repeat("0", 12),
			"PARAM":    "/app/api-key",
			"SIMPLE":   "apikey",
			"PARAMARN": "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/app/key",
		},
	})
	e := cfg.Staging
	if e.Variables["LOG_LEVEL"] != "info" || len(e.Variables) != 2 {
		t.Errorf("variables = %v", e.Variables)
	}
	want := map[string]string{
		"WHOLE": arn, "FULL": arn + "-AbCdEf", "KEY": arn + ":password::", "STAGE": arn + "::AWSPREVIOUS:",
		"VERSION": arn + ":::" + strings.Repeat("0", 8) + "-0000-0000-0000-" + strings.Repeat("0", 12),
		"PARAM":   "/app/api-key", "SIMPLE": "apikey", "PARAMARN": "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/app/key",
	}
	for name, v := range want {
		if got := e.Secrets[name].ValueFrom(); got != v {
			t.Errorf("%s valueFrom = %q, want %q", name, got, v)
		}
	}
	if e.Secrets["WHOLE"].PolicyArn() != arn+"-??????" || e.Secrets["FULL"].PolicyArn() != arn+"-AbCdEf" {
		t.Errorf("policy ARNs: %q, %q", e.Secrets["WHOLE"].PolicyArn(), e.Secrets["FULL"].PolicyArn())
	}
	if len(cfg.Production.Variables) != 0 || len(cfg.Production.Secrets) != 0 {
		t.Errorf("production has configuration it was not given")
	}
}
