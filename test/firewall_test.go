package test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestProductionLoadBalancerIsBehindAFirewall proves the web application
// firewall requirement: production's internet-facing load balancer (every
// listener) sits behind a regional WAF web ACL running AWS's managed rule
// groups and a per-address rate limit, logging to a log group whose name
// WAF accepts, with the environment's key; staging has none
// by default (production.waf true, staging.waf false).
func TestProductionLoadBalancerIsBehindAFirewall(t *testing.T) {
	env := app.Config.Production
	prefix := app.Config.ResourcePrefix(&env)
	managed := func(name string, priority int) any {
		return obj(map[string]any{
			"Name": name, "Priority": priority,
			"Statement":      map[string]any{"ManagedRuleGroupStatement": map[string]any{"VendorName": "AWS", "Name": name}},
			"OverrideAction": map[string]any{"None": map[string]any{}},
		})
	}
	checkRequirementsOn(t, template(t, "Production"), []requirement{
		{"regional web ACL allowing by default, with the managed rule groups and the rate limit", "AWS::WAFv2::WebACL", obj(map[string]any{
			"Name": prefix, "Scope": "REGIONAL", "DefaultAction": map[string]any{"Allow": map[string]any{}},
			"Rules": []any{
				managed("AWSManagedRulesCommonRuleSet", 0),
				managed("AWSManagedRulesKnownBadInputsRuleSet", 1),
				managed("AWSManagedRulesAmazonIpReputationList", 2),
				obj(map[string]any{
					"Name": "RateLimitPerAddress", "Priority": 3, "Action": map[string]any{"Block": map[string]any{}},
					"Statement": map[string]any{"RateBasedStatement": map[string]any{
						"Limit": env.WafRateLimit, "AggregateKeyType": "IP", "EvaluationWindowSec": 300,
					}},
				}),
			},
		})},
		{"the web ACL is associated with the load balancer", "AWS::WAFv2::WebACLAssociation", obj(map[string]any{
			"ResourceArn": map[string]any{"Ref": logicalID(t, "Production", "AWS::ElasticLoadBalancingV2::LoadBalancer", nil)},
			"WebACLArn":   map[string]any{"Fn::GetAtt": []any{logicalID(t, "Production", "AWS::WAFv2::WebACL", nil), "Arn"}},
		})},
		// Its retention, the environment's: TestEveryLogGroupHasRetention.
		{"WAF logs to an aws-waf-logs- log group with the environment's key", "AWS::Logs::LogGroup", obj(map[string]any{
			"LogGroupName": "aws-waf-logs-" + prefix,
			"KmsKeyId":     map[string]any{"Fn::GetAtt": []any{logicalID(t, "Production", "AWS::KMS::Key", map[string]any{"Description": prefix + ": encrypts the CloudWatch Logs log groups"}), "Arn"}},
		})},
		{"the logging configuration names that log group, without the trailing :*", "AWS::WAFv2::LoggingConfiguration", obj(map[string]any{
			"LogDestinationConfigs": []any{map[string]any{"Fn::Join": []any{"", arrayWith(":log-group:", map[string]any{
				"Ref": logicalID(t, "Production", "AWS::Logs::LogGroup", map[string]any{"LogGroupName": "aws-waf-logs-" + prefix}),
			})}}},
		})},
	})
	check(t, func() { template(t, "Staging").ResourceCountIs(jsii.String("AWS::WAFv2::WebACL"), jsii.Number(0)) })
}

// TestTasksMayReachAnythingByDefault proves the documented egress default
// (taskEgress all): the tasks' security group allows all outbound traffic.
// The day-two test's configuration narrows it (see dayTwoChanges).
func TestTasksMayReachAnythingByDefault(t *testing.T) {
	for _, id := range []string{"Staging", "Production"} {
		check(t, func() {
			template(t, id).HasResourceProperties(jsii.String("AWS::EC2::SecurityGroup"), obj(map[string]any{
				"GroupDescription":    assertions.Match_StringLikeRegexp(jsii.String("tasks: container port from the load balancer only")),
				"SecurityGroupEgress": []any{obj(map[string]any{"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"})},
			}))
		})
	}
}
