package test

import (
	"fmt"
	"strings"
	"testing"

	"ecs-bluegreen/rules"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// dataTypes hold data that outlives a deployment: what the retention rules
// are about.
var dataTypes = []string{"AWS::S3::Bucket", "AWS::ECR::Repository", "AWS::KMS::Key", "AWS::Logs::LogGroup"}

// TestDataIsKeptWhereItMatters proves the retention design with cdk.json's
// defaults: production and the pipeline keep their buckets, repository, keys
// and log groups when their stack is deleted or a resource is replaced
// (DeletionPolicy and UpdateReplacePolicy Retain); staging is disposable
// (Delete), and its buckets are emptied first so that deletion succeeds.
//
// Contract home: what the app's stacks keep when deleted or replaced.
func TestDataIsKeptWhereItMatters(t *testing.T) {
	want := map[string]string{"Staging": "Delete", "Production": "Retain", "Pipeline": "Retain"}
	for _, id := range app.StackIDs() {
		policy, ok := want[id]
		if !ok {
			t.Errorf("stack %s: no retention expectation; add it here", id)
			continue
		}
		counts := map[string]int{}
		for _, typ := range dataTypes {
			for logical, r := range resources(t, id, typ) {
				counts[typ]++
				for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
					if got := fmt.Sprint(r[attr]); got != policy {
						t.Errorf("%s/%s (%s): %s %s, want %s", id, logical, typ, attr, got, policy)
					}
				}
			}
		}
		t.Logf("%s: %v with %s", id, counts, policy)
		if counts["AWS::S3::Bucket"] == 0 || counts["AWS::KMS::Key"] == 0 || counts["AWS::Logs::LogGroup"] == 0 {
			t.Errorf("%s: %v; expected buckets, keys and log groups", id, counts)
		}
		if id == "Pipeline" && counts["AWS::ECR::Repository"] != 1 {
			t.Errorf("Pipeline: %d repositories, want 1", counts["AWS::ECR::Repository"])
		}

		// A bucket that is deleted with its stack is emptied by CDK's
		// auto-delete custom resource; a retained one never is.
		emptied := map[string]bool{}
		for _, r := range resources(t, id, "Custom::S3AutoDeleteObjects") {
			emptied[fmt.Sprint(dig(r, "Properties", "BucketName", "Ref"))] = true
		}
		for logical := range resources(t, id, "AWS::S3::Bucket") {
			if (policy == "Delete") != emptied[logical] {
				t.Errorf("%s/%s: emptied before deletion = %v, want %v", id, logical, emptied[logical], policy == "Delete")
			}
		}
		for logical, r := range resources(t, id, "AWS::ECR::Repository") {
			if dig(r, "Properties", "EmptyOnDelete") == true && policy == "Retain" {
				t.Errorf("%s/%s: a retained repository must not be emptied on delete", id, logical)
			}
		}
	}
}

// TestLoadBalancerDeletionProtection proves that a load balancer whose
// service keeps its data (RemovalPolicy RETAIN) cannot be deleted by
// accident, and a disposable one can: in the app, production is protected
// and staging is not; in the construct test, the service left to its
// default RemovalPolicy is protected, and the one with DESTROY is not.
//
// Contract home: load balancer deletion protection. No other test asserts it.
func TestLoadBalancerDeletionProtection(t *testing.T) {
	for _, c := range []struct {
		what      string
		tpl       assertions.Template
		name      string
		protected bool
	}{
		{"app, production", template(t, "Production"), app.Config.ResourcePrefix(&app.Config.Production), true},
		{"app, staging", template(t, "Staging"), app.Config.ResourcePrefix(&app.Config.Staging), false},
		{"construct, default RemovalPolicy", svc.tpl, "plain-svc", true},
		{"construct, RemovalPolicy DESTROY", svc.tpl, "tls-svc", false},
	} {
		t.Run(c.what, func(t *testing.T) {
			var lb map[string]any
			for logical, r := range templateResources(t, c.tpl) {
				if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer" && dig(r, "Properties", "Name") == c.name {
					if lb != nil {
						t.Fatalf("two load balancers named %s", c.name)
					}
					lb = r
					t.Logf("%s: %s", logical, compact(dig(r, "Properties", "LoadBalancerAttributes")))
				}
			}
			if lb == nil {
				t.Fatalf("no load balancer named %s", c.name)
			}
			var values []string
			for _, a := range asList(dig(lb, "Properties", "LoadBalancerAttributes")) {
				if dig(a, "Key") == "deletion_protection.enabled" {
					values = append(values, fmt.Sprint(dig(a, "Value")))
				}
			}
			if want := fmt.Sprint(c.protected); len(values) != 1 || values[0] != want {
				t.Errorf("deletion_protection.enabled = %v, want exactly one, %s", values, want)
			}
		})
	}
}

// TestEveryTargetGroupHealthChecks proves that every target group checks its
// targets' health on a path, with a success range, a timeout shorter than
// the interval, and thresholds, so that a broken task is taken out and a
// release that does not answer rolls back.
func TestEveryTargetGroupHealthChecks(t *testing.T) {
	for id := range environments() {
		groups := resources(t, id, "AWS::ElasticLoadBalancingV2::TargetGroup")
		if len(groups) != 2 {
			t.Errorf("%s: %d target groups, want blue and green", id, len(groups))
		}
		for logical, tg := range groups {
			p := dig(tg, "Properties")
			where := id + "/" + logical
			if dig(p, "HealthCheckEnabled") == false {
				t.Errorf("%s: health check disabled", where)
			}
			if path, _ := dig(p, "HealthCheckPath").(string); path == "" || path[0] != '/' {
				t.Errorf("%s: HealthCheckPath %v, want a path", where, dig(p, "HealthCheckPath"))
			}
			if dig(p, "Matcher", "HttpCode") == nil {
				t.Errorf("%s: no success codes (Matcher.HttpCode)", where)
			}
			interval, _ := dig(p, "HealthCheckIntervalSeconds").(float64)
			timeout, _ := dig(p, "HealthCheckTimeoutSeconds").(float64)
			if interval == 0 || timeout == 0 || timeout >= interval {
				t.Errorf("%s: interval %v s, timeout %v s; want both, timeout < interval", where, interval, timeout)
			}
			for _, k := range []string{"HealthyThresholdCount", "UnhealthyThresholdCount"} {
				if n, _ := dig(p, k).(float64); n < 2 {
					t.Errorf("%s: %s %v, want at least 2", where, k, dig(p, k))
				}
			}
		}
	}
}

// TestDeploymentGroupsRollBackOnAlarms proves automatic rollback in both
// environments: each has one deployment group, which rolls back on a failed
// deployment, a stopped one and an alarm; its alarm configuration is enabled
// and lists only alarms of its own stack; and among them are a 5xx alarm
// and an unhealthy-host alarm on the blue AND on the green target group,
// with the statistic, period and evaluation periods of the rules package.
//
// Contract home: deployment-group auto-rollback and the alarms it watches.
// (How long a deployment stays open for them: TestDeploymentStaysOpenUntilAlarmsCanFire.)
func TestDeploymentGroupsRollBackOnAlarms(t *testing.T) {
	for id, env := range environments() {
		t.Run(id, func(t *testing.T) {
			groups := resources(t, id, "AWS::CodeDeploy::DeploymentGroup")
			if len(groups) != 1 {
				t.Fatalf("%d deployment groups, want 1", len(groups))
			}
			alarms := resources(t, id, "AWS::CloudWatch::Alarm")
			for logical, dg := range groups {
				p := dig(dg, "Properties")
				if dig(p, "AutoRollbackConfiguration", "Enabled") != true {
					t.Errorf("%s: automatic rollback not enabled", logical)
				}
				events := sortedStrings(asList(dig(p, "AutoRollbackConfiguration", "Events")))
				if got, want := fmt.Sprint(events), "[DEPLOYMENT_FAILURE DEPLOYMENT_STOP_ON_ALARM DEPLOYMENT_STOP_ON_REQUEST]"; got != want {
					t.Errorf("%s: rollback events %s, want %s", logical, got, want)
				}
				if dig(p, "AlarmConfiguration", "Enabled") != true {
					t.Errorf("%s: alarm configuration not enabled", logical)
				}
				wired := map[string]bool{}
				watched := asList(dig(p, "AlarmConfiguration", "Alarms"))
				if len(watched) < 2 {
					t.Errorf("%s: %d alarms, want the rollback alarms", logical, len(watched))
				}
				for _, a := range watched {
					ref := fmt.Sprint(dig(a, "Name", "Ref"))
					if _, ok := alarms[ref]; !ok {
						t.Errorf("%s: alarm %v is not an alarm of the stack", logical, a)
					}
					wired[ref] = true
				}

				prefix := app.Config.ResourcePrefix(env)
				for _, color := range []string{"blue", "green"} {
					tgID := logicalID(t, id, "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"Name": prefix + "-" + color})
					for metric, stat := range map[string]string{"HTTPCode_Target_5XX_Count": "Sum", "UnHealthyHostCount": "Maximum"} {
						found := false
						for alarmID, a := range alarms {
							ap := asMap(a["Properties"])
							if ap["MetricName"] != metric || !strings.Contains(fmt.Sprint(ap["Dimensions"]), tgID) {
								continue
							}
							found = true
							if ap["Statistic"] != stat || ap["Period"] != float64(rules.AlarmPeriodSeconds) || ap["EvaluationPeriods"] != float64(rules.AlarmEvaluationPeriods) {
								t.Errorf("alarm %s on %s: statistic/period/evaluation = %v/%v/%v", metric, color, ap["Statistic"], ap["Period"], ap["EvaluationPeriods"])
							}
							if !wired[alarmID] {
								t.Errorf("alarm %s on the %s target group is not in the deployment group's AlarmConfiguration", metric, color)
							}
						}
						if !found {
							t.Errorf("no %s alarm watches the %s target group", metric, color)
						}
					}
				}
			}
		})
	}
}

// TestEveryLogGroupHasRetention proves that no log group in any stack keeps
// its logs forever: each sets RetentionInDays, to the configured days (the
// environments' logRetentionDays; the pipeline's build logs a year).
//
// Contract home: log retention in the app. (The construct props LogRetention
// are tested with the constructs.)
func TestEveryLogGroupHasRetention(t *testing.T) {
	want := map[string]float64{
		"Staging":    float64(app.Config.Staging.LogRetentionDays),
		"Production": float64(app.Config.Production.LogRetentionDays),
		"Pipeline":   365,
	}
	total := 0
	for _, id := range app.StackIDs() {
		for logical, lg := range resources(t, id, "AWS::Logs::LogGroup") {
			total++
			days, ok := dig(lg, "Properties", "RetentionInDays").(float64)
			if !ok || days != want[id] {
				t.Errorf("%s/%s: RetentionInDays %v, want %v", id, logical, dig(lg, "Properties", "RetentionInDays"), want[id])
			}
		}
	}
	if total < 7 {
		t.Errorf("only %d log groups found; the walk is broken", total)
	}
}

// TestTeardownEmptiesLogBucketsAfterTheirWriters proves that staging's
// teardown cannot fail on log objects delivered after a bucket was emptied:
// CloudFormation deletes the load balancer before it empties the access-log
// bucket, and empties the server-access-log bucket (which receives S3's
// logs of that emptying) only after the access-log bucket's emptying.
func TestTeardownEmptiesLogBucketsAfterTheirWriters(t *testing.T) {
	res := allResources(t, "Staging")
	emptying := map[string]string{} // bucket logical ID -> its emptying custom resource
	for logical, r := range resources(t, "Staging", "Custom::S3AutoDeleteObjects") {
		emptying[fmt.Sprint(dig(r, "Properties", "BucketName", "Ref"))] = logical
	}
	accessLogs := logicalID(t, "Staging", "AWS::S3::Bucket", map[string]any{
		"LoggingConfiguration": map[string]any{"DestinationBucketName": assertions.Match_AnyValue()},
		"BucketEncryption":     obj(map[string]any{"ServerSideEncryptionConfiguration": arrayWith(obj(map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}))}),
	})
	serverLogs := fmt.Sprint(dig(res[accessLogs], "Properties", "LoggingConfiguration", "DestinationBucketName", "Ref"))
	alb := logicalID(t, "Staging", "AWS::ElasticLoadBalancingV2::LoadBalancer", nil)
	for _, c := range []struct{ what, dependent, emptying string }{
		{"the load balancer is deleted before its access-log bucket is emptied", alb, emptying[accessLogs]},
		{"the access-log bucket is emptied before the bucket of its server access logs", emptying[accessLogs], emptying[serverLogs]},
	} {
		if c.emptying == "" || c.dependent == "" {
			t.Errorf("%s: missing resource (emptying %v)", c.what, emptying)
			continue
		}
		if !containsValue(asList(dig(res[c.dependent], "DependsOn")), c.emptying) {
			t.Errorf("%s: %s does not depend on %s", c.what, c.dependent, c.emptying)
		}
	}
}
