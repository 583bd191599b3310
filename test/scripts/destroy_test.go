package scripts

import (
	"fmt"
	"testing"
)

// The fixture assembly's stacks and load balancers, and what the stand-in
// account holds for them.
var (
	stackOf = map[string]string{"Pipeline": "shop-qa-pipeline", "Production": "shop-qa-production", "Staging": "shop-qa-staging"}
	lbOf    = map[string]string{"Production": "shop-prd-qa", "Staging": "shop-stg-qa"}
	arnOf   = map[string]string{
		"Production": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-prd-qa/50dc6c495c0c9188",
		"Staging":    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-stg-qa/8e2a1b3c4d5e6f70",
	}
	// The physical ids list-stack-resources reports for the stacks that retain something.
	resourcesOf = map[string]string{
		"Pipeline": "DeliveryKey9B966447\t3c9a1f2e-7b6d-4e5f-8a9b-0c1d2e3f4a5b\n" +
			"DeliveryArtifactBucket4CF61278\tshop-qa-pipeline-deliveryartifactbucket-1x2y3z\n" +
			"DeliveryRepository526789E8\tshop-qa\n" +
			"DeliveryPipelineE8584D71\tshop-qa\n",
		"Production": "LogsKeyA6AB43B2\t9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a\n" +
			"ServiceLoadBalancer31A7DB79\t" + "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-prd-qa/50dc6c495c0c9188" + "\n" +
			"ServiceAccessLogsBucket62005DA8\tshop-qa-production-serviceaccesslogsbucket-9k8j7h\n" +
			"ServiceLogGroupB910EE76\t/ecs/shop-prd-qa\n" +
			"ServiceTaskDefinition5E1A3AB1\tarn:aws:ecs:eu-west-1:123456789012:task-definition/shop-prd-qa:1\n",
	}
)

// keptLine is one line of the list of what stays behind.
func keptLine(id, typ, what string) string {
	return fmt.Sprintf("  %-24s %-22s %s", stackOf[id], typ, what)
}

var (
	keptPipeline = []string{
		keptLine("Pipeline", "AWS::KMS::Key", "3c9a1f2e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"),
		keptLine("Pipeline", "AWS::S3::Bucket", "shop-qa-pipeline-deliveryartifactbucket-1x2y3z"),
		keptLine("Pipeline", "AWS::ECR::Repository", "shop-qa (fixed name)"),
	}
	keptProduction = []string{
		keptLine("Production", "AWS::KMS::Key", "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"),
		keptLine("Production", "AWS::S3::Bucket", "shop-qa-production-serviceaccesslogsbucket-9k8j7h"),
		keptLine("Production", "AWS::Logs::LogGroup", "/ecs/shop-prd-qa (fixed name)"),
	}
	keptHeader = "destroy: these stay in the account (DeletionPolicy Retain) until you delete them yourself:"
)

func synth(args ...string) call {
	return call{argv: append([]string{"cdk", "synth", "--quiet", "--output", "cdk.out"}, args...)}
}

// stackStatus answers describe-stacks; an empty status: the stack does not exist.
func stackStatus(id, status string) call {
	c := call{argv: []string{"aws", "cloudformation", "describe-stacks", "--region", region, "--stack-name", stackOf[id],
		"--query", "Stacks[0].StackStatus", "--output", "text"}}
	if status == "" {
		c.stderr, c.code = awsError("ValidationError", "DescribeStacks", "Stack with id "+stackOf[id]+" does not exist")
	} else {
		c.stdout = status + "\n"
	}
	return c
}

// loadBalancer answers describe-load-balancers; found false: no such load balancer.
func loadBalancer(id string, found bool) call {
	c := call{argv: []string{"aws", "elbv2", "describe-load-balancers", "--region", region, "--names", lbOf[id],
		"--query", "LoadBalancers[0].LoadBalancerArn", "--output", "text"}}
	if found {
		c.stdout = arnOf[id] + "\n"
	} else {
		c.stderr, c.code = awsError("LoadBalancerNotFound", "DescribeLoadBalancers", "Load balancers '["+lbOf[id]+"]' not found")
	}
	return c
}

func protection(id, value string) call {
	return call{
		argv: []string{"aws", "elbv2", "describe-load-balancer-attributes", "--region", region, "--load-balancer-arn", arnOf[id],
			"--query", "Attributes[?Key=='deletion_protection.enabled'].Value | [0]", "--output", "text"},
		stdout: value + "\n",
	}
}

func resources(id string) call {
	return call{
		argv: []string{"aws", "cloudformation", "list-stack-resources", "--region", region, "--stack-name", stackOf[id],
			"--query", "StackResourceSummaries[].[LogicalResourceId,PhysicalResourceId]", "--output", "text"},
		stdout: resourcesOf[id],
	}
}

func unprotect(id string) call {
	return call{
		argv: []string{"aws", "elbv2", "modify-load-balancer-attributes", "--region", region, "--load-balancer-arn", arnOf[id],
			"--attributes", "Key=deletion_protection.enabled,Value=false",
			"--query", "Attributes[?Key=='deletion_protection.enabled'].Value | [0]", "--output", "text"},
		stdout: "false\n",
	}
}

func cdkDestroy(id string) call {
	return call{argv: []string{"cdk", "destroy", "--app", "cdk.out", "--force", "--exclusively", id}}
}

// checks is every read-only call of a run where all three stacks exist, with
// production's and staging's deletion protection as given.
func checks(production, staging string) []call {
	return calls(synth(),
		stackStatus("Pipeline", "UPDATE_COMPLETE"), stackStatus("Production", "UPDATE_COMPLETE"), stackStatus("Staging", "UPDATE_COMPLETE"),
		loadBalancer("Production", true), protection("Production", production),
		loadBalancer("Staging", true), protection("Staging", staging),
		resources("Pipeline"), resources("Production"))
}

// stopLines is what a stop on a protected load balancer says, in order.
func stopLines(id, env string) []string {
	return []string{
		"destroy: " + env + "'s load balancer " + lbOf[id] + " (stack " + stackOf[id] + ") has deletion protection:",
		"destroy: CloudFormation cannot delete it, so deleting the stacks would stop half-way. Nothing was deleted.",
		"destroy: either turn the protection off and run make destroy again:",
		"  aws elbv2 modify-load-balancer-attributes --region eu-west-1 --load-balancer-arn " + arnOf[id] + " --attributes Key=deletion_protection.enabled,Value=false",
		"  make destroy",
		"destroy: or let make destroy turn it off itself, just before it deletes " + stackOf[id] + ":",
		"  make destroy CONFIRM_" + map[string]string{"Production": "PRODUCTION", "Staging": "STAGING"}[id] + "=delete",
	}
}

func join(parts ...[]string) []string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestDestroy(t *testing.T) {
	failedDestroy := cdkDestroy("Pipeline")
	failedDestroy.stderr, failedDestroy.code = "\n ❌  Pipeline: destroy failed DeploymentError: Failed to destroy shop-qa-pipeline: DELETE_FAILED\n", 1
	failedSynth := synth()
	failedSynth.stderr, failedSynth.code = "invalid configuration (1 problem):\n", 1

	cases := []struct {
		name   string
		env    []string
		args   []string
		stdin  string
		want   []call
		code   int
		stdout []string
		stderr []string
	}{
		{
			name:   "production's load balancer is protected: stops before deleting anything, with the commands",
			want:   checks("true", "false"),
			code:   1,
			stderr: join(stopLines("Production", "production"), []string{keptHeader}, keptPipeline, keptProduction),
		},
		{
			name:  "CONFIRM_PRODUCTION=delete: asks once, turns the protection off just before production, deletes in order",
			env:   []string{"CONFIRM_PRODUCTION=delete"},
			stdin: "y\n",
			want: calls(checks("true", "false"),
				cdkDestroy("Pipeline"), unprotect("Production"), cdkDestroy("Production"), cdkDestroy("Staging")),
			stdout: join([]string{
				"destroy: this deletes, in this order:",
				"  1. shop-qa-pipeline (UPDATE_COMPLETE)",
				"  2. shop-qa-production (UPDATE_COMPLETE), after turning off the deletion protection of its load balancer shop-prd-qa",
				"  3. shop-qa-staging (UPDATE_COMPLETE)",
				keptHeader,
			}, keptPipeline, keptProduction, []string{
				"destroy: delete these stacks? [y/N] destroy: deletion protection of shop-prd-qa turned off",
				"destroy: deleted shop-qa-pipeline shop-qa-production shop-qa-staging",
			}),
		},
		{
			name:   "no deletion protection (production.removalPolicy destroy): deletes without an opt-in",
			env:    []string{"FORCE=yes"},
			want:   calls(checks("false", "false"), cdkDestroy("Pipeline"), cdkDestroy("Production"), cdkDestroy("Staging")),
			stdout: []string{"  2. shop-qa-production (UPDATE_COMPLETE)", "destroy: deleted shop-qa-pipeline shop-qa-production shop-qa-staging"},
		},
		{
			name: "after a plain cdk destroy failed on the load balancer: the pipeline is gone, production DELETE_FAILED",
			want: calls(synth(),
				stackStatus("Pipeline", ""), stackStatus("Production", "DELETE_FAILED"), stackStatus("Staging", "CREATE_COMPLETE"),
				loadBalancer("Production", true), protection("Production", "true"),
				loadBalancer("Staging", true), protection("Staging", "false"),
				resources("Production")),
			code:   1,
			stdout: []string{"destroy: shop-qa-pipeline: not deployed, nothing to delete"},
			stderr: join(stopLines("Production", "production"), []string{keptHeader}, keptProduction),
		},
		{
			name: "production and the pipeline already deleted: deletes staging only",
			env:  []string{"FORCE=yes"},
			want: calls(synth(),
				stackStatus("Pipeline", ""), stackStatus("Production", ""), stackStatus("Staging", "CREATE_COMPLETE"),
				loadBalancer("Staging", true), protection("Staging", "false"),
				cdkDestroy("Staging")),
			stdout: []string{
				"destroy: shop-qa-pipeline: not deployed, nothing to delete",
				"destroy: shop-qa-production: not deployed, nothing to delete",
				"  1. shop-qa-staging (CREATE_COMPLETE)",
				"destroy: nothing is retained: every resource goes with its stack.",
				"destroy: deleted shop-qa-staging",
			},
		},
		{
			name: "production's load balancer already gone: nothing to check there",
			env:  []string{"FORCE=yes"},
			want: calls(synth(),
				stackStatus("Pipeline", ""), stackStatus("Production", "DELETE_FAILED"), stackStatus("Staging", ""),
				loadBalancer("Production", false),
				resources("Production"),
				cdkDestroy("Production")),
			stdout: []string{"  1. shop-qa-production (DELETE_FAILED)", "destroy: deleted shop-qa-production"},
		},
		{
			name: "nothing deployed: succeeds without asking; context arguments reach the synth",
			args: []string{"-c", "environmentSuffix=qa"},
			want: calls(synth("-c", "environmentSuffix=qa"),
				stackStatus("Pipeline", ""), stackStatus("Production", ""), stackStatus("Staging", "")),
			stdout: []string{"destroy: no stack of this app is deployed; nothing to delete"},
		},
		{
			name:   "not confirmed: deletes nothing",
			stdin:  "n\n",
			want:   checks("false", "false"),
			code:   1,
			stderr: []string{"destroy: not confirmed; nothing was deleted"},
		},
		{
			name:   "no answer (standard input closed): deletes nothing",
			want:   checks("false", "false"),
			code:   1,
			stderr: []string{"destroy: not confirmed; nothing was deleted"},
		},
		{
			name: "the pipeline's deletion fails: production is not touched and keeps its protection",
			env:  []string{"CONFIRM_PRODUCTION=delete", "FORCE=yes"},
			want: calls(checks("true", "false"), failedDestroy),
			code: 1,
			stderr: []string{
				"destroy: cdk destroy of shop-qa-pipeline failed (its events above say why); the stacks after it were not touched.",
				"destroy: fix the cause and run make destroy again: stacks already deleted are skipped",
			},
		},
		{
			name:   "staging retains its data too: CONFIRM_PRODUCTION alone is not enough",
			env:    []string{"CONFIRM_PRODUCTION=delete"},
			want:   checks("true", "true"),
			code:   1,
			stderr: stopLines("Staging", "staging"),
		},
		{
			name:   "cdk synth fails: nothing is asked or deleted",
			want:   calls(failedSynth),
			code:   1,
			stderr: []string{"invalid configuration (1 problem):", "destroy: cdk synth failed; nothing was deleted"},
		},
		{
			name:   "CONFIRM_PRODUCTION takes only delete",
			env:    []string{"CONFIRM_PRODUCTION=yes"},
			code:   2,
			stderr: []string{`destroy: CONFIRM_PRODUCTION must be delete or unset, got "yes"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := projectDir(t, "", true)
			r := runScript(t, "destroy.sh", dir, c.env, c.stdin, c.want, c.args...)
			requireCalls(t, r, c.want)
			requireExit(t, r, c.code)
			requireLines(t, "stdout", r.stdout, c.stdout...)
			requireLines(t, "stderr", r.stderr, c.stderr...)
		})
	}
}
