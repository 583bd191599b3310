// Package iamaspect rewrites the wildcard actions that CDK's grant methods
// write (s3:GetObject*, kms:GenerateDataKey*, a key policy's kms:*, ...) into
// explicit action lists, so that no Allow statement in any stack names an
// action with "*". Deny statements (such as the TLS-only bucket policy) are
// left as they are: denying every action is what they are for.
package iamaspect

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

type explicitActions struct{}

// NewExplicitActions returns the aspect. Add it with awscdk.Aspects_Of(app)
// before any aspect that inspects policies (such as cdk-nag), so that they
// see the rewritten documents.
func NewExplicitActions() awscdk.IAspect { return explicitActions{} }

// Visit rewrites the policy document properties of the L1 resources that hold them.
func (explicitActions) Visit(node constructs.IConstruct) {
	resolve := func(v interface{}) interface{} { return awscdk.Stack_Of(node).Resolve(v) }
	switch r := node.(type) {
	case awsiam.CfnPolicy:
		r.SetPolicyDocument(rewriteDocument(resolve(r.PolicyDocument())))
	case awsiam.CfnManagedPolicy:
		r.SetPolicyDocument(rewriteDocument(resolve(r.PolicyDocument())))
	case awsiam.CfnRole:
		if p := r.Policies(); p != nil {
			policies, _ := resolve(p).([]interface{})
			for _, pol := range policies {
				if m, ok := pol.(map[string]interface{}); ok {
					m["PolicyDocument"] = rewriteDocument(m["PolicyDocument"])
				}
			}
			r.SetPolicies(policies)
		}
	case awskms.CfnKey:
		r.SetKeyPolicy(rewriteDocument(resolve(r.KeyPolicy())))
	case awss3.CfnBucketPolicy:
		r.SetPolicyDocument(rewriteDocument(resolve(r.PolicyDocument())))
	case awssns.CfnTopicPolicy:
		r.SetPolicyDocument(rewriteDocument(resolve(r.PolicyDocument())))
	case awsecr.CfnRepository:
		if p := r.RepositoryPolicyText(); p != nil {
			r.SetRepositoryPolicyText(rewriteDocument(resolve(p)))
		}
	}
}

// rewriteDocument replaces known wildcard actions in Allow statements.
func rewriteDocument(doc interface{}) interface{} {
	m, ok := doc.(map[string]interface{})
	if !ok {
		return doc
	}
	statements, _ := m["Statement"].([]interface{})
	for _, s := range statements {
		st, ok := s.(map[string]interface{})
		if !ok || st["Effect"] != "Allow" {
			continue
		}
		if actions, changed := expand(st["Action"]); changed {
			st["Action"] = actions
		}
	}
	return m
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
