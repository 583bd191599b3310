package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"ecs-bluegreen/config"
	"ecs-bluegreen/test/testapp"
)

// dayTwoChanges are what a user changes after the first release, as `-c
// key=value` would pass them: every key the README lists as safe after the
// first release, in both environments (TestDayTwoChangesCoverTheSafeKeys
// holds the two lists together).
var dayTwoChanges = map[string]any{
	"staging.taskCpu":                   "1024",
	"staging.taskMemory":                "2048",
	"staging.placeholderImage":          "public.ecr.aws/docker/library/httpd:2.4-alpine",
	"staging.minCapacity":               "3",
	"staging.maxCapacity":               "5",
	"staging.cpuTargetPercent":          "45",
	"staging.requestsPerTask":           "400",
	"staging.alarm5xxThreshold":         "12",
	"staging.deploymentConfig":          "CodeDeployDefault.ECSCanary10Percent5Minutes",
	"staging.terminationWaitMinutes":    "15",
	"staging.smokeChecks":               `[{"path":"/api/health","status":200}]`,
	"staging.smokeRequests":             "7",
	"staging.logRetentionDays":          "60",
	"staging.removalPolicy":             "retain",
	"staging.testListenerCidr":          "203.0.113.0/24",
	"staging.taskEgress":                "0.0.0.0/0:443,10.0.0.0/8:5432",
	"staging.wafRateLimit":              "500",
	"staging.waf":                       "true",
	"staging.environment":               `{"LOG_LEVEL":"debug","FEATURE_FLAGS":"beta"}`,
	"staging.secrets":                   `{"DB_PASSWORD":"arn:aws:secretsmanager:us-east-1:123456789012:secret:webapp/stg/db:password","API_KEY":"/webapp/stg/api-key"}`,
	"staging.latencyP99Ms":              "1500",
	"staging.alarmEmail":                "staging-alarms@example.com",
	"production.taskCpu":                "2048",
	"production.taskMemory":             "4096",
	"production.placeholderImage":       "public.ecr.aws/docker/library/httpd:2.4-alpine",
	"production.minCapacity":            "4",
	"production.maxCapacity":            "12",
	"production.cpuTargetPercent":       "50",
	"production.requestsPerTask":        "800",
	"production.alarm5xxThreshold":      "20",
	"production.deploymentConfig":       "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
	"production.terminationWaitMinutes": "30",
	"production.smokeChecks":            `[{"path":"/ready","status":204}]`,
	"production.smokeRequests":          "9",
	"production.logRetentionDays":       "400",
	"production.removalPolicy":          "destroy",
	"production.testListenerCidr":       "198.51.100.0/24",
	"production.taskEgress":             `["0.0.0.0/0:443"]`,
	"production.wafRateLimit":           "5000",
	"production.waf":                    "false",
	"production.environment":            `{"LOG_LEVEL":"warn"}`,
	"production.secrets":                `{"DB_PASSWORD":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/prd/db-AbCdEf","API_KEY":"arn:aws:ssm:us-east-1:123456789012:parameter/webapp/prd/api-key","SIGNING_KEY":"signing-key"}`,
	"production.latencyP99Ms":           "0",
	"production.alarmEmail":             "production-alarms@example.com",
	"githubOwner":                       "another-org",
	"githubRepo":                        "another-service",
	"githubBranch":                      "release",
	"notificationEmail":                 "ops@example.com",
	"pipeline.imagesPerEnvironment":     "20",
}

var (
	changedOnce  sync.Once
	changedSynth *testapp.App
)

// changedApp is the app synthesized with the day-two changes and, for the
// pipeline, an existing connection instead of a created one: a second
// synthesis shared by the tests that need other configuration. The
// connection touches only the pipeline stack, which the day-two test does
// not compare.
func changedApp() *testapp.App {
	changedOnce.Do(func() {
		overrides := map[string]any{"connectionArn": testConnectionArn}
		for k, v := range dayTwoChanges {
			overrides[k] = v
		}
		// cdk-nag checks it too: it is the synthesis with container
		// variables and secrets (TestChangedSynthesisPassesCdkNag).
		s, err := synthesizeChecked(overrides)
		if err != nil {
			panic(err)
		}
		changedChecked = s
		changedSynth = s.app
	})
	return changedSynth
}

var changedChecked *checkedSynthesis

// TestChangedSynthesisPassesCdkNag proves cdk-nag's AwsSolutions checks
// over the day-two synthesis, which has every safe key changed (container
// secrets included): no unsuppressed error or warning, and no other error
// or warning annotation.
func TestChangedSynthesisPassesCdkNag(t *testing.T) {
	changedApp()
	changedChecked.requireNagClean(t)
}

// TestDayTwoChangesCoverTheSafeKeys proves that the day-two test changes
// every key of the README's "Safe after the first release" table (in both
// environments, for the per-environment keys), and nothing the table does
// not list, so that the table cannot promise what no test holds.
func TestDayTwoChangesCoverTheSafeKeys(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testapp.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	i := strings.Index(section, "### Safe after the first release")
	if i < 0 {
		t.Fatal(`README has no "### Safe after the first release" section`)
	}
	section = section[i:]
	if j := strings.Index(section[4:], "\n### "); j > 0 {
		section = section[:j+4]
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			continue
		}
		for _, m := range regexp.MustCompile("`([A-Za-z0-9.]+)`").FindAllStringSubmatch(cells[1], -1) {
			listed[m[1]] = true
		}
	}
	if len(listed) < 10 {
		t.Fatalf("found only %d keys in the safe table: %v", len(listed), listed)
	}
	changed := map[string]bool{}
	for k := range dayTwoChanges {
		changed[k] = true
	}
	covered := map[string]bool{}
	for key := range listed {
		perEnv := changed["staging."+key] || changed["production."+key]
		switch {
		case perEnv && (!changed["staging."+key] || !changed["production."+key]):
			t.Errorf("safe key %s is changed in one environment only", key)
		case perEnv:
			covered["staging."+key], covered["production."+key] = true, true
		case changed[key]:
			covered[key] = true
		case key == "connectionArn":
			// The changed app sets it (changedApp), on the pipeline only.
		default:
			t.Errorf("README lists %s as safe after the first release, but the day-two test does not change it", key)
		}
	}
	for k := range changed {
		if !covered[k] {
			t.Errorf("the day-two test changes %s, which the README's safe table does not list", k)
		}
	}
}

// TestDayTwoChangesLeaveTheServiceAndTrafficAlone proves the day-two
// contract. After the first release the release engine owns what the service
// runs and where the listeners forward, and the scaler owns the task count.
// CloudFormation sends every property of an AWS::ECS::Service on an update,
// and ECS refuses such an update of a CODE_DEPLOY service once the family's
// latest revision is not the running one; an updated listener gets the
// template's default action again. So a `cdk deploy` of any key the README
// lists as safe must leave the whole service, the listeners and the target
// groups byte-for-byte the same, and every resource they refer to,
// transitively, either the same or changed only in properties that
// CloudFormation updates in place without touching what the reference
// returns (see inPlace).
func TestDayTwoChangesLeaveTheServiceAndTrafficAlone(t *testing.T) {
	changed := changedApp()
	for _, env := range []struct {
		id          string
		before, now *config.Environment
	}{
		{*app.System.Staging.Stack.Node().Id(), &app.Config.Staging, &changed.Config.Staging},
		{*app.System.Production.Stack.Node().Id(), &app.Config.Production, &changed.Config.Production},
	} {
		t.Run(env.id, func(t *testing.T) {
			// The changes are real: every changed key differs from cdk.json's value.
			b, n := env.before, env.now
			if diff := changedKeys(structMap(*b), structMap(*n)); len(diff) < 15 {
				t.Fatalf("the day-two configuration must differ from cdk.json in every safe key; it differs in %v", diff)
			}
			before := templateResources(t, template(t, env.id))
			after := templateResources(t, assertions.Template_FromStack(changed.Stack(env.id), nil))
			d := dayTwoDiff{t: t, before: before, after: after}

			// What must not move: the whole service, the listeners, the target groups.
			if services := d.requireUnchanged("AWS::ECS::Service"); services != 1 {
				t.Errorf("want one service, found %d", services)
			}
			listeners := d.requireUnchanged("AWS::ElasticLoadBalancingV2::Listener")
			if listeners < 2 {
				t.Errorf("want the production and the test listener, found %d listeners", listeners)
			}
			if groups := d.requireUnchanged("AWS::ElasticLoadBalancingV2::TargetGroup"); groups != 2 {
				t.Errorf("want the blue and the green target group, found %d", groups)
			}
			// (That the day-two service sets no DesiredCount either:
			// TestScalableTargetOwnsTheTaskCount.)

			// What must follow the configuration, so that the test is not vacuous.
			td := d.only("AWS::ECS::TaskDefinition")
			target := d.only("AWS::ApplicationAutoScaling::ScalableTarget")
			policies := map[string]any{}
			for _, r := range after {
				if r["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy" {
					policies[fmt.Sprint(dig(r, "Properties", "PolicyName"))] = dig(r, "Properties", "TargetTrackingScalingPolicyConfiguration", "TargetValue")
				}
			}
			prefix := changed.Config.ResourcePrefix(n)
			for _, c := range []struct {
				what      string
				got, want any
			}{
				{"task definition Cpu", dig(after[td], "Properties", "Cpu"), strconv.Itoa(n.TaskCpu)},
				{"task definition Memory", dig(after[td], "Properties", "Memory"), strconv.Itoa(n.TaskMemoryMiB)},
				{"placeholder image", dig(asList(dig(after[td], "Properties", "ContainerDefinitions"))[0], "Image"), n.PlaceholderImage},
				{"scalable target MinCapacity", dig(after[target], "Properties", "MinCapacity"), float64(n.MinCapacity)},
				{"scalable target MaxCapacity", dig(after[target], "Properties", "MaxCapacity"), float64(n.MaxCapacity)},
				{"CPU target", policies[prefix+"-cpu"], float64(n.CpuTargetPercent)},
				{"requests target", policies[prefix+"-requests"], float64(n.RequestsPerTask)},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			// The tasks' egress follows taskEgress.
			for _, r := range after {
				if r["Type"] == "AWS::EC2::SecurityGroup" && strings.Contains(fmt.Sprint(dig(r, "Properties", "GroupDescription")), "tasks:") {
					egress := asList(dig(r, "Properties", "SecurityGroupEgress"))
					if len(egress) != len(n.TaskEgress) || dig(egress[0], "CidrIp") != n.TaskEgress[0].Cidr || dig(egress[0], "FromPort") != float64(n.TaskEgress[0].Port) {
						t.Errorf("task egress = %s, want %v", compact(egress), n.TaskEgress)
					}
				}
			}
			alarms := 0
			for logical, r := range after {
				if r["Type"] == "AWS::CloudWatch::Alarm" && dig(r, "Properties", "MetricName") == "HTTPCode_Target_5XX_Count" {
					alarms++
					if got := dig(r, "Properties", "Threshold"); got != float64(n.Alarm5xxThreshold) {
						t.Errorf("5xx alarm %s Threshold = %v, want %d", logical, got, n.Alarm5xxThreshold)
					}
				}
			}
			if alarms != 2 {
				t.Errorf("want a 5xx alarm on each target group, found %d", alarms)
			}
		})
	}
}

// structMap is a configuration value as a map of its fields, for changedKeys.
func structMap(v any) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(mustJSON(v), &m); err != nil {
		panic(err)
	}
	return m
}

// inPlace lists, per resource type, the properties CloudFormation updates
// with no interruption and without changing what a Ref or Fn::GetAtt of the
// resource returns (AWS CloudFormation resource reference, "Update
// requires: No interruption"). A resource that is only referred to may
// change in these; a resource compared as a whole may not.
var inPlace = map[string][]string{
	// Object expiry follows logRetentionDays; with removalPolicy destroy a
	// tag marks the bucket for CDK's emptying on stack deletion.
	"AWS::S3::Bucket": {"LifecycleConfiguration", "Tags"},
	// Deletion protection and access-log settings follow removalPolicy.
	"AWS::ElasticLoadBalancingV2::LoadBalancer": {"LoadBalancerAttributes"},
	// The test listener's allowed peers follow testListenerCidr.
	"AWS::EC2::SecurityGroup": {"SecurityGroupIngress", "SecurityGroupEgress"},
}

// dayTwoDiff compares one environment's resources before and after the change.
type dayTwoDiff struct {
	t             *testing.T
	before, after map[string]map[string]any
}

// only returns the logical ID of the one resource of a type.
func (d dayTwoDiff) only(typ string) string {
	d.t.Helper()
	var ids []string
	for k, r := range d.after {
		if r["Type"] == typ {
			ids = append(ids, k)
		}
	}
	if len(ids) != 1 {
		d.t.Fatalf("want one %s, found %v", typ, ids)
	}
	if _, ok := d.before[ids[0]]; !ok {
		d.t.Fatalf("%s %s is new: CloudFormation would replace the old one", typ, ids[0])
	}
	return ids[0]
}

// requireUnchanged checks every resource of a type, and returns how many there are.
func (d dayTwoDiff) requireUnchanged(typ string) int {
	d.t.Helper()
	var ids []string
	for k, r := range d.before {
		if r["Type"] == typ {
			ids = append(ids, k)
		}
	}
	for k, r := range d.after {
		if _, ok := d.before[k]; !ok && r["Type"] == typ {
			d.t.Errorf("%s %s is new", typ, k)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		d.requireStable(typ+" "+id, d.before[id], d.after[id])
	}
	return len(ids)
}

// requireStable fails unless two values are byte-for-byte the same and every
// resource they refer to is too, transitively, apart from the properties
// inPlace lists. It is conservative: any other change to a referenced
// resource counts, since from the template alone an in-place update (same
// Ref value) cannot be told from a replacement (new value).
func (d dayTwoDiff) requireStable(what string, before, after any) {
	d.t.Helper()
	if !bytes.Equal(mustJSON(before), mustJSON(after)) {
		d.t.Errorf("%s changes:\nbefore %s\nafter  %s", what, compact(before), compact(after))
		return
	}
	seen := map[string]bool{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		for _, id := range referencedIDs(v) {
			if seen[id] {
				continue
			}
			seen[id] = true
			b, a := d.before[id], d.after[id]
			if b == nil && a == nil {
				continue // a parameter or pseudo parameter
			}
			if !bytes.Equal(mustJSON(withoutInPlace(b)), mustJSON(withoutInPlace(a))) {
				d.t.Errorf("%s is unchanged but refers to %s%s, which changes:\nbefore %s\nafter  %s", what, path, id, compact(b), compact(a))
				continue
			}
			walk(b, path+id+" -> ")
		}
	}
	walk(before, "")
}

// withoutInPlace is a resource without the properties inPlace lists for its type.
func withoutInPlace(r map[string]any) map[string]any {
	skip := inPlace[fmt.Sprint(r["Type"])]
	out := map[string]any{}
	for k, v := range r {
		// What CloudFormation does on deletion or replacement, and the order
		// of its operations, are no properties: changing them changes nothing
		// a reference returns (they follow removalPolicy).
		if k != "DeletionPolicy" && k != "UpdateReplacePolicy" && k != "DependsOn" {
			out[k] = v
		}
	}
	props := map[string]any{}
	for k, v := range asMap(r["Properties"]) {
		props[k] = v
	}
	for _, k := range skip {
		delete(props, k)
	}
	out["Properties"] = props
	return out
}

func changedKeys(before, after map[string]any) []string {
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if !bytes.Equal(mustJSON(before[k]), mustJSON(after[k])) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var (
	ecsChangedOnce  sync.Once
	ecsChangedSynth *testapp.App
)

// ecsChangedApp is the all-ECS synthesis ("ecs" in ecsOverrides) with the
// day-two changes.
func ecsChangedApp() *testapp.App {
	ecsChangedOnce.Do(func() {
		overrides := map[string]any{}
		for k, v := range ecsOverrides["ecs"] {
			overrides[k] = v
		}
		for k, v := range dayTwoChanges {
			overrides[k] = v
		}
		ecsChangedSynth = testapp.MustSynth(overrides)
	})
	return ecsChangedSynth
}

// TestDayTwoChangesUnderEcsLeaveTheRoutesAlone proves the day-two promise
// under the ecs engine, with every safe key changed in both environments:
// the listener rules whose weights ECS owns, the listeners and the target
// groups stay byte for byte the same (with everything they refer to), and
// the service changes in nothing but its deployment configuration (the
// strategy and bake time follow deploymentConfig and
// terminationWaitMinutes; its task definition is replaced when the task
// changes, which ECS deploys blue/green with the image that runs). The
// image stays the stack parameter, which `cdk deploy` keeps.
func TestDayTwoChangesUnderEcsLeaveTheRoutesAlone(t *testing.T) {
	base := ecsApp(t, "ecs")
	changed := ecsChangedApp()
	for _, id := range []string{"Staging", "Production"} {
		t.Run(id, func(t *testing.T) {
			before := templateResources(t, base.template(t, id))
			after := templateResources(t, assertions.Template_FromStack(changed.Stack(id), nil))
			d := dayTwoDiff{t: t, before: before, after: after}
			if rules := d.requireUnchanged("AWS::ElasticLoadBalancingV2::ListenerRule"); rules != 2 {
				t.Errorf("want the production and the test route, found %d listener rules", rules)
			}
			if listeners := d.requireUnchanged("AWS::ElasticLoadBalancingV2::Listener"); listeners < 2 {
				t.Errorf("want the production and the test listener, found %d", listeners)
			}
			if groups := d.requireUnchanged("AWS::ElasticLoadBalancingV2::TargetGroup"); groups != 2 {
				t.Errorf("want the blue and the green target group, found %d", groups)
			}
			svc := d.only("AWS::ECS::Service")
			b, a := asMap(dig(before[svc], "Properties")), asMap(dig(after[svc], "Properties"))
			for k := range merged(b, a) {
				switch k {
				case "DeploymentConfiguration":
				case "TaskDefinition":
					// The same reference; the task definition it names is
					// replaced when the task changes (an ECS deployment).
					if !reflect.DeepEqual(b[k], a[k]) {
						t.Errorf("service TaskDefinition %s -> %s", compact(b[k]), compact(a[k]))
					}
				default:
					d.requireStable("service "+k, b[k], a[k])
				}
			}
			bd, ad := asMap(b["DeploymentConfiguration"]), asMap(a["DeploymentConfiguration"])
			// latencyP99Ms adds or removes the p99 alarms in the service's
			// alarm list, in place; the others stay.
			d.requireStable("service DeploymentConfiguration.Alarms", withoutLatencyAlarms(bd["Alarms"]), withoutLatencyAlarms(ad["Alarms"]))
			d.requireStable("service DeploymentConfiguration.DeploymentCircuitBreaker", bd["DeploymentCircuitBreaker"], ad["DeploymentCircuitBreaker"])
			// The hook is the same function with the same role; the
			// function's settings follow smokeChecks and smokeRequests, in place.
			if !reflect.DeepEqual(bd["LifecycleHooks"], ad["LifecycleHooks"]) {
				t.Errorf("service LifecycleHooks %s -> %s", compact(bd["LifecycleHooks"]), compact(ad["LifecycleHooks"]))
			}
			if reflect.DeepEqual(bd["Strategy"], ad["Strategy"]) {
				t.Errorf("the day-two deploymentConfig should change the strategy; it stays %v", ad["Strategy"])
			}
			td := d.only("AWS::ECS::TaskDefinition")
			if got := dig(asList(dig(after[td], "Properties", "ContainerDefinitions"))[0], "Image"); asMap(got)["Ref"] == nil {
				t.Errorf("after the day-two change the container Image is %s, not the image parameter", compact(got))
			}
		})
	}
}

// merged is the union of two maps' keys.
func merged(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

var (
	accountsChangedOnce  sync.Once
	accountsChangedSynth *testapp.App
)

// TestDayTwoChangesAcrossAccountsLeaveTheServiceAndTrafficAlone proves the
// day-two promise on the three-account system, with every safe key changed:
// in each environment account the listeners and target groups (and, under
// ecs, the routes) stay byte for byte the same with everything they refer
// to; the codedeploy environment's service does not change at all, the ecs
// environment's only in its deployment configuration; and the roles the
// pipeline assumes there keep their names and trust.
func TestDayTwoChangesAcrossAccountsLeaveTheServiceAndTrafficAlone(t *testing.T) {
	base := accountsApp(t)
	accountsChangedOnce.Do(func() {
		overrides := testapp.ThreeAccounts()
		for k, v := range dayTwoChanges {
			overrides[k] = v
		}
		accountsChangedSynth = testapp.MustSynth(overrides)
	})
	for _, id := range []string{"Staging", "Production"} {
		t.Run(id, func(t *testing.T) {
			before := templateResources(t, base.templates[id])
			after := templateResources(t, assertions.Template_FromStack(accountsChangedSynth.Stack(id), nil))
			d := dayTwoDiff{t: t, before: before, after: after}
			if listeners := d.requireUnchanged("AWS::ElasticLoadBalancingV2::Listener"); listeners < 2 {
				t.Errorf("want the production and the test listener, found %d", listeners)
			}
			if groups := d.requireUnchanged("AWS::ElasticLoadBalancingV2::TargetGroup"); groups != 2 {
				t.Errorf("want the blue and the green target group, found %d", groups)
			}
			svc := d.only("AWS::ECS::Service")
			if dig(before[svc], "Properties", "DeploymentController", "Type") == "CODE_DEPLOY" {
				d.requireUnchanged("AWS::ECS::Service")
			} else {
				if rules := d.requireUnchanged("AWS::ElasticLoadBalancingV2::ListenerRule"); rules != 2 {
					t.Errorf("want the production and the test route, found %d", rules)
				}
				b, a := asMap(dig(before[svc], "Properties")), asMap(dig(after[svc], "Properties"))
				for k := range merged(b, a) {
					if k != "DeploymentConfiguration" && k != "TaskDefinition" {
						d.requireStable("service "+k, b[k], a[k])
					}
				}
			}
			for logical, r := range before {
				if r["Type"] == "AWS::IAM::Role" && strings.HasPrefix(logical, "PipelineAccess") {
					d.requireStable("role "+logical+" trust", dig(r, "Properties", "AssumeRolePolicyDocument"), dig(after[logical], "Properties", "AssumeRolePolicyDocument"))
					d.requireStable("role "+logical+" name", dig(r, "Properties", "RoleName"), dig(after[logical], "Properties", "RoleName"))
				}
			}
		})
	}
}
