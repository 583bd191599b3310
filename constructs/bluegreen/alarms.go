package bluegreen

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"
)

// buildAlarms creates the rollback alarms: target 5xx responses and
// unhealthy hosts, on each target group.
func (s *service) buildAlarms(r resolved, name func(string) *string) {
	this := s.Construct
	for _, tg := range []struct {
		id    string
		group elbv2.ApplicationTargetGroup
	}{{"Blue", s.blue}, {"Green", s.green}} {
		// CodeDeploy alternates which target group holds the new version, so
		// both are watched.
		fiveXX := tg.group.Metrics().HttpCodeTarget(elbv2.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{
			Period:    r.alarmPeriod,
			Statistic: jsii.String("Sum"),
		})
		unhealthy := tg.group.Metrics().Custom(jsii.String("UnHealthyHostCount"), &awscloudwatch.MetricOptions{
			Period:    r.alarmPeriod,
			Statistic: jsii.String("Maximum"),
		})
		lower := map[string]string{"Blue": "blue", "Green": "green"}[tg.id]
		s.alarms = append(s.alarms,
			awscloudwatch.NewAlarm(this, jsii.String(tg.id+"5xxAlarm"), &awscloudwatch.AlarmProps{
				AlarmName:          name("-" + lower + "-5xx"),
				AlarmDescription:   jsii.String(fmt.Sprintf("Target 5xx responses on the %s target group; rolls back a deployment in progress", lower)),
				Metric:             fiveXX,
				Threshold:          jsii.Number(r.threshold),
				EvaluationPeriods:  jsii.Number(r.evaluation),
				DatapointsToAlarm:  jsii.Number(r.evaluation),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			}),
			awscloudwatch.NewAlarm(this, jsii.String(tg.id+"UnhealthyHostsAlarm"), &awscloudwatch.AlarmProps{
				AlarmName:          name("-" + lower + "-unhealthy"),
				AlarmDescription:   jsii.String(fmt.Sprintf("Unhealthy targets in the %s target group; rolls back a deployment in progress", lower)),
				Metric:             unhealthy,
				Threshold:          jsii.Number(1),
				EvaluationPeriods:  jsii.Number(r.evaluation),
				DatapointsToAlarm:  jsii.Number(r.evaluation),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			}),
		)
	}
}
