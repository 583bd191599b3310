package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"ecs-bluegreen/config"
	"ecs-bluegreen/rules"
)

// fakeContext serves context values the way the CDK app does: cdk.json gives
// float64 numbers, strings, maps and slices; -c key=value gives strings.
type fakeContext map[string]any

func (c fakeContext) TryGetContext(key *string) any { return c[*key] }

func (c fakeContext) GetAllContext(*map[string]any) any {
	all := make(map[string]any, len(c))
	for k, v := range c {
		all[k] = v
	}
	return all
}

// recordingContext is an empty context that remembers every key asked for.
type recordingContext struct{ asked map[string]bool }

func (c *recordingContext) TryGetContext(key *string) any {
	c.asked[*key] = true
	return nil
}

func (c *recordingContext) GetAllContext(*map[string]any) any {
	return map[string]any{}
}

// noAmbientCredentials clears what the CDK CLI sets from the user's profile,
// so that results do not depend on the shell running the tests.
func noAmbientCredentials(t *testing.T) {
	t.Helper()
	t.Setenv("CDK_DEFAULT_ACCOUNT", "")
	t.Setenv("CDK_DEFAULT_REGION", "")
}

// cdkJSONContext returns the "context" object of the checked-in cdk.json.
func cdkJSONContext(t *testing.T) fakeContext {
	t.Helper()
	data, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return doc.Context
}

func mustLoad(t *testing.T, ctx config.Context) *config.Config {
	t.Helper()
	cfg, err := config.Load(ctx)
	if err != nil {
		t.Fatalf("Load: unexpected error: %v", err)
	}
	return cfg
}

// normalized drops the difference between a nil and an empty smoke-check list.
func normalized(e config.Environment) config.Environment {
	if len(e.SmokeChecks) == 0 {
		e.SmokeChecks = nil
	}
	return e
}

// The documented defaults (README, Configuration) are what an empty context
// and the checked-in cdk.json produce.
func TestLoadDefaults(t *testing.T) {
	wantStaging := config.Environment{
		Name: "staging", ShortName: "stg",
		TaskCpu: 256, TaskMemoryMiB: 512, MinCapacity: 1, MaxCapacity: 2, CpuTargetPercent: 60, RequestsPerTask: 1000, ContainerPort: 80,
		HealthCheckPath: "/", PlaceholderImage: "public.ecr.aws/nginx/nginx:stable-alpine",
		NatGateways: 1, VpcCidr: "10.10.0.0/16",
		Engine: rules.EngineCodeDeploy, DeploymentConfig: "CodeDeployDefault.ECSAllAtOnce", TerminationWaitMinutes: 5,
		RemovalPolicy: "destroy", LogRetentionDays: 30,
		TestListenerPort: 8080, Alarm5xxThreshold: 5, SmokeRequests: 5,
		Waf: false, WafRateLimit: 2000,
	}
	wantProduction := config.Environment{
		Name: "production", ShortName: "prd",
		TaskCpu: 512, TaskMemoryMiB: 1024, MinCapacity: 2, MaxCapacity: 6, CpuTargetPercent: 60, RequestsPerTask: 1000, ContainerPort: 80,
		HealthCheckPath: "/", PlaceholderImage: "public.ecr.aws/nginx/nginx:stable-alpine",
		NatGateways: 2, VpcCidr: "10.20.0.0/16",
		Engine: rules.EngineCodeDeploy, DeploymentConfig: "CodeDeployDefault.ECSCanary10Percent5Minutes", TerminationWaitMinutes: 10,
		RemovalPolicy: "retain", LogRetentionDays: 365,
		TestListenerPort: 8080, Alarm5xxThreshold: 5, SmokeRequests: 5,
		Waf: true, WafRateLimit: 2000, LatencyP99Ms: 1000,
	}
	rows := []struct {
		name string
		ctx  fakeContext
	}{
		{"no context at all", fakeContext{}},
		{"the checked-in cdk.json", cdkJSONContext(t)},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			noAmbientCredentials(t)
			cfg := mustLoad(t, row.ctx)

			// Global keys: the values the README documents.
			globals := []struct{ field, got, want string }{
				{"Project", cfg.Project, "webapp"},
				{"EnvironmentSuffix", cfg.EnvironmentSuffix, "dev"},
				{"Account", cfg.Account, ""},
				{"Region", cfg.Region, "us-east-1"},
				{"CostCenter", cfg.CostCenter, "engineering"},
				{"GitHubOwner", cfg.GitHubOwner, "example-org"},
				{"GitHubRepo", cfg.GitHubRepo, "example-service"},
				{"GitHubBranch", cfg.GitHubBranch, "main"},
				{"ConnectionArn", cfg.ConnectionArn, ""},
				{"NotificationEmail", cfg.NotificationEmail, ""},
				{"StackName(staging)", cfg.StackName("staging"), "webapp-dev-staging"},
				{"ResourcePrefix(staging)", cfg.ResourcePrefix(&cfg.Staging), "webapp-stg-dev"},
				{"ResourcePrefix(production)", cfg.ResourcePrefix(&cfg.Production), "webapp-prd-dev"},
				{"PipelinePrefix", cfg.PipelinePrefix(), "webapp-dev"},
			}
			for _, g := range globals {
				if g.got != g.want {
					t.Errorf("%s = %q, want %q", g.field, g.got, g.want)
				}
			}
			// Staging is cheap and disposable, production sized and kept.
			if got := normalized(cfg.Staging); !reflect.DeepEqual(got, wantStaging) {
				t.Errorf("staging defaults:\n got %+v\nwant %+v", got, wantStaging)
			}
			if got := normalized(cfg.Production); !reflect.DeepEqual(got, wantProduction) {
				t.Errorf("production defaults:\n got %+v\nwant %+v", got, wantProduction)
			}
			// Environments are returned in release order.
			if envs := cfg.Environments(); len(envs) != 2 || envs[0].Name != "staging" || envs[1].Name != "production" {
				t.Errorf("Environments() not [staging production]: %+v", envs)
			}
			// The shipped configuration raises no typo warnings.
			if len(cfg.Warnings) != 0 {
				t.Errorf("unexpected warnings: %q", cfg.Warnings)
			}
		})
	}
}

// Values are accepted in both forms the CLI delivers them, and values at the
// edge of each rule are accepted.
func TestLoadAcceptsValidValues(t *testing.T) {
	rows := []struct {
		name  string
		ctx   fakeContext
		check func(c *config.Config) (got, want any)
	}{
		{"numbers as -c strings", fakeContext{"staging.taskCpu": "512", "staging.taskMemory": "1024"},
			func(c *config.Config) (any, any) {
				return [2]int{c.Staging.TaskCpu, c.Staging.TaskMemoryMiB}, [2]int{512, 1024}
			}},
		{"number strings with surrounding spaces", fakeContext{"production.minCapacity": " 3 "},
			func(c *config.Config) (any, any) { return c.Production.MinCapacity, 3 }},
		{"capacity with min equal to max", fakeContext{"staging.minCapacity": "4", "staging.maxCapacity": 4.0},
			func(c *config.Config) (any, any) {
				return [2]int{c.Staging.MinCapacity, c.Staging.MaxCapacity}, [2]int{4, 4}
			}},
		{"scaling targets at the edges", fakeContext{"staging.cpuTargetPercent": 100.0, "production.cpuTargetPercent": "1", "staging.requestsPerTask": "1"},
			func(c *config.Config) (any, any) {
				return [3]int{c.Staging.CpuTargetPercent, c.Production.CpuTargetPercent, c.Staging.RequestsPerTask}, [3]int{100, 1, 1}
			}},
		{"numbers as cdk.json numbers", fakeContext{"production.taskCpu": 1024.0, "production.taskMemory": 2048.0},
			func(c *config.Config) (any, any) {
				return [2]int{c.Production.TaskCpu, c.Production.TaskMemoryMiB}, [2]int{1024, 2048}
			}},
		{"largest Fargate size", fakeContext{"production.taskCpu": 16384.0, "production.taskMemory": "122880"},
			func(c *config.Config) (any, any) { return c.Production.TaskMemoryMiB, 122880 }},
		{"taskEgress as a -c list", fakeContext{"staging.taskEgress": "0.0.0.0/0:443, 10.0.0.0/8:5432"},
			func(c *config.Config) (any, any) {
				return c.Staging.TaskEgress, []config.Egress{{Cidr: "0.0.0.0/0", Port: 443}, {Cidr: "10.0.0.0/8", Port: 5432}}
			}},
		{"taskEgress as a cdk.json array and as a JSON string", fakeContext{"staging.taskEgress": []any{"0.0.0.0/0:443"}, "production.taskEgress": `["0.0.0.0/0:443"]`},
			func(c *config.Config) (any, any) {
				return [][]config.Egress{c.Staging.TaskEgress, c.Production.TaskEgress}, [][]config.Egress{{{Cidr: "0.0.0.0/0", Port: 443}}, {{Cidr: "0.0.0.0/0", Port: 443}}}
			}},
		{"waf switched as -c strings and cdk.json booleans", fakeContext{"staging.waf": "true", "production.waf": false},
			func(c *config.Config) (any, any) {
				return [2]bool{c.Staging.Waf, c.Production.Waf}, [2]bool{true, false}
			}},
		{"string values are trimmed", fakeContext{"githubBranch": " release/1.0 "},
			func(c *config.Config) (any, any) { return c.GitHubBranch, "release/1.0" }},
		{"account keeps leading zeros", fakeContext{"account": "012345678901"},
			func(c *config.Config) (any, any) { return c.Account, "012345678901" }},
		{"GovCloud region", fakeContext{"region": "us-gov-west-1"},
			func(c *config.Config) (any, any) { return c.Region, "us-gov-west-1" }},
		{"suffix at the 32-character name limit", fakeContext{"environmentSuffix": "abcdefghijklmno"},
			func(c *config.Config) (any, any) {
				return len(c.ResourcePrefix(&c.Production) + "-green"), 32
			}},
		{"codestar-connections ARN", fakeContext{"connectionArn": "arn:aws:codestar-connections:us-east-1:123456789012:connection/12345678-1234-1234-1234-123456789012"},
			func(c *config.Config) (any, any) {
				return strings.HasPrefix(c.ConnectionArn, "arn:"), true
			}},
		{"codeconnections ARN", fakeContext{"connectionArn": "arn:aws:codeconnections:eu-west-1:123456789012:connection/12345678-1234-1234-1234-123456789012"},
			func(c *config.Config) (any, any) {
				return strings.HasPrefix(c.ConnectionArn, "arn:"), true
			}},
		{"plain e-mail address", fakeContext{"notificationEmail": "ops@example.com"},
			func(c *config.Config) (any, any) { return c.NotificationEmail, "ops@example.com" }},
		{"smallest VPC", fakeContext{"staging.vpcCidr": "10.10.0.0/22"},
			func(c *config.Config) (any, any) { return c.Staging.VpcCidr, "10.10.0.0/22" }},
		{"all-at-once with exactly the alarm window", fakeContext{"staging.terminationWaitMinutes": 3.0},
			func(c *config.Config) (any, any) { return c.Staging.TerminationWaitMinutes, 3 }},
		{"canary with no termination wait", fakeContext{"production.terminationWaitMinutes": 0.0},
			func(c *config.Config) (any, any) { return c.Production.TerminationWaitMinutes, 0 }},
		{"longest termination wait", fakeContext{"production.terminationWaitMinutes": "2880"},
			func(c *config.Config) (any, any) { return c.Production.TerminationWaitMinutes, 2880 }},
		{"test listener CIDR and certificate", fakeContext{
			"production.testListenerCidr": "203.0.113.0/24",
			"production.certificateArn":   "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"},
			func(c *config.Config) (any, any) {
				return c.Production.TestListenerCidr, "203.0.113.0/24"
			}},
		{"smoke checks as a cdk.json structure", fakeContext{"staging.smokeChecks": []any{
			map[string]any{"path": "/api/health", "status": 200.0}}},
			func(c *config.Config) (any, any) {
				return c.Staging.SmokeChecks, []config.SmokeCheck{{Path: "/api/health", Status: 200}}
			}},
		{"smoke checks as a -c JSON string", fakeContext{"production.smokeChecks": `[{"path":"/ready","status":204}]`},
			func(c *config.Config) (any, any) {
				return c.Production.SmokeChecks, []config.SmokeCheck{{Path: "/ready", Status: 204}}
			}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			noAmbientCredentials(t)
			got, want := row.check(mustLoad(t, row.ctx))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// Explicit configuration wins over the CLI's ambient credentials; the region
// falls back to us-east-1.
func TestLoadAccountAndRegion(t *testing.T) {
	rows := []struct {
		name                   string
		ctx                    fakeContext
		envAccount, envRegion  string
		wantAccount, wantRegio string
	}{
		{"nothing set", fakeContext{}, "", "", "", "us-east-1"},
		{"CLI environment only", fakeContext{}, "111111111111", "eu-west-1", "111111111111", "eu-west-1"},
		{"context wins over CLI environment", fakeContext{"account": "222222222222", "region": "ap-southeast-2"},
			"111111111111", "eu-west-1", "222222222222", "ap-southeast-2"},
		{"account from context, region from CLI", fakeContext{"account": "222222222222"},
			"111111111111", "eu-west-1", "222222222222", "eu-west-1"},
		{"region from context, account from CLI", fakeContext{"region": "eu-central-1"},
			"111111111111", "", "111111111111", "eu-central-1"},
		{"empty context values fall back", fakeContext{"account": "", "region": ""},
			"111111111111", "", "111111111111", "us-east-1"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Setenv("CDK_DEFAULT_ACCOUNT", row.envAccount)
			t.Setenv("CDK_DEFAULT_REGION", row.envRegion)
			cfg := mustLoad(t, row.ctx)
			if cfg.Account != row.wantAccount || cfg.Region != row.wantRegio {
				t.Errorf("account, region = %q, %q; want %q, %q", cfg.Account, cfg.Region, row.wantAccount, row.wantRegio)
			}
		})
	}
}

// rejectRow is one validation rule: a bad value for key, the value as the
// message must show it, and the text that says what is allowed.
type rejectRow struct {
	name    string
	ctx     fakeContext
	key     string
	shown   string
	allowed string
}

func q(s string) string { return strconv.Quote(s) }

const (
	connectionAllowed = "must be a connection ARN"
	emailAllowed      = "must be a plain e-mail address"
	branchAllowed     = "must be a git branch name"
	suffixAllowed     = "must be lower-case letters and digits, optionally joined by single hyphens"
	wholeNumber       = "must be a whole number"
	mustBeString      = "must be a string"
)

func globalRejectRows() []rejectRow {
	one := func(name, key string, value any, shown, allowed string) rejectRow {
		return rejectRow{name: name, ctx: fakeContext{key: value}, key: key, shown: shown, allowed: allowed}
	}
	const uuid = "12345678-1234-1234-1234-123456789012"
	return []rejectRow{
		one("project with bad characters", "project", "Web_App", q("Web_App"), "must start with a lower-case letter and hold only lower-case letters, digits and single hyphens"),
		one("project empty", "project", "", q(""), "must start with a lower-case letter"),
		one("pipeline.removalPolicy snapshot", "pipeline.removalPolicy", "snapshot", q("snapshot"), "must be destroy or retain"),
		one("pipeline.logRetentionDays 13", "pipeline.logRetentionDays", float64(13), "13", "must be a CloudWatch Logs retention"),
		one("pipeline.imagesPerEnvironment 0", "pipeline.imagesPerEnvironment", 0.0, "0", "must be between 1 and 1000"),
		{name: "project that makes load balancer names start with internal-", ctx: fakeContext{"project": "internal"}, key: "project",
			shown: q("internal"), allowed: "internal"},
		one("environmentSuffix empty", "environmentSuffix", "", q(""), suffixAllowed),
		one("environmentSuffix upper-case", "environmentSuffix", "Dev", q("Dev"), suffixAllowed),
		one("environmentSuffix leading hyphen", "environmentSuffix", "-dev", q("-dev"), suffixAllowed),
		one("environmentSuffix double hyphen", "environmentSuffix", "pr--42", q("pr--42"), suffixAllowed),
		// Bucket names S3 refuses: CloudFormation names the buckets after the stack.
		one("project with a prefix S3 reserves (xn--)", "project", "xn--app", q("xn--app"), `must not start with "xn--": S3 refuses bucket names starting with xn--, sthree-, amzn-s3-demo-`),
		one("project with a prefix S3 reserves (sthree-)", "project", "sthree-app", q("sthree-app"), `must not start with "sthree-"`),
		one("project with a prefix S3 reserves (amzn-s3-demo-)", "project", "amzn-s3-demo-app", q("amzn-s3-demo-app"), `must not start with "amzn-s3-demo-"`),
		one("project with a suffix S3 reserves", "project", "app-s3alias", q("app-s3alias"), `must not end with "-s3alias": S3 reserves the bucket name suffixes -s3alias, --ol-s3, .mrap, --x-s3`),
		one("environmentSuffix with a suffix S3 reserves (-s3alias)", "environmentSuffix", "dev-s3alias", q("dev-s3alias"), `must not end with "-s3alias"`),
		one("environmentSuffix with a suffix S3 reserves (--ol-s3)", "environmentSuffix", "dev--ol-s3", q("dev--ol-s3"), `must not end with "--ol-s3"`),
		one("environmentSuffix with a suffix S3 reserves (.mrap)", "environmentSuffix", "dev.mrap", q("dev.mrap"), `must not end with ".mrap"`),
		one("environmentSuffix with a suffix S3 reserves (--x-s3)", "environmentSuffix", "dev--x-s3", q("dev--x-s3"), `must not end with "--x-s3"`),
		// "webapp-stg-abcdefghijklmnop-green" is 33 characters.
		one("project and environmentSuffix together too long", "environmentSuffix", "abcdefghijklmnop", q("abcdefghijklmnop"),
			`together too long; the physical name "webapp-stg-abcdefghijklmnop-green" has 33 characters and AWS allows 32 (keep project and environmentSuffix to 21 characters together)`),
		one("account not 12 digits", "account", "12345", q("12345"), "must be a 12-digit AWS account id, or empty"),
		one("account with letters", "account", "12345678901a", q("12345678901a"), "must be a 12-digit AWS account id"),
		{name: "account as a cdk.json number shows its digits", ctx: fakeContext{"account": 123456789012.0}, key: "account",
			shown: "123456789012", allowed: mustBeString},
		one("region malformed", "region", "us-east", q("us-east"), "must be an AWS region name such as eu-west-1, or empty"),
		one("region upper-case", "region", "US-EAST-1", q("US-EAST-1"), "must be an AWS region name"),
		one("costCenter with a semicolon", "costCenter", "cost;center", q("cost;center"), "must be 1 to 256 characters: letters, digits, spaces and _ . : / = + - @"),
		one("costCenter empty", "costCenter", "", q(""), "must be 1 to 256 characters"),
		one("githubOwner leading hyphen", "githubOwner", "-org", q("-org"), "must be a GitHub user or organisation name: up to 39 letters, digits or single inner hyphens"),
		one("githubOwner underscore", "githubOwner", "my_org", q("my_org"), "must be a GitHub user or organisation name"),
		{name: "githubOwner over 39 characters with hyphens", ctx: fakeContext{"githubOwner": "a" + strings.Repeat("-b", 20)}, key: "githubOwner",
			shown: q("a" + strings.Repeat("-b", 20)), allowed: "up to 39 letters"},
		one("githubRepo with .git", "githubRepo", "example-service.git", q("example-service.git"), "must be a GitHub repository name: up to 100 letters, digits, '.', '-' or '_', without .git"),
		one("githubRepo with a space", "githubRepo", "my repo", q("my repo"), "must be a GitHub repository name"),
		one("githubRepo dot-dot", "githubRepo", "..", q(".."), "must be a GitHub repository name"),
		one("githubBranch with a space", "githubBranch", "feature x", q("feature x"), branchAllowed),
		one("githubBranch with ..", "githubBranch", "release..1", q("release..1"), branchAllowed),
		one("githubBranch ending .lock", "githubBranch", "main.lock", q("main.lock"), branchAllowed),
		one("githubBranch leading hyphen", "githubBranch", "-main", q("-main"), branchAllowed),
		one("githubBranch empty", "githubBranch", "", q(""), branchAllowed),
		one("connectionArn wrong service", "connectionArn", "arn:aws:codecommit:us-east-1:123456789012:connection/"+uuid,
			q("arn:aws:codecommit:us-east-1:123456789012:connection/"+uuid), connectionAllowed),
		one("connectionArn wrong shape", "connectionArn", "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
			q("arn:aws:codeconnections:us-east-1:123456789012:connection/abc"), connectionAllowed),
		one("notificationEmail not an address", "notificationEmail", "not-an-email", q("not-an-email"), emailAllowed+" such as ops@example.com, or empty"),
		one("notificationEmail with a display name", "notificationEmail", "Name <a@b.com>", q("Name <a@b.com>"), emailAllowed),
		one("notificationEmail without a dot in the domain", "notificationEmail", "ops@localhost", q("ops@localhost"), emailAllowed),
		// A JSON value of the wrong type for a string key.
		one("number for a string key", "costCenter", 42.0, "42", mustBeString),
		one("boolean for a string key", "githubBranch", true, "true", mustBeString),
	}
}

func environmentRejectRows(env string) []rejectRow {
	k := func(key string) string { return env + "." + key }
	one := func(name, key string, value any, shown, allowed string) rejectRow {
		return rejectRow{name: env + " " + name, ctx: fakeContext{k(key): value}, key: k(key), shown: shown, allowed: allowed}
	}
	const cidrAllowed = "must be an IPv4 CIDR block such as 10.10.0.0/16 (network address, no host bits)"
	rows := []rejectRow{
		one("taskCpu not a Fargate size", "taskCpu", 300.0, "300", "Fargate accepts 256, 512, 1024, 2048, 4096, 8192 or 16384"),
		{name: env + " taskMemory not valid for taskCpu", ctx: fakeContext{k("taskCpu"): "256", k("taskMemory"): 4096.0},
			key: k("taskMemory"), shown: "4096", allowed: "with taskCpu 256 Fargate accepts 512, 1024, 2048 MiB"},
		{name: env + " taskMemory not a step of taskCpu", ctx: fakeContext{k("taskCpu"): 8192.0, k("taskMemory"): 18432.0},
			key: k("taskMemory"), shown: "18432", allowed: "with taskCpu 8192 Fargate accepts 16384 to 61440 in steps of 4096 MiB"},
		one("desiredCount is replaced by the capacity keys", "desiredCount", 3.0, "3",
			"is no longer read: Application Auto Scaling owns the task count; set "+k("minCapacity")+" and "+k("maxCapacity")+" instead"),
		one("minCapacity 0", "minCapacity", 0.0, "0", "must be between 1 and 2500"),
		one("maxCapacity over the limit", "maxCapacity", 2501.0, "2501", "must be between 1 and 2500"),
		{name: env + " maxCapacity below minCapacity", ctx: fakeContext{k("minCapacity"): 5.0, k("maxCapacity"): "3"},
			key: k("maxCapacity"), shown: "3", allowed: "must be at least " + k("minCapacity") + " (5)"},
		one("cpuTargetPercent 0", "cpuTargetPercent", 0.0, "0", "must be between 1 and 100"),
		one("cpuTargetPercent 101", "cpuTargetPercent", "101", q("101"), "must be between 1 and 100"),
		one("requestsPerTask 0", "requestsPerTask", 0.0, "0", "must be between 1 and 1000000"),
		one("containerPort 0", "containerPort", 0.0, "0", "must be between 1 and 65535"),
		one("containerPort 70000", "containerPort", "70000", q("70000"), "must be between 1 and 65535"),
		one("healthCheckPath without leading slash", "healthCheckPath", "health", q("health"), "must be a URL path starting with '/', at most 1024 characters, without spaces"),
		one("placeholderImage with a space", "placeholderImage", "nginx latest", q("nginx latest"), "must be a container image reference such as public.ecr.aws/nginx/nginx:stable-alpine"),
		one("natGateways 3", "natGateways", 3.0, "3", "must be between 1 and 2"),
		one("vpcCidr /8", "vpcCidr", "10.0.0.0/8", q("10.0.0.0/8"), "must have a prefix between /16 and /22"),
		one("vpcCidr with host bits", "vpcCidr", "10.10.0.1/16", q("10.10.0.1/16"), cidrAllowed),
		one("vpcCidr garbage", "vpcCidr", "garbage", q("garbage"), cidrAllowed),
		one("deploymentConfig unknown", "deploymentConfig", "CodeDeployDefault.ECSBlueGreen", q("CodeDeployDefault.ECSBlueGreen"),
			"must be one of CodeDeployDefault.ECSAllAtOnce, CodeDeployDefault.ECSCanary10Percent15Minutes"),
		{name: env + " terminationWaitMinutes shorter than the alarm window", key: k("terminationWaitMinutes"),
			ctx:   fakeContext{k("deploymentConfig"): "CodeDeployDefault.ECSAllAtOnce", k("terminationWaitMinutes"): 0.0},
			shown: "0", allowed: "with CodeDeployDefault.ECSAllAtOnce the deployment would end 0 s after production traffic starts, before its alarms can fire (180 s); use at least 3"},
		one("terminationWaitMinutes over 2880", "terminationWaitMinutes", 2881.0, "2881", "must be between 0 and 2880"),
		one("engine unknown", "engine", "CodeDeploy", q("CodeDeploy"), "must be one of codedeploy, ecs"),
		// Under ecs the wait is ECS's bake time, at most a day (the registry
		// schema); with the shift it must also fit CloudFormation's 33 hours,
		// which no predefined shift reaches (rules tests it).
		{name: env + " terminationWaitMinutes over a day with a canary under ecs", key: k("terminationWaitMinutes"),
			ctx:   fakeContext{k("engine"): "ecs", k("deploymentConfig"): "CodeDeployDefault.ECSCanary10Percent15Minutes", k("terminationWaitMinutes"): 1441.0},
			shown: "1441", allowed: "with CodeDeployDefault.ECSCanary10Percent15Minutes engine ecs: the bake time (BakeTimeInMinutes) must be from 0 to 1440 minutes (one day), not 1441"},
		{name: env + " terminationWaitMinutes under ecs within CodeDeploy's 2880", key: k("terminationWaitMinutes"),
			ctx:   fakeContext{k("engine"): "ecs", k("deploymentConfig"): "CodeDeployDefault.ECSAllAtOnce", k("terminationWaitMinutes"): 2880.0},
			shown: "2880", allowed: "engine ecs: the bake time (BakeTimeInMinutes) must be from 0 to 1440 minutes (one day), not 2880"},
		{name: env + " terminationWaitMinutes negative under ecs", key: k("terminationWaitMinutes"),
			ctx:   fakeContext{k("engine"): "ecs", k("deploymentConfig"): "CodeDeployDefault.ECSAllAtOnce", k("terminationWaitMinutes"): -1.0},
			shown: "-1", allowed: "engine ecs: the bake time (BakeTimeInMinutes) must be a whole number of minutes from 0 to 1440, not -1"},
		// The alarm rule holds under both engines.
		{name: env + " terminationWaitMinutes shorter than the alarm window under ecs", key: k("terminationWaitMinutes"),
			ctx:   fakeContext{k("engine"): "ecs", k("deploymentConfig"): "CodeDeployDefault.ECSAllAtOnce", k("terminationWaitMinutes"): 2.0},
			shown: "2", allowed: "with CodeDeployDefault.ECSAllAtOnce the deployment would end 120 s after production traffic starts, before its alarms can fire (180 s); use at least 3"},
		// The pre-traffic check must get through before Lambda stops it:
		// 50 requests x 6 paths x 3 s + 30 s = 930 s.
		{name: env + " smokeRequests and smokeChecks too slow for the hook", key: k("smokeRequests"),
			ctx: fakeContext{k("smokeRequests"): 50.0, k("smokeChecks"): smokeChecks(5)}, shown: "50",
			allowed: "with 6 paths (the health-check path and 5 from " + k("smokeChecks") + ") the pre-traffic check may run 6 x 50 x 3 s + 30 s = 930 s, longer than engine codedeploy lets it (900 s, Lambda's longest timeout); use at most 48 smokeRequests or fewer smokeChecks"},
		{name: env + " smokeRequests and smokeChecks too slow for the hook under ecs", key: k("smokeRequests"),
			ctx: fakeContext{k("engine"): "ecs", k("smokeRequests"): 29.0, k("smokeChecks"): smokeChecks(10)}, shown: "29",
			allowed: "11 x 29 x 3 s + 30 s = 987 s, longer than engine ecs lets it (900 s"},
		one("removalPolicy snapshot", "removalPolicy", "snapshot", q("snapshot"), "must be destroy or retain"),
		one("logRetentionDays 13", "logRetentionDays", 13.0, "13", "must be a CloudWatch Logs retention: 1, 3, 5, 7, 14, 30"),
		one("testListenerPort 443", "testListenerPort", 443.0, "443", "must differ from the production listener ports 80 and 443"),
		one("testListenerPort 0", "testListenerPort", 0.0, "0", "must be between 1 and 65535"),
		one("testListenerCidr malformed", "testListenerCidr", "10.0.0/24", q("10.0.0/24"), "must be an IPv4 CIDR block such as 10.0.0.0/16 (network address, no host bits), or empty"),
		one("certificateArn malformed", "certificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/abc",
			q("arn:aws:acm:us-east-1:123456789012:certificate/abc"), "must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>, or empty"),
		one("alarm5xxThreshold 0", "alarm5xxThreshold", 0.0, "0", "must be between 1 and 100000"),
		{name: env + " alarm5xxThreshold too large shows its digits", ctx: fakeContext{k("alarm5xxThreshold"): 1000000.0},
			key: k("alarm5xxThreshold"), shown: "1000000", allowed: "must be between 1 and 100000"},
		one("smokeChecks malformed JSON", "smokeChecks", `[{"path": "/health"`, q(`[{"path": "/health"`), "is not valid JSON for this key"),
		one("smokeChecks unknown field", "smokeChecks", []any{map[string]any{"url": "/health"}}, q(`[{"url":"/health"}]`), "is not valid JSON for this key"),
		one("smokeChecks bad entry", "smokeChecks", `[{"path":"health","status":200}]`, q("[0] {Path:health Status:200}"),
			`each entry needs a "path" starting with '/' and a "status" between 100 and 599`),
		one("smokeRequests 0", "smokeRequests", 0.0, "0", "must be between 1 and 50"),
		one("waf not a boolean", "waf", "yes", q("yes"), "must be true or false"),
		one("wafRateLimit below what WAF accepts", "wafRateLimit", 9.0, "9", "must be between 10 and 2000000000"),
		one("wafRateLimit above what WAF accepts", "wafRateLimit", "2000000001", q("2000000001"), "must be between 10 and 2000000000"),
		one("taskEgress entry without a port", "taskEgress", "0.0.0.0/0", q("0.0.0.0/0"), "each entry must be an IPv4 CIDR block and a TCP port, such as 0.0.0.0/0:443 or 10.0.0.0/8:5432"),
		one("taskEgress entry with host bits", "taskEgress", []any{"0.0.0.0/0:443", "10.0.0.1/8:5432"}, q("10.0.0.1/8:5432"), "each entry must be an IPv4 CIDR block and a TCP port"),
		one("taskEgress port out of range", "taskEgress", "0.0.0.0/0:443,10.0.0.0/8:70000", q("10.0.0.0/8:70000"), "each entry must be an IPv4 CIDR block and a TCP port"),
		one("taskEgress without HTTPS", "taskEgress", "10.0.0.0/8:5432", q("10.0.0.0/8:5432"), "must include port 443 (for example 0.0.0.0/0:443): the tasks pull their image from ECR and write their logs over HTTPS"),
		one("taskEgress empty list", "taskEgress", []any{}, q("[]"), "must be all, or at least one CIDR:port entry"),
		one("taskEgress malformed JSON", "taskEgress", `["0.0.0.0/0:443"`, q(`["0.0.0.0/0:443"`), `must be all, or a JSON array of "CIDR:port" strings`),
		// A value of the wrong type for an integer key.
		one("integer key given letters", "minCapacity", "abc", q("abc"), wholeNumber),
		one("integer key given a fraction", "taskCpu", 1.5, "1.5", wholeNumber),
		one("integer key given a map", "natGateways", map[string]any{"count": 1.0}, "map[count:1]", wholeNumber),
		one("string key given a list", "vpcCidr", []any{"10.10.0.0/16"}, "[10.10.0.0/16]", mustBeString),
	}
	rows = append(rows, domainRejectRows(env)...)
	return rows
}

func rejectRows() []rejectRow {
	rows := globalRejectRows()
	rows = append(rows, environmentRejectRows("staging")...)
	rows = append(rows, environmentRejectRows("production")...)
	rows = append(rows, containerConfigRejectRows("staging")...)
	rows = append(rows, containerConfigRejectRows("production")...)
	rows = append(rows, healthRejectRows()...)
	rows = append(rows, accountRejectRows()...)
	return rows
}

// One failure row per validation rule: the run fails with a *config.Error
// whose single problem names the key, the value given and what is allowed.
func TestLoadRejectsBadValues(t *testing.T) {
	for _, row := range rejectRows() {
		t.Run(row.name, func(t *testing.T) {
			noAmbientCredentials(t)
			cfg, err := config.Load(row.ctx)
			if err == nil {
				t.Fatalf("Load accepted %v", row.ctx)
			}
			if cfg != nil {
				t.Errorf("Load returned a configuration along with its error")
			}
			var cfgErr *config.Error
			if !errors.As(err, &cfgErr) {
				t.Fatalf("error is %T, not *config.Error: %v", err, err)
			}
			if len(cfgErr.Problems) != 1 {
				t.Fatalf("want exactly 1 problem, got %d:\n%v", len(cfgErr.Problems), err)
			}
			msg := cfgErr.Problems[0].Error()
			if want := row.key + " = " + row.shown; !strings.Contains(msg, want) {
				t.Errorf("problem does not name the key and value %s:\n%s", want, msg)
			}
			if !strings.Contains(msg, row.allowed) {
				t.Errorf("problem does not say what is allowed (%q):\n%s", row.allowed, msg)
			}
			// Messages are lower-case and carry no trailing punctuation.
			if msg[0] < 'a' || msg[0] > 'z' || strings.HasSuffix(msg, ".") {
				t.Errorf("problem is not a lower-case message without trailing period: %q", msg)
			}
			if full := err.Error(); !strings.HasPrefix(full, "invalid configuration (1 problem):\n") || !strings.Contains(full, msg) {
				t.Errorf("Error() does not present the problem:\n%s", full)
			}
		})
	}
}

// Every key the app reads has at least one failure row above, so a new key
// cannot arrive without a test of its validation.
func TestEveryKeyHasAFailureRow(t *testing.T) {
	covered := map[string]bool{}
	for _, row := range rejectRows() {
		covered[row.key] = true
	}
	covered["project"] = true // the combined-length rule is reported under both names
	for _, k := range config.Keys() {
		if !covered[k.Name] {
			t.Errorf("context key %q has no failure row in TestLoadRejectsBadValues", k.Name)
		}
	}
}

// Validation gathers every problem and reports them together, in one error.
func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	rows := []struct {
		name string
		ctx  fakeContext
		keys []string
	}{
		{"three keys", fakeContext{
			"staging.taskCpu":          300.0,
			"production.removalPolicy": "snapshot",
			"githubRepo":               "example-service.git",
		}, []string{"staging.taskCpu", "production.removalPolicy", "githubRepo"}},
		{"global and both environments", fakeContext{
			"project":                     "Web App",
			"region":                      "moon-1",
			"notificationEmail":           "not-an-email",
			"staging.natGateways":         3.0,
			"staging.vpcCidr":             "10.0.0.0/8",
			"production.logRetentionDays": "13",
			"production.testListenerPort": 80.0,
		}, []string{"project", "region", "notificationEmail", "staging.natGateways", "staging.vpcCidr",
			"production.logRetentionDays", "production.testListenerPort"}},
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
				t.Errorf("want %d problems, got %d:\n%v", len(row.keys), len(cfgErr.Problems), err)
			}
			full := err.Error()
			if header := "invalid configuration (" + strconv.Itoa(len(row.keys)) + " problems):"; !strings.HasPrefix(full, header) {
				t.Errorf("message does not start with %q:\n%s", header, full)
			}
			if n := strings.Count(full, "\n  - "); n != len(row.keys) {
				t.Errorf("message lists %d problems, want %d:\n%s", n, len(row.keys), full)
			}
			for _, key := range row.keys {
				if !strings.Contains(full, "  - "+key+" = ") {
					t.Errorf("message does not list %s:\n%s", key, full)
				}
			}
		})
	}
}

// A context key the app does not read is warned about, with the closest key
// as a suggestion, and does not fail the run. CDK feature flags ("@...") and
// CLI or lookup keys (containing ":") are not the app's and are left alone.
func TestLoadWarnsAboutUnknownKeys(t *testing.T) {
	rows := []struct {
		name string
		ctx  fakeContext
		want []string // substrings, one warning each, in order
	}{
		{"typo in an environment key", fakeContext{"stagin.taskCpu": 512.0},
			[]string{`unknown context key "stagin.taskCpu" is ignored; did you mean "staging.taskCpu"?`}},
		{"typo in a global key", fakeContext{"projet": "shop"},
			[]string{`unknown context key "projet" is ignored; did you mean "project"?`}},
		{"wrong case", fakeContext{"Production.TaskMemory": "2048"},
			[]string{`did you mean "production.taskMemory"?`}},
		{"nothing close", fakeContext{"zzzzzzzzzzzzzzzzzzzz": "x"},
			[]string{`unknown context key "zzzzzzzzzzzzzzzzzzzz" is ignored (see README, Configuration`}},
		{"two typos, sorted", fakeContext{"regoin": "eu-west-1", "acount": "123456789012"},
			[]string{`"acount" is ignored; did you mean "account"?`, `"regoin" is ignored; did you mean "region"?`}},
		{"feature flags and CLI keys", fakeContext{
			"@aws-cdk/core:newStyleStackSynthesis":                     true,
			"@custom/flag":                                             true,
			"aws:cdk:enable-path-metadata":                             true,
			"availability-zones:account=123456789012:region=eu-west-1": []any{"eu-west-1a"},
		}, nil},
		{"the checked-in cdk.json", cdkJSONContext(t), nil},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			noAmbientCredentials(t)
			cfg := mustLoad(t, row.ctx)
			if len(cfg.Warnings) != len(row.want) {
				t.Fatalf("want %d warnings, got %q", len(row.want), cfg.Warnings)
			}
			for i, w := range row.want {
				if !strings.Contains(cfg.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, cfg.Warnings[i], w)
				}
			}
			// An ignored key changes nothing.
			if cfg.Staging.TaskCpu != 256 || cfg.Project != "webapp" {
				t.Errorf("an unknown key changed the configuration: %+v", cfg)
			}
		})
	}
}

// Keys documents exactly the keys Load reads, once each, with a description
// and a default that Load accepts.
func TestKeys(t *testing.T) {
	keys := config.Keys()
	if len(keys) == 0 {
		t.Fatal("Keys() is empty")
	}
	listed := map[string]bool{}
	for _, k := range keys {
		if k.Name == "" || strings.TrimSpace(k.Description) == "" || k.Default == "" {
			t.Errorf("key %+v lacks a name, description or default", k)
		}
		if listed[k.Name] {
			t.Errorf("key %q listed twice", k.Name)
		}
		listed[k.Name] = true
	}

	t.Run("lists every key Load reads", func(t *testing.T) {
		noAmbientCredentials(t)
		rec := &recordingContext{asked: map[string]bool{}}
		mustLoad(t, rec)
		var missing, extra []string
		for k := range rec.asked {
			if !listed[k] {
				missing = append(missing, k)
			}
		}
		for k := range listed {
			if !rec.asked[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 || len(extra) > 0 {
			t.Errorf("Keys() and Load disagree: read but not listed %q, listed but not read %q", missing, extra)
		}
	})

	t.Run("documented defaults are the loaded defaults", func(t *testing.T) {
		noAmbientCredentials(t)
		ctx := fakeContext{}
		for _, k := range keys {
			if k.Default != "(empty)" {
				ctx[k.Name] = k.Default // as -c key=value would give it
			}
		}
		got := mustLoad(t, ctx)
		want := mustLoad(t, fakeContext{})
		for _, c := range []*config.Config{got, want} {
			c.Staging, c.Production = normalized(c.Staging), normalized(c.Production)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("setting every documented default changes the configuration:\n got %+v\nwant %+v", got, want)
		}
	})
}

// A failing configuration still carries the typo warnings, which often
// explain the problem.
func TestErrorCarriesWarnings(t *testing.T) {
	noAmbientCredentials(t)
	_, err := config.Load(fakeContext{"stagin.taskCpu": 1024.0, "staging.natGateways": 3.0})
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want *config.Error, got %T: %v", err, err)
	}
	if len(cfgErr.Problems) != 1 || len(cfgErr.Warnings) != 1 {
		t.Fatalf("want 1 problem and 1 warning, got %d and %d:\n%v", len(cfgErr.Problems), len(cfgErr.Warnings), err)
	}
	if want := `did you mean "staging.taskCpu"?`; !strings.Contains(err.Error(), want) {
		t.Errorf("message does not carry the warning %q:\n%s", want, err)
	}
}

// ContextFromEnv reads the context the CDK CLI passes: CDK_CONTEXT_JSON, plus
// the overflow file named by CONTEXT_OVERFLOW_LOCATION_ENV when the context
// is too large for one environment variable.
func TestContextFromEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := dir + "/" + name
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	overflow := write("overflow.json", `{"staging.natGateways": 3}`)
	badOverflow := write("bad-overflow.json", `{"staging.natGateways": `)
	const unset = unsetContext
	rows := []struct {
		name          string
		contextJSON   string
		overflowPath  string
		wantOK        bool
		wantErr       string // substring of the error; "" means none
		wantLoadError string // a key Load must reject; "" means Load succeeds
	}{
		{name: "not started by the CLI", contextJSON: unset},
		{name: "context in the variable", contextJSON: `{"staging.taskCpu": 300}`, wantOK: true, wantLoadError: "staging.taskCpu = 300"},
		{name: "string numbers as -c gives them", contextJSON: `{"staging.taskCpu": "512", "staging.taskMemory": "1024"}`, wantOK: true},
		{name: "malformed variable", contextJSON: `{"project": `, wantOK: true, wantErr: "CDK_CONTEXT_JSON) is not valid JSON"},
		{name: "overflow file merged", contextJSON: `{}`, overflowPath: overflow, wantOK: true, wantLoadError: "staging.natGateways = 3"},
		{name: "overflow file missing", contextJSON: `{}`, overflowPath: dir + "/missing.json", wantOK: true, wantErr: "reading the CDK CLI's context overflow file"},
		{name: "overflow file malformed", contextJSON: `{}`, overflowPath: badOverflow, wantOK: true, wantErr: "is not valid JSON"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			setCLIContext(t, row.contextJSON, row.overflowPath)
			ctx, ok, err := config.ContextFromEnv()
			if ok != row.wantOK {
				t.Errorf("ok = %v, want %v", ok, row.wantOK)
			}
			if row.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), row.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, row.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !ok {
				return
			}
			_, loadErr := config.Load(ctx)
			switch {
			case row.wantLoadError == "" && loadErr != nil:
				t.Errorf("Load: unexpected error: %v", loadErr)
			case row.wantLoadError != "" && (loadErr == nil || !strings.Contains(loadErr.Error(), row.wantLoadError)):
				t.Errorf("Load error = %v, want one containing %q", loadErr, row.wantLoadError)
			}
		})
	}
}
