package test

import (
	"reflect"
	"testing"
)

// TestEveryBucketDisablesAcls proves S3 Object Ownership on every bucket of
// every template this package synthesizes: BucketOwnerEnforced, so ACLs are
// disabled, the bucket owns every object and only policies grant access; and
// no bucket sets a canned ACL, which that setting refuses.
//
// Contract home: bucket ACLs.
func TestEveryBucketDisablesAcls(t *testing.T) {
	want := map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}}
	checked := map[string]int{}
	for name, tpl := range synthesizedTemplates(t) {
		res := templateResources(t, tpl)
		for logical, r := range res {
			if dig(r, "Type") != "AWS::S3::Bucket" {
				continue
			}
			checked[name]++
			if got := dig(r, "Properties", "OwnershipControls"); !reflect.DeepEqual(normalize(got), normalize(want)) {
				t.Errorf("%s/%s: OwnershipControls %s, want %s", name, logical, compact(got), compact(want))
			}
			if acl := dig(r, "Properties", "AccessControl"); acl != nil {
				t.Errorf("%s/%s: AccessControl %v on a bucket whose ACLs are disabled", name, logical, acl)
			}
		}
	}
	t.Logf("buckets checked: %v", checked)
	for _, name := range []string{"app/Staging", "app/Production", "app/" + pipelineID, "constructs/PipelineConstructTest"} {
		if checked[name] < 2 {
			t.Errorf("%s: %d buckets checked; want its artifact and log buckets, the walk is broken", name, checked[name])
		}
	}
}
