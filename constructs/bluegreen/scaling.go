package bluegreen

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"
)

// Scaling cooldowns: scale out within a minute of a sustained breach, scale
// in only after five quiet minutes, so that a task-set swap does not make
// the count oscillate.
const (
	scaleOutCooldownSeconds = 60
	scaleInCooldownSeconds  = 300
)

// buildScaling hands the task count to Application Auto Scaling: a scalable
// target between MinCapacity and MaxCapacity, with target tracking on the
// service's average CPU and on load balancer requests per task. The service
// itself names no desired count, so that no `cdk deploy` ever resets what
// the scaler chose.
func (s *service) buildScaling(r resolved) {
	this := s.Construct
	// The scalable target references the cluster and service names, so
	// CloudFormation registers it only once the service exists. It names no
	// role: Application Auto Scaling then uses its service-linked role for
	// ECS, which it creates on the first registration (CDK's L2 would
	// create a role of its own with "*" resources).
	s.scaling = awsapplicationautoscaling.NewCfnScalableTarget(this, jsii.String("ScalableTarget"), &awsapplicationautoscaling.CfnScalableTargetProps{
		ServiceNamespace:  jsii.String("ecs"),
		ScalableDimension: jsii.String("ecs:service:DesiredCount"),
		ResourceId:        jsii.String(fmt.Sprintf("service/%s/%s", *s.cluster.ClusterName(), *s.svc.ServiceName())),
		MinCapacity:       jsii.Number(r.minCapacity),
		MaxCapacity:       jsii.Number(r.maxCapacity),
	})
	s.targetTracking("CpuScaling", r.prefix+"-cpu", r.cpuTarget, &awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingScalingPolicyConfigurationProperty{
		PredefinedMetricSpecification: &awsapplicationautoscaling.CfnScalingPolicy_PredefinedMetricSpecificationProperty{
			PredefinedMetricType: jsii.String("ECSServiceAverageCPUUtilization"),
		},
	})

	// Requests per task over BOTH target groups. The release engine moves
	// production traffic from one target group to the other on every
	// release, so a policy on one group's RequestCountPerTarget would see
	// its traffic vanish after a swap and scale the service in. CDK's
	// target-tracking policy takes a single metric, so the metric math is
	// written on the L1 resource.
	lb := s.alb.LoadBalancerFullName()
	queries := []any{}
	for _, m := range []struct {
		id, metric, stat string
		group            elbv2.ApplicationTargetGroup
	}{
		{"requestsblue", "RequestCount", "Sum", s.blue},
		{"requestsgreen", "RequestCount", "Sum", s.green},
		{"healthyblue", "HealthyHostCount", "Average", s.blue},
		{"healthygreen", "HealthyHostCount", "Average", s.green},
	} {
		queries = append(queries, &awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingMetricDataQueryProperty{
			Id: jsii.String(m.id),
			MetricStat: &awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingMetricStatProperty{
				Metric: &awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingMetricProperty{
					Namespace:  jsii.String("AWS/ApplicationELB"),
					MetricName: jsii.String(m.metric),
					Dimensions: &[]any{
						&awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingMetricDimensionProperty{Name: jsii.String("LoadBalancer"), Value: lb},
						&awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingMetricDimensionProperty{Name: jsii.String("TargetGroup"), Value: m.group.TargetGroupFullName()},
					},
				},
				Stat: jsii.String(m.stat),
			},
			ReturnData: jsii.Bool(false),
		})
	}
	// A target group without targets publishes no datapoints: FILL counts
	// them as zero, so the sum exists whichever group serves.
	queries = append(queries, &awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingMetricDataQueryProperty{
		Id:         jsii.String("requestspertask"),
		Label:      jsii.String("Requests per healthy task, both target groups"),
		Expression: jsii.String("(FILL(requestsblue, 0) + FILL(requestsgreen, 0)) / (FILL(healthyblue, 0) + FILL(healthygreen, 0))"),
		ReturnData: jsii.Bool(true),
	})
	s.targetTracking("RequestScaling", r.prefix+"-requests", r.requestsPerTarget, &awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingScalingPolicyConfigurationProperty{
		CustomizedMetricSpecification: &awsapplicationautoscaling.CfnScalingPolicy_CustomizedMetricSpecificationProperty{
			Metrics: &queries,
		},
	})
}

// targetTracking adds a target-tracking policy on the scalable target that
// keeps config's metric at target, with the cooldowns above.
func (s *service) targetTracking(id, name string, target float64, config *awsapplicationautoscaling.CfnScalingPolicy_TargetTrackingScalingPolicyConfigurationProperty) {
	config.TargetValue = jsii.Number(target)
	config.ScaleOutCooldown = jsii.Number(scaleOutCooldownSeconds)
	config.ScaleInCooldown = jsii.Number(scaleInCooldownSeconds)
	awsapplicationautoscaling.NewCfnScalingPolicy(s.Construct, jsii.String(id), &awsapplicationautoscaling.CfnScalingPolicyProps{
		PolicyName:                               jsii.String(name),
		PolicyType:                               jsii.String("TargetTrackingScaling"),
		ScalingTargetId:                          s.scaling.Ref(),
		TargetTrackingScalingPolicyConfiguration: config,
	})
}
