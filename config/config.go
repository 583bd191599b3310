// Package config reads the app's configuration from CDK context (cdk.json and
// -c key=value), fills in documented defaults and validates every key before
// any construct is built. All problems are reported together.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"ecs-bluegreen/rules"
)

// Environment is the configuration of one deployment environment.
type Environment struct {
	// Name is "staging" or "production"; it is also the context key prefix.
	Name string
	// ShortName is the three-letter form used inside length-limited physical names.
	ShortName string

	TaskCpu          int
	TaskMemoryMiB    int
	MinCapacity      int
	MaxCapacity      int
	CpuTargetPercent int
	RequestsPerTask  int
	ContainerPort    int
	HealthCheckPath  string
	PlaceholderImage string
	NatGateways      int
	VpcCidr          string
	// Engine carries out the releases: rules.EngineCodeDeploy (the default)
	// or rules.EngineECS.
	Engine                 rules.Engine
	DeploymentConfig       string
	TerminationWaitMinutes int
	RemovalPolicy          string
	LogRetentionDays       int
	TestListenerPort       int
	TestListenerCidr       string
	CertificateArn         string
	Alarm5xxThreshold      int
	SmokeChecks            []SmokeCheck
	SmokeRequests          int
	Waf                    bool
	WafRateLimit           int
	// TaskEgress is nil for "all", else the destinations the tasks may reach.
	TaskEgress []Egress
	// Variables are the container's plain environment variables.
	Variables map[string]string
	// Secrets are the container's secret variables, by variable name.
	Secrets map[string]rules.SecretReference
	// DomainName, HostedZoneId and HostedZoneName are the environment's own
	// domain, all set or all empty (readDomain).
	DomainName, HostedZoneId, HostedZoneName string
	// LatencyP99Ms is the p99 latency rollback threshold; 0: no latency alarm.
	LatencyP99Ms int
	// AlarmEmail is subscribed to the environment's alarm topic; "" for none.
	AlarmEmail string
}

// Egress is one destination the tasks may connect to.
type Egress struct {
	Cidr string
	Port int
}

// PipelineSettings configures the pipeline stack's data.
type PipelineSettings struct {
	RemovalPolicy        string
	LogRetentionDays     int
	ImagesPerEnvironment int
}

// SmokeCheck is one request the pre-traffic validation sends to the test listener.
type SmokeCheck struct {
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// Config is the whole validated configuration of the app.
type Config struct {
	Project           string
	EnvironmentSuffix string
	Account           string
	Region            string
	// Accounts are the pipeline's and each environment's (accounts.go).
	Accounts          Accounts
	CostCenter        string
	GitHubOwner       string
	GitHubRepo        string
	GitHubBranch      string
	ConnectionArn     string
	NotificationEmail string
	// SlackWorkspaceId and SlackChannelId name the Slack channel AWS Chatbot
	// posts to; both empty for none.
	SlackWorkspaceId string
	SlackChannelId   string

	Staging    Environment
	Production Environment
	Pipeline   PipelineSettings

	// Warnings are non-fatal findings, such as a context key that looks like a typo.
	Warnings []string
}

// Environments returns the deployment environments in release order.
func (c *Config) Environments() []*Environment {
	return []*Environment{&c.Staging, &c.Production}
}

// StackName is the CloudFormation stack name for a part of the system
// ("staging", "production" or "pipeline").
func (c *Config) StackName(part string) string {
	return fmt.Sprintf("%s-%s-%s", c.Project, c.EnvironmentSuffix, part)
}

// ResourcePrefix is the physical-name prefix of an environment's resources,
// short enough that "<prefix>-green" fits the 32-character limit of load
// balancer and target group names.
func (c *Config) ResourcePrefix(env *Environment) string {
	return fmt.Sprintf("%s-%s-%s", c.Project, env.ShortName, c.EnvironmentSuffix)
}

// PipelinePrefix is the physical-name prefix of the pipeline stack's resources.
func (c *Config) PipelinePrefix() string {
	return fmt.Sprintf("%s-%s", c.Project, c.EnvironmentSuffix)
}

// Context is where configuration values come from: TryGetContext as the CDK
// app exposes it, plus every key that was set, for typo detection.
type Context interface {
	TryGetContext(key *string) any
	GetAllContext(defaults *map[string]any) any
}

// Error is a configuration error listing every problem found.
type Error struct {
	Problems []error
	// Warnings, such as likely typos in key names, often explain a problem.
	Warnings []string
}

func (e *Error) Error() string {
	var b strings.Builder
	n := len(e.Problems)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "invalid configuration (%d problem%s):\n", n, plural)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "  - %s\n", p)
	}
	for _, w := range e.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	b.WriteString("set these keys in the \"context\" of cdk.json or with -c key=value (see README, Configuration)")
	return b.String()
}

// Unwrap lets errors.Is and errors.As see each problem.
func (e *Error) Unwrap() []error { return e.Problems }

// Load reads and validates the configuration. Environment variables set by the
// CDK CLI from the user's credentials (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION)
// are used when account or region is not configured.
func Load(ctx Context) (*Config, error) {
	return load(ctx, os.Getenv)
}

func load(ctx Context, getenv func(string) string) (*Config, error) {
	r := newReader(ctx)
	c := &Config{}
	readGlobal(r, c, getenv)
	c.Staging = readEnvironment(r, "staging", "stg")
	c.Production = readEnvironment(r, "production", "prd")
	c.Pipeline = readPipeline(r)
	checkNames(r, c)
	c.Warnings = append(r.unknownKeyWarnings(), c.chatAcrossAccounts()...)
	if len(r.problems) > 0 {
		return nil, &Error{Problems: r.problems, Warnings: c.Warnings}
	}
	return c, nil
}

// Key documents one context key: its name, default and meaning.
type Key struct {
	Name        string
	Default     string
	Description string
}

// Keys lists every context key the app reads, with its default, in the order
// the app reads them. The README's configuration table is checked against it.
func Keys() []Key {
	r := newReader(emptyContext{})
	c := &Config{}
	readGlobal(r, c, func(string) string { return "" })
	readEnvironment(r, "staging", "stg")
	readEnvironment(r, "production", "prd")
	readPipeline(r)
	return r.keys
}

type emptyContext struct{}

func (emptyContext) TryGetContext(*string) any { return nil }
func (emptyContext) GetAllContext(*map[string]any) any {
	return map[string]any{}
}

// problem builds the message for one bad key.
func problem(key string, value any, allowed string) error {
	return fmt.Errorf("%s = %s: %s", key, quote(value), allowed)
}

func quote(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprintf("%v", x)
	}
}

// MarkdownTable renders Keys() as the README's configuration table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, k := range Keys() {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", k.Name, strings.ReplaceAll(k.Default, "|", "\\|"), strings.ReplaceAll(k.Description, "|", "\\|"))
	}
	return b.String()
}
