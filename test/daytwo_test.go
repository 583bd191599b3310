package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"ecs-bluegreen/config"
	"ecs-bluegreen/internal/testapp"
)

// dayTwoChanges are what a user changes after the first release, as `-c
// key=value` would pass them: task size, task count, alarm threshold and the
// placeholder image, in both environments.
var dayTwoChanges = map[string]interface{}{
	"staging.taskCpu":              "1024",
	"staging.taskMemory":           "2048",
	"staging.desiredCount":         "3",
	"staging.alarm5xxThreshold":    "12",
	"staging.placeholderImage":     "public.ecr.aws/docker/library/httpd:2.4-alpine",
	"production.taskCpu":           "2048",
	"production.taskMemory":        "4096",
	"production.desiredCount":      "4",
	"production.alarm5xxThreshold": "20",
	"production.placeholderImage":  "public.ecr.aws/docker/library/httpd:2.4-alpine",
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
		overrides := map[string]interface{}{"connectionArn": testConnectionArn}
		for k, v := range dayTwoChanges {
			overrides[k] = v
		}
		changedSynth = testapp.MustSynth(overrides)
	})
	return changedSynth
}

// TestDayTwoChangesLeaveTrafficToCodeDeploy proves the day-two contract:
// after CodeDeploy has moved traffic, a `cdk deploy` that changes task size,
// desired count, alarm threshold or placeholder image gives CloudFormation no
// reason to update the listeners, the target groups or the service's task
// definition, which CodeDeploy owns from the first release on. A listener or
// target group is left alone only when its whole resource is byte-for-byte
// the same and every resource it refers to, transitively, is too (a Ref to a
// replaced resource changes its value without changing its text).
func TestDayTwoChangesLeaveTrafficToCodeDeploy(t *testing.T) {
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
			if b.TaskCpu == n.TaskCpu || b.TaskMemoryMiB == n.TaskMemoryMiB || b.DesiredCount == n.DesiredCount ||
				b.Alarm5xxThreshold == n.Alarm5xxThreshold || b.PlaceholderImage == n.PlaceholderImage {
				t.Fatalf("the day-two configuration must differ from cdk.json in every key: before %+v, after %+v", *b, *n)
			}
			before := templateResources(t, template(t, env.id))
			after := templateResources(t, assertions.Template_FromStack(changed.Stack(env.id), nil))
			d := dayTwoDiff{t: t, before: before, after: after}

			// What must not move.
			listeners := d.requireUnchanged("AWS::ElasticLoadBalancingV2::Listener")
			if listeners < 2 {
				t.Errorf("want the production and the test listener, found %d listeners", listeners)
			}
			if groups := d.requireUnchanged("AWS::ElasticLoadBalancingV2::TargetGroup"); groups != 2 {
				t.Errorf("want the blue and the green target group, found %d", groups)
			}
			service := d.only("AWS::ECS::Service")
			d.requireStable("the service's TaskDefinition", dig(before[service], "Properties", "TaskDefinition"), dig(after[service], "Properties", "TaskDefinition"))
			// Of the service, only its task count may change. ECS lets
			// CloudFormation update little of a CODE_DEPLOY service (desired
			// count, grace period, placement, tag settings; never its task
			// definition, load balancers or network), and none of these
			// changes has a reason to touch the rest.
			for _, k := range changedKeys(asMap(before[service]["Properties"]), asMap(after[service]["Properties"])) {
				if k != "DesiredCount" {
					t.Errorf("the service's %s changes: %s -> %s", k, compact(dig(before[service], "Properties", k)), compact(dig(after[service], "Properties", k)))
				}
			}

			// What must follow the configuration, so that the test is not vacuous.
			td := d.only("AWS::ECS::TaskDefinition")
			for _, c := range []struct {
				what      string
				got, want interface{}
			}{
				{"task definition Cpu", dig(after[td], "Properties", "Cpu"), strconv.Itoa(n.TaskCpu)},
				{"task definition Memory", dig(after[td], "Properties", "Memory"), strconv.Itoa(n.TaskMemoryMiB)},
				{"placeholder image", dig(asList(dig(after[td], "Properties", "ContainerDefinitions"))[0], "Image"), n.PlaceholderImage},
				{"service DesiredCount", dig(after[service], "Properties", "DesiredCount"), float64(n.DesiredCount)},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
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

func templateResources(t *testing.T, tpl assertions.Template) map[string]map[string]interface{} {
	t.Helper()
	out := map[string]map[string]interface{}{}
	for k, v := range asMap((*tpl.ToJSON())["Resources"]) {
		out[k] = asMap(v)
	}
	if len(out) == 0 {
		t.Fatalf("template has no resources")
	}
	return out
}

// dayTwoDiff compares one environment's resources before and after the change.
type dayTwoDiff struct {
	t             *testing.T
	before, after map[string]map[string]interface{}
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
// resource they refer to is too, transitively. It is conservative: from the
// template alone it cannot tell an in-place update (same Ref value) from a
// replacement (new value), so any change to a referenced resource counts.
func (d dayTwoDiff) requireStable(what string, before, after interface{}) {
	d.t.Helper()
	if !bytes.Equal(mustJSON(before), mustJSON(after)) {
		d.t.Errorf("%s changes:\nbefore %s\nafter  %s", what, compact(before), compact(after))
		return
	}
	seen := map[string]bool{}
	var walk func(v interface{}, path string)
	walk = func(v interface{}, path string) {
		for _, id := range referencedIDs(v) {
			if seen[id] {
				continue
			}
			seen[id] = true
			b, a := d.before[id], d.after[id]
			if b == nil && a == nil {
				continue // a parameter or pseudo parameter
			}
			if !bytes.Equal(mustJSON(b), mustJSON(a)) {
				d.t.Errorf("%s is unchanged but refers to %s%s, which changes:\nbefore %s\nafter  %s", what, path, id, compact(b), compact(a))
				continue
			}
			walk(b, path+id+" -> ")
		}
	}
	walk(before, "")
}

var subReference = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}`)

// referencedIDs lists the logical IDs a template value refers to.
func referencedIDs(v interface{}) []string {
	var ids []string
	var walk func(v interface{})
	walk = func(v interface{}) {
		switch x := v.(type) {
		case map[string]interface{}:
			for k, e := range x {
				switch k {
				case "Ref":
					ids = append(ids, fmt.Sprint(e))
				case "Fn::GetAtt":
					if l := asList(e); len(l) > 0 {
						ids = append(ids, fmt.Sprint(l[0]))
					}
				case "Fn::Sub":
					s := e
					if l := asList(e); len(l) > 0 {
						s = l[0]
					}
					for _, m := range subReference.FindAllStringSubmatch(fmt.Sprint(s), -1) {
						ids = append(ids, m[1])
					}
				}
				walk(e)
			}
		case []interface{}:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return ids
}

func changedKeys(before, after map[string]interface{}) []string {
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

// mustJSON is the canonical text of a template value (map keys sorted).
func mustJSON(v interface{}) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func compact(v interface{}) string {
	s := string(mustJSON(v))
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return s
}
