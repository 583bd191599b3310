package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// What a container's plain variables and secrets may be, with no CDK: the
// configuration and the service construct check the same rules.

// variableNameRe is the portable form of an environment variable name
// (POSIX, "Environment Variables": letters, digits and underscores, not
// starting with a digit). ECS's API does not restrict the name
// (RegisterTaskDefinition, KeyValuePair), but a name outside this form
// cannot be read from a shell or an entry point script.
var variableNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// EcsSetVariables are the variables Amazon ECS sets in every task
// (Amazon ECS developer guide, "Amazon ECS environment variables",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-environment-variables.html).
// A task definition that sets one of them would hide the task's
// credentials endpoint, metadata endpoint or Region from the AWS SDKs.
var EcsSetVariables = []string{
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_DEFAULT_REGION",
	"AWS_EXECUTION_ENV",
	"AWS_REGION",
	"ECS_AGENT_URI",
	"ECS_CONTAINER_METADATA_URI",
	"ECS_CONTAINER_METADATA_URI_V4",
}

// CheckVariableName returns "" for a name a container may be given, else
// what is allowed.
func CheckVariableName(name string) string {
	if !variableNameRe.MatchString(name) {
		return "a variable name must be letters, digits and underscores, not starting with a digit"
	}
	if slices.Contains(EcsSetVariables, name) {
		return "Amazon ECS sets " + name + " in every task (" + strings.Join(EcsSetVariables, ", ") + "); choose another name"
	}
	return ""
}

// MaxContainerConfigBytes bounds the container's variables and secrets as
// RegisterTaskDefinition receives them ({"name":...,"value":...} and
// {"name":...,"valueFrom":...}): Amazon ECS accepts a task definition of
// at most 64 KiB (Amazon ECS developer guide, "Amazon ECS service quotas",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html),
// and the rest of this task definition (roles, image, logging, ports)
// stays well under the 4 KiB left.
const MaxContainerConfigBytes = 60 * 1024

// ContainerConfigBytes is the size the variables and secrets take in a
// task definition, as MaxContainerConfigBytes counts it.
func ContainerConfigBytes(variables map[string]string, secrets map[string]string) int {
	n := 0
	for k, v := range variables {
		n += len(`{"name":"","value":""},`) + len(k) + len(v)
	}
	for k, v := range secrets {
		n += len(`{"name":"","valueFrom":""},`) + len(k) + len(v)
	}
	return n
}

// SecretSource is where a secret comes from.
type SecretSource string

const (
	// SourceSecretsManager is an AWS Secrets Manager secret.
	SourceSecretsManager SecretSource = "secretsmanager"
	// SourceParameterStore is a Systems Manager Parameter Store parameter.
	SourceParameterStore SecretSource = "ssm"
)

// SecretReference is a parsed secret reference of a container.
type SecretReference struct {
	Source SecretSource
	// Partition and Region are those of an ARN; empty for a parameter
	// given by name (the stack's own).
	Partition, Region string
	// Arn is the secret's ARN without a JSON key or version (Secrets
	// Manager), or the parameter's ARN when it was given as one.
	Arn string
	// Parameter is a parameter's name when it was given by name.
	Parameter string
	// JsonKey, VersionStage and VersionId select part or a version of a
	// Secrets Manager secret; each may be empty.
	JsonKey, VersionStage, VersionId string
}

var (
	partitionRe = `(aws|aws-cn|aws-us-gov)`
	regionPart  = `([a-z]{2}(-gov)?-[a-z]+-\d)`
	// A secret's name holds letters, digits and /_+=.@- (AWS Secrets
	// Manager API reference, CreateSecret, Name; up to 512 characters).
	secretArnRe = regexp.MustCompile(`^arn:` + partitionRe + `:secretsmanager:` + regionPart + `:(\d{12}):secret:([A-Za-z0-9/_+=.@-]{1,512})$`)
	// The six random characters Secrets Manager appends to a secret's name
	// in its ARN (AWS Secrets Manager user guide, "Secret ARN").
	secretSuffixRe = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)
	// A version id is a UUID-like string of 32 to 64 characters, a stage
	// a label of 1 to 256 (GetSecretValue, VersionId and VersionStage).
	versionIdRe    = regexp.MustCompile(`^[A-Za-z0-9-]{32,64}$`)
	versionStageRe = regexp.MustCompile(`^[A-Za-z0-9_.@+=-]{1,256}$`)
	parameterArnRe = regexp.MustCompile(`^arn:` + partitionRe + `:ssm:` + regionPart + `:(\d{12}):parameter(/.+)$`)
	// Parameter names: letters, digits and _.- in each level, levels
	// joined by "/" with a leading "/" (Systems Manager user guide,
	// "Parameter naming constraints").
	parameterSegmentRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// SecretReferenceForm says what ParseSecretReference accepts.
const SecretReferenceForm = "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>[:<json-key>[:<version-stage>[:<version-id>]]]) or a Parameter Store parameter: its name (/path/name or name) or ARN"

// ParseSecretReference reads a secret in the form ECS's valueFrom takes:
// a Secrets Manager ARN, optionally followed by a JSON key, version stage
// and version id (Amazon ECS developer guide, "Pass Secrets Manager
// secrets through Amazon ECS environment variables",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html),
// or a Parameter Store parameter's name or ARN ("Pass Systems Manager
// parameters through Amazon ECS environment variables",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html).
// It returns "" for the problem when the reference is good.
func ParseSecretReference(s string) (SecretReference, string) {
	if strings.HasPrefix(s, "arn:") {
		parts := strings.Split(s, ":")
		if len(parts) >= 7 && parts[2] == "secretsmanager" {
			return parseSecretArn(parts)
		}
		if m := parameterArnRe.FindStringSubmatch(s); m != nil {
			if msg := checkParameterName(m[5]); msg != "" {
				return SecretReference{}, msg
			}
			return SecretReference{Source: SourceParameterStore, Partition: m[1], Region: m[2], Arn: s}, ""
		}
		return SecretReference{}, SecretReferenceForm
	}
	if msg := checkParameterName(s); msg != "" {
		return SecretReference{}, msg
	}
	return SecretReference{Source: SourceParameterStore, Parameter: s}, ""
}

func parseSecretArn(parts []string) (SecretReference, string) {
	if len(parts) > 10 {
		return SecretReference{}, SecretReferenceForm
	}
	arn := strings.Join(parts[:7], ":")
	m := secretArnRe.FindStringSubmatch(arn)
	if m == nil {
		return SecretReference{}, SecretReferenceForm
	}
	ref := SecretReference{Source: SourceSecretsManager, Partition: m[1], Region: m[2], Arn: arn}
	fields := append(parts[7:], "", "", "")
	ref.JsonKey, ref.VersionStage, ref.VersionId = fields[0], fields[1], fields[2]
	if ref.VersionStage != "" && !versionStageRe.MatchString(ref.VersionStage) {
		return SecretReference{}, fmt.Sprintf("version stage %q must be 1 to 256 letters, digits or _.@+=-", ref.VersionStage)
	}
	if ref.VersionId != "" && !versionIdRe.MatchString(ref.VersionId) {
		return SecretReference{}, fmt.Sprintf("version id %q must be 32 to 64 letters, digits or hyphens", ref.VersionId)
	}
	return ref, ""
}

// checkParameterName applies Parameter Store's naming rules
// (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html):
// letters, digits and _.- ; a hierarchy starts with "/" and has at most
// 15 levels; the name may not begin with aws or ssm in any case; at most
// 1011 characters.
func checkParameterName(name string) string {
	const form = "a Parameter Store name is letters, digits and _.- in levels of a /path/name (or one level, name), up to 15 levels and 1011 characters"
	if name == "" || len(name) > 1011 {
		return SecretReferenceForm
	}
	trimmed := name
	if strings.Contains(name, "/") {
		if !strings.HasPrefix(name, "/") {
			return form + "; a hierarchy starts with /"
		}
		trimmed = name[1:]
	}
	levels := strings.Split(trimmed, "/")
	if len(levels) > 15 {
		return form
	}
	for _, l := range levels {
		if !parameterSegmentRe.MatchString(l) {
			return form
		}
	}
	if first := strings.ToLower(levels[0]); strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return "a Parameter Store name may not begin with aws or ssm (reserved by Systems Manager)"
	}
	return ""
}

// ValueFrom is the reference as a container definition's valueFrom: the
// ARN, followed for a Secrets Manager secret with a JSON key or version by
// all three fields (empty ones included), the form ECS documents.
func (r SecretReference) ValueFrom() string {
	if r.Source == SourceParameterStore {
		if r.Arn != "" {
			return r.Arn
		}
		return r.Parameter
	}
	if r.JsonKey == "" && r.VersionStage == "" && r.VersionId == "" {
		return r.Arn
	}
	return strings.Join([]string{r.Arn, r.JsonKey, r.VersionStage, r.VersionId}, ":")
}

// CompleteArn reports whether a Secrets Manager ARN ends with the six
// random characters of the secret's full ARN. An ARN without them (a
// partial ARN) is matched in policies as "<arn>-??????" (AWS Secrets
// Manager user guide, "Permissions policy examples":
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html).
// A secret whose own name ends in a hyphen and six letters or digits is
// taken for a full ARN; AWS advises against such names for that reason
// ("Find secrets", partial ARNs).
func (r SecretReference) CompleteArn() bool {
	return secretSuffixRe.MatchString(r.Arn)
}

// PolicyArn is what an IAM policy names for a Secrets Manager secret, and
// what a kms:EncryptionContext:SecretARN condition matches (with
// StringLike): the full ARN, or the partial ARN with "-??????".
func (r SecretReference) PolicyArn() string {
	if r.CompleteArn() {
		return r.Arn
	}
	return r.Arn + "-??????"
}
