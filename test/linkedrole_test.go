package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestEcsServiceLinkedRoleExistsBeforeEcs proves the brand-new-account
// requirement: each environment stack asks IAM for ECS's service-linked
// role, treats "it exists already" as success (an account that ran ECS
// before, the second environment stack), never deletes it, and creates the
// cluster and the service only after it.
func TestEcsServiceLinkedRoleExistsBeforeEcs(t *testing.T) {
	for _, id := range []string{"Staging", "Production"} {
		t.Run(id, func(t *testing.T) {
			res := allResources(t, id)
			var cr string
			for logical, r := range res {
				if dig(r, "Type") != "Custom::AWS" {
					continue
				}
				var call map[string]any
				if err := json.Unmarshal([]byte(fmt.Sprint(dig(r, "Properties", "Create"))), &call); err != nil {
					t.Fatalf("%s: Create is not JSON: %v", logical, err)
				}
				if call["service"] == "IAM" && call["action"] == "createServiceLinkedRole" {
					cr = logical
					if got := dig(call, "parameters", "AWSServiceName"); got != "ecs.amazonaws.com" {
						t.Errorf("AWSServiceName = %v", got)
					}
					// IAM answers InvalidInput ("has been taken in this
					// account") when the role exists.
					if got := call["ignoreErrorCodesMatching"]; got != "InvalidInput" {
						t.Errorf("ignoreErrorCodesMatching = %v, want InvalidInput", got)
					}
					if dig(r, "Properties", "Delete") != nil {
						t.Errorf("the custom resource must never delete the account's service-linked role")
					}
				}
			}
			if cr == "" {
				t.Fatal("no custom resource creates ECS's service-linked role")
			}
			for _, typ := range []string{"AWS::ECS::Cluster", "AWS::ECS::Service"} {
				n := 0
				for logical, r := range res {
					if dig(r, "Type") != typ {
						continue
					}
					n++
					if !containsValue(asList(dig(r, "DependsOn")), cr) {
						t.Errorf("%s %s does not depend on %s", typ, logical, cr)
					}
				}
				if n != 1 {
					t.Errorf("want one %s, found %d", typ, n)
				}
			}
			// Its function may create exactly that role, for ECS only.
			found := false
			for label, doc := range policyDocuments(t, id) {
				for _, st := range asList(dig(doc, "Statement")) {
					if dig(st, "Action") != "iam:CreateServiceLinkedRole" {
						continue
					}
					found = true
					if got := dig(st, "Condition", "StringEquals", "iam:AWSServiceName"); got != "ecs.amazonaws.com" {
						t.Errorf("%s: iam:CreateServiceLinkedRole condition = %v, want iam:AWSServiceName ecs.amazonaws.com", label, got)
					}
					if res := compact(dig(st, "Resource")); !strings.Contains(res, ":role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS") {
						t.Errorf("%s: iam:CreateServiceLinkedRole on %s, want ECS's role only", label, res)
					}
				}
			}
			if !found {
				t.Error("no policy lets the custom resource create the role")
			}
		})
	}
}
