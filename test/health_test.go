package test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/stacks"
)

// flattenJoin renders an Fn::Join of strings and references as one string,
// each reference as "@<logical ID>" (with ".<attribute>" for Fn::GetAtt).
func flattenJoin(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return s
	}
	join := asList(dig(v, "Fn::Join"))
	if len(join) != 2 || join[0] != "" {
		t.Fatalf("not an Fn::Join with an empty separator: %s", compact(v))
	}
	var b strings.Builder
	for _, part := range asList(join[1]) {
		switch p := part.(type) {
		case string:
			b.WriteString(p)
		case map[string]any:
			if ref, ok := p["Ref"].(string); ok {
				b.WriteString("@" + ref)
			} else if att := asList(p["Fn::GetAtt"]); len(att) == 2 {
				fmt.Fprintf(&b, "@%v.%v", att[0], att[1])
			} else {
				b.WriteString("@" + strings.ReplaceAll(compact(p), `"`, "'"))
			}
		default:
			t.Fatalf("unexpected part %v", p)
		}
	}
	return b.String()
}

// dashboardMetric is one metric line of a dashboard graph.
type dashboardMetric struct {
	namespace, name, stat, widget string
	dimensions                    map[string]string
}

// dashboardOf parses the environment's dashboard: its metrics and the
// alarms of its alarm widgets.
func dashboardOf(t *testing.T, rs map[string]map[string]any, prefix string) (metrics []dashboardMetric, alarms []string) {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("%d dashboards, want 1", len(rs))
	}
	for _, d := range rs {
		if got := dig(d, "Properties", "DashboardName"); got != prefix+bluegreen.DashboardSuffix {
			t.Errorf("DashboardName = %v, want %s", got, prefix+bluegreen.DashboardSuffix)
		}
		var body struct {
			Widgets []struct {
				Type       string `json:"type"`
				Properties struct {
					Title   string   `json:"title"`
					Metrics [][]any  `json:"metrics"`
					Alarms  []string `json:"alarms"`
				} `json:"properties"`
			} `json:"widgets"`
		}
		if err := json.Unmarshal([]byte(flattenJoin(t, dig(d, "Properties", "DashboardBody"))), &body); err != nil {
			t.Fatalf("DashboardBody: %v", err)
		}
		for _, w := range body.Widgets {
			alarms = append(alarms, w.Properties.Alarms...)
			for _, line := range w.Properties.Metrics {
				m := dashboardMetric{widget: w.Properties.Title, dimensions: map[string]string{}}
				var fields []string
				for _, f := range line {
					switch x := f.(type) {
					case string:
						fields = append(fields, x)
					case map[string]any:
						m.stat = fmt.Sprint(x["stat"])
					}
				}
				if len(fields) < 2 || len(fields)%2 != 0 {
					t.Fatalf("widget %q: metric %v", w.Properties.Title, line)
				}
				m.namespace, m.name = fields[0], fields[1]
				for i := 2; i < len(fields); i += 2 {
					m.dimensions[fields[i]] = fields[i+1]
				}
				metrics = append(metrics, m)
			}
		}
	}
	return metrics, alarms
}

// targetGroupIDs are the logical IDs of an environment's blue and green
// target groups.
func targetGroupIDs(t *testing.T, rs map[string]map[string]any, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for logical, g := range rs {
		for _, color := range []string{"blue", "green"} {
			if dig(g, "Properties", "Name") == prefix+"-"+color {
				out[color] = logical
			}
		}
	}
	if len(out) != 2 {
		t.Fatalf("target groups %v, want blue and green", out)
	}
	return out
}

// The dashboard shows, per target group, requests, target 5xx, p50 and p99
// response time and healthy hosts; the service's CPU, memory and task
// counts; its deployments; and the state of every rollback alarm.
func TestDashboardShowsTheServiceHealth(t *testing.T) {
	for id, env := range environments() {
		t.Run(id, func(t *testing.T) {
			prefix := app.Config.ResourcePrefix(env)
			metrics, alarmArns := dashboardOf(t, resources(t, id, "AWS::CloudWatch::Dashboard"), prefix)
			has := func(namespace, name, stat string, dims map[string]string) bool {
				return slices.ContainsFunc(metrics, func(m dashboardMetric) bool {
					if m.namespace != namespace || m.name != name || (stat != "" && m.stat != stat) {
						return false
					}
					for k, v := range dims {
						if m.dimensions[k] != v {
							return false
						}
					}
					return true
				})
			}
			groups := targetGroupIDs(t, resources(t, id, "AWS::ElasticLoadBalancingV2::TargetGroup"), prefix)
			for color, logical := range groups {
				tg := map[string]string{"TargetGroup": "@" + logical + ".TargetGroupFullName"}
				for _, want := range [][2]string{
					{"RequestCount", "Sum"}, {"HTTPCode_Target_5XX_Count", "Sum"},
					{"TargetResponseTime", "p50"}, {"TargetResponseTime", "p99"}, {"HealthyHostCount", ""},
				} {
					if !has("AWS/ApplicationELB", want[0], want[1], tg) {
						t.Errorf("%s target group: no %s (%s) on the dashboard", color, want[0], want[1])
					}
				}
			}
			service := map[string]string{"ClusterName": prefix, "ServiceName": prefix}
			for _, want := range [][2]string{
				{"AWS/ECS", "CPUUtilization"}, {"AWS/ECS", "MemoryUtilization"},
				{"ECS/ContainerInsights", "RunningTaskCount"}, {"ECS/ContainerInsights", "DesiredTaskCount"},
				{"ECS/ContainerInsights", "DeploymentCount"}, {"ECS/ContainerInsights", "TaskSetCount"},
			} {
				if !has(want[0], want[1], "", service) {
					t.Errorf("no %s %s for the service on the dashboard", want[0], want[1])
				}
			}
			var rollback []string
			for logical, a := range resources(t, id, "AWS::CloudWatch::Alarm") {
				if strings.Contains(fmt.Sprint(dig(a, "Properties", "AlarmDescription")), "rolls back") {
					rollback = append(rollback, "@"+logical+".Arn")
				}
			}
			slices.Sort(rollback)
			slices.Sort(alarmArns)
			if !slices.Equal(rollback, alarmArns) || len(rollback) == 0 {
				t.Errorf("alarm widget shows %v, want the rollback alarms %v", alarmArns, rollback)
			}
		})
	}
}

// latencyAlarms are the p99 alarms of a stack, by target group logical ID.
func latencyAlarms(rs map[string]map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, a := range rs {
		if dig(a, "Properties", "MetricName") == "TargetResponseTime" {
			for _, d := range asList(dig(a, "Properties", "Dimensions")) {
				if dig(d, "Name") == "TargetGroup" {
					out[fmt.Sprint(asList(dig(d, "Value", "Fn::GetAtt"))[0])] = a
				}
			}
		}
	}
	return out
}

// With latencyP99Ms set, each target group has a p99 alarm at that
// threshold, with the 5xx alarms' period and evaluation, among the rollback
// alarms of the engine (CodeDeploy's deployment group, ECS's service);
// with 0, none.
func TestLatencyAlarmRollsBack(t *testing.T) {
	type row struct {
		name   string
		res    func(t *testing.T, id, typ string) map[string]map[string]any
		id     string
		ms     int
		engine string
	}
	all := ecsApp(t, "ecs")
	rows := []row{
		{"codedeploy staging", resources, "Staging", app.Config.Staging.LatencyP99Ms, "codedeploy"},
		{"codedeploy production", resources, "Production", app.Config.Production.LatencyP99Ms, "codedeploy"},
		{"ecs production", all.resources, "Production", all.app.Config.Production.LatencyP99Ms, "ecs"},
	}
	if rows[0].ms != 0 || rows[1].ms != 1000 || rows[2].ms != 1000 {
		t.Fatalf("latencyP99Ms %d, %d, %d: the test expects the defaults", rows[0].ms, rows[1].ms, rows[2].ms)
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			all := r.res(t, r.id, "AWS::CloudWatch::Alarm")
			got := latencyAlarms(all)
			if r.ms == 0 {
				if len(got) != 0 {
					t.Errorf("latency alarms %v with latencyP99Ms 0", got)
				}
				return
			}
			var fiveXX map[string]any
			for _, a := range all {
				if dig(a, "Properties", "MetricName") == "HTTPCode_Target_5XX_Count" {
					fiveXX = a
				}
			}
			var groups []string
			for logical := range r.res(t, r.id, "AWS::ElasticLoadBalancingV2::TargetGroup") {
				groups = append(groups, logical)
			}
			var names, ids []string
			for _, tg := range groups {
				a, ok := got[tg]
				if !ok {
					t.Errorf("no latency alarm on target group %s", tg)
					continue
				}
				p := asMap(a["Properties"])
				if p["ExtendedStatistic"] != "p99" || p["Threshold"] != float64(r.ms)/1000 || p["ComparisonOperator"] != "GreaterThanThreshold" {
					t.Errorf("%s: %s %v %v, want p99 over %v s", tg, p["ExtendedStatistic"], p["ComparisonOperator"], p["Threshold"], float64(r.ms)/1000)
				}
				for _, k := range []string{"Period", "EvaluationPeriods", "DatapointsToAlarm"} {
					if p[k] != dig(fiveXX, "Properties", k) {
						t.Errorf("%s: %s %v, the 5xx alarm's is %v", tg, k, p[k], dig(fiveXX, "Properties", k))
					}
				}
				names = append(names, fmt.Sprint(p["AlarmName"]))
				for logical, x := range all {
					if fmt.Sprint(x) == fmt.Sprint(a) {
						ids = append(ids, logical)
					}
				}
			}
			var listed []any
			if r.engine == "codedeploy" {
				for _, dg := range r.res(t, r.id, "AWS::CodeDeploy::DeploymentGroup") {
					for _, a := range asList(dig(dg, "Properties", "AlarmConfiguration", "Alarms")) {
						listed = append(listed, dig(a, "Name", "Ref"))
					}
				}
			} else {
				for _, svc := range r.res(t, r.id, "AWS::ECS::Service") {
					listed = asList(dig(svc, "Properties", "DeploymentConfiguration", "Alarms", "AlarmNames"))
				}
			}
			if r.engine == "codedeploy" {
				names = ids
			}
			for _, n := range names {
				if !containsValue(listed, n) {
					t.Errorf("%s engine: rollback alarms %v lack %s", r.engine, listed, n)
				}
			}
		})
	}
}

// Every alarm of an environment announces ALARM and OK on the environment's
// alarm topic, which is encrypted with a key CloudWatch may use for it
// alone, refuses requests without TLS and lets only the environment's
// alarms publish. The pipeline's alarm notifies the pipeline's topic.
func TestEveryAlarmNotifiesTheAlarmTopic(t *testing.T) {
	for id, env := range environments() {
		t.Run(id, func(t *testing.T) {
			prefix := app.Config.ResourcePrefix(env)
			topics := resources(t, id, "AWS::SNS::Topic")
			var topicID string
			for logical, tp := range topics {
				if dig(tp, "Properties", "TopicName") == prefix+stacks.AlarmTopicSuffix {
					topicID = logical
				}
			}
			if topicID == "" {
				t.Fatalf("no topic named %s%s", prefix, stacks.AlarmTopicSuffix)
			}
			alarms := resources(t, id, "AWS::CloudWatch::Alarm")
			if len(alarms) == 0 {
				t.Fatal("no alarms")
			}
			want := fmt.Sprintf(`[{"Ref":%q}]`, topicID)
			for logical, a := range alarms {
				for _, k := range []string{"AlarmActions", "OKActions"} {
					if got := compact(dig(a, "Properties", k)); got != want {
						t.Errorf("%s: %s = %s, want %s", logical, k, got, want)
					}
				}
			}

			keyRef := dig(topics[topicID], "Properties", "KmsMasterKeyId", "Fn::GetAtt")
			if keyRef == nil {
				t.Fatalf("topic not encrypted with a key of the stack: %s", compact(dig(topics[topicID], "Properties", "KmsMasterKeyId")))
			}
			key := resources(t, id, "AWS::KMS::Key")[fmt.Sprint(asList(keyRef)[0])]
			if dig(key, "Properties", "EnableKeyRotation") != true {
				t.Error("alarm key not rotated")
			}
			found := false
			for _, st := range asList(dig(key, "Properties", "KeyPolicy", "Statement")) {
				if dig(st, "Principal", "Service") != "cloudwatch.amazonaws.com" {
					continue
				}
				found = true
				if got := fmt.Sprint(sortedStrings(asList(dig(st, "Action")))); got != "[kms:Decrypt kms:GenerateDataKey]" {
					t.Errorf("CloudWatch may %s on the key, want kms:GenerateDataKey and kms:Decrypt", got)
				}
				ctx := compact(dig(st, "Condition", "StringEquals", "kms:EncryptionContext:aws:sns:topicArn"))
				if !strings.Contains(ctx, ":"+prefix+stacks.AlarmTopicSuffix) {
					t.Errorf("CloudWatch's key statement is not limited to the alarm topic: %s", ctx)
				}
			}
			if !found {
				t.Error("the key policy does not let CloudWatch use the key")
			}

			var tls, publish bool
			for _, p := range resources(t, id, "AWS::SNS::TopicPolicy") {
				if !containsValue(asList(dig(p, "Properties", "Topics")), map[string]any{"Ref": topicID}) {
					continue
				}
				for _, st := range asList(dig(p, "Properties", "PolicyDocument", "Statement")) {
					if dig(st, "Effect") == "Deny" && dig(st, "Condition", "Bool", "aws:SecureTransport") == "false" {
						tls = true
					}
					if dig(st, "Principal", "Service") == "cloudwatch.amazonaws.com" && dig(st, "Action") == "sns:Publish" {
						publish = strings.Contains(compact(dig(st, "Condition", "ArnLike", "aws:SourceArn")), ":alarm:"+prefix+"-*") &&
							dig(st, "Condition", "StringEquals", "aws:SourceAccount") != nil
					}
				}
			}
			if !tls || !publish {
				t.Errorf("topic policy: TLS enforced %v, CloudWatch publishing for %s-* alarms of this account %v", tls, prefix, publish)
			}
			if subs := resources(t, id, "AWS::SNS::Subscription"); len(subs) != 0 {
				t.Errorf("subscriptions without alarmEmail: %v", subs)
			}
		})
	}
	for logical, a := range resources(t, "Pipeline", "AWS::CloudWatch::Alarm") {
		if len(asList(dig(a, "Properties", "AlarmActions"))) == 0 {
			t.Errorf("pipeline alarm %s has no action", logical)
		}
	}
}

// alarmEmail subscribes the address to the environment's alarm topic.
func TestAlarmEmailSubscribes(t *testing.T) {
	s := ecsApp(t, "mixed")
	subs := s.resources(t, "Production", "AWS::SNS::Subscription")
	if len(subs) != 1 {
		t.Fatalf("%d subscriptions, want the alarm e-mail's", len(subs))
	}
	for _, sub := range subs {
		p := asMap(sub["Properties"])
		topic := s.resources(t, "Production", "AWS::SNS::Topic")[fmt.Sprint(dig(p, "TopicArn", "Ref"))]
		if p["Protocol"] != "email" || p["Endpoint"] != s.app.Config.Production.AlarmEmail ||
			dig(topic, "Properties", "TopicName") != s.app.Config.ResourcePrefix(&s.app.Config.Production)+stacks.AlarmTopicSuffix {
			t.Errorf("subscription %s, want %s by e-mail to the alarm topic", compact(p), s.app.Config.Production.AlarmEmail)
		}
	}
	if n := len(s.resources(t, "Staging", "AWS::SNS::Subscription")); n != 0 {
		t.Errorf("staging: %d subscriptions without alarmEmail", n)
	}
}

// With the Slack keys, one Chatbot configuration posts the pipeline topic
// and both alarm topics (by fixed ARN) to the channel, through a role
// without permissions, capped by the ReadOnlyAccess guardrail. Without
// them, there is none.
func TestChatbotPostsToSlack(t *testing.T) {
	if n := len(resources(t, "Pipeline", "AWS::Chatbot::SlackChannelConfiguration")); n != 0 {
		t.Errorf("%d Chatbot configurations without the Slack keys", n)
	}
	s := ecsApp(t, "mixed")
	cfg := s.app.Config
	configs := s.resources(t, "Pipeline", "AWS::Chatbot::SlackChannelConfiguration")
	if len(configs) != 1 {
		t.Fatalf("%d Chatbot configurations, want 1", len(configs))
	}
	for _, c := range configs {
		p := asMap(c["Properties"])
		if p["SlackWorkspaceId"] != cfg.SlackWorkspaceId || p["SlackChannelId"] != cfg.SlackChannelId || p["ConfigurationName"] != cfg.PipelinePrefix()+stacks.ChatbotSuffix {
			t.Errorf("configuration %s", compact(p))
		}
		if got := compact(p["GuardrailPolicies"]); !strings.HasSuffix(got, `":iam::aws:policy/ReadOnlyAccess"]]}]`) {
			t.Errorf("GuardrailPolicies = %s, want ReadOnlyAccess", got)
		}
		topics := asList(p["SnsTopicArns"])
		var pipelineTopic bool
		var arns []string
		for _, tp := range topics {
			if ref, ok := dig(tp, "Ref").(string); ok {
				pipelineTopic = dig(s.resources(t, "Pipeline", "AWS::SNS::Topic")[ref], "Properties", "TopicName") == cfg.PipelinePrefix()+"-releases"
			} else {
				arns = append(arns, flattenJoin(t, tp))
			}
		}
		if !pipelineTopic {
			t.Errorf("SnsTopicArns %s lack the pipeline's topic", compact(topics))
		}
		for _, env := range cfg.Environments() {
			suffix := ":" + cfg.ResourcePrefix(env) + stacks.AlarmTopicSuffix
			if !slices.ContainsFunc(arns, func(a string) bool { return strings.HasPrefix(a, "arn:") && strings.HasSuffix(a, suffix) }) {
				t.Errorf("SnsTopicArns %v lack %s's alarm topic", arns, env.Name)
			}
		}
		roleID := fmt.Sprint(asList(dig(p, "IamRoleArn", "Fn::GetAtt"))[0])
		role := s.resources(t, "Pipeline", "AWS::IAM::Role")[roleID]
		if dig(role, "Properties", "AssumeRolePolicyDocument", "Statement") == nil ||
			!strings.Contains(compact(dig(role, "Properties", "AssumeRolePolicyDocument")), "chatbot.amazonaws.com") ||
			dig(role, "Properties", "ManagedPolicyArns") != nil || dig(role, "Properties", "Policies") != nil {
			t.Errorf("channel role %s: want chatbot.amazonaws.com's, without policies", compact(role))
		}
		for logical, pol := range s.resources(t, "Pipeline", "AWS::IAM::Policy") {
			if containsValue(asList(dig(pol, "Properties", "Roles")), map[string]any{"Ref": roleID}) {
				t.Errorf("policy %s attached to the channel role", logical)
			}
		}
	}
}

// withoutLatencyAlarms is an ECS service's alarm configuration without the
// p99 alarms' names.
func withoutLatencyAlarms(v any) any {
	m := map[string]any{}
	for k, x := range asMap(v) {
		m[k] = x
	}
	var names []any
	for _, n := range asList(m["AlarmNames"]) {
		if !strings.HasSuffix(fmt.Sprint(n), "-p99") {
			names = append(names, n)
		}
	}
	m["AlarmNames"] = names
	return m
}

// A latency threshold below a millisecond is refused, by the construct.
func TestServiceConstructRefusesASubMillisecondLatency(t *testing.T) {
	problems := serviceProblems(t, &bluegreen.ServiceProps{
		Vpc:                 svc.vpc,
		NamePrefix:          jsii.String("svc-lat"),
		LatencyP99Threshold: awscdk.Duration_Millis(jsii.Number(0)),
	})
	if len(problems) != 1 || !strings.HasPrefix(problems[0], "LatencyP99Threshold 0 millis: must be at least 1 millisecond") {
		t.Errorf("problems %q, want only the latency threshold's", problems)
	}
}
