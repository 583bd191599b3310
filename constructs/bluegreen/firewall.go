package bluegreen

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/jsii-runtime-go"
)

// FirewallProps configures the web application firewall in front of the
// load balancer.
type FirewallProps struct {
	// RateLimit is how many requests one client address may send in five
	// minutes before the firewall blocks it; WAF accepts 10 to 2,000,000,000.
	// Default: 2000.
	RateLimit *float64
}

// wafManagedRuleGroups are AWS's managed rule groups the firewall runs, in
// priority order: OWASP-style common rules, request patterns known to be
// malicious, and addresses Amazon's threat intelligence reports.
var wafManagedRuleGroups = []string{
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesAmazonIpReputationList",
}

// buildFirewall puts a regional WAF web ACL in front of the load balancer
// (every listener: production, redirect and test) and logs its decisions to
// a log group whose name WAF accepts ("aws-waf-logs-" prefix), kept and
// encrypted like the environment's other logs. Load balancer health checks
// go from the load balancer to the targets and never pass through it.
func (s *service) buildFirewall(p *FirewallProps, r resolved) {
	if p == nil {
		return
	}
	this := s.Construct
	limit := orFloat(p.RateLimit, 2000)
	visibility := func(metric string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true),
			SampledRequestsEnabled:   jsii.Bool(true),
			MetricName:               jsii.String(metric),
		}
	}
	rules := []any{}
	for i, group := range wafManagedRuleGroups {
		rules = append(rules, &awswafv2.CfnWebACL_RuleProperty{
			Name:     jsii.String(group),
			Priority: jsii.Number(float64(i)),
			Statement: &awswafv2.CfnWebACL_StatementProperty{
				ManagedRuleGroupStatement: &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{
					VendorName: jsii.String("AWS"), Name: jsii.String(group),
				},
			},
			// The group's own actions apply (block what it matches).
			OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
			VisibilityConfig: visibility(group),
		})
	}
	rules = append(rules, &awswafv2.CfnWebACL_RuleProperty{
		Name:     jsii.String("RateLimitPerAddress"),
		Priority: jsii.Number(float64(len(wafManagedRuleGroups))),
		Statement: &awswafv2.CfnWebACL_StatementProperty{
			RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
				Limit:               jsii.Number(limit),
				AggregateKeyType:    jsii.String("IP"),
				EvaluationWindowSec: jsii.Number(300),
			},
		},
		Action:           &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}},
		VisibilityConfig: visibility("RateLimitPerAddress"),
	})
	webAcl := awswafv2.NewCfnWebACL(this, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Name:             jsii.String(r.prefix),
		Description:      jsii.String(fmt.Sprintf("%s: AWS managed rules and %v requests per 5 minutes per address", r.prefix, limit)),
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		Rules:            &rules,
		VisibilityConfig: visibility(r.prefix),
	})
	awswafv2.NewCfnWebACLAssociation(this, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: s.alb.LoadBalancerArn(),
		WebAclArn:   webAcl.AttrArn(),
	})
	logs := awslogs.NewLogGroup(this, jsii.String("WebAclLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("aws-waf-logs-" + r.prefix),
		Retention:     r.retention,
		RemovalPolicy: r.removal,
		EncryptionKey: r.logKey,
	})
	// WAF takes the log group's ARN without the ":*" that LogGroupArn ends with.
	awswafv2.NewCfnLoggingConfiguration(this, jsii.String("WebAclLogging"), &awswafv2.CfnLoggingConfigurationProps{
		ResourceArn:           webAcl.AttrArn(),
		LogDestinationConfigs: &[]any{logGroupArnWithoutStar(logs)},
	})
}

// logGroupArnWithoutStar is a log group's ARN in the form WAF logging accepts.
func logGroupArnWithoutStar(lg awslogs.LogGroup) *string {
	return awscdk.Stack_Of(lg).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("logs"), Resource: jsii.String("log-group"),
		ResourceName: lg.LogGroupName(), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}
