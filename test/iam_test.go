package test

import (
	"fmt"
	"strings"
	"testing"
)

// starOnlyActions are the actions that the AWS service authorization
// reference lists without a resource type: they accept only "*". It is the
// package's one list of them.
var starOnlyActions = map[string]bool{
	"ecr:GetAuthorizationToken":  true,
	"ecs:DescribeTaskDefinition": true,
	// Lambda's network interfaces for a function in a VPC
	// (AWSLambdaVPCAccessExecutionRole).
	"ec2:CreateNetworkInterface":     true,
	"ec2:DescribeNetworkInterfaces":  true,
	"ec2:DescribeSubnets":            true,
	"ec2:DeleteNetworkInterface":     true,
	"ec2:AssignPrivateIpAddresses":   true,
	"ec2:UnassignPrivateIpAddresses": true,
	// CDK's custom resource that strips the default security group's rules.
	"ec2:DescribeSecurityGroups": true,
}

// policyDocuments returns every policy document of a template with a label:
// identity policies, role inline policies, and resource policies of keys,
// buckets, topics and repositories.
func policyDocuments(t *testing.T, stackID string) map[string]any {
	docs := map[string]any{}
	for logical, r := range allResources(t, stackID) {
		props := dig(r, "Properties")
		switch dig(r, "Type") {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy":
			docs[logical] = dig(props, "PolicyDocument")
		case "AWS::KMS::Key":
			docs[logical+" (key policy)"] = dig(props, "KeyPolicy")
		case "AWS::ECR::Repository":
			if p := dig(props, "RepositoryPolicyText"); p != nil {
				docs[logical+" (repository policy)"] = p
			}
		case "AWS::IAM::Role":
			for i, p := range asList(dig(props, "Policies")) {
				if p != nil {
					docs[fmt.Sprintf("%s (inline %d)", logical, i)] = dig(p, "PolicyDocument")
				}
			}
		}
	}
	return docs
}

// TestNoWildcardActionsAnywhere proves least privilege across every stack:
// no Allow statement names an action containing "*" (the pipeline's deploy
// roles included); ECS and iam:PassRole actions are never allowed on "*"
// (except the ECS read AWS documents as "*"-only); "*" resources appear only
// for "*"-only actions; every PassRole is limited to ECS tasks.
//
// Contract home: wildcard actions and "*" resources in IAM statements.
func TestNoWildcardActionsAnywhere(t *testing.T) {
	statements := 0
	for _, id := range app.StackIDs() {
		for label, doc := range policyDocuments(t, id) {
			isKeyPolicy := strings.HasSuffix(label, "(key policy)")
			for _, st := range asList(dig(doc, "Statement")) {
				if dig(st, "Effect") != "Allow" {
					continue // a Deny of "s3:*" without TLS is what a TLS-only policy is
				}
				statements++
				onStar := containsValue(asList(dig(st, "Resource")), "*") && !isKeyPolicy // in a key policy "*" is the key itself
				for _, a := range asList(dig(st, "Action")) {
					action := fmt.Sprint(a)
					if strings.Contains(action, "*") {
						t.Errorf("%s/%s: Allow of wildcard action %q", id, label, action)
					}
					if onStar && !starOnlyActions[action] {
						t.Errorf("%s/%s: %q allowed on \"*\", but it accepts resource ARNs", id, label, action)
					}
					if action == "iam:PassRole" && dig(st, "Condition", "StringEquals", "iam:PassedToService") == nil {
						t.Errorf("%s/%s: iam:PassRole without an iam:PassedToService condition", id, label)
					}
				}
			}
		}
	}
	if statements < 30 {
		t.Fatalf("only %d Allow statements checked; the walk is broken", statements)
	}
	t.Logf("%d Allow statements checked", statements)
}
