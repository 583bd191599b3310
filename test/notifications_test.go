package test

import (
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/delivery"
)

// How a pipeline failure reaches the approvers, and only theirs: the failure
// rule publishes through a role that only EventBridge acting for that rule
// may assume; no topic or key policy trusts EventBridge; an undelivered
// notice waits in a dead-letter queue whose alarm announces it.

// failureWiring is what a pipeline builds to announce failed executions, as
// synthesized: each resource's logical ID and template entry.
type failureWiring struct {
	name                                 string
	stack                                awscdk.Stack
	resources                            map[string]map[string]any
	rule, role, queue, alarm, topic, key string
	target                               map[string]any
	wantRetention                        string
}

func (w failureWiring) resource(logical string) map[string]any { return w.resources[logical] }

// failureWirings returns the failure wiring of the app's pipeline (kept on
// delete, as cdk.json configures) and of the construct test's two pipelines
// (RemovalPolicy left to its default, and DESTROY).
func failureWirings(t *testing.T) []failureWiring {
	t.Helper()
	var out []failureWiring
	for _, c := range []struct {
		name      string
		stack     awscdk.Stack
		tpl       assertions.Template
		p         delivery.Pipeline
		retention string
	}{
		{"app", app.System.Pipeline.Stack, template(t, pipelineID), app.System.Pipeline.Pipeline, "Retain"},
		{"construct, default RemovalPolicy", dlv.stack, dlv.tpl, dlv.plain, "Retain"},
		{"construct, RemovalPolicy DESTROY", dlv.stack, dlv.tpl, dlv.custom, "Delete"},
	} {
		w := failureWiring{name: c.name, stack: c.stack, wantRetention: c.retention}
		w.resources = templateResources(t, c.tpl)
		if c.p.FailureRole() == nil || c.p.FailureDeadLetterQueue() == nil || c.p.FailureDeadLetterAlarm() == nil {
			t.Fatalf("%s: FailureRole, FailureDeadLetterQueue and FailureDeadLetterAlarm must be set", c.name)
		}
		w.rule = logicalOf(c.p.FailureRule())
		w.role = logicalOf(c.p.FailureRole())
		w.queue = logicalOf(c.p.FailureDeadLetterQueue())
		w.alarm = logicalOf(c.p.FailureDeadLetterAlarm())
		w.topic = logicalOf(c.p.Topic())
		w.key = logicalOf(c.p.Key())
		targets := asList(dig(w.resource(w.rule), "Properties", "Targets"))
		if len(targets) != 1 {
			t.Fatalf("%s: the failure rule has %d targets, want the topic alone", c.name, len(targets))
		}
		w.target, _ = targets[0].(map[string]any)
		if !reflect.DeepEqual(w.target["Arn"], map[string]any{"Ref": w.topic}) {
			t.Fatalf("%s: the failure rule's target is %s, want the topic", c.name, compact(w.target["Arn"]))
		}
		out = append(out, w)
	}
	return out
}

// principalServices are the service principals a statement names.
func principalServices(st any) []string {
	var out []string
	for _, s := range asList(dig(st, "Principal", "Service")) {
		if s != nil {
			out = append(out, fmt.Sprint(s))
		}
	}
	return out
}

// TestNoTopicOrKeyPolicyTrustsEventBridge proves that no statement of any
// topic policy or key policy, in any template this package synthesizes,
// names events.amazonaws.com: a resource policy cannot tell this account's
// failure rule from any other rule of any account, and AWS documents no
// source condition that would (SNS: the source keys are not supported in a
// key policy on EventBridge's path to an encrypted topic).
func TestNoTopicOrKeyPolicyTrustsEventBridge(t *testing.T) {
	seen := map[string]int{}
	for name, tpl := range synthesizedTemplates(t) {
		res := templateResources(t, tpl)
		for logical, r := range res {
			var doc any
			switch typ := dig(r, "Type"); typ {
			case "AWS::SNS::TopicPolicy":
				doc = dig(r, "Properties", "PolicyDocument")
			case "AWS::KMS::Key":
				doc = dig(r, "Properties", "KeyPolicy")
			default:
				continue
			}
			seen[fmt.Sprint(dig(r, "Type"))]++
			for i, st := range asList(dig(doc, "Statement")) {
				for _, s := range principalServices(st) {
					if s == "events.amazonaws.com" {
						t.Errorf("%s/%s: statement %d (%v) trusts %s: %s", name, logical, i, dig(st, "Sid"), s, compact(st))
					}
				}
			}
		}
	}
	t.Logf("policies checked: %v", seen)
	if seen["AWS::SNS::TopicPolicy"] < 3 || seen["AWS::KMS::Key"] < 3 {
		t.Fatalf("only %v checked; want the topic policy and key of the app's and both construct pipelines", seen)
	}
}

// TestFailureRulePublishesThroughItsOwnRole proves that the failure rule
// publishes through a role of its own, which only EventBridge may assume,
// only for this account (aws:SourceAccount) and this rule (aws:SourceArn,
// the rule's ARN), and which may do no more than publish to the topic:
// sns:Publish on the topic, kms:GenerateDataKey and kms:Decrypt on its key.
func TestFailureRulePublishesThroughItsOwnRole(t *testing.T) {
	for _, w := range failureWirings(t) {
		t.Run(w.name, func(t *testing.T) {
			if !reflect.DeepEqual(w.target["RoleArn"], map[string]any{"Fn::GetAtt": []any{w.role, "Arn"}}) {
				t.Fatalf("the target publishes as %s, want the rule's role %s", compact(w.target["RoleArn"]), w.role)
			}
			ruleName := fmt.Sprint(dig(w.resource(w.rule), "Properties", "Name"))
			ruleArn := w.stack.Resolve(w.stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("events"), Resource: jsii.String("rule"), ResourceName: jsii.String(ruleName),
				ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			}))
			role := w.resource(w.role)
			trust := asList(dig(role, "Properties", "AssumeRolePolicyDocument", "Statement"))
			if len(trust) != 1 {
				t.Fatalf("the role's trust policy has %d statements, want 1: %s", len(trust), compact(trust))
			}
			st := trust[0]
			want := map[string]any{
				"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"Service": "events.amazonaws.com"},
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}},
					"ArnLike":      map[string]any{"aws:SourceArn": ruleArn},
				},
			}
			if !reflect.DeepEqual(normalize(st), normalize(want)) {
				t.Errorf("trust policy\n  got  %s\n  want %s (EventBridge acting for rule %s of this account only)", compact(st), compact(want), ruleName)
			}
			for _, prop := range []string{"ManagedPolicyArns", "Policies", "PermissionsBoundary"} {
				if v := dig(role, "Properties", prop); v != nil {
					t.Errorf("the role has %s %s; its one policy is the publish", prop, compact(v))
				}
			}
			var got []string
			for logical, r := range w.resources {
				if dig(r, "Type") != "AWS::IAM::Policy" && dig(r, "Type") != "AWS::IAM::ManagedPolicy" {
					continue
				}
				attached := false
				for _, ref := range asList(dig(r, "Properties", "Roles")) {
					attached = attached || reflect.DeepEqual(ref, map[string]any{"Ref": w.role})
				}
				if !attached {
					continue
				}
				for _, st := range asList(dig(r, "Properties", "PolicyDocument", "Statement")) {
					var actions []string
					for _, a := range asList(dig(st, "Action")) {
						actions = append(actions, fmt.Sprint(a))
					}
					sort.Strings(actions)
					got = append(got, fmt.Sprintf("%v %v on %s", dig(st, "Effect"), actions, compact(dig(st, "Resource"))))
				}
				t.Logf("%s: %v", logical, got)
			}
			sort.Strings(got)
			wantPolicy := []string{
				fmt.Sprintf("Allow [kms:Decrypt kms:GenerateDataKey] on %s", compact(map[string]any{"Fn::GetAtt": []any{w.key, "Arn"}})),
				fmt.Sprintf("Allow [sns:Publish] on %s", compact(map[string]any{"Ref": w.topic})),
			}
			if !reflect.DeepEqual(got, wantPolicy) {
				t.Errorf("the role may\n  %v\nwant exactly\n  %v", got, wantPolicy)
			}
		})
	}
}

// queueRetentionSeconds is SQS's longest retention, 14 days.
const queueRetentionSeconds = 14 * 24 * 3600

// TestFailureNoticesAreNeverLost proves that a failure notice EventBridge
// cannot deliver is retried, then kept: the target has a retry policy and a
// dead-letter queue; the queue is encrypted, TLS-only, kept 14 days and kept
// on delete like the pipeline's other data, and only this rule may send to
// it; an alarm announces on the topic any notice in the queue, and the topic
// and key let CloudWatch publish for that alarm only.
func TestFailureNoticesAreNeverLost(t *testing.T) {
	for _, w := range failureWirings(t) {
		t.Run(w.name, func(t *testing.T) {
			retry := dig(w.target, "RetryPolicy")
			attempts, _ := dig(retry, "MaximumRetryAttempts").(float64)
			age, _ := dig(retry, "MaximumEventAgeInSeconds").(float64)
			// EventBridge API reference, RetryPolicy: 0-185 attempts, 60-86400 seconds.
			if attempts < 1 || attempts > 185 || age < 60 || age > 86400 {
				t.Errorf("retry policy %s: want both limits set, at least one retry", compact(retry))
			}
			if !reflect.DeepEqual(dig(w.target, "DeadLetterConfig", "Arn"), map[string]any{"Fn::GetAtt": []any{w.queue, "Arn"}}) {
				t.Fatalf("dead-letter queue %s, want %s", compact(dig(w.target, "DeadLetterConfig")), w.queue)
			}

			queue := w.resource(w.queue)
			props, _ := dig(queue, "Properties").(map[string]any)
			if props["SqsManagedSseEnabled"] != true && props["KmsMasterKeyId"] == nil {
				t.Errorf("the queue is not encrypted: %s", compact(props))
			}
			if props["SqsManagedSseEnabled"] == false {
				t.Errorf("SSE-SQS switched off: %s", compact(props))
			}
			if got, _ := props["MessageRetentionPeriod"].(float64); got != queueRetentionSeconds {
				t.Errorf("the queue keeps messages %v seconds, want 14 days (%d)", props["MessageRetentionPeriod"], queueRetentionSeconds)
			}
			for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
				if got := fmt.Sprint(queue[attr]); got != w.wantRetention {
					t.Errorf("the queue's %s is %s, want %s as the pipeline's other data", attr, got, w.wantRetention)
				}
			}

			var tlsOnly, allows int
			policies := 0
			for _, r := range w.resources {
				if dig(r, "Type") != "AWS::SQS::QueuePolicy" || !containsValue(asList(dig(r, "Properties", "Queues")), map[string]any{"Ref": w.queue}) {
					continue
				}
				policies++
				for _, st := range asList(dig(r, "Properties", "PolicyDocument", "Statement")) {
					switch dig(st, "Effect") {
					case "Deny":
						if dig(st, "Condition", "Bool", "aws:SecureTransport") == "false" && dig(st, "Action") == "sqs:*" {
							tlsOnly++
						}
					case "Allow":
						allows++
						want := map[string]any{
							"Principal": map[string]any{"Service": "events.amazonaws.com"},
							"Action":    "sqs:SendMessage",
							"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": map[string]any{"Fn::GetAtt": []any{w.rule, "Arn"}}}},
						}
						for k, v := range want {
							if !reflect.DeepEqual(normalize(dig(st, k)), normalize(v)) {
								t.Errorf("queue policy allows %s: %s = %s, want %s (EventBridge, for this rule only)", compact(st), k, compact(dig(st, k)), compact(v))
							}
						}
					}
				}
			}
			if policies != 1 || tlsOnly != 1 || allows != 1 {
				t.Errorf("%d queue policies with %d TLS-only denials and %d allows; want one policy: deny without TLS, allow this rule", policies, tlsOnly, allows)
			}

			alarm := dig(w.resource(w.alarm), "Properties")
			wantAlarm := map[string]any{
				"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
				"Dimensions":         []any{map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{w.queue, "QueueName"}}}},
				"ComparisonOperator": "GreaterThanThreshold", "Threshold": 0.0, "EvaluationPeriods": 1.0,
				"AlarmActions": []any{map[string]any{"Ref": w.topic}},
			}
			for k, v := range wantAlarm {
				if !reflect.DeepEqual(normalize(dig(alarm, k)), normalize(v)) {
					t.Errorf("alarm %s = %s, want %s (any message in the queue, announced on the topic)", k, compact(dig(alarm, k)), compact(v))
				}
			}

			var topicPolicy any
			for _, r := range w.resources {
				if dig(r, "Type") == "AWS::SNS::TopicPolicy" && containsValue(asList(dig(r, "Properties", "Topics")), map[string]any{"Ref": w.topic}) {
					topicPolicy = dig(r, "Properties", "PolicyDocument")
				}
			}
			checkCloudWatchStatements(t, "topic policy", topicPolicy, map[string]any{
				"Action":   "sns:Publish",
				"Resource": map[string]any{"Ref": w.topic},
				"Condition": map[string]any{
					"ArnLike":      map[string]any{"aws:SourceArn": map[string]any{"Fn::GetAtt": []any{w.alarm, "Arn"}}},
					"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}},
				},
			})
			topicArn := w.stack.Resolve(w.stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("sns"), Resource: jsii.String(fmt.Sprint(dig(w.resource(w.topic), "Properties", "TopicName"))),
			}))
			checkCloudWatchStatements(t, "key policy", dig(w.resource(w.key), "Properties", "KeyPolicy"), map[string]any{
				"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey"},
				"Resource":  "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:aws:sns:topicArn": topicArn}},
			})
		})
	}
}

// checkCloudWatchStatements asserts that a policy has exactly one statement
// naming cloudwatch.amazonaws.com, an Allow with the given fields.
func checkCloudWatchStatements(t *testing.T, what string, doc any, want map[string]any) {
	t.Helper()
	n := 0
	for _, st := range asList(dig(doc, "Statement")) {
		named := false
		for _, s := range principalServices(st) {
			named = named || s == "cloudwatch.amazonaws.com"
		}
		if !named {
			continue
		}
		n++
		if dig(st, "Effect") != "Allow" {
			t.Errorf("%s: %s", what, compact(st))
		}
		for k, v := range want {
			got := dig(st, k)
			if k == "Action" {
				got = sortedStrings(asList(got))
				v = sortedStrings(asList(v))
			}
			if !reflect.DeepEqual(normalize(got), normalize(v)) {
				t.Errorf("%s: CloudWatch's %s = %s, want %s", what, k, compact(got), compact(v))
			}
		}
	}
	if n != 1 {
		t.Errorf("%s: %d statements for cloudwatch.amazonaws.com, want 1", what, n)
	}
}
