package test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"ecs-bluegreen/config"
	"ecs-bluegreen/rules"
)

// ecsEnvironment is an environment on the ecs engine in one of the ECS
// syntheses, with its configuration.
type ecsEnvironment struct {
	synthesis string
	id        string
	env       *config.Environment
}

// ecsEnvironments are the environments on ecs across the ECS syntheses:
// LINEAR and CANARY in "ecs", BLUE_GREEN in "mixed".
func ecsEnvironments(t *testing.T) []ecsEnvironment {
	all := ecsApp(t, "ecs").app
	mixed := ecsApp(t, "mixed").app
	return []ecsEnvironment{
		{"ecs", "Staging", &all.Config.Staging},
		{"ecs", "Production", &all.Config.Production},
		{"mixed", "Staging", &mixed.Config.Staging},
	}
}

// only returns the single resource of a type, failing otherwise.
func onlyResource(t *testing.T, rs map[string]map[string]any, what string) (string, map[string]any) {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("want one %s, found %d", what, len(rs))
	}
	for k, v := range rs {
		return k, v
	}
	return "", nil
}

// ref is CloudFormation's {"Ref": logical}.
func ref(logical string) map[string]any { return map[string]any{"Ref": logical} }

// TestEcsEngineDeploysWithEcsBlueGreen proves the service under the ecs
// engine: the ECS deployment controller with the strategy, steps and bake
// time the configuration's shift and wait map to; the alternate target
// group with the production and test routes; rollback on alarm (every
// rollback alarm, by name), on the circuit breaker and on the pre-traffic
// hook; and no CodeDeploy resource at all.
func TestEcsEngineDeploysWithEcsBlueGreen(t *testing.T) {
	for _, e := range ecsEnvironments(t) {
		t.Run(e.synthesis+"/"+e.id, func(t *testing.T) {
			s := ecsApp(t, e.synthesis)
			all := templateResources(t, s.template(t, e.id))
			for logical, r := range all {
				if strings.HasPrefix(fmt.Sprint(r["Type"]), "AWS::CodeDeploy::") {
					t.Errorf("%s: a CodeDeploy resource (%s) under the ecs engine", logical, r["Type"])
				}
			}
			_, svc := onlyResource(t, s.resources(t, e.id, "AWS::ECS::Service"), "service")
			props := asMap(svc["Properties"])
			if got := dig(props, "DeploymentController", "Type"); got != "ECS" {
				t.Errorf("DeploymentController = %v, want ECS", got)
			}
			shift, ok := rules.CodeDeployPredefined(e.env.DeploymentConfig)
			if !ok {
				t.Fatalf("deploymentConfig %q", e.env.DeploymentConfig)
			}
			dc := asMap(props["DeploymentConfiguration"])
			want := map[string]any{
				"Strategy":          shift.ECSStrategy(),
				"BakeTimeInMinutes": float64(e.env.TerminationWaitMinutes),
			}
			switch shift.Kind() {
			case rules.ShiftCanary:
				want["CanaryConfiguration"] = map[string]any{"CanaryPercent": shift.Percent(), "CanaryBakeTimeInMinutes": shift.Minutes()}
			case rules.ShiftLinear:
				want["LinearConfiguration"] = map[string]any{"StepPercent": shift.Percent(), "StepBakeTimeInMinutes": shift.Minutes()}
			}
			for k, v := range want {
				if !reflect.DeepEqual(dc[k], v) {
					t.Errorf("DeploymentConfiguration.%s = %s, want %s", k, compact(dc[k]), compact(v))
				}
			}
			for _, k := range []string{"CanaryConfiguration", "LinearConfiguration"} {
				if _, wanted := want[k]; !wanted && dc[k] != nil {
					t.Errorf("DeploymentConfiguration.%s = %s for %s", k, compact(dc[k]), shift)
				}
			}
			if got := compact(dc["DeploymentCircuitBreaker"]); got != `{"Enable":true,"Rollback":true}` {
				t.Errorf("DeploymentCircuitBreaker = %s, want enabled with rollback", got)
			}

			// Rollback on every rollback alarm, named by its fixed name.
			var alarmNames []string
			for _, a := range s.resources(t, e.id, "AWS::CloudWatch::Alarm") {
				if d := fmt.Sprint(dig(a, "Properties", "AlarmDescription")); strings.Contains(d, "rolls back") {
					alarmNames = append(alarmNames, fmt.Sprint(dig(a, "Properties", "AlarmName")))
				}
			}
			slices.Sort(alarmNames)
			// With a latency threshold, its p99 alarms on both target groups too.
			if want := 4 + map[bool]int{true: 2}[e.env.LatencyP99Ms > 0]; len(alarmNames) != want {
				t.Errorf("want the 5xx, unhealthy-host (and with latencyP99Ms the p99) alarms of both target groups, %d, found %v", want, alarmNames)
			}
			alarms := asMap(dc["Alarms"])
			if got := sortedStrings(asList(alarms["AlarmNames"])); !reflect.DeepEqual(got, alarmNames) {
				t.Errorf("Alarms.AlarmNames = %v, want %v", got, alarmNames)
			}
			if alarms["Enable"] != true || alarms["Rollback"] != true {
				t.Errorf("Alarms = %s, want Enable and Rollback", compact(alarms))
			}

			// The alternate target group and the two routes.
			groups := map[string]string{}
			for logical, g := range s.resources(t, e.id, "AWS::ElasticLoadBalancingV2::TargetGroup") {
				groups[fmt.Sprint(dig(g, "Properties", "Name"))] = logical
			}
			prefix := s.app.Config.ResourcePrefix(e.env)
			blue, green := groups[prefix+"-blue"], groups[prefix+rules.GreenSuffix]
			lbs := asList(props["LoadBalancers"])
			if len(lbs) != 1 {
				t.Fatalf("LoadBalancers = %s, want one", compact(lbs))
			}
			lb := asMap(lbs[0])
			if !reflect.DeepEqual(lb["TargetGroupArn"], ref(blue)) || !reflect.DeepEqual(dig(lb, "AdvancedConfiguration", "AlternateTargetGroupArn"), ref(green)) {
				t.Errorf("LoadBalancers[0] = %s, want blue %s with green %s as the alternate", compact(lb), blue, green)
			}
			listeners := map[float64]string{}
			for logical, l := range s.resources(t, e.id, "AWS::ElasticLoadBalancingV2::Listener") {
				listeners[dig(l, "Properties", "Port").(float64)] = logical
			}
			rulesByListener := map[string]string{}
			for logical, r := range s.resources(t, e.id, "AWS::ElasticLoadBalancingV2::ListenerRule") {
				rp := asMap(r["Properties"])
				rulesByListener[fmt.Sprint(dig(rp, "ListenerArn", "Ref"))] = logical
				wantAction := []any{map[string]any{"Type": "forward", "ForwardConfig": map[string]any{"TargetGroups": []any{
					map[string]any{"TargetGroupArn": ref(blue), "Weight": 1.0},
					map[string]any{"TargetGroupArn": ref(green), "Weight": 0.0},
				}}}}
				if !reflect.DeepEqual(rp["Actions"], wantAction) {
					t.Errorf("%s: Actions = %s, want blue weight 1 and green weight 0", logical, compact(rp["Actions"]))
				}
				if got := compact(rp["Conditions"]); got != `[{"Field":"path-pattern","PathPatternConfig":{"Values":["/*"]}}]` {
					t.Errorf("%s: Conditions = %s, want every path", logical, got)
				}
			}
			prodPort := 80.0
			if e.env.CertificateArn != "" {
				prodPort = 443
			}
			prodRule, testRule := rulesByListener[listeners[prodPort]], rulesByListener[listeners[float64(e.env.TestListenerPort)]]
			if prodRule == "" || testRule == "" || len(rulesByListener) != 2 {
				t.Fatalf("want one route on the production and one on the test listener, found %v (listeners %v)", rulesByListener, listeners)
			}
			adv := asMap(lb["AdvancedConfiguration"])
			if !reflect.DeepEqual(adv["ProductionListenerRule"], ref(prodRule)) || !reflect.DeepEqual(adv["TestListenerRule"], ref(testRule)) {
				t.Errorf("AdvancedConfiguration = %s, want production rule %s and test rule %s", compact(adv), prodRule, testRule)
			}

			// The pre-traffic check as the POST_TEST_TRAFFIC_SHIFT hook.
			hooks := asList(dc["LifecycleHooks"])
			if len(hooks) != 1 {
				t.Fatalf("LifecycleHooks = %s, want the pre-traffic check only", compact(hooks))
			}
			hook := asMap(hooks[0])
			if got := compact(hook["LifecycleStages"]); got != `["POST_TEST_TRAFFIC_SHIFT"]` {
				t.Errorf("hook stages = %s", got)
			}
			fn := fmt.Sprint(asList(dig(hook, "HookTargetArn", "Fn::GetAtt"))[0])
			if !strings.Contains(compact(dig(all[fn], "Properties", "Tags")), "pre-traffic validation") {
				t.Errorf("the hook targets %s, not the pre-traffic function", fn)
			}
			env := asMap(dig(all[fn], "Properties", "Environment", "Variables"))
			for _, k := range []string{"MAX_ATTEMPTS", "RETRY_DELAY_SECONDS", "TEST_URL", "CHECKS"} {
				if env[k] == nil {
					t.Errorf("pre-traffic function: no %s in its environment", k)
				}
			}
			// ECS invokes it with a role that may invoke this function only.
			invokeRole := fmt.Sprint(asList(dig(hook, "RoleArn", "Fn::GetAtt"))[0])
			checkEcsRole(t, all, invokeRole, []string{`{"Action":"lambda:InvokeFunction","Effect":"Allow","Resource":{"Fn::GetAtt":["` + fn + `","Arn"]}}`})
			// The function itself calls no AWS API under ECS.
			for logical, p := range all {
				if p["Type"] == "AWS::IAM::Policy" && strings.Contains(compact(p), "codedeploy:") {
					t.Errorf("%s grants CodeDeploy actions under the ecs engine", logical)
				}
			}
			lbRole := fmt.Sprint(asList(dig(adv, "RoleArn", "Fn::GetAtt"))[0])
			checkEcsRole(t, all, lbRole, []string{
				`{"Action":["elasticloadbalancing:DescribeListeners","elasticloadbalancing:DescribeRules","elasticloadbalancing:DescribeTargetGroups","elasticloadbalancing:DescribeTargetHealth"],"Effect":"Allow","Resource":"*","Sid":"ReadLoadBalancing"}`,
				`{"Action":"elasticloadbalancing:ModifyRule","Effect":"Allow","Resource":[{"Ref":"` + prodRule + `"},{"Ref":"` + testRule + `"}],"Sid":"RewriteRoutes"}`,
				`{"Action":"elasticloadbalancing:ModifyListener","Effect":"Allow","Resource":[{"Ref":"` + listeners[prodPort] + `"},{"Ref":"` + listeners[float64(e.env.TestListenerPort)] + `"}],"Sid":"ModifyListeners"}`,
				`{"Action":["elasticloadbalancing:DeregisterTargets","elasticloadbalancing:RegisterTargets"],"Effect":"Allow","Resource":[{"Ref":"` + blue + `"},{"Ref":"` + green + `"}],"Sid":"RegisterTargets"}`,
			})
		})
	}
}

// checkEcsRole proves that a role ECS assumes trusts ecs.amazonaws.com with
// no condition (the ECS developer guide documents none for it), has no
// managed policy, and that its policies hold exactly statements.
func checkEcsRole(t *testing.T, all map[string]map[string]any, role string, statements []string) {
	t.Helper()
	r := all[role]
	if got := compact(dig(r, "Properties", "AssumeRolePolicyDocument", "Statement")); got != `[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"}}]` {
		t.Errorf("%s trust = %s, want ecs.amazonaws.com without conditions", role, got)
	}
	if m := dig(r, "Properties", "ManagedPolicyArns"); m != nil {
		t.Errorf("%s has managed policies %s", role, compact(m))
	}
	var got []string
	for _, p := range all {
		if p["Type"] != "AWS::IAM::Policy" || !containsValue(asList(dig(p, "Properties", "Roles")), ref(role)) {
			continue
		}
		for _, st := range asList(dig(p, "Properties", "PolicyDocument", "Statement")) {
			got = append(got, compact(st))
		}
	}
	if !reflect.DeepEqual(got, statements) {
		t.Errorf("%s statements:\n  %s\nwant:\n  %s", role, strings.Join(got, "\n  "), strings.Join(statements, "\n  "))
	}
}

// TestEcsEngineImageIsAParameterThatDeploysKeep proves the one writer of
// what runs under ecs: the container's image is the stack parameter, whose
// default is the placeholder, and the service names the task definition
// CloudFormation registers (so an update of the parameter alone, which is a
// release, is what starts a deployment).
func TestEcsEngineImageIsAParameterThatDeploysKeep(t *testing.T) {
	for _, e := range ecsEnvironments(t) {
		t.Run(e.synthesis+"/"+e.id, func(t *testing.T) {
			s := ecsApp(t, e.synthesis)
			params := asMap((*s.template(t, e.id).ToJSON())["Parameters"])
			var image string
			for k, p := range params {
				if strings.Contains(fmt.Sprint(dig(p, "Description")), "Releases set it") {
					image = k
					if dig(p, "Default") != e.env.PlaceholderImage || dig(p, "Type") != "String" {
						t.Errorf("parameter %s = %s, want a String defaulting to %s", k, compact(p), e.env.PlaceholderImage)
					}
				}
			}
			if image == "" {
				t.Fatalf("no image parameter in %v", params)
			}
			td, task := onlyResource(t, s.resources(t, e.id, "AWS::ECS::TaskDefinition"), "task definition")
			if got := dig(asList(dig(task, "Properties", "ContainerDefinitions"))[0], "Image"); !reflect.DeepEqual(got, ref(image)) {
				t.Errorf("container Image = %s, want the parameter %s", compact(got), image)
			}
			_, svc := onlyResource(t, s.resources(t, e.id, "AWS::ECS::Service"), "service")
			if got := dig(svc, "Properties", "TaskDefinition"); !reflect.DeepEqual(got, ref(td)) {
				t.Errorf("service TaskDefinition = %s, want the task definition %s", compact(got), td)
			}
		})
	}
}

// TestEcsEnginePipelineReleasesByStackUpdate proves the pipeline's ECS
// path: an environment on ecs is deployed by one Release action on its own
// project, whose role may update that environment's stack only (and pass
// it the stack's CloudFormation execution role); an environment on
// codedeploy keeps the Render and CodeDeploy actions; and with no
// environment on codedeploy there is no render project.
func TestEcsEnginePipelineReleasesByStackUpdate(t *testing.T) {
	for _, which := range []string{"ecs", "mixed"} {
		t.Run(which, func(t *testing.T) {
			s := ecsApp(t, which)
			all := templateResources(t, s.template(t, "Pipeline"))
			_, pl := onlyResource(t, s.resources(t, "Pipeline", "AWS::CodePipeline::Pipeline"), "pipeline")
			projects := map[string]string{}
			for logical, p := range s.resources(t, "Pipeline", "AWS::CodeBuild::Project") {
				projects[logical] = fmt.Sprint(dig(p, "Properties", "Name"))
			}
			for _, e := range []*config.Environment{&s.app.Config.Staging, &s.app.Config.Production} {
				var actions []string
				var stage map[string]any
				for _, st := range asList(dig(pl, "Properties", "Stages")) {
					if dig(st, "Name") == "Deploy-"+e.Name {
						stage = asMap(st)
					}
				}
				for _, a := range asList(stage["Actions"]) {
					actions = append(actions, fmt.Sprintf("%s:%s", dig(a, "Name"), dig(a, "ActionTypeId", "Provider")))
				}
				if e.Engine == rules.EngineCodeDeploy {
					if got := strings.Join(actions, ","); got != "Render:CodeBuild,BlueGreen:CodeDeployToECS" {
						t.Errorf("%s (codedeploy): actions %s", e.Name, got)
					}
					continue
				}
				if got := strings.Join(actions, ","); got != "Release:CodeBuild" {
					t.Fatalf("%s (ecs): actions %s, want the release action only", e.Name, got)
				}
				project := fmt.Sprint(dig(asList(stage["Actions"])[0], "Configuration", "ProjectName", "Ref"))
				if projects[project] != s.app.Config.PipelinePrefix()+"-release-"+e.Name {
					t.Errorf("%s: release project %s named %s", e.Name, project, projects[project])
				}
				stackName := s.app.Config.StackName(e.Name)
				role := fmt.Sprint(asList(dig(all[project], "Properties", "ServiceRole", "Fn::GetAtt"))[0])
				var cfn []string
				for _, p := range all {
					if p["Type"] != "AWS::IAM::Policy" || !containsValue(asList(dig(p, "Properties", "Roles")), ref(role)) {
						continue
					}
					for _, st := range asList(dig(p, "Properties", "PolicyDocument", "Statement")) {
						if strings.Contains(compact(dig(st, "Action")), "cloudformation:") {
							cfn = append(cfn, compact(st))
						}
					}
				}
				if len(cfn) != 1 || !strings.Contains(cfn[0], `:stack/`+stackName+`/*`) || !strings.Contains(cfn[0], "cloudformation:UpdateStack") {
					t.Errorf("%s: release role's CloudFormation statements %v, want UpdateStack on stack %s only", e.Name, cfn, stackName)
				}
			}
			render := false
			for _, name := range projects {
				render = render || strings.HasSuffix(name, "-render")
			}
			if wantRender := which == "mixed"; render != wantRender {
				t.Errorf("render project present = %v, want %v", render, wantRender)
			}
		})
	}
}

// TestEcsSynthesesPassCdkNag proves cdk-nag's AwsSolutions checks over the
// ECS syntheses: no unsuppressed error or warning, and no other error or
// warning annotation.
func TestEcsSynthesesPassCdkNag(t *testing.T) {
	for _, which := range []string{"ecs", "mixed"} {
		t.Run(which, ecsApp(t, which).requireNagClean)
	}
}
