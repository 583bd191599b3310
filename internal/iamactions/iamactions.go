// Package iamactions rewrites the wildcard actions that CDK's grant methods
// write (s3:GetObject*, kms:GenerateDataKey*, a key policy's kms:*, ...) into
// explicit action lists, so that no Allow statement in any stack names an
// action with "*". Deny statements (such as the TLS-only bucket policy) are
// left as they are: denying every action is what they are for.
package iamactions

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
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

// policy is a resource property that holds a policy document.
type policy struct {
	get func() any
	set func(any)
}

// policyOf returns the policy document property of the L1 resources that
// hold one. It only inspects the Go type of node: no call into the CDK
// runtime.
func policyOf(node constructs.IConstruct) (policy, bool) {
	switch r := node.(type) {
	case awsiam.CfnPolicy:
		return policy{r.PolicyDocument, func(v any) { r.SetPolicyDocument(v) }}, true
	case awsiam.CfnManagedPolicy:
		return policy{r.PolicyDocument, func(v any) { r.SetPolicyDocument(v) }}, true
	case awskms.CfnKey:
		return policy{r.KeyPolicy, func(v any) { r.SetKeyPolicy(v) }}, true
	case awss3.CfnBucketPolicy:
		return policy{r.PolicyDocument, func(v any) { r.SetPolicyDocument(v) }}, true
	case awssns.CfnTopicPolicy:
		return policy{r.PolicyDocument, func(v any) { r.SetPolicyDocument(v) }}, true
	case awsecr.CfnRepository:
		return policy{r.RepositoryPolicyText, func(v any) { r.SetRepositoryPolicyText(v) }}, true
	}
	return policy{}, false
}

// Explicit makes the actions of node's policy document explicit, when node
// is an L1 resource with one (it reports whether it is). When the document
// has a wildcard action CDK wrote in an Allow statement, the property's value
// becomes a token that CDK resolves each time it resolves the property: the
// token resolves the original value in the same context, so CDK resolves it
// as it always would (it records and renders its references, so one to
// another stack becomes an import; it merges statements, and so on), and
// then rewrites the wildcard actions of the resolved document. So every
// reader of the property sees the explicit actions: the template, and checks
// such as cdk-nag. A document without a wildcard is left as it is.
// Call Explicit once the stacks are built, on each construct of the tree.
func Explicit(node constructs.IConstruct) bool {
	p, ok := policyOf(node)
	if !ok {
		return false
	}
	value := p.get()
	if value != nil && hasWildcard(node, value) {
		p.set(awscdk.Lazy_UncachedAny(&explicitDocument{original: value}, nil))
	}
	return true
}

// hasWildcard reports whether a policy property's value has a wildcard
// action to rewrite. An IAM PolicyDocument (what CDK's L2s give their L1s)
// is read as its statements, with no token resolved; any other value is
// resolved in node's stack.
func hasWildcard(node constructs.IConstruct, value any) bool {
	var doc any
	if d, ok := value.(awsiam.PolicyDocument); ok {
		doc = d.ToJSON()
	} else {
		doc = awscdk.Stack_Of(node).Resolve(value)
	}
	_, changed := rewriteDocument(doc)
	return changed
}

// explicitDocument produces the document of a policy property with
// explicit actions: the original value, resolved in the context the property
// is resolved in, then rewritten.
type explicitDocument struct {
	original any
}

func (d *explicitDocument) Produce(context awscdk.IResolveContext) any {
	rewritten, _ := rewriteDocument(context.Resolve(d.original, nil))
	return rewritten
}

// rewriteDocument replaces known wildcard actions in Allow statements, in
// place, and reports whether it changed any.
func rewriteDocument(doc any) (any, bool) {
	m, ok := doc.(map[string]any)
	if !ok {
		return doc, false
	}
	changedAny := false
	statements, _ := m["Statement"].([]any)
	for _, s := range statements {
		st, ok := s.(map[string]any)
		if !ok || st["Effect"] != "Allow" {
			continue
		}
		if actions, changed := expand(st["Action"]); changed {
			st["Action"] = actions
			changedAny = true
		}
	}
	return m, changedAny
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
