package bluegreen

import (
	"errors"
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/rules"
)

// resolved holds the props with defaults applied; the caller's props are never modified.
type resolved struct {
	prefix                          string
	cpu, memory, port               float64
	minCapacity, maxCapacity        float64
	cpuTarget, requestsPerTarget    float64
	testPort, threshold, evaluation float64
	containerName, healthPath       string
	preTrafficRequests              float64
	preTrafficPaths                 int
	image                           string
	engine                          Engine
	shift                           TrafficShift
	terminationWait, alarmPeriod    awscdk.Duration
	removal                         awscdk.RemovalPolicy
	retention                       awslogs.RetentionDays
	logKey                          awskms.IKey
	accessLogsExpiration            awscdk.Duration
	// variables and secrets are the container's (checkContainerConfig).
	variables map[string]string
	secrets   map[string]rules.SecretReference
	latency   awscdk.Duration
}

// resolve applies the defaults and reports every prop that cannot work in
// one error. A value that is a token (known only at deploy time) is not
// checked.
func resolve(p *ServiceProps) (resolved, error) {
	if p == nil {
		return resolved{}, errors.New("bluegreen: props with Vpc and NamePrefix are required")
	}
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	if p.Vpc == nil {
		add("Vpc is required")
	}
	if p.NamePrefix == nil || *p.NamePrefix == "" {
		add("NamePrefix is required")
	}
	r := resolved{
		prefix:             orString(p.NamePrefix, ""),
		cpu:                orFloat(p.Cpu, 256),
		memory:             orFloat(p.MemoryLimitMiB, 512),
		minCapacity:        orFloat(p.MinCapacity, 1),
		cpuTarget:          orFloat(p.TargetUtilizationPercent, 60),
		requestsPerTarget:  orFloat(p.RequestsPerTarget, 1000),
		port:               orFloat(p.ContainerPort, 80),
		testPort:           orFloat(p.TestListenerPort, 8080),
		threshold:          orFloat(p.Alarm5xxThreshold, 5),
		evaluation:         orFloat(p.AlarmEvaluationPeriods, rules.AlarmEvaluationPeriods),
		preTrafficRequests: orFloat(p.PreTrafficRequests, 5),
		containerName:      orString(p.ContainerName, "app"),
		healthPath:         orString(p.HealthCheckPath, "/"),
		image:              orString(p.PlaceholderImage, "public.ecr.aws/nginx/nginx:stable-alpine"),
		engine:             p.Engine,
		terminationWait:    p.TerminationWaitTime,
		alarmPeriod:        p.AlarmPeriod,
		removal:            p.RemovalPolicy,
		retention:          p.LogRetention,
		logKey:             p.LogEncryptionKey,
	}
	r.accessLogsExpiration = p.AccessLogsExpiration
	r.latency = p.LatencyP99Threshold
	r.maxCapacity = orFloat(p.MaxCapacity, 2*r.minCapacity)
	r.preTrafficPaths = 1
	if p.PreTrafficChecks != nil {
		r.preTrafficPaths += len(*p.PreTrafficChecks)
	}
	if r.engine == "" {
		r.engine = EngineCodeDeploy
	}
	if p.TrafficShift != nil {
		r.shift = *p.TrafficShift
	}
	if r.terminationWait == nil {
		r.terminationWait = awscdk.Duration_Minutes(jsii.Number(5))
	}
	if r.alarmPeriod == nil {
		r.alarmPeriod = awscdk.Duration_Seconds(jsii.Number(rules.AlarmPeriodSeconds))
	}
	if r.removal == "" {
		r.removal = awscdk.RemovalPolicy_RETAIN
	}
	if r.retention == "" {
		r.retention = awslogs.RetentionDays_ONE_MONTH
	}
	if r.accessLogsExpiration == nil {
		r.accessLogsExpiration = awscdk.Duration_Days(jsii.Number(90))
	}

	if r.prefix != "" && !unresolved(r.prefix) {
		if longest := rules.LongestName(r.prefix); !rules.FitsNameLimit(longest) {
			add("NamePrefix %q is too long: target group name %q has %d characters, AWS allows %d", r.prefix, longest, len(longest), rules.NameLimit)
		}
	}
	if !unresolved(r.cpu) {
		if _, ok := rules.FargateMemory(int(r.cpu)); !ok || r.cpu != math.Trunc(r.cpu) {
			add("Cpu %v: Fargate accepts %s", r.cpu, rules.DescribeFargateCpus())
		} else if !unresolved(r.memory) && (r.memory != math.Trunc(r.memory) || !rules.FargateAccepts(int(r.cpu), int(r.memory))) {
			add("MemoryLimitMiB %v: with Cpu %v Fargate accepts %s MiB", r.memory, r.cpu, rules.DescribeFargateMemory(int(r.cpu)))
		}
	}
	if !unresolved(r.minCapacity) && r.minCapacity < 1 {
		add("MinCapacity %v: must be at least 1", r.minCapacity)
	}
	if !unresolved(r.minCapacity) && !unresolved(r.maxCapacity) && r.maxCapacity < r.minCapacity {
		add("MaxCapacity %v: must be at least MinCapacity (%v)", r.maxCapacity, r.minCapacity)
	}
	if !unresolved(r.cpuTarget) && (r.cpuTarget < 1 || r.cpuTarget > 100) {
		add("TargetUtilizationPercent %v: must be 1 to 100", r.cpuTarget)
	}
	if !unresolved(r.requestsPerTarget) && r.requestsPerTarget < 1 {
		add("RequestsPerTarget %v: must be at least 1", r.requestsPerTarget)
	}
	if !unresolved(r.testPort) && (r.testPort == 80 || r.testPort == 443) {
		add("TestListenerPort %v collides with a production listener port: use a port other than 80 and 443", r.testPort)
	}
	if p.TaskEgress != nil {
		for i, e := range *p.TaskEgress {
			if e == nil || e.Cidr == nil || e.Port == nil || (!unresolved(*e.Port) && (*e.Port < 1 || *e.Port > 65535)) {
				add("TaskEgress[%d] = %s: needs a Cidr and a Port from 1 to 65535", i, describeEgress(e))
			}
		}
	}
	if p.Firewall != nil && p.Firewall.RateLimit != nil && !unresolved(*p.Firewall.RateLimit) && (*p.Firewall.RateLimit < 10 || *p.Firewall.RateLimit > 2e9) {
		add("Firewall.RateLimit %v: WAF accepts 10 to 2,000,000,000 requests per 5 minutes", *p.Firewall.RateLimit)
	}
	problems = append(problems, checkRollback(r)...)
	problems = append(problems, checkContainerConfig(p, &r)...)
	problems = append(problems, checkDomain(p)...)
	problems = append(problems, checkHealth(p)...)

	if len(problems) > 0 {
		return resolved{}, fmt.Errorf("bluegreen: invalid service props: %w", errors.Join(problems...))
	}
	return r, nil
}

// checkRollback reports an engine, a traffic shift or a wait the engine
// refuses, timing its alarms cannot have, and a release that would end
// before its alarms could roll it back: CodeDeploy and ECS act on alarms
// only while a deployment is in progress, so the deployment must stay open
// at least the alarms' detection time after production traffic first
// reaches the new version (the rules the configuration applies to its keys
// too).
func checkRollback(r resolved) []error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	waitKnown := !*r.terminationWait.IsUnresolved()
	wait := 0.0
	if waitKnown {
		wait = *r.terminationWait.ToSeconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)}) / 60
		if wait != math.Trunc(wait) {
			add("TerminationWaitTime %s: must be whole minutes", *r.terminationWait.ToHumanString())
			waitKnown = false
		}
	}
	deploymentOK := true
	for _, p := range rules.CheckDeployment(r.engine, r.shift, int(wait)) {
		prop := map[rules.DeploymentSetting]string{rules.SettingEngine: "Engine", rules.SettingShift: "TrafficShift", rules.SettingWait: "TerminationWaitTime"}[p.Setting]
		if p.Setting == rules.SettingWait && !waitKnown {
			continue
		}
		add("%s: %s", prop, p.Message)
		deploymentOK = false
	}
	evaluationKnown := !unresolved(r.evaluation)
	if evaluationKnown && (r.evaluation != math.Trunc(r.evaluation) || r.evaluation < 1) {
		add("AlarmEvaluationPeriods %v: must be a whole number of at least 1", r.evaluation)
		evaluationKnown = false
	}
	if limit := r.engine.HookLimitSeconds(); r.engine.Valid() && !unresolved(r.preTrafficRequests) &&
		rules.PreTrafficWorstCaseSeconds(r.preTrafficPaths, int(math.Ceil(r.preTrafficRequests))) > limit {
		add("PreTrafficRequests %v with %d paths: the pre-traffic check could take %d s, a Lambda function runs at most %d s",
			r.preTrafficRequests, r.preTrafficPaths, rules.PreTrafficWorstCaseSeconds(r.preTrafficPaths, int(math.Ceil(r.preTrafficRequests))), limit)
	}
	periodKnown := !*r.alarmPeriod.IsUnresolved()
	if !deploymentOK || !waitKnown || !evaluationKnown || !periodKnown {
		return problems
	}
	alarms := rules.AlarmWindow{
		PeriodSeconds:     int(math.Ceil(*r.alarmPeriod.ToSeconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)}))),
		EvaluationPeriods: int(r.evaluation),
	}
	if minimum, ok := alarms.CheckTerminationWait(r.shift, int(wait)); !ok {
		add("TerminationWaitTime %s with TrafficShift %s: the deployment would end %d s after production traffic first reaches the new version, "+
			"before its alarms can fire (%d s: %s); use a TerminationWaitTime of at least %s, or a shorter AlarmPeriod or fewer AlarmEvaluationPeriods",
			*r.terminationWait.ToHumanString(), r.shift, rules.OpenSeconds(r.shift, int(wait)), alarms.DetectionSeconds(), alarms, minutes(minimum))
	}
	return problems
}

// unresolved reports a value that is a token, known only at deploy time.
func unresolved(v any) bool { return *awscdk.Token_IsUnresolved(v) }

func minutes(n int) string {
	if n == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", n)
}

func describeEgress(e *EgressRule) string {
	if e == nil {
		return "nil"
	}
	cidr, port := "nil", "nil"
	if e.Cidr != nil {
		cidr = fmt.Sprintf("%q", *e.Cidr)
	}
	if e.Port != nil {
		port = fmt.Sprint(*e.Port)
	}
	return fmt.Sprintf("{Cidr: %s, Port: %s}", cidr, port)
}

func orFloat(v *float64, def float64) float64 {
	if v == nil {
		return def
	}
	return *v
}

func orString(v *string, def string) string {
	if v == nil || *v == "" {
		return def
	}
	return *v
}
