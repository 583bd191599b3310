package bluegreen

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	cwactions "github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

// DashboardSuffix ends the fixed name of the service's dashboard.
const DashboardSuffix = "-health"

// targetGroups are the two target groups, in the order the dashboard and
// the alarms list them.
func (s *service) targetGroups() []struct {
	id, lower string
	group     elbv2.ApplicationTargetGroup
} {
	return []struct {
		id, lower string
		group     elbv2.ApplicationTargetGroup
	}{{"Blue", "blue", s.blue}, {"Green", "green", s.green}}
}

// checkHealth reports a latency threshold below a millisecond.
func checkHealth(p *ServiceProps) []error {
	if p.LatencyP99Threshold == nil || *p.LatencyP99Threshold.IsUnresolved() {
		return nil
	}
	if ms := *p.LatencyP99Threshold.ToMilliseconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)}); ms < 1 {
		return []error{fmt.Errorf("LatencyP99Threshold %s: must be at least 1 millisecond", *p.LatencyP99Threshold.ToHumanString())}
	}
	return nil
}

// buildLatencyAlarms adds a p99 target response time alarm on each target
// group to the rollback alarms, with the period and evaluation of the
// others (so the deployment stays open long enough for it as for them).
// TargetResponseTime is in seconds (Elastic Load Balancing user guide,
// "CloudWatch metrics for your Application Load Balancer",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
func (s *service) buildLatencyAlarms(r resolved, name func(string) *string) {
	if r.latency == nil {
		return
	}
	seconds := *r.latency.ToMilliseconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)}) / 1000
	for _, tg := range s.targetGroups() {
		s.alarms = append(s.alarms, awscloudwatch.NewAlarm(s.Construct, jsii.String(tg.id+"LatencyP99Alarm"), &awscloudwatch.AlarmProps{
			AlarmName: name("-" + tg.lower + "-p99"),
			AlarmDescription: jsii.String(fmt.Sprintf("p99 target response time on the %s target group over %s; rolls back a deployment in progress",
				tg.lower, *r.latency.ToHumanString())),
			Metric: tg.group.Metrics().TargetResponseTime(&awscloudwatch.MetricOptions{
				Period:    r.alarmPeriod,
				Statistic: jsii.String("p99"),
			}),
			Threshold:          jsii.Number(seconds),
			EvaluationPeriods:  jsii.Number(r.evaluation),
			DatapointsToAlarm:  jsii.Number(r.evaluation),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}))
	}
}

// notify makes every alarm of the service announce its ALARM and OK states
// on topic. The topic's policy (and its key's, when encrypted) must let
// CloudWatch publish: CloudWatch user guide, "Using Amazon CloudWatch
// alarms", actions
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
func (s *service) notify(topic awssns.ITopic) {
	if topic == nil {
		return
	}
	action := cwactions.NewSnsAction(topic)
	for _, a := range s.alarms {
		alarm := a.(awscloudwatch.Alarm)
		alarm.AddAlarmAction(action)
		alarm.AddOkAction(action)
	}
}

// buildDashboard creates the service's dashboard: traffic, errors, latency
// and healthy hosts of the blue and the green target group side by side
// (during a release one holds the new version, the other the old), the
// service's CPU and memory and its task counts, and the deployments: the
// ECS deployment and task set counts (two while a release runs) and the
// state of every rollback alarm.
func (s *service) buildDashboard(r resolved, name func(string) *string) {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	var requests, latency, hosts []awscloudwatch.IWidget
	for _, tg := range s.targetGroups() {
		m := tg.group.Metrics()
		requests = append(requests, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(fmt.Sprintf("Requests and target 5xx (%s)", tg.lower)),
			Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{m.RequestCount(&awscloudwatch.MetricOptions{
				Period: minute, Statistic: jsii.String("Sum"), Label: jsii.String("requests"),
			})},
			Right: &[]awscloudwatch.IMetric{m.HttpCodeTarget(elbv2.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{
				Period: minute, Statistic: jsii.String("Sum"), Label: jsii.String("target 5xx"),
			})},
		}))
		var annotations *[]*awscloudwatch.HorizontalAnnotation
		if r.latency != nil {
			annotations = &[]*awscloudwatch.HorizontalAnnotation{{
				Value: jsii.Number(*r.latency.ToMilliseconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)}) / 1000),
				Label: jsii.String("p99 rollback threshold"),
			}}
		}
		latency = append(latency, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(fmt.Sprintf("Target response time, seconds (%s)", tg.lower)),
			Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{
				m.TargetResponseTime(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("p50"), Label: jsii.String("p50")}),
				m.TargetResponseTime(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("p99"), Label: jsii.String("p99")}),
			},
			LeftAnnotations: annotations,
		}))
		hosts = append(hosts, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(fmt.Sprintf("Healthy and unhealthy targets (%s)", tg.lower)),
			Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{
				m.HealthyHostCount(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Minimum"), Label: jsii.String("healthy")}),
				m.UnhealthyHostCount(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Maximum"), Label: jsii.String("unhealthy")}),
			},
		}))
	}

	// The service's metrics by the cluster's and the service's fixed names.
	// AWS/ECS: CPUUtilization and MemoryUtilization per service (Amazon ECS
	// developer guide, "Amazon ECS CloudWatch metrics",
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html).
	// ECS/ContainerInsights, with Container Insights enabled on the cluster:
	// RunningTaskCount, DesiredTaskCount, DeploymentCount and TaskSetCount
	// per ClusterName and ServiceName (CloudWatch user guide, "Amazon ECS
	// Container Insights metrics",
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html).
	dimensions := &map[string]*string{"ClusterName": name(""), "ServiceName": name("")}
	metric := func(namespace, metricName, statistic, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(namespace), MetricName: jsii.String(metricName), DimensionsMap: dimensions,
			Period: minute, Statistic: jsii.String(statistic), Label: jsii.String(label),
		})
	}
	service := []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Service CPU and memory utilization, percent"),
			Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{
				metric("AWS/ECS", "CPUUtilization", "Average", "CPU"),
				metric("AWS/ECS", "MemoryUtilization", "Average", "memory"),
			},
			LeftYAxis: &awscloudwatch.YAxisProps{Min: jsii.Number(0), Max: jsii.Number(100)},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Tasks"),
			Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{
				metric("ECS/ContainerInsights", "RunningTaskCount", "Average", "running"),
				metric("ECS/ContainerInsights", "DesiredTaskCount", "Average", "desired"),
			},
		}),
	}
	deployments := []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Deployments (a release in progress: two)"),
			Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{
				metric("ECS/ContainerInsights", "DeploymentCount", "Maximum", "deployments"),
				metric("ECS/ContainerInsights", "TaskSetCount", "Maximum", "task sets"),
			},
		}),
		awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title:  jsii.String("Rollback alarms (any in ALARM rolls a release in progress back)"),
			Width:  jsii.Number(12),
			Alarms: alarmRefs(s.alarms),
		}),
	}
	s.dashboard = awscloudwatch.NewDashboard(s.Construct, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   name(DashboardSuffix),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
		Widgets:         &[]*[]awscloudwatch.IWidget{&requests, &latency, &hosts, &service, &deployments},
	})
}
