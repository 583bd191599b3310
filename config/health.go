package config

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

// latencyP99Defaults is the default p99 latency rollback threshold of each
// environment, in milliseconds (0: no latency alarm). Staging carries the
// test traffic of every release, whose latency says little; production rolls
// back a release whose slowest requests take a second.
var latencyP99Defaults = map[string]int{"staging": 0, "production": 1000}

// maxLatencyP99Ms bounds latencyP99Ms: a load balancer waits for a response
// at most its idle timeout, which Elastic Load Balancing accepts up to 4000
// seconds (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout).
const maxLatencyP99Ms = 4000 * 1000

// Slack's identifiers (AWS::Chatbot::SlackChannelConfiguration,
// SlackWorkspaceId and SlackChannelId,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-chatbot-slackchannelconfiguration.html):
// a workspace (team) id starts with T, a channel id with C (G for an older
// private channel), followed by upper-case letters and digits.
var (
	slackWorkspaceRe = regexp.MustCompile(`^T[0-9A-Z]{8,254}$`)
	slackChannelRe   = regexp.MustCompile(`^[CG][0-9A-Z]{8,254}$`)
)

// readHealth reads an environment's alarm keys: the p99 latency rollback
// threshold and the address its alarm topic e-mails.
func readHealth(r *reader, k func(string) string, e *Environment) {
	e.LatencyP99Ms = r.integer(k("latencyP99Ms"), latencyP99Defaults[e.Name],
		"p99 target response time, in milliseconds, that on either target group for two minutes running rolls a deployment back; 0: no latency alarm.",
		func(n int) string {
			if n < 0 || n > maxLatencyP99Ms {
				return fmt.Sprintf("must be 0 (no latency alarm) or 1 to %d milliseconds", maxLatencyP99Ms)
			}
			return ""
		})
	e.AlarmEmail = r.str(k("alarmEmail"), "",
		"E-mail address subscribed to the environment's alarm topic (every alarm's ALARM and OK). Empty: no subscription.", checkEmail)
}

// readChat reads the Slack channel that AWS Chatbot posts the pipeline's
// and the environments' notifications to: both keys, or neither.
func readChat(r *reader, c *Config) {
	c.SlackWorkspaceId = r.str("slackWorkspaceId", "",
		"Slack workspace id (T...) authorized in the AWS Chatbot console. With slackChannelId: AWS Chatbot posts approvals, failures and alarms there. Empty: no Chatbot.",
		optional(slackWorkspaceRe, "must be a Slack workspace id such as T0123ABCD (T, then upper-case letters and digits), or empty"))
	c.SlackChannelId = r.str("slackChannelId", "",
		"Slack channel id (C...) AWS Chatbot posts to; the AWS Chatbot app must be invited to a private channel. Empty: no Chatbot.",
		optional(slackChannelRe, "must be a Slack channel id such as C0123ABCD (C or G, then upper-case letters and digits), or empty"))
	if (c.SlackWorkspaceId == "") != (c.SlackChannelId == "") {
		if c.SlackChannelId == "" {
			r.fail("slackChannelId", c.SlackChannelId, "must be set with slackWorkspaceId (both or neither)")
		} else {
			r.fail("slackWorkspaceId", c.SlackWorkspaceId, "must be set with slackChannelId (both or neither)")
		}
	}
}

// Chat reports whether a Slack channel is configured.
func (c *Config) Chat() bool { return c.SlackWorkspaceId != "" && c.SlackChannelId != "" }

// ChatsAbout reports whether the Slack channel, which lives in the pipeline's
// account, posts an environment's alarms: only when the environment is in
// that account too. An AWS Chatbot channel configuration subscribes to
// topics of its own account; no AWS page documents a subscription to a
// topic of another account, so none is attempted.
func (c *Config) ChatsAbout(env *Environment) bool {
	return c.Chat() && c.Accounts.Of(env) == c.Accounts.Pipeline
}

// chatAcrossAccounts warns, for each environment whose alarms the Slack
// channel cannot post, how to get them there.
func (c *Config) chatAcrossAccounts() []string {
	var warnings []string
	for _, env := range c.Environments() {
		if c.Chat() && !c.ChatsAbout(env) {
			warnings = append(warnings, fmt.Sprintf("slackChannelId: the channel is in the pipeline's account %s and posts its approvals and failures only, not the alarms of %s (account %s); "+
				"subscribe a channel configuration in that account to its topic %s-alarms", c.Accounts.Pipeline, env.Name, c.Accounts.Of(env), c.ResourcePrefix(env)))
		}
	}
	return warnings
}

// checkEmail accepts an empty value or one plain address with a dotted domain.
func checkEmail(s string) string {
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return "must be a plain e-mail address such as ops@example.com, or empty"
	}
	return ""
}
