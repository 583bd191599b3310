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
	_ byte // jsii passes a Go object by reference only when it is not an empty struct
}

// NewExplicitActions returns the aspect. Add it with awscdk.Aspects_Of(app)
// before any aspect that inspects policies (such as cdk-nag), so that they
// see the rewritten documents.
func NewExplicitActions() awscdk.IAspect { return &explicitActions{} }

// Visit rewrites the policy document properties of the L1 resources that
// hold them. Only documents with a wildcard in an Allow statement change.
func (*explicitActions) Visit(node constructs.IConstruct) {
	switch r := node.(type) {
	case awsiam.CfnPolicy:
		rewrite(r, "PolicyDocument", r.PolicyDocument(), func(v interface{}) { r.SetPolicyDocument(v) })
	case awsiam.CfnManagedPolicy:
		rewrite(r, "PolicyDocument", r.PolicyDocument(), func(v interface{}) { r.SetPolicyDocument(v) })
	case awskms.CfnKey:
		rewrite(r, "KeyPolicy", r.KeyPolicy(), func(v interface{}) { r.SetKeyPolicy(v) })
	case awss3.CfnBucketPolicy:
		rewrite(r, "PolicyDocument", r.PolicyDocument(), func(v interface{}) { r.SetPolicyDocument(v) })
	case awssns.CfnTopicPolicy:
		rewrite(r, "PolicyDocument", r.PolicyDocument(), func(v interface{}) { r.SetPolicyDocument(v) })
	case awsecr.CfnRepository:
		if p := r.RepositoryPolicyText(); p != nil {
			rewrite(r, "RepositoryPolicyText", p, func(v interface{}) { r.SetRepositoryPolicyText(v) })
		}
	}
}

// rewrite resolves a policy property. When every reference in it points into
// the resource's own stack, the resolved and rewritten document replaces the
// property, so that later checks (cdk-nag) see it too. A document that refers
// to another stack must stay unresolved until CDK turns those references into
// imports: then only the changed Action fields are overridden.
func rewrite(res awscdk.CfnResource, property string, value interface{}, set func(interface{})) {
	stack := awscdk.Stack_Of(res)
	doc := stack.Resolve(value)
	rewritten, changed := rewriteDocument(doc)
	if len(changed) == 0 {
		return
	}
	if referencesAreLocal(doc, localLogicalIDs(stack)) {
		set(rewritten)
		return
	}
	statements := rewritten.(map[string]interface{})["Statement"].([]interface{})
	for _, i := range changed {
		action := statements[i].(map[string]interface{})["Action"]
		res.AddPropertyOverride(jsii.String(fmt.Sprintf("%s.Statement.%d.Action", property, i)), action)
	}
}

var logicalIDCache = map[string]map[string]bool{}

// localLogicalIDs lists the logical IDs of a stack's resources.
func localLogicalIDs(stack awscdk.Stack) map[string]bool {
	key := *stack.Node().Path()
	if ids, ok := logicalIDCache[key]; ok {
		return ids
	}
	ids := map[string]bool{}
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if is := awscdk.CfnElement_IsCfnElement(c); is != nil && *is {
			ids[fmt.Sprint(stack.Resolve(c.(awscdk.CfnElement).LogicalId()))] = true
		}
	}
	logicalIDCache[key] = ids
	return ids
}

// referencesAreLocal reports whether every Ref and Fn::GetAtt in v names a
// logical ID of the stack (or a pseudo parameter).
func referencesAreLocal(v interface{}, local map[string]bool) bool {
	switch x := v.(type) {
	case map[string]interface{}:
		if ref, ok := x["Ref"].(string); ok && !strings.HasPrefix(ref, "AWS::") && !local[ref] {
			return false
		}
		if att, ok := x["Fn::GetAtt"].([]interface{}); ok && len(att) > 0 {
			if id, ok := att[0].(string); ok && !local[id] {
				return false
			}
		}
		for _, e := range x {
			if !referencesAreLocal(e, local) {
				return false
			}
		}
	case []interface{}:
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
func rewriteDocument(doc interface{}) (interface{}, []int) {
	m, ok := doc.(map[string]interface{})
	if !ok {
		return doc, nil
	}
	var changedAt []int
	statements, _ := m["Statement"].([]interface{})
	for i, s := range statements {
		st, ok := s.(map[string]interface{})
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

func expand(action interface{}) (interface{}, bool) {
	var in []string
	switch a := action.(type) {
	case string:
		in = []string{a}
	case []interface{}:
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
	var out []interface{}
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
