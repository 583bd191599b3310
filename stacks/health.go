package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awschatbot"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	subscriptions "github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/internal/keypolicy"
)

// AlarmTopicSuffix ends the fixed name of an environment's alarm topic. The
// name is fixed so that the pipeline stack's Chatbot configuration names the
// topic by its ARN, not by a cross-stack reference (see constructs/delivery,
// names.go), and so that the key policy can name the topic, which refers to
// the key.
const AlarmTopicSuffix = "-alarms"

// alarmTopicArn is the ARN of an environment's alarm topic, in stack's
// partition, account and region.
func alarmTopicArn(stack awscdk.Stack, prefix string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("sns"), Resource: jsii.String(prefix + AlarmTopicSuffix)})
}

// newAlarmTopic creates the environment's alarm topic, encrypted with a key
// of its own, that every alarm of the environment (named "<prefix>-...")
// publishes its ALARM and OK states to, with the environment's alarm e-mail
// subscribed when one is configured.
func newAlarmTopic(stack awscdk.Stack, env *config.Environment, prefix string, removal awscdk.RemovalPolicy) awssns.Topic {
	key := awskms.NewKey(stack, jsii.String("AlarmsKey"), &awskms.KeyProps{
		Alias:             jsii.String("alias/" + prefix + AlarmTopicSuffix),
		Description:       jsii.String(fmt.Sprintf("%s: encrypts the alarm topic", prefix)),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	key.AddToResourcePolicy(keypolicy.GrantsOnlyForAwsResources(), nil)
	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		TopicName:   jsii.String(prefix + AlarmTopicSuffix),
		DisplayName: jsii.String(fmt.Sprintf("%s alarms", prefix)),
		MasterKey:   key,
		// A Deny of every request not sent over TLS (aws:SecureTransport).
		EnforceSSL: jsii.Bool(true),
	})
	alarms := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String(prefix + "-*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	// CloudWatch user guide, "Using Amazon CloudWatch alarms", preventing
	// confused deputy (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html):
	// cloudwatch.amazonaws.com publishes, limited by aws:SourceArn to this
	// environment's alarms and by aws:SourceAccount to this account.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": alarms},
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	// SNS developer guide, "Enable compatibility between event sources from
	// AWS services and encrypted topics"
	// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services):
	// the publishing service principal needs kms:GenerateDataKey and
	// kms:Decrypt in the key policy. The statement is limited to this topic's
	// data keys by the encryption context SNS gives KMS (the topic's ARN).
	// Subscribers need no key access: SNS decrypts a message before it
	// delivers it, to e-mail as to AWS Chatbot's endpoint.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublishToTheTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:EncryptionContext:aws:sns:topicArn": alarmTopicArn(stack, prefix)},
		},
	}), nil)
	if env.AlarmEmail != "" {
		topic.AddSubscription(subscriptions.NewEmailSubscription(jsii.String(env.AlarmEmail), nil))
	}
	return topic
}

// latencyThreshold is the environment's p99 latency rollback threshold, nil
// for none.
func latencyThreshold(env *config.Environment) awscdk.Duration {
	if env.LatencyP99Ms == 0 {
		return nil
	}
	return awscdk.Duration_Millis(jsii.Number(float64(env.LatencyP99Ms)))
}

// ChatbotSuffix ends the name of the Slack channel configuration.
const ChatbotSuffix = "-slack"

// addChatbot creates, when a Slack channel is configured, the AWS Chatbot
// configuration that posts the pipeline topic's approvals and failures and
// every environment's alarms to it. The environment topics are named by
// their fixed ARNs. Chatbot subscribes to each topic itself (AWS Chatbot
// administrator guide, "Setting up AWS Chatbot with Slack",
// https://docs.aws.amazon.com/chatbot/latest/adminguide/slack-setup.html).
//
// The channel role has no policy: posting notifications needs none, and
// nobody in the channel can run commands through it. The guardrail, which
// caps what any role used from the channel may do, is ReadOnlyAccess:
// without one, CloudFormation applies AdministratorAccess
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-chatbot-slackchannelconfiguration.html).
func addChatbot(stack awscdk.Stack, cfg *config.Config, pipelineTopic awssns.ITopic, environments ...*ServiceStack) {
	if !cfg.Chat() {
		return
	}
	topics := []awssns.ITopic{pipelineTopic}
	for i, e := range environments {
		env := cfg.Environments()[i]
		if !cfg.ChatsAbout(env) {
			continue // in another account (config warns)
		}
		topics = append(topics, awssns.Topic_FromTopicArn(stack, jsii.String(fmt.Sprintf("AlarmTopic%d", i)), alarmTopicArn(e.Stack, cfg.ResourcePrefix(env))))
	}
	role := awsiam.NewRole(stack, jsii.String("ChatbotRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("chatbot.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("%s: AWS Chatbot's channel role, with no permissions: the channel receives notifications only", cfg.PipelinePrefix())),
	})
	awschatbot.NewSlackChannelConfiguration(stack, jsii.String("Chatbot"), &awschatbot.SlackChannelConfigurationProps{
		SlackChannelConfigurationName: jsii.String(cfg.PipelinePrefix() + ChatbotSuffix),
		SlackWorkspaceId:              jsii.String(cfg.SlackWorkspaceId),
		SlackChannelId:                jsii.String(cfg.SlackChannelId),
		Role:                          role,
		GuardrailPolicies:             &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("ReadOnlyAccess"))},
		NotificationTopics:            &topics,
		LoggingLevel:                  awschatbot.LoggingLevel_ERROR,
	})
}
