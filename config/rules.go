package config

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"ecs-bluegreen/rules"
)

// logRetentionDays are the values CloudWatch Logs accepts for retention.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	projectRe     = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	suffixRe      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	accountRe     = regexp.MustCompile(`^\d{12}$`)
	regionRe      = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$`)
	ownerRe       = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)
	repoRe        = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	connectionRe  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	certificateRe = regexp.MustCompile(`^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	imageRe       = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$`)
	pathRe        = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$`)
	tagValueRe    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$`)
)

func readGlobal(r *reader, c *Config, getenv func(string) string) {
	c.Project = r.str("project", "webapp",
		"Project name: first part of every stack and physical name, and the Project tag.",
		func(s string) string {
			if msg := checkBucketNamePart(s, true); msg != "" {
				return msg
			}
			if !projectRe.MatchString(s) {
				return "must start with a lower-case letter and hold only lower-case letters, digits and single hyphens"
			}
			if s == "internal" || strings.HasPrefix(s, "internal-") {
				return "must not be internal or start with internal-: AWS reserves that prefix of load balancer names"
			}
			return ""
		})
	c.EnvironmentSuffix = r.str("environmentSuffix", "dev",
		"Suffix in every stack and physical name, so that two copies of the system can live in one account.",
		func(s string) string {
			if msg := checkBucketNamePart(s, false); msg != "" {
				return msg
			}
			if !suffixRe.MatchString(s) {
				return "must be lower-case letters and digits, optionally joined by single hyphens (for example dev or pr-42)"
			}
			return ""
		})
	account := r.str("account", "",
		"AWS account id to deploy to. Empty: the account of the CLI's credentials, or an account-agnostic template when there are none.",
		optional(accountRe, "must be a 12-digit AWS account id, or empty"))
	region := r.str("region", "",
		"AWS region to deploy to. Empty: the region of the CLI's profile, else us-east-1.",
		optional(regionRe, "must be an AWS region name such as eu-west-1, or empty"))
	// Explicit configuration wins over ambient credentials, so that a stack is
	// never aimed at whatever account the current shell happens to use.
	c.Account = firstNonEmpty(account, getenv("CDK_DEFAULT_ACCOUNT"))
	c.Region = firstNonEmpty(region, getenv("CDK_DEFAULT_REGION"), "us-east-1")
	readAccounts(r, c)
	c.CostCenter = r.str("costCenter", "engineering", "Value of the CostCenter tag on every resource.",
		func(s string) string {
			if !tagValueRe.MatchString(s) {
				return "must be 1 to 256 characters: letters, digits, spaces and _ . : / = + - @"
			}
			return ""
		})
	c.GitHubOwner = r.str("githubOwner", "example-org", "GitHub user or organisation that owns the application repository.",
		func(s string) string {
			if !ownerRe.MatchString(s) || len(s) > 39 {
				return "must be a GitHub user or organisation name: up to 39 letters, digits or single inner hyphens"
			}
			return ""
		})
	c.GitHubRepo = r.str("githubRepo", "example-service", "GitHub repository holding the application and its Dockerfile.",
		func(s string) string {
			if !repoRe.MatchString(s) || s == "." || s == ".." || strings.HasSuffix(strings.ToLower(s), ".git") {
				return "must be a GitHub repository name: up to 100 letters, digits, '.', '-' or '_', without .git"
			}
			return ""
		})
	c.GitHubBranch = r.str("githubBranch", "main", "Branch whose pushes start a release.", checkBranch)
	c.ConnectionArn = r.str("connectionArn", "",
		"ARN of an existing CodeConnections (CodeStar) GitHub connection. Empty: the pipeline stack creates one, to be approved once in the console.",
		optional(connectionRe, "must be a connection ARN: arn:aws:codeconnections:<region>:<account>:connection/<uuid> (or codestar-connections), or empty"))
	c.NotificationEmail = r.str("notificationEmail", "",
		"E-mail address subscribed to approval requests and pipeline failures. Empty: no subscription.",
		checkEmail)
	readChat(r, c)
}

// S3 refuses bucket names that start or end with these (Amazon S3 user
// guide, "General purpose bucket naming rules"). CloudFormation names the
// stacks' buckets after the stack, which starts with the project and holds
// the suffix.
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3"}
)

// checkBucketNamePart reports a value that would put a reserved prefix
// (first is whether the value starts the bucket names) or suffix into a
// bucket name.
func checkBucketNamePart(s string, first bool) string {
	if first {
		for _, p := range reservedBucketPrefixes {
			if strings.HasPrefix(s, p) {
				return fmt.Sprintf("must not start with %q: S3 refuses bucket names starting with %s, and the stacks' bucket names start with the project", p, strings.Join(reservedBucketPrefixes, ", "))
			}
		}
	}
	for _, x := range reservedBucketSuffixes {
		if strings.HasSuffix(s, x) {
			return fmt.Sprintf("must not end with %q: S3 reserves the bucket name suffixes %s", x, strings.Join(reservedBucketSuffixes, ", "))
		}
	}
	return ""
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// checkBranch applies git's ref-name rules (git check-ref-format).
func checkBranch(s string) string {
	const allowed = "must be a git branch name: no spaces, '..', '@{', '~', '^', ':', '?', '*', '[', '\\', no leading '-' or '/', no trailing '/', '.' or '.lock'"
	if s == "" || s == "@" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") ||
		strings.HasSuffix(s, ".") || strings.HasSuffix(s, ".lock") || strings.Contains(s, "..") ||
		strings.Contains(s, "@{") || strings.Contains(s, "//") || strings.ContainsAny(s, " ~^:?*[\\\t\n") {
		return allowed
	}
	for _, part := range strings.Split(s, "/") {
		if strings.HasPrefix(part, ".") {
			return allowed
		}
	}
	for _, ch := range s {
		if ch < 0x20 || ch == 0x7f {
			return allowed
		}
	}
	return ""
}

// environmentDefaults holds what differs between staging and production.
type environmentDefaults struct {
	cpu, memory, minCapacity, maxCapacity, nat, wait, retention int
	waf                                                         bool
	vpcCidr, deployment, removal                                string
}

var defaults = map[string]environmentDefaults{
	"staging": {cpu: 256, memory: 512, minCapacity: 1, maxCapacity: 2, nat: 1, wait: 5, retention: 30,
		vpcCidr: "10.10.0.0/16", deployment: "CodeDeployDefault.ECSAllAtOnce", removal: "destroy"},
	"production": {cpu: 512, memory: 1024, minCapacity: 2, maxCapacity: 6, nat: 2, wait: 10, retention: 365,
		vpcCidr: "10.20.0.0/16", deployment: "CodeDeployDefault.ECSCanary10Percent5Minutes", removal: "retain", waf: true},
}

func readEnvironment(r *reader, name, short string) Environment {
	d := defaults[name]
	k := func(key string) string { return name + "." + key }
	e := Environment{Name: name, ShortName: short}

	e.TaskCpu = r.integer(k("taskCpu"), d.cpu, "Fargate task CPU units ("+joinInts(rules.FargateCpus())+").", nil)
	// Unset memory follows a changed CPU: the smallest size Fargate accepts for it.
	memoryDefault := d.memory
	if mem, ok := rules.FargateMemory(e.TaskCpu); ok && r.raw(k("taskMemory")) == nil && !rules.FargateAccepts(e.TaskCpu, memoryDefault) {
		memoryDefault = mem[0]
	}
	e.TaskMemoryMiB = r.integer(k("taskMemory"), memoryDefault, "Fargate task memory in MiB; must be a size Fargate accepts for the CPU. Unset: the default, or the smallest size Fargate accepts for taskCpu.", nil)
	if _, ok := rules.FargateMemory(e.TaskCpu); !ok {
		r.fail(k("taskCpu"), e.TaskCpu, "Fargate accepts "+rules.DescribeFargateCpus())
	} else if !rules.FargateAccepts(e.TaskCpu, e.TaskMemoryMiB) {
		r.fail(k("taskMemory"), e.TaskMemoryMiB, fmt.Sprintf("with taskCpu %d Fargate accepts %s MiB", e.TaskCpu, rules.DescribeFargateMemory(e.TaskCpu)))
	}
	readCapacity(r, k, d, &e)
	e.ContainerPort = r.integer(k("containerPort"), 80, "Port the container listens on; the placeholder image listens on 80.", between(1, 65535))
	e.HealthCheckPath = r.str(k("healthCheckPath"), "/", "Path the load balancer's health check requests; must answer 200-399.",
		func(s string) string {
			if len(s) > 1024 || !pathRe.MatchString(s) {
				return "must be a URL path starting with '/', at most 1024 characters, without spaces"
			}
			return ""
		})
	e.PlaceholderImage = r.str(k("placeholderImage"), "public.ecr.aws/nginx/nginx:stable-alpine",
		"Public image the service runs before the first release; it must answer the health check on containerPort.",
		func(s string) string {
			if !imageRe.MatchString(s) || len(s) > 255 {
				return "must be a container image reference such as public.ecr.aws/nginx/nginx:stable-alpine"
			}
			return ""
		})
	e.NatGateways = r.integer(k("natGateways"), d.nat, "NAT gateways for the private subnets (1 or 2; 2 survives the loss of one AZ).", between(1, 2))
	e.VpcCidr = r.str(k("vpcCidr"), d.vpcCidr, "CIDR block of the environment's VPC (/16 to /22).", checkVpcCidr)
	e.Engine = rules.Engine(r.str(k("engine"), string(rules.EngineCodeDeploy),
		"What carries out a release: codedeploy (a CodeDeploy deployment group) or ecs (Amazon ECS's own blue/green deployments, deployment controller ECS).",
		func(s string) string {
			if !rules.Engine(s).Valid() {
				return "must be one of " + joinEngines()
			}
			return ""
		}))
	e.DeploymentConfig = r.str(k("deploymentConfig"), d.deployment,
		"Traffic shift, by the name of a CodeDeploy predefined configuration; under engine ecs the same shift as strategy BLUE_GREEN, CANARY or LINEAR.",
		func(s string) string {
			if _, ok := rules.CodeDeployPredefined(s); !ok {
				return "must be one of " + strings.Join(rules.CodeDeployPredefinedNames(), ", ")
			}
			return ""
		})
	// Under ecs the longest wait depends on the shift: checkEngine reports it.
	waitRange := between(0, rules.MaxTerminationWaitMinutes)
	if e.Engine == rules.EngineECS {
		waitRange = nil
	}
	e.TerminationWaitMinutes = r.integer(k("terminationWaitMinutes"), d.wait,
		"Minutes the old version keeps running after all traffic moved (codedeploy: 0 to 2880; ecs: the bake time, with the shift at most 33 hours); the deployment (and alarm rollback) stays open that long.", waitRange)
	e.RemovalPolicy = r.str(k("removalPolicy"), d.removal, "What happens to logs and data when the stack is deleted: destroy or retain.", checkRemovalPolicy)
	e.LogRetentionDays = r.integer(k("logRetentionDays"), d.retention, "Days CloudWatch Logs keeps the service's and the VPC flow logs.", checkRetention)
	e.TestListenerPort = r.integer(k("testListenerPort"), 8080, "Port of the test listener that reaches the new version before production traffic.", between(1, 65535))
	if e.TestListenerPort == 80 || e.TestListenerPort == 443 {
		r.fail(k("testListenerPort"), e.TestListenerPort, "must differ from the production listener ports 80 and 443")
	}
	e.TestListenerCidr = r.str(k("testListenerCidr"), "", "CIDR allowed to reach the test listener. Empty: the VPC's own range.",
		func(s string) string {
			if s == "" {
				return ""
			}
			if _, n, err := net.ParseCIDR(s); err != nil || n.IP.To4() == nil || n.String() != s {
				return "must be an IPv4 CIDR block such as 10.0.0.0/16 (network address, no host bits), or empty"
			}
			return ""
		})
	e.CertificateArn = r.str(k("certificateArn"), "", "ACM certificate ARN. Set: the production listener serves HTTPS on 443 and port 80 redirects to it.",
		optional(certificateRe, "must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>, or empty"))
	readDomain(r, k, &e)
	e.Alarm5xxThreshold = r.integer(k("alarm5xxThreshold"), 5, "Target 5xx responses per minute that, two minutes running, roll a deployment back.", between(1, 100000))

	var checks []SmokeCheck
	if r.jsonValue(k("smokeChecks"), "[]",
		`Extra paths the pre-traffic validation requests on the test listener, as JSON: [{"path":"/api/health","status":200}].`, &checks) {
		for i, c := range checks {
			if len(c.Path) > 1024 || !pathRe.MatchString(c.Path) || c.Status < 100 || c.Status > 599 {
				r.fail(k("smokeChecks"), fmt.Sprintf("[%d] %+v", i, c), `each entry needs a "path" starting with '/' and a "status" between 100 and 599`)
			}
		}
	}
	e.SmokeChecks = checks
	e.SmokeRequests = r.integer(k("smokeRequests"), 5, "Requests sent to each smoke path (and the health-check path) before production traffic moves.", between(1, maxSmokeRequests))

	e.Waf = r.boolean(k("waf"), d.waf, "Put a WAF web ACL (AWS managed rule groups and a per-address rate limit) in front of the load balancer.")
	e.WafRateLimit = r.integer(k("wafRateLimit"), 2000, "Requests one client address may send in 5 minutes before the firewall blocks it (WAF accepts 10 to 2000000000).", between(10, 2000000000))
	e.TaskEgress = readEgress(r, k("taskEgress"))
	readContainerConfig(r, k, &e)
	readHealth(r, k, &e)

	shift, known := rules.CodeDeployPredefined(e.DeploymentConfig)
	validWait := checkEngine(r, k, &e, shift, known)
	checkPreTrafficHook(r, k, &e)
	alarms := rules.DefaultAlarmWindow()
	if minimum, ok := alarms.CheckTerminationWait(shift, e.TerminationWaitMinutes); known && validWait && !ok {
		r.fail(k("terminationWaitMinutes"), e.TerminationWaitMinutes, fmt.Sprintf(
			"with %s the deployment would end %d s after production traffic starts, before its alarms can fire (%d s); use at least %d",
			e.DeploymentConfig, rules.OpenSeconds(shift, e.TerminationWaitMinutes), alarms.DetectionSeconds(), minimum))
	}
	return e
}

// checkEngine reports a traffic shift or a wait the environment's engine
// cannot carry out, under the key that sets it, and reports whether the
// wait is one the engine accepts. A deploymentConfig that names no shift is
// reported already; the wait is then checked against the loosest shift.
func checkEngine(r *reader, k func(string) string, e *Environment, shift rules.TrafficShift, known bool) bool {
	if !e.Engine.Valid() {
		return e.TerminationWaitMinutes >= 0 && e.TerminationWaitMinutes <= rules.MaxTerminationWaitMinutes
	}
	validWait := true
	for _, p := range rules.CheckDeployment(e.Engine, shift, e.TerminationWaitMinutes) {
		switch p.Setting {
		case rules.SettingShift:
			if known {
				r.fail(k("deploymentConfig"), e.DeploymentConfig, p.Message)
			}
		case rules.SettingWait:
			validWait = false
			// Under codedeploy the key's own range reported it already.
			if e.Engine == rules.EngineECS {
				r.fail(k("terminationWaitMinutes"), e.TerminationWaitMinutes, fmt.Sprintf("with %s %s", e.DeploymentConfig, p.Message))
			}
		}
	}
	return validWait
}

// checkPreTrafficHook reports smoke requests and checks that the
// pre-traffic check cannot get through in the worst case, when every
// request times out, before Lambda (and under ecs, ECS's hook timeout)
// stops it.
func checkPreTrafficHook(r *reader, k func(string) string, e *Environment) {
	if !e.Engine.Valid() || e.SmokeRequests < 1 || e.SmokeRequests > maxSmokeRequests {
		return
	}
	paths := 1 + len(e.SmokeChecks)
	worst := rules.PreTrafficWorstCaseSeconds(paths, e.SmokeRequests)
	if limit := e.Engine.HookLimitSeconds(); worst > limit {
		r.fail(k("smokeRequests"), e.SmokeRequests, fmt.Sprintf(
			"with %d %s (the health-check path and %d from %s) the pre-traffic check may run %d x %d x %d s + %d s = %d s, longer than engine %s lets it (%d s, Lambda's longest timeout); use at most %d smokeRequests or fewer smokeChecks",
			paths, plural(paths, "path"), paths-1, k("smokeChecks"), paths, e.SmokeRequests, rules.PreTrafficRequestSeconds, rules.PreTrafficOverheadSeconds,
			worst, e.Engine, limit, e.Engine.MaxPreTrafficRequests(paths)))
	}
}

// maxSmokeRequests bounds smokeRequests on its own; with smokeChecks the
// pre-traffic hook's time limit bounds it further.
const maxSmokeRequests = 50

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func joinEngines() string {
	names := make([]string, len(rules.Engines()))
	for i, e := range rules.Engines() {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

// readEgress reads what the tasks may connect to: "all", or a list of
// CIDR:port entries, as a JSON array or a comma-separated string.
func readEgress(r *reader, key string) []Egress {
	r.declare(key, "all", `What the tasks may connect to: all, or CIDR:port entries as a JSON array or comma-separated (0.0.0.0/0:443,10.0.0.0/8:5432). A list must include port 443: the tasks pull their image and write their logs over HTTPS.`)
	var entries []string
	switch v := r.raw(key).(type) {
	case nil:
		return nil
	case string:
		if strings.TrimSpace(v) == "all" {
			return nil
		}
		if strings.HasPrefix(strings.TrimSpace(v), "[") {
			if err := json.Unmarshal([]byte(v), &entries); err != nil {
				r.fail(key, v, "must be all, or a JSON array of \"CIDR:port\" strings")
				return nil
			}
		} else {
			for _, e := range strings.Split(v, ",") {
				entries = append(entries, strings.TrimSpace(e))
			}
		}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				r.fail(key, fmt.Sprint(v), "must be all, or a list of \"CIDR:port\" strings")
				return nil
			}
			entries = append(entries, s)
		}
	default:
		r.fail(key, v, "must be all, or a list of \"CIDR:port\" strings")
		return nil
	}
	var out []Egress
	https := false
	for _, entry := range entries {
		i := strings.LastIndex(entry, ":")
		cidr, portText := entry, ""
		if i > 0 {
			cidr, portText = entry[:i], entry[i+1:]
		}
		port, err := strconv.Atoi(portText)
		_, n, cerr := net.ParseCIDR(cidr)
		if i <= 0 || err != nil || port < 1 || port > 65535 || cerr != nil || n.IP.To4() == nil || n.String() != cidr {
			r.fail(key, entry, "each entry must be an IPv4 CIDR block and a TCP port, such as 0.0.0.0/0:443 or 10.0.0.0/8:5432")
			continue
		}
		https = https || port == 443
		out = append(out, Egress{Cidr: cidr, Port: port})
	}
	if len(entries) == 0 {
		r.fail(key, fmt.Sprint(r.raw(key)), "must be all, or at least one CIDR:port entry")
	} else if len(out) == len(entries) && !https {
		r.fail(key, strings.Join(entries, ","), "must include port 443 (for example 0.0.0.0/0:443): the tasks pull their image from ECR and write their logs over HTTPS")
	}
	return out
}

// maxTasks bounds the capacity keys: ECS runs at most 5,000 tasks per
// service, and a blue/green release runs two task sets of this size.
const maxTasks = 2500

// readCapacity reads the service's scaling bounds and targets. The scalable
// target owns the task count: the template sets no desired count.
func readCapacity(r *reader, k func(string) string, d environmentDefaults, e *Environment) {
	r.retire(k("desiredCount"), "is no longer read: Application Auto Scaling owns the task count; set "+k("minCapacity")+" and "+k("maxCapacity")+" instead")
	e.MinCapacity = r.integer(k("minCapacity"), d.minCapacity,
		"Fewest tasks the service runs; Application Auto Scaling never scales in below it.", between(1, maxTasks))
	e.MaxCapacity = r.integer(k("maxCapacity"), d.maxCapacity,
		"Most tasks Application Auto Scaling scales out to; at least minCapacity.", between(1, maxTasks))
	if e.MinCapacity >= 1 && e.MaxCapacity >= 1 && e.MaxCapacity < e.MinCapacity {
		r.fail(k("maxCapacity"), e.MaxCapacity, fmt.Sprintf("must be at least %s (%d)", k("minCapacity"), e.MinCapacity))
	}
	e.CpuTargetPercent = r.integer(k("cpuTargetPercent"), 60,
		"Average CPU utilization (percent) that target tracking keeps the service at.", between(1, 100))
	e.RequestsPerTask = r.integer(k("requestsPerTask"), 1000,
		"Load balancer requests per task per minute, summed over both target groups, that target tracking keeps the service at.", between(1, 1000000))
}

// readPipeline reads the pipeline stack's settings. Its artifacts, images,
// key and build logs are kept by default, like production's.
func readPipeline(r *reader) PipelineSettings {
	return PipelineSettings{
		RemovalPolicy: r.str("pipeline.removalPolicy", "retain",
			"What happens to the pipeline's key, buckets, image repository and build logs when its stack is deleted: destroy or retain.", checkRemovalPolicy),
		LogRetentionDays: r.integer("pipeline.logRetentionDays", 365, "Days CloudWatch Logs keeps the build logs.", checkRetention),
		ImagesPerEnvironment: r.integer("pipeline.imagesPerEnvironment", 10,
			"Images the repository always keeps per environment: the one it runs and those it may roll back to (ECR keeps other images up to 50).", between(1, 1000)),
	}
}

func checkRemovalPolicy(s string) string {
	if s != "destroy" && s != "retain" {
		return "must be destroy or retain"
	}
	return ""
}

func checkRetention(n int) string {
	if !slices.Contains(logRetentionDays, n) {
		return "must be a CloudWatch Logs retention: " + joinInts(logRetentionDays)
	}
	return ""
}

// checkNames verifies that the physical names built from project and
// environmentSuffix fit AWS's limit for load balancers, target groups and
// connections: the pipeline's connection is named by the pipeline prefix,
// and an environment's longest such name ends in the green suffix.
func checkNames(r *reader, c *Config) {
	names := []string{c.PipelinePrefix()}
	for _, e := range c.Environments() {
		names = append(names, rules.LongestName(c.ResourcePrefix(e)))
	}
	for _, n := range names {
		if !rules.FitsNameLimit(n) {
			r.problems = append(r.problems, fmt.Errorf(
				"project = %q, environmentSuffix = %q: together too long; the physical name %q has %d characters and AWS allows %d (keep project and environmentSuffix to %d characters together)",
				c.Project, c.EnvironmentSuffix, n, len(n), rules.NameLimit, rules.NameLimit-len("-prd-"+rules.GreenSuffix)))
			return
		}
	}
}

func checkVpcCidr(s string) string {
	ip, n, err := net.ParseCIDR(s)
	if err != nil || ip.To4() == nil || n.String() != s {
		return "must be an IPv4 CIDR block such as 10.10.0.0/16 (network address, no host bits)"
	}
	if ones, _ := n.Mask.Size(); ones < 16 || ones > 22 {
		return "must have a prefix between /16 and /22 (four /24 subnets are carved from it)"
	}
	return ""
}

func between(lo, hi int) func(int) string {
	return func(n int) string {
		if n < lo || n > hi {
			return fmt.Sprintf("must be between %d and %d", lo, hi)
		}
		return ""
	}
}

func joinInts(list []int) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

// optional accepts an empty value or one that matches re; else it says what
// is allowed.
func optional(re *regexp.Regexp, allowed string) func(string) string {
	return func(s string) string {
		if s != "" && !re.MatchString(s) {
			return allowed
		}
		return ""
	}
}
