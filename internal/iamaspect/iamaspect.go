// Package iamaspect rewrites the wildcard actions that CDK's grant methods
// write (s3:GetObject*, kms:GenerateDataKey*, a key policy's kms:*, ...) into
// explicit action lists, so that no Allow statement in any stack names an
// action with "*". Deny statements (such as the TLS-only bucket policy) are
// left as they are: denying every action is what they are for.
package iamaspect

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Expansions maps each wildcard action CDK writes to the explicit actions
// that the services using these grants call. Unknown wildcards are left
// untouched, and the app's tests fail on them.
var Expansions = map[string][]string{
	// Artifact and log buckets: read and write objects (with versions, since
	// the buckets are versioned), and what CodePipeline and CodeBuild check on the bucket.
	"s3:GetObject*":    {"s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"},
	"s3:GetBucket*":    {"s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetBucketAcl", "s3:GetBucketPolicy"},
	"s3:List*":         {"s3:ListBucket", "s3:ListBucketVersions", "s3:ListMultipartUploadParts"},
	"s3:DeleteObject*": {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"},
	"s3:Abort*":        {"s3:AbortMultipartUpload"},
	"kms:ReEncrypt*":   {"kms:ReEncryptFrom", "kms:ReEncryptTo"},
	"kms:GenerateDataKey*": {
		"kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
	},
	// The key policy's statement for the account root: it delegates the key
	// to IAM policies and must keep administration possible (PutKeyPolicy
	// included, or the key locks itself out). Every KMS action that applies
	// to a key is listed.
	"kms:*": {
		"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
		"kms:DeleteImportedKeyMaterial", "kms:DeriveSharedSecret", "kms:DescribeKey", "kms:DisableKey",
		"kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:Encrypt",
		"kms:GenerateDataKey", "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
		"kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateMac", "kms:GetKeyPolicy",
		"kms:GetKeyRotationStatus", "kms:GetParametersForImport", "kms:GetPublicKey", "kms:ImportKeyMaterial",
		"kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags",
		"kms:PutKeyPolicy", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:ReplicateKey", "kms:RetireGrant",
		"kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:Sign",
		"kms:SynchronizeMultiRegionKey", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
		"kms:UpdateKeyDescription", "kms:UpdatePrimaryRegion", "kms:Verify", "kms:VerifyMac",
	},
}

type explicitActions struct {
	// localIDs caches the logical IDs of each stack's elements, by stack
	// path, once a rewritten document needs them. An aspect serves one app.
	localIDs map[string]map[string]bool
}

// NewExplicitActions returns the aspect, for one app. It acts only on the
// constructs Applies accepts: add it to each of them (one walk of the tree,
// after the stacks are built) rather than to the app, where CDK would call
// into Go for every construct. Give it a priority before that of any aspect
// that inspects policies (such as cdk-nag), so that they see the rewritten
// documents.
func NewExplicitActions() awscdk.IAspect {
	return &explicitActions{localIDs: map[string]map[string]bool{}}
}

// policy is a resource property that holds a policy document.
type policy struct {
	res      awscdk.CfnResource
	property string
	get      func() any
	set      func(any)
}

// policyOf returns the policy document property of the L1 resources that
// hold one. It only inspects the Go type of node: no call into the CDK
// runtime.
func policyOf(node constructs.IConstruct) (policy, bool) {
	switch r := node.(type) {
	case awsiam.CfnPolicy:
		return policy{r, "PolicyDocument", r.PolicyDocument, func(v any) { r.SetPolicyDocument(v) }}, true
	case awsiam.CfnManagedPolicy:
		return policy{r, "PolicyDocument", r.PolicyDocument, func(v any) { r.SetPolicyDocument(v) }}, true
	case awskms.CfnKey:
		return policy{r, "KeyPolicy", r.KeyPolicy, func(v any) { r.SetKeyPolicy(v) }}, true
	case awss3.CfnBucketPolicy:
		return policy{r, "PolicyDocument", r.PolicyDocument, func(v any) { r.SetPolicyDocument(v) }}, true
	case awssns.CfnTopicPolicy:
		return policy{r, "PolicyDocument", r.PolicyDocument, func(v any) { r.SetPolicyDocument(v) }}, true
	case awsecr.CfnRepository:
		return policy{r, "RepositoryPolicyText", r.RepositoryPolicyText, func(v any) { r.SetRepositoryPolicyText(v) }}, true
	}
	return policy{}, false
}

// Applies reports whether the aspect acts on node: an L1 resource with a
// policy document property. It makes no call into the CDK runtime.
func Applies(node constructs.IConstruct) bool {
	_, ok := policyOf(node)
	return ok
}

// Visit rewrites the policy document property of the resources Applies
// accepts. Only documents with a wildcard in an Allow statement change.
func (a *explicitActions) Visit(node constructs.IConstruct) {
	p, ok := policyOf(node)
	if !ok {
		return
	}
	if value := p.get(); value != nil {
		a.rewrite(p, value)
	}
}

// rewrite resolves a policy property. When every reference in it points into
// the resource's own stack, the resolved and rewritten document replaces the
// property, so that later checks (cdk-nag) see it too. A document that refers
// to another stack must stay unresolved until CDK turns those references into
// imports: then only the changed Action fields are overridden.
func (a *explicitActions) rewrite(p policy, value any) {
	stack := awscdk.Stack_Of(p.res)
	doc := stack.Resolve(value)
	rewritten, changed := rewriteDocument(doc)
	if len(changed) == 0 {
		return
	}
	if referencesAreLocal(doc, a.localLogicalIDs(stack)) {
		p.set(rewritten)
		return
	}
	statements := rewritten.(map[string]any)["Statement"].([]any)
	for _, i := range changed {
		action := statements[i].(map[string]any)["Action"]
		p.res.AddPropertyOverride(jsii.String(fmt.Sprintf("%s.Statement.%d.Action", p.property, i)), action)
	}
}

// localLogicalIDs lists the logical IDs of a stack's elements: one call for
// the stack's constructs, one per element for its logical ID token and one
// to resolve them all.
func (a *explicitActions) localLogicalIDs(stack awscdk.Stack) map[string]bool {
	key := *stack.Node().Path()
	if ids, ok := a.localIDs[key]; ok {
		return ids
	}
	var tokens []any
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if e, ok := c.(awscdk.CfnElement); ok {
			tokens = append(tokens, e.LogicalId())
		}
	}
	ids := map[string]bool{}
	resolved, _ := stack.Resolve(tokens).([]any)
	for _, id := range resolved {
		ids[fmt.Sprint(id)] = true
	}
	a.localIDs[key] = ids
	return ids
}

// referencesAreLocal reports whether every Ref and Fn::GetAtt in v names a
// logical ID of the stack (or a pseudo parameter).
func referencesAreLocal(v any, local map[string]bool) bool {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && !strings.HasPrefix(ref, "AWS::") && !local[ref] {
			return false
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok && len(att) > 0 {
			if id, ok := att[0].(string); ok && !local[id] {
				return false
			}
		}
		for _, e := range x {
			if !referencesAreLocal(e, local) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !referencesAreLocal(e, local) {
				return false
			}
		}
	}
	return true
}

// rewriteDocument replaces known wildcard actions in Allow statements, in
// place, and returns the indexes of the statements it changed.
func rewriteDocument(doc any) (any, []int) {
	m, ok := doc.(map[string]any)
	if !ok {
		return doc, nil
	}
	var changedAt []int
	statements, _ := m["Statement"].([]any)
	for i, s := range statements {
		st, ok := s.(map[string]any)
		if !ok || st["Effect"] != "Allow" {
			continue
		}
		if actions, changed := expand(st["Action"]); changed {
			st["Action"] = actions
			changedAt = append(changedAt, i)
		}
	}
	return m, changedAt
}

func expand(action any) (any, bool) {
	var in []string
	switch a := action.(type) {
	case string:
		in = []string{a}
	case []any:
		for _, x := range a {
			s, ok := x.(string)
			if !ok {
				return action, false
			}
			in = append(in, s)
		}
	default:
		return action, false
	}
	seen := map[string]bool{}
	var out []any
	changed := false
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, a := range in {
		if exp, ok := Expansions[a]; ok && strings.Contains(a, "*") {
			changed = true
			for _, e := range exp {
				add(e)
			}
			continue
		}
		add(a)
	}
	if len(out) == 1 {
		return out[0], changed
	}
	return out, changed
}
