package test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// changedWorld is the day-two synthesis (variables and secrets set) as the
// build contract's stand-in CloudFormation sees it.
func changedWorld(t *testing.T) *cfnWorld {
	t.Helper()
	c := changedApp()
	var stacks []awscdk.Stack
	for _, id := range c.StackIDs() {
		stacks = append(stacks, c.Stack(id))
	}
	return worldOf(t, stacks, func(s awscdk.Stack) assertions.Template { return assertions.Template_FromStack(s, nil) })
}

// TestContainerGetsItsVariablesAndSecrets proves that each environment's
// container carries exactly its configured variables and secret
// references (sorted by name), and that the execution role may read
// exactly those secrets: GetSecretValue on each secret (a partial ARN with
// the "-??????" suffix pattern), GetParameters on each parameter, and
// kms:Decrypt only through the secret's service endpoint and for its
// encryption context. No secret value is in any template.
func TestContainerGetsItsVariablesAndSecrets(t *testing.T) {
	c := changedApp()
	param := func(name string) any {
		return map[string]any{"Fn::Join": []any{"", []any{"arn:aws:ssm:us-east-1:", map[string]any{"Ref": "AWS::AccountId"}, ":parameter/" + name}}}
	}
	ssmVia := map[string]any{"Fn::Join": []any{"", []any{"ssm.us-east-1.", map[string]any{"Ref": "AWS::URLSuffix"}}}}
	const stgDB = "arn:aws:secretsmanager:us-east-1:123456789012:secret:webapp/stg/db"
	const prdDB = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/prd/db-AbCdEf"
	const prdKey = "arn:aws:ssm:us-east-1:123456789012:parameter/webapp/prd/api-key"
	decrypt := func(conditions map[string]any) map[string]any {
		return map[string]any{"Action": "kms:Decrypt", "Effect": "Allow", "Resource": "*", "Condition": conditions}
	}
	for _, row := range []struct {
		id         string
		env, sec   []any
		statements []any
	}{
		{"Staging",
			[]any{map[string]any{"Name": "FEATURE_FLAGS", "Value": "beta"}, map[string]any{"Name": "LOG_LEVEL", "Value": "debug"}},
			[]any{map[string]any{"Name": "API_KEY", "ValueFrom": "/webapp/stg/api-key"}, map[string]any{"Name": "DB_PASSWORD", "ValueFrom": stgDB + ":password::"}},
			[]any{
				map[string]any{"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": stgDB + "-??????"},
				map[string]any{"Action": "ssm:GetParameters", "Effect": "Allow", "Resource": param("webapp/stg/api-key")},
				decrypt(map[string]any{
					"StringEquals": map[string]any{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"},
					"StringLike":   map[string]any{"kms:EncryptionContext:SecretARN": []any{stgDB + "-??????"}}}),
				decrypt(map[string]any{"StringEquals": map[string]any{"kms:ViaService": ssmVia, "kms:EncryptionContext:PARAMETER_ARN": []any{param("webapp/stg/api-key")}}}),
			}},
		{"Production",
			[]any{map[string]any{"Name": "LOG_LEVEL", "Value": "warn"}},
			[]any{map[string]any{"Name": "API_KEY", "ValueFrom": prdKey}, map[string]any{"Name": "DB_PASSWORD", "ValueFrom": prdDB}, map[string]any{"Name": "SIGNING_KEY", "ValueFrom": "signing-key"}},
			[]any{
				map[string]any{"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": prdDB},
				map[string]any{"Action": "ssm:GetParameters", "Effect": "Allow", "Resource": []any{prdKey, param("signing-key")}},
				decrypt(map[string]any{
					"StringEquals": map[string]any{"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"},
					"StringLike":   map[string]any{"kms:EncryptionContext:SecretARN": []any{prdDB}}}),
				decrypt(map[string]any{"StringEquals": map[string]any{"kms:ViaService": "ssm.us-east-1.amazonaws.com", "kms:EncryptionContext:PARAMETER_ARN": []any{prdKey}}}),
				decrypt(map[string]any{"StringEquals": map[string]any{"kms:ViaService": ssmVia, "kms:EncryptionContext:PARAMETER_ARN": []any{param("signing-key")}}}),
			}},
	} {
		t.Run(row.id, func(t *testing.T) {
			resources := templateResources(t, assertions.Template_FromStack(c.Stack(row.id), nil))
			var container map[string]any
			var policies []map[string]any
			executionRole := ""
			for logical, r := range resources {
				switch r["Type"] {
				case "AWS::ECS::TaskDefinition":
					container = asMap(asList(dig(r, "Properties", "ContainerDefinitions"))[0])
					executionRole = asList(dig(r, "Properties", "ExecutionRoleArn", "Fn::GetAtt"))[0].(string)
				case "AWS::IAM::Policy":
					if strings.Contains(logical, "ExecutionSecretsPolicy") {
						policies = append(policies, r)
					}
				}
			}
			if got := container["Environment"]; !reflect.DeepEqual(got, row.env) {
				t.Errorf("container Environment = %s, want %s", compact(got), compact(row.env))
			}
			if got := container["Secrets"]; !reflect.DeepEqual(got, row.sec) {
				t.Errorf("container Secrets = %s, want %s", compact(got), compact(row.sec))
			}
			if len(policies) != 1 {
				t.Fatalf("want one execution secrets policy, found %d", len(policies))
			}
			p := policies[0]
			if got := dig(p, "Properties", "Roles"); !reflect.DeepEqual(got, []any{map[string]any{"Ref": executionRole}}) {
				t.Errorf("secrets policy is attached to %s, want the execution role %s", compact(got), executionRole)
			}
			if got := asList(dig(p, "Properties", "PolicyDocument", "Statement")); !reflect.DeepEqual(got, row.statements) {
				t.Errorf("secrets policy statements:\n got %s\nwant %s", compact(got), compact(row.statements))
			}
			// No other policy of the stack grants a secrets or parameter read.
			for logical, r := range resources {
				if r["Type"] != "AWS::IAM::Policy" || strings.Contains(logical, "ExecutionSecretsPolicy") {
					continue
				}
				doc, _ := json.Marshal(dig(r, "Properties", "PolicyDocument"))
				if strings.Contains(string(doc), "secretsmanager:") || strings.Contains(string(doc), "ssm:") {
					t.Errorf("%s grants secrets or parameters: %s", logical, doc)
				}
			}
		})
	}
	// No secret value reaches a template: the only secret-looking text is
	// the references configured.
	for _, id := range c.StackIDs() {
		tpl, _ := json.Marshal(assertions.Template_FromStack(c.Stack(id), nil).ToJSON())
		for _, value := range []string{"hunter2", "SecretString", "SecureString"} {
			if strings.Contains(string(tpl), value) {
				t.Errorf("%s template contains %q", id, value)
			}
		}
	}
}

// The checked-in configuration sets no variables or secrets: its task
// definitions carry none, and no secrets policy exists.
func TestNoContainerConfigByDefault(t *testing.T) {
	for _, id := range []string{"Staging", "Production"} {
		for logical, r := range templateResources(t, template(t, id)) {
			if r["Type"] == "AWS::ECS::TaskDefinition" {
				c := asMap(asList(dig(r, "Properties", "ContainerDefinitions"))[0])
				if c["Environment"] != nil || c["Secrets"] != nil {
					t.Errorf("%s %s: container has Environment %s, Secrets %s", id, logical, compact(c["Environment"]), compact(c["Secrets"]))
				}
			}
			if strings.Contains(logical, "ExecutionSecretsPolicy") {
				t.Errorf("%s has %s without secrets", id, logical)
			}
		}
	}
}
