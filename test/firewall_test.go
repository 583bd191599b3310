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
	managed := func(name string, priority int) interface{} {
		return obj(map[string]interface{}{
			"Name": name, "Priority": priority,
			"Statement":      map[string]interface{}{"ManagedRuleGroupStatement": map[string]interface{}{"VendorName": "AWS", "Name": name}},
			"OverrideAction": map[string]interface{}{"None": map[string]interface{}{}},
		})
	}
	checkRequirementsOn(t, template(t, "Production"), []requirement{
		{"regional web ACL allowing by default, with the managed rule groups and the rate limit", "AWS::WAFv2::WebACL", obj(map[string]interface{}{
			"Name": prefix, "Scope": "REGIONAL", "DefaultAction": map[string]interface{}{"Allow": map[string]interface{}{}},
			"Rules": []interface{}{
				managed("AWSManagedRulesCommonRuleSet", 0),
				managed("AWSManagedRulesKnownBadInputsRuleSet", 1),
				managed("AWSManagedRulesAmazonIpReputationList", 2),
				obj(map[string]interface{}{
					"Name": "RateLimitPerAddress", "Priority": 3, "Action": map[string]interface{}{"Block": map[string]interface{}{}},
					"Statement": map[string]interface{}{"RateBasedStatement": map[string]interface{}{
						"Limit": env.WafRateLimit, "AggregateKeyType": "IP", "EvaluationWindowSec": 300,
					}},
				}),
			},
		})},
		{"the web ACL is associated with the load balancer", "AWS::WAFv2::WebACLAssociation", obj(map[string]interface{}{
			"ResourceArn": map[string]interface{}{"Ref": logicalID(t, "Production", "AWS::ElasticLoadBalancingV2::LoadBalancer", nil)},
			"WebACLArn":   map[string]interface{}{"Fn::GetAtt": []interface{}{logicalID(t, "Production", "AWS::WAFv2::WebACL", nil), "Arn"}},
		})},
		// Its retention, the environment's: TestEveryLogGroupHasRetention.
		{"WAF logs to an aws-waf-logs- log group with the environment's key", "AWS::Logs::LogGroup", obj(map[string]interface{}{
			"LogGroupName": "aws-waf-logs-" + prefix,
			"KmsKeyId":     map[string]interface{}{"Fn::GetAtt": []interface{}{logicalID(t, "Production", "AWS::KMS::Key", nil), "Arn"}},
		})},
		{"the logging configuration names that log group, without the trailing :*", "AWS::WAFv2::LoggingConfiguration", obj(map[string]interface{}{
			"LogDestinationConfigs": []interface{}{map[string]interface{}{"Fn::Join": []interface{}{"", arrayWith(":log-group:", map[string]interface{}{
				"Ref": logicalID(t, "Production", "AWS::Logs::LogGroup", map[string]interface{}{"LogGroupName": "aws-waf-logs-" + prefix}),
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
			template(t, id).HasResourceProperties(jsii.String("AWS::EC2::SecurityGroup"), obj(map[string]interface{}{
				"GroupDescription":    assertions.Match_StringLikeRegexp(jsii.String("tasks: container port from the load balancer only")),
				"SecurityGroupEgress": []interface{}{obj(map[string]interface{}{"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"})},
			}))
		})
	}
}
