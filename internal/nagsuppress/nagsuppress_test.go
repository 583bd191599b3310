package nagsuppress_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	_ "ecs-bluegreen/internal/jsiinode"
	"ecs-bluegreen/internal/nagsuppress"
)

// nagRules is rules as cdk-nag's NagPackSuppressions.
func nagRules(rules []nagsuppress.Rule) *[]*cdknag.NagPackSuppression {
	out := make([]*cdknag.NagPackSuppression, len(rules))
	for i, r := range rules {
		s := &cdknag.NagPackSuppression{Id: jsii.String(r.ID), Reason: jsii.String(r.Reason)}
		if len(r.AppliesTo) > 0 {
			applies := make([]any, len(r.AppliesTo))
			for j, a := range r.AppliesTo {
				applies[j] = a
			}
			s.AppliesTo = &applies
		}
		out[i] = s
	}
	return &out
}

// TestAddWritesWhatCdkNagWrites records the same suppressions, call by call,
// with cdk-nag on one resource and with Add on another, and compares their
// metadata after each call: plain and granular rules, a reason cdk-nag
// encodes, a rule recorded twice, and an L2 whose default child takes them.
func TestAddWritesWhatCdkNagWrites(t *testing.T) {
	cases := map[string][][]nagsuppress.Rule{
		"one plain rule": {{{ID: "AwsSolutions-SQS3", Reason: "the queue is a dead-letter queue"}}},
		"granular rules in two calls": {
			{{ID: "AwsSolutions-IAM5", Reason: "log streams are named per build", AppliesTo: []string{"Resource::<LogGroup.Arn>:*"}}},
			{
				{ID: "AwsSolutions-IAM5", Reason: "report groups are named at run time", AppliesTo: []string{"Resource::arn:aws:codebuild:*", "Resource::*"}},
				{ID: "AwsSolutions-IAM4", Reason: "the provider framework attaches it", AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
			},
		},
		"a reason beyond Latin-1": {{{ID: "AwsSolutions-L1", Reason: "Node.js 22 — the handler's tests run on it"}}},
		"the same rule twice": {
			{{ID: "AwsSolutions-SQS3", Reason: "the queue is a dead-letter queue"}},
			{{ID: "AwsSolutions-SQS3", Reason: "the queue is a dead-letter queue"}, {ID: "AwsSolutions-SQS4", Reason: "no message leaves the VPC"}},
		},
	}
	for name, calls := range cases {
		t.Run(name, func(t *testing.T) {
			stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil)
			theirs := awssqs.NewQueue(stack, jsii.String("Theirs"), nil)
			ours := awssqs.NewQueue(stack, jsii.String("Ours"), nil)
			for i, rules := range calls {
				cdknag.NagSuppressions_AddResourceSuppressions(theirs, nagRules(rules), jsii.Bool(false))
				nagsuppress.Add(ours, rules...)
				want := metadata(theirs)
				got := metadata(ours)
				if want == nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("after call %d:\n got %#v\nwant %#v", i+1, got, want)
				}
			}
		})
	}
}

func metadata(c constructs.IConstruct) any {
	return c.Node().DefaultChild().(awscdk.CfnResource).GetMetadata(jsii.String("cdk_nag"))
}

// TestAddRefusesWhatCdkNagRefuses: a short reason and a finding in the id
// are refused, both named in one message, as cdk-nag refuses them; a
// construct without a CloudFormation resource is refused too, where cdk-nag
// would drop the suppression silently.
func TestAddRefusesWhatCdkNagRefuses(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil)
	queue := awssqs.NewQueue(stack, jsii.String("Q"), nil)
	bad := []nagsuppress.Rule{{ID: "AwsSolutions-IAM5[Resource::*]", Reason: "because"}}
	theirs := func() (msg string) {
		defer func() { msg = recoveredText(recover()) }()
		cdknag.NagSuppressions_AddResourceSuppressions(queue, nagRules(bad), jsii.Bool(false))
		return ""
	}()
	if !strings.Contains(theirs, "contains a finding") || !strings.Contains(theirs, "10 characters") {
		t.Fatalf("cdk-nag no longer refuses this suppression as expected: %q", theirs)
	}
	for name, tc := range map[string]struct {
		c    constructs.IConstruct
		want []string
	}{
		"both problems":     {queue, []string{"contains a finding [Resource::*]", "10 characters or more"}},
		"no resource below": {constructs.NewConstruct(stack, jsii.String("Empty")), []string{"S/Empty", "has none"}},
	} {
		t.Run(name, func(t *testing.T) {
			ours := func() (msg string) {
				defer func() { msg = recoveredText(recover()) }()
				nagsuppress.Add(tc.c, bad...)
				return ""
			}()
			for _, w := range tc.want {
				if !strings.Contains(ours, w) {
					t.Errorf("Add's refusal %q does not say %q", ours, w)
				}
			}
		})
	}
}

func recoveredText(r any) string {
	switch x := r.(type) {
	case nil:
		return ""
	case error:
		return x.Error()
	case string:
		return x
	default:
		return reflect.ValueOf(x).String()
	}
}
