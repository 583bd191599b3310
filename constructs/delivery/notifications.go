package delivery

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	cwactions "github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	targets "github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	subscriptions "github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/trust"
)

// How failed executions reach the topic, and what happens when they cannot:
//
//   - The failure rule publishes through a role of its own (FailureRole),
//     which only EventBridge acting for this rule in this account may
//     assume. No service principal is trusted by the topic or key policy for
//     it: a resource policy would let every rule of every account's
//     EventBridge publish, and the SNS guide says that aws:SourceArn and
//     aws:SourceAccount are not supported in a key policy on that path.
//   - EventBridge retries a failed delivery for up to failureMaxEventAgeH
//     hours (failureRetryAttempts at most), then parks the notice in a dead-letter
//     queue that keeps it 14 days. Deliveries refused for permissions skip the
//     retries and go to the queue at once.
//   - An alarm on that queue announces on the topic that a notice was not
//     delivered. CloudWatch publishes as its service principal, limited to
//     this alarm in the topic policy and to this topic's data keys in the key
//     policy; it does not depend on the rule's role, so a broken role is
//     announced too.

// topicSuffix ends the physical name of the topic.
const topicSuffix = "-releases"

// buildTopic creates the topic of approval requests and failures.
func (p *pipeline) buildTopic(r resolved, name func(string) *string) {
	p.topic = awssns.NewTopic(p.Construct, jsii.String("Topic"), &awssns.TopicProps{
		TopicName:   name(topicSuffix),
		DisplayName: jsii.String(fmt.Sprintf("%s releases", r.prefix)),
		MasterKey:   p.key,
		EnforceSSL:  jsii.Bool(true),
	})
	if r.email != "" {
		p.topic.AddSubscription(subscriptions.NewEmailSubscription(jsii.String(r.email), nil))
	}
}

// failureRuleSuffix ends the physical name of the failure rule. The name is
// fixed so that its ARN, which the rule's role trusts, needs no reference to
// the rule (the rule refers to the role: a reference back would be a cycle).
const failureRuleSuffix = "-failures"

// maxRuleName is EventBridge's limit on a rule name.
const maxRuleName = 64

const (
	// failureRetryAttempts and failureMaxEventAgeH bound EventBridge's retries
	// of a failure notice, whichever comes first: a notice an hour late is
	// still worth its email; past that, the alarm on the dead-letter queue
	// says that notices are not getting through.
	failureRetryAttempts = 20
	failureMaxEventAgeH  = 1
	// failureRetentionDays is how long the dead-letter queue keeps a notice:
	// SQS's maximum.
	failureRetentionDays = 14
)

// announceFailures creates the rule that announces failed executions on the
// topic, the role it publishes through, its dead-letter queue and the alarm
// on that queue.
func (p *pipeline) announceFailures(r resolved, name func(string) *string) {
	this := p.Construct
	stack := awscdk.Stack_Of(this)
	ruleName := name(failureRuleSuffix)
	ruleArn := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("events"), Resource: jsii.String("rule"), ResourceName: ruleName,
		ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})

	// EventBridge user guide, "Cross-service confused deputy prevention in
	// Amazon EventBridge": for event bus rule targets, aws:SourceArn is the
	// rule's ARN.
	conditions := trust.Conditions(stack, ruleArn)
	p.failureRole = awsiam.NewRole(this, jsii.String("FailureNotificationRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewPrincipalWithConditions(awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil), &conditions),
		Description: jsii.String(fmt.Sprintf("%s pipeline: EventBridge publishes failed executions to the releases topic", r.prefix)),
	})
	// What the SNS developer guide lists for a publisher to an encrypted
	// topic ("Allow a user to send messages to a topic with SSE"): sns:Publish
	// on the topic, kms:GenerateDataKey and kms:Decrypt on its key. The
	// target is given the topic by ARN: on the topic itself CDK's grant would
	// add kms:GenerateDataKey*, which names more than the publish needs.
	p.key.Grant(p.failureRole, jsii.String("kms:GenerateDataKey"), jsii.String("kms:Decrypt"))
	byArn := awssns.Topic_FromTopicArn(this, jsii.String("FailureNotificationTopic"), p.topic.TopicArn())

	p.failureQueue = awssqs.NewQueue(this, jsii.String("FailureNotificationDeadLetterQueue"), &awssqs.QueueProps{
		// SSE-SQS: a queue under the pipeline key would need the key policy
		// to trust events.amazonaws.com for the dead-letter delivery.
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(failureRetentionDays)),
		RemovalPolicy:   r.removal,
	})
	suppressEventBridgeDeadLetterQueue(p.failureQueue)

	// The target adds the queue policy: events.amazonaws.com may send, for
	// this rule's ARN only (aws:SourceArn).
	p.failureRule = p.pipeline.OnStateChange(jsii.String("FailureNotification"), &awsevents.OnEventOptions{
		RuleName:    ruleName,
		Description: jsii.String(fmt.Sprintf("%s pipeline: announce failed executions", r.prefix)),
		EventPattern: &awsevents.EventPattern{
			Detail: &map[string]any{"state": []any{"FAILED"}},
		},
		Target: targets.NewSnsTopic(byArn, &targets.SnsTopicProps{
			Message: awsevents.RuleTargetInput_FromText(jsii.String(fmt.Sprintf(
				"Pipeline %s: execution %s failed. Open the pipeline in the CodePipeline console to see the failed action.",
				*awsevents.EventField_FromPath(jsii.String("$.detail.pipeline")),
				*awsevents.EventField_FromPath(jsii.String("$.detail.execution-id"))))),
			Role:            p.failureRole,
			RetryAttempts:   jsii.Number(failureRetryAttempts),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(failureMaxEventAgeH)),
			DeadLetterQueue: p.failureQueue,
		}),
	})
	// The environment of a topic given by ARN is unresolved, so CDK cannot
	// tell that it is this stack's; it is.
	awscdk.Annotations_Of(p.failureRule).AcknowledgeWarning(jsii.String("@aws-cdk/aws-events:ruleUnresolvedEnvironment"),
		jsii.String("the target topic is this stack's own, given by its ARN"))

	p.failureAlarm = awscloudwatch.NewAlarm(this, jsii.String("FailureNotificationDeadLetterAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf(
			"%s pipeline: a failure notice could not be delivered to the releases topic and waits in the dead-letter queue (kept %d days). "+
				"Read it there (its ERROR_CODE attribute says why), fix the cause (the rule's role, the topic or its key), then delete it.",
			r.prefix, failureRetentionDays)),
		Metric: p.failureQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(1)),
			Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	p.failureAlarm.AddAlarmAction(cwactions.NewSnsAction(p.topic))

	// CloudWatch user guide, "Notifying users on alarm changes", preventing
	// confused deputy: aws:SourceArn is the alarm's ARN, with aws:SourceAccount.
	p.topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmOnUndeliveredFailures"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{p.topic.TopicArn()},
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": p.failureAlarm.AlarmArn()},
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	// SNS developer guide, "Enable compatibility between event sources from
	// AWS services and encrypted topics": the service principal needs the
	// data-key actions in the key policy. AWS documents the source keys for
	// the topic policy only, so here the key is limited to this topic's data
	// keys by the encryption context SNS gives KMS (the topic's ARN); a
	// source condition KMS might not receive would silence the alarm. The
	// ARN is built from the topic's fixed name: the topic refers to the key.
	p.key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublishToTheTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:EncryptionContext:aws:sns:topicArn": stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("sns"), Resource: name(topicSuffix),
			})},
		},
	}), nil)
}
