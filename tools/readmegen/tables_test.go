package main

import (
	"strings"
	"testing"

	"ecs-bluegreen/internal/guardexceptions"
)

func TestSuppressionTable(t *testing.T) {
	stacks, err := readAssembly("testdata/assembly")
	if err != nil {
		t.Fatal(err)
	}
	want := "### cdk-nag suppressions (10: 5 in Blue, 5 in Green)\n" +
		"\n" +
		"Each row applies once in every stack it names.\n" +
		"\n" +
		"| rule (finding) | resource | reason |\n" +
		"|---|---|---|\n" +
		// Each path names its stacks.
		"| AwsSolutions-IAM4 (`Policy::basic`) | `Another::Provider/Role` (Green), `Custom::Provider/Role` (Blue, Green) | CDK's provider attaches it |\n" +
		// A reference names the construct path; the row holds in both
		// stacks although the logical IDs could differ.
		"| AwsSolutions-IAM5 (`Resource::<App/Bucket.Arn>/*`) | `App/Role/DefaultPolicy` (Blue, Green) | objects of the app's own bucket |\n" +
		// The stacks' regions and Green's account read the same.
		"| AwsSolutions-IAM5 (`Resource::arn:aws:logs:<region>:<AWS::AccountId>:log-group:app:*`) | `App/Role/DefaultPolicy` (Blue, Green) | logs of the app's \\| own group |\n" +
		// No appliesTo: no finding. Consecutive paths in the same stacks
		// name them once.
		"| AwsSolutions-SQS3 | `App/OtherQueue`, `App/Queue` (Blue) | the queue is itself a dead-letter queue |\n" +
		// Rows first seen in a later stack come after; several findings
		// in one suppression are listed together.
		"| AwsSolutions-IAM5 (`regex /^Resource::<Fn[A-Z0-9]+.Arn>:\\*$/g`, `Resource::*`) | `App/Role/DefaultPolicy` (Green) | any version of the app's functions |\n"
	if got := suppressionTable(stacks); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestReadAssemblyWithoutSynthesis(t *testing.T) {
	_, err := readAssembly(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "run make synth first") {
		t.Errorf("error %v, want one saying to run make synth", err)
	}
}

func TestExceptionTable(t *testing.T) {
	entries := []guardexceptions.Entry{{
		Rule:      "ct-s3-pr-9.guard/s3_bucket_object_lock_enabled_check",
		Resources: []string{"Pipeline/DeliveryArtifactBucket*", "*/LogsBucket*"},
		Reason:    "Artifacts expire after 90 days; <environment>.removalPolicy keeps `*` *nothing*.\n",
	}}
	want := "| rule | resources | reason |\n|---|---|---|\n" +
		"| CT.S3.PR.9 `s3_bucket_object_lock_enabled_check` | `Pipeline/DeliveryArtifactBucket*`, `*/LogsBucket*` | Artifacts expire after 90 days; \\<environment>.removalPolicy keeps `*` \\*nothing\\*. |\n"
	if got := exceptionTable(entries); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"plain words":                   "plain words",
		"a | b":                         `a \| b`,
		"only \"*\" (no resource type)": `only "\*" (no resource type)`,
		"set <env>.certificateArn":      `set \<env>.certificateArn`,
		"code `a|*<b>` stays":           "code `a\\|*<b>` stays",
		"an unclosed ` is text: *":      "an unclosed ` is text: \\*",
		`a \ backslash`:                 `a \\ backslash`,
	} {
		if got := text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
}
