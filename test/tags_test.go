package test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"ecs-bluegreen/stacks"
)

// TestEveryTaggableResourceHasTheCommonTags walks every construct of every
// stack; each CloudFormation resource that CDK knows to be taggable must
// carry Project, Environment, ManagedBy and CostCenter in the template.
func TestEveryTaggableResourceHasTheCommonTags(t *testing.T) {
	want := map[string]bool{"Project": true, "Environment": true, "ManagedBy": true, "CostCenter": true}
	checked := 0
	for _, id := range app.StackIDs() {
		stack := app.Stack(id)
		all := allResources(t, id)
		for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			if !isCfnResource(c) {
				continue
			}
			res := c.(awscdk.CfnResource)
			if !*awscdk.TagManager_IsTaggable(res) || slices.Contains(stacks.UntaggedResourceTypes, *res.CfnResourceType()) {
				continue
			}
			logical := *stack.GetLogicalId(res.(awscdk.CfnElement))
			entry, ok := all[logical]
			if !ok {
				continue // removed from the template (for example by an override)
			}
			checked++
			got := tagKeys(dig(entry, "Properties", "Tags"))
			for key := range want {
				if !got[key] {
					t.Errorf("%s: %s (%s) has no %s tag", id, logical, *res.CfnResourceType(), key)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d taggable resources checked; the walk is broken", checked)
	}
	t.Logf("%d taggable resources carry the common tags", checked)
}

func isCfnResource(c constructs.IConstruct) bool {
	is := awscdk.CfnResource_IsCfnResource(c)
	return is != nil && *is
}

// tagKeys reads tags in either CloudFormation shape: a list of Key/Value or a map.
func tagKeys(tags interface{}) map[string]bool {
	keys := map[string]bool{}
	switch v := tags.(type) {
	case []interface{}:
		for _, tag := range v {
			keys[fmt.Sprint(dig(tag, "Key"))] = true
		}
	case map[string]interface{}:
		for k := range v {
			keys[k] = true
		}
	}
	return keys
}
