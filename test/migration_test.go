package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"ecs-bluegreen/constructs/delivery"
)

// The in-place migration of one environment from the codedeploy engine to
// the ecs engine (docs/migration.md), read from the shared syntheses: the
// staging stack of cdk.json's synthesis (codedeploy) is the stack before,
// the staging stack of ecsApp(t, "mixed") (staging on ecs) the stack after
// `cdk deploy Staging -c staging.engine=ecs`. From the two templates alone
// this proves what CloudFormation will do with the update: which resources
// it updates in place, which it creates and deletes, and that none it keeps
// needs a replacement, apart from the task definition, which registers a
// revision (AWS's documented rollback pitfall, see the doc).

// migrationRemoved are the resources the update deletes, by what they are:
// each is found in the template before and must be gone after.
var migrationRemoved = map[string]string{
	"application":      "CodeDeploy application: ECS carries releases out; AWS deletes the CodeDeploy setup after the controller changes, and CloudFormation deletes removed resources last, in the cleanup after every update",
	"deployment group": "CodeDeploy deployment group: the same",
	"codedeploy role":  "the deployment group's service role (CodeDeploy assumes it): nothing else uses it",
	"codedeploy policy": "that role's default policy (lambda:InvokeFunction on the pre-traffic check, for CodeDeploy's hook): " +
		"under ECS the hook invoke role carries the same grant",
}

// migrationAdded are the resources the update creates.
var migrationAdded = map[string]string{
	"production route":     "listener rule ECS rewrites on the production listener (priority 1, /*, blue 1 / green 0)",
	"test route":           "listener rule ECS rewrites on the test listener",
	"load balancer role":   "ECS's infrastructure role for the load balancer (AdvancedConfiguration.RoleArn)",
	"load balancer policy": "its scoped inline policy in place of AmazonECSInfrastructureRolePolicyForLoadBalancers",
	"hook invoke role":     "the role ECS invokes the pre-traffic check with (LifecycleHooks[0].RoleArn)",
	"hook invoke policy":   "its lambda:InvokeFunction on the check",
}

// migrationChanged are the kept resources whose properties change, by type,
// with the properties that change and why. All but the task definition are
// updated in place (checked against the createOnly properties of cfn-lint's
// schema); the task definition gets a new revision.
var migrationChanged = map[string]struct {
	props  []string
	reason string
}{
	"AWS::ECS::Service": {[]string{"DeploymentConfiguration", "DeploymentController", "LoadBalancers", "TaskDefinition"},
		"the controller, the strategy with bake time, alarms, circuit breaker and lifecycle hook, the alternate target group with the routes and role, and the template's own task definition revision in place of the family"},
	"AWS::ECS::TaskDefinition": {[]string{"ContainerDefinitions"},
		"the image becomes the image parameter: a new revision of the same family"},
	"AWS::Lambda::Function": {[]string{"Environment"},
		"the pre-traffic check's retry settings, which it uses as an ECS lifecycle hook"},
	"AWS::IAM::Policy": {[]string{"PolicyDocument"},
		"the pre-traffic check no longer reports to CodeDeploy (codedeploy:PutLifecycleEventHookExecutionStatus)"},
	"AWS::EC2::SecurityGroup": {[]string{"SecurityGroupEgress"},
		"the pre-traffic check no longer calls the CodeDeploy API (port 443 egress)"},
}

// migrationUnchanged are the types kept byte for byte: what carries traffic
// while the update runs, and what CloudFormation must not touch.
var migrationUnchanged = []string{
	"AWS::ElasticLoadBalancingV2::Listener",
	"AWS::ElasticLoadBalancingV2::TargetGroup",
	"AWS::ElasticLoadBalancingV2::LoadBalancer",
	"AWS::ECS::Cluster",
	"AWS::ApplicationAutoScaling::ScalableTarget",
	"AWS::EC2::VPC",
}

// serviceCreateOnly are AWS::ECS::Service's createOnly properties in the
// schema cfn-lint ships: DeploymentController is not among them.
var serviceCreateOnly = []string{"Cluster", "Role", "SchedulingStrategy", "ServiceName"}

func TestMigrationCodeDeployToEcs(t *testing.T) {
	beforeTpl, afterTpl := template(t, "Staging"), ecsApp(t, "mixed").template(t, "Staging")
	before, after := templateResources(t, beforeTpl), templateResources(t, afterTpl)

	one := func(res map[string]map[string]any, typ string) string {
		t.Helper()
		var ids []string
		for k, r := range res {
			if r["Type"] == typ {
				ids = append(ids, k)
			}
		}
		if len(ids) != 1 {
			t.Fatalf("want one %s, found %v", typ, ids)
		}
		return ids[0]
	}
	refOf := func(v any) string {
		t.Helper()
		ids := referencedIDs(v)
		if len(ids) != 1 {
			t.Fatalf("want one reference in %s, found %v", compact(v), ids)
		}
		return ids[0]
	}
	// policyOf is the one AWS::IAM::Policy attached to role.
	policyOf := func(res map[string]map[string]any, role string) string {
		t.Helper()
		var ids []string
		for k, r := range res {
			if r["Type"] == "AWS::IAM::Policy" && containsValue(asList(dig(r, "Properties", "Roles")), map[string]any{"Ref": role}) {
				ids = append(ids, k)
			}
		}
		if len(ids) != 1 {
			t.Fatalf("want one policy on role %s, found %v", role, ids)
		}
		return ids[0]
	}

	svc := one(before, "AWS::ECS::Service")
	t.Run("service updated in place", func(t *testing.T) {
		if one(after, "AWS::ECS::Service") != svc {
			t.Fatalf("the service's logical ID changes: CloudFormation would create a second service")
		}
		schemaCreateOnly := createOnlyProperties(t, "AWS::ECS::Service")
		if !reflect.DeepEqual(schemaCreateOnly, serviceCreateOnly) {
			t.Errorf("cfn-lint's schema lists createOnly %v for AWS::ECS::Service, the doc and this test %v: re-check the migration", schemaCreateOnly, serviceCreateOnly)
		}
		b, a := asMap(before[svc]["Properties"]), asMap(after[svc]["Properties"])
		for _, p := range schemaCreateOnly {
			if !bytes.Equal(mustJSON(b[p]), mustJSON(a[p])) {
				t.Errorf("createOnly %s changes: %s -> %s (CloudFormation would replace the service)", p, compact(b[p]), compact(a[p]))
			}
		}
		for _, p := range []string{"Cluster", "ServiceName"} {
			if b[p] == nil {
				t.Errorf("%s is not set: the test would prove nothing about it", p)
			}
		}
		for _, p := range []string{"Role", "SchedulingStrategy"} {
			if b[p] != nil || a[p] != nil {
				t.Errorf("%s is set (%v -> %v); the service relies on ECS's defaults for it", p, b[p], a[p])
			}
		}
		if got := [2]any{dig(b, "DeploymentController", "Type"), dig(a, "DeploymentController", "Type")}; got != [2]any{"CODE_DEPLOY", "ECS"} {
			t.Errorf("DeploymentController %v -> %v, want CODE_DEPLOY -> ECS", got[0], got[1])
		}
	})

	// The resources the update removes and adds, found by what they are.
	dg := one(before, "AWS::CodeDeploy::DeploymentGroup")
	cdRole := refOf(dig(before[dg], "Properties", "ServiceRoleArn"))
	wantRemoved := map[string]string{
		"application":       one(before, "AWS::CodeDeploy::Application"),
		"deployment group":  dg,
		"codedeploy role":   cdRole,
		"codedeploy policy": policyOf(before, cdRole),
	}
	lb := asList(dig(after[svc], "Properties", "LoadBalancers"))
	if len(lb) != 1 {
		t.Fatalf("the service has %d load balancers after, want 1", len(lb))
	}
	adv := asMap(dig(lb[0], "AdvancedConfiguration"))
	hooks := asList(dig(after[svc], "Properties", "DeploymentConfiguration", "LifecycleHooks"))
	if len(hooks) != 1 {
		t.Fatalf("the service has %d lifecycle hooks after, want 1", len(hooks))
	}
	lbRole, hookRole := refOf(adv["RoleArn"]), refOf(dig(hooks[0], "RoleArn"))
	prodRoute, testRoute := refOf(adv["ProductionListenerRule"]), refOf(adv["TestListenerRule"])
	wantAdded := map[string]string{
		"production route":     prodRoute,
		"test route":           testRoute,
		"load balancer role":   lbRole,
		"load balancer policy": policyOf(after, lbRole),
		"hook invoke role":     hookRole,
		"hook invoke policy":   policyOf(after, hookRole),
	}

	t.Run("removed and added", func(t *testing.T) {
		checkSet(t, "removed", wantRemoved, migrationRemoved, missingFrom(before, after))
		checkSet(t, "added", wantAdded, migrationAdded, missingFrom(after, before))
	})

	var changed []string
	t.Run("kept resources", func(t *testing.T) {
		var ids []string
		for k := range before {
			if _, ok := after[k]; ok {
				ids = append(ids, k)
			}
		}
		sort.Strings(ids)
		seenTypes := map[string]bool{}
		for _, id := range ids {
			b, a := before[id], after[id]
			if bytes.Equal(mustJSON(b), mustJSON(a)) {
				continue
			}
			changed = append(changed, id)
			typ := fmt.Sprint(b["Type"])
			if a["Type"] != b["Type"] {
				t.Errorf("%s changes type %v -> %v", id, b["Type"], a["Type"])
				continue
			}
			want, ok := migrationChanged[typ]
			if !ok {
				t.Errorf("%s (%s) changes, and the migration lists no change for its type:\nbefore %s\nafter  %s", id, typ, compact(b), compact(a))
				continue
			}
			seenTypes[typ] = true
			if keys := changedKeys(b, a); !subset(keys, []string{"Properties", "DependsOn"}) {
				t.Errorf("%s: %v change besides Properties and DependsOn", id, keys)
			}
			props := changedKeys(asMap(b["Properties"]), asMap(a["Properties"]))
			if !reflect.DeepEqual(props, want.props) {
				t.Errorf("%s (%s): properties %v change, want %v (%s)", id, typ, props, want.props, want.reason)
			}
			createOnly := createOnlyProperties(t, typ)
			var replaced []string
			for _, p := range props {
				if containsString(createOnly, p) {
					replaced = append(replaced, p)
				}
			}
			switch {
			case typ == "AWS::ECS::TaskDefinition":
				if !reflect.DeepEqual(replaced, []string{"ContainerDefinitions"}) {
					t.Errorf("task definition %s: createOnly %v change, want ContainerDefinitions only (the new revision)", id, replaced)
				}
			case len(replaced) > 0:
				t.Errorf("%s (%s): createOnly %v change: CloudFormation would replace it", id, typ, replaced)
			}
		}
		for typ := range migrationChanged {
			if !seenTypes[typ] {
				t.Errorf("no %s changes any more: drop it from migrationChanged", typ)
			}
		}
	})

	unchanged := 0
	t.Run("unchanged byte for byte", func(t *testing.T) {
		for _, typ := range migrationUnchanged {
			n := 0
			for id, b := range before {
				if b["Type"] != typ {
					continue
				}
				n++
				if !bytes.Equal(mustJSON(b), mustJSON(after[id])) {
					t.Errorf("%s %s changes:\nbefore %s\nafter  %s", typ, id, compact(b), compact(after[id]))
				}
			}
			if n == 0 {
				t.Errorf("no %s in the template", typ)
			}
			unchanged += n
		}
	})

	blue, green := "", ""
	t.Run("target groups and routes", func(t *testing.T) {
		listeners := map[string]string{}
		for id, r := range before {
			if r["Type"] != "AWS::ElasticLoadBalancingV2::Listener" {
				continue
			}
			acts := asList(dig(r, "Properties", "DefaultActions"))
			if len(acts) == 1 && dig(acts[0], "Type") == "forward" {
				listeners[id] = refOf(dig(acts[0], "TargetGroupArn"))
			}
		}
		prodListener := refOf(dig(after[prodRoute], "Properties", "ListenerArn"))
		testListener := refOf(dig(after[testRoute], "Properties", "ListenerArn"))
		blue, green = listeners[prodListener], listeners[testListener]
		if blue == "" || green == "" || blue == green {
			t.Fatalf("production listener %s forwards to %q, test listener %s to %q: want two target groups", prodListener, blue, testListener, green)
		}
		if got := refOf(dig(lb[0], "TargetGroupArn")); got != blue {
			t.Errorf("TargetGroupArn is %s, want %s, the production listener's default target group", got, blue)
		}
		if got := refOf(adv["AlternateTargetGroupArn"]); got != green {
			t.Errorf("AlternateTargetGroupArn is %s, want %s", got, green)
		}
		if got := refOf(dig(asList(dig(before[svc], "Properties", "LoadBalancers"))[0], "TargetGroupArn")); got != blue {
			t.Errorf("under CodeDeploy the service registers with %s, want %s", got, blue)
		}
		wantForward := []any{
			map[string]any{"TargetGroupArn": map[string]any{"Ref": blue}, "Weight": float64(1)},
			map[string]any{"TargetGroupArn": map[string]any{"Ref": green}, "Weight": float64(0)},
		}
		for _, route := range []string{prodRoute, testRoute} {
			acts := asList(dig(after[route], "Properties", "Actions"))
			if len(acts) != 1 || !reflect.DeepEqual(normalize(dig(acts[0], "ForwardConfig", "TargetGroups")), wantForward) {
				t.Errorf("route %s forwards %s, want blue 1 / green 0", route, compact(acts))
			}
		}
	})

	t.Run("image parameter", func(t *testing.T) {
		td := one(before, "AWS::ECS::TaskDefinition")
		if one(after, "AWS::ECS::TaskDefinition") != td {
			t.Fatalf("the task definition's logical ID changes")
		}
		if got := dig(after[svc], "Properties", "TaskDefinition"); !reflect.DeepEqual(got, map[string]any{"Ref": td}) {
			t.Errorf("the service names %s, want the template's task definition %s", compact(got), td)
		}
		if got := dig(before[svc], "Properties", "TaskDefinition"); got != dig(before[td], "Properties", "Family") {
			t.Errorf("under CodeDeploy the service names %s, want the family", compact(got))
		}
		bc, ac := asList(dig(before[td], "Properties", "ContainerDefinitions")), asList(dig(after[td], "Properties", "ContainerDefinitions"))
		if len(bc) != 1 || len(ac) != 1 {
			t.Fatalf("want one container before and after, have %d and %d", len(bc), len(ac))
		}
		param := refOf(dig(ac[0], "Image"))
		params := asMap((*afterTpl.ToJSON())["Parameters"])
		if _, ok := asMap((*beforeTpl.ToJSON())["Parameters"])[param]; ok {
			t.Errorf("parameter %s exists before the migration", param)
		}
		placeholder := app.Config.Staging.PlaceholderImage
		if placeholder == "" || dig(bc[0], "Image") != placeholder {
			t.Errorf("before, the container runs %v, want the placeholder %q", dig(bc[0], "Image"), placeholder)
		}
		if got := dig(params, param, "Default"); got != placeholder {
			t.Errorf("%s's default is %v, want the placeholder %q", param, got, placeholder)
		}
		// Apart from the image, the container is the same (compared on
		// copies: the templates are shared).
		bcopy, acopy := asMap(normalize(bc[0])), asMap(normalize(ac[0]))
		delete(bcopy, "Image")
		delete(acopy, "Image")
		if !bytes.Equal(mustJSON(bcopy), mustJSON(acopy)) {
			t.Errorf("the container changes besides its image:\nbefore %s\nafter  %s", compact(bcopy), compact(acopy))
		}
		record("migration: image parameter %s (default %s); `cdk deploy` must set it to the running image\n", param, placeholder)
	})

	t.Run("pipeline", func(t *testing.T) {
		stg, prd := delivery.DeployStageName(app.Config.Staging.Name), delivery.DeployStageName(app.Config.Production.Name)
		codeDeploy := []string{"Render CodeBuild", "BlueGreen CodeDeployToECS"}
		for _, c := range []struct {
			synthesis string
			stages    map[string]map[string][]string
		}{
			{"cdk.json", pipelineActions(t, resources(t, pipelineID, "AWS::CodePipeline::Pipeline"))},
			{"mixed", pipelineActions(t, ecsApp(t, "mixed").resources(t, pipelineID, "AWS::CodePipeline::Pipeline"))},
		} {
			for name, want := range map[string][]string{stg: codeDeploy, prd: codeDeploy} {
				if c.synthesis == "mixed" && name == stg {
					want = []string{"Release CodeBuild"}
				}
				for pl, stages := range c.stages {
					if got := stages[name]; !reflect.DeepEqual(got, want) {
						t.Errorf("%s: pipeline %s stage %s has %v, want %v", c.synthesis, pl, name, got, want)
					}
				}
			}
		}
	})

	record("migration: staging codedeploy -> ecs: service %s updated in place; %d removed, %d added, %d changed in place or as a new revision, %d unchanged byte for byte\n",
		svc, len(wantRemoved), len(wantAdded), len(changed), unchanged)
}

// missingFrom lists the logical IDs of a that b lacks, with their types.
func missingFrom(a, b map[string]map[string]any) map[string]string {
	out := map[string]string{}
	for k, r := range a {
		if _, ok := b[k]; !ok {
			out[k] = fmt.Sprint(r["Type"])
		}
	}
	return out
}

// checkSet fails unless got holds exactly the resources want names, each with its reason.
func checkSet(t *testing.T, what string, want, reasons, got map[string]string) {
	t.Helper()
	ids := map[string]bool{}
	for name, id := range want {
		if reasons[name] == "" {
			t.Errorf("%s %s has no reason", what, name)
		}
		if _, ok := got[id]; !ok {
			t.Errorf("%s: want %s (%s) %s, which is not %s", what, name, id, reasons[name], what)
		}
		ids[id] = true
	}
	for id, typ := range got {
		if !ids[id] {
			t.Errorf("%s: %s (%s) is %s, and the migration does not list it", what, id, typ, what)
		}
	}
}

// pipelineActions is each pipeline's stages, with the name and provider of
// each action.
func pipelineActions(t *testing.T, pipelines map[string]map[string]any) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	for id, r := range pipelines {
		out[id] = map[string][]string{}
		for _, s := range asList(dig(r, "Properties", "Stages")) {
			var acts []string
			for _, a := range asList(dig(s, "Actions")) {
				acts = append(acts, fmt.Sprintf("%v %v", dig(a, "Name"), dig(a, "ActionTypeId", "Provider")))
			}
			out[id][fmt.Sprint(dig(s, "Name"))] = acts
		}
	}
	if len(out) == 0 {
		t.Fatalf("no pipeline")
	}
	return out
}

// createOnlyProperties are a type's createOnly properties (top-level names,
// sorted) in cfn-lint's schema: changing one makes CloudFormation replace
// the resource.
func createOnlyProperties(t *testing.T, typ string) []string {
	t.Helper()
	s := lintSchema(t)
	file, ok := s.files[typ]
	if !ok {
		t.Fatalf("cfn-lint has no schema for %s", typ)
	}
	data, err := os.ReadFile(filepath.Join(s.dir, "data", "schemas", "resources", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		CreateOnly []string `json:"createOnlyProperties"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("schema of %s: %v", typ, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range doc.CreateOnly {
		name := strings.SplitN(strings.TrimPrefix(p, "/properties/"), "/", 2)[0]
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func subset(l, of []string) bool {
	for _, v := range l {
		if !containsString(of, v) {
			return false
		}
	}
	return true
}
