package bluegreen

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/nagsuppress"
	"ecs-bluegreen/rules"
)

// ContainerSecret is one secret variable of the container: a Secrets
// Manager secret (optionally one JSON key of it, or one version), or a
// Systems Manager Parameter Store SecureString parameter. Set exactly one
// of SecretsManagerArn and SsmParameter. Only the reference reaches the
// template; ECS reads the value when a task starts.
type ContainerSecret struct {
	// SecretsManagerArn is the secret's ARN, full or partial (without the
	// six random characters Secrets Manager appends to the name).
	SecretsManagerArn *string
	// JsonKey selects one key of a secret whose value is a JSON object.
	// Default: - the whole value.
	JsonKey *string
	// VersionStage or VersionId select a version of the secret.
	// Default: - AWSCURRENT.
	VersionStage, VersionId *string
	// SsmParameter is a parameter's name ("/path/name" or "name") or ARN.
	SsmParameter *string
}

// SecretFromSecretsManager is a Secrets Manager secret, or one JSON key of
// it when jsonKey is not nil.
func SecretFromSecretsManager(arn string, jsonKey *string) *ContainerSecret {
	return &ContainerSecret{SecretsManagerArn: jsii.String(arn), JsonKey: jsonKey}
}

// SecretFromSsmParameter is a Parameter Store parameter, by name or ARN.
func SecretFromSsmParameter(nameOrArn string) *ContainerSecret {
	return &ContainerSecret{SsmParameter: jsii.String(nameOrArn)}
}

// reference is the secret in the valueFrom form, or a problem.
func (c *ContainerSecret) reference() (rules.SecretReference, string) {
	if c == nil || (c.SecretsManagerArn == nil) == (c.SsmParameter == nil) {
		return rules.SecretReference{}, "set exactly one of SecretsManagerArn and SsmParameter"
	}
	if c.SsmParameter != nil {
		if c.JsonKey != nil || c.VersionStage != nil || c.VersionId != nil {
			return rules.SecretReference{}, "JsonKey, VersionStage and VersionId apply to a Secrets Manager secret only"
		}
		ref, msg := rules.ParseSecretReference(*c.SsmParameter)
		if msg == "" && ref.Source != rules.SourceParameterStore {
			msg = "SsmParameter is a Secrets Manager ARN: set SecretsManagerArn"
		}
		return ref, msg
	}
	ref, msg := rules.ParseSecretReference(*c.SecretsManagerArn)
	switch {
	case msg != "":
		return ref, msg
	case ref.Source != rules.SourceSecretsManager || ref.JsonKey != "" || ref.VersionStage != "" || ref.VersionId != "":
		return rules.SecretReference{}, "SecretsManagerArn must be the secret's ARN alone (set JsonKey, VersionStage and VersionId apart)"
	}
	ref.JsonKey, ref.VersionStage, ref.VersionId = orString(c.JsonKey, ""), orString(c.VersionStage, ""), orString(c.VersionId, "")
	return rules.ParseSecretReference(ref.ValueFrom())
}

// checkContainerConfig resolves the container's variables and secrets and
// reports every bad one.
func checkContainerConfig(p *ServiceProps, r *resolved) []error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	r.variables = map[string]string{}
	r.secrets = map[string]rules.SecretReference{}
	if p.Environment != nil {
		for name, v := range *p.Environment {
			if msg := rules.CheckVariableName(name); msg != "" {
				add("Environment[%q]: %s", name, msg)
			} else if v == nil || unresolved(*v) {
				add("Environment[%q]: needs a value known at synthesis", name)
			} else {
				r.variables[name] = *v
			}
		}
	}
	if p.Secrets != nil {
		for name, s := range *p.Secrets {
			if msg := rules.CheckVariableName(name); msg != "" {
				add("Secrets[%q]: %s", name, msg)
				continue
			}
			if p.Environment != nil {
				if _, plain := (*p.Environment)[name]; plain {
					add("Secrets[%q]: is also in Environment: a name is either plain or secret", name)
					continue
				}
			}
			ref, msg := s.reference()
			if msg != "" {
				add("Secrets[%q]: %s", name, msg)
				continue
			}
			r.secrets[name] = ref
		}
	}
	valueFrom := map[string]string{}
	for name, ref := range r.secrets {
		valueFrom[name] = ref.ValueFrom()
	}
	if n := rules.ContainerConfigBytes(r.variables, valueFrom); n > rules.MaxContainerConfigBytes {
		add("Environment and Secrets take %d bytes of the task definition; Amazon ECS accepts at most 64 KiB for all of it, which leaves %d for them", n, rules.MaxContainerConfigBytes)
	}
	return problems
}

// configureContainer gives the container its plain variables and its
// secrets, and lets the execution role read exactly those secrets.
//
// The secrets are written into the L1 container definition rather than
// through awsecs.Secret: its grants are broader than what ECS needs.
// Secret_FromSecretsManager grants secretsmanager:DescribeSecret besides
// GetSecretValue, and Secret_FromSsmParameter grants
// ssm:DescribeParameters, GetParameter and GetParameterHistory besides
// GetParameters (aws-secretsmanager/lib/secret.js and aws-ssm/lib/parameter.js
// grantRead, called from aws-ecs/lib/container-definition.js addSecret).
// ECS needs secretsmanager:GetSecretValue and ssm:GetParameters, and
// kms:Decrypt for a customer managed key (Amazon ECS developer guide,
// "Amazon ECS task execution IAM role", Secrets Manager and Systems
// Manager permissions,
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).
func (s *service) configureContainer(container awsecs.ContainerDefinition, r resolved) {
	// Sorted, so that the template does not depend on map order.
	for _, name := range slices.Sorted(maps.Keys(r.variables)) {
		container.AddEnvironment(jsii.String(name), jsii.String(r.variables[name]))
	}
	if len(r.variables) > 0 {
		nagsuppress.AddToChildren(s.taskDef, nagsuppress.Rule{
			ID: "AwsSolutions-ECS2",
			Reason: "the plain variables are the service's non-secret configuration, which the operator sets as Environment; " +
				"anything secret goes in Secrets, which the container reads from Secrets Manager or Parameter Store at start",
		})
	}
	if len(r.secrets) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(r.secrets))
	entries := make([]any, 0, len(names))
	for _, name := range names {
		entries = append(entries, map[string]any{"Name": name, "ValueFrom": r.secrets[name].ValueFrom()})
	}
	cfn := s.taskDef.Node().DefaultChild().(awsecs.CfnTaskDefinition)
	cfn.AddPropertyOverride(jsii.String("ContainerDefinitions.0.Secrets"), entries)

	stack := awscdk.Stack_Of(s.Construct)
	var secretArns, parameterArns []string
	// kms:Decrypt conditions, per service endpoint (a secret in another
	// Region is decrypted through that Region's endpoint).
	secretsVia := map[string][]string{}
	parametersVia := map[string][]string{}
	var localParameters []*string
	for _, name := range names {
		ref := r.secrets[name]
		switch {
		case ref.Source == rules.SourceSecretsManager:
			secretArns = append(secretArns, ref.PolicyArn())
			via := fmt.Sprintf("secretsmanager.%s.%s", ref.Region, urlSuffix(ref.Partition))
			secretsVia[via] = append(secretsVia[via], ref.PolicyArn())
		case ref.Arn != "":
			parameterArns = append(parameterArns, ref.Arn)
			via := fmt.Sprintf("ssm.%s.%s", ref.Region, urlSuffix(ref.Partition))
			parametersVia[via] = append(parametersVia[via], ref.Arn)
		default:
			localParameters = append(localParameters, parameterArn(stack, ref.Parameter))
		}
	}
	var statements []awsiam.PolicyStatement
	if len(secretArns) > 0 {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: jsii.Strings(unique(secretArns)...),
		}))
	}
	if len(parameterArns) > 0 || len(localParameters) > 0 {
		resources := append(*jsii.Strings(unique(parameterArns)...), localParameters...)
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("ssm:GetParameters"),
			Resources: &resources,
		}))
	}
	// The keys that encrypt the secrets cannot be known offline (each
	// secret or parameter names its own, or the AWS managed one), so
	// kms:Decrypt is on "*", limited by condition to requests that Secrets
	// Manager or Parameter Store makes for exactly these secrets: the
	// encryption context Secrets Manager uses names the secret
	// (SecretARN; AWS Secrets Manager user guide, "Secret encryption and
	// decryption", https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html),
	// and the one Parameter Store uses names the parameter (PARAMETER_ARN;
	// AWS KMS developer guide, "How AWS Systems Manager Parameter Store
	// uses AWS KMS", https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html).
	// kms:ViaService: AWS KMS developer guide, "AWS KMS condition keys".
	for _, via := range slices.Sorted(maps.Keys(secretsVia)) {
		statements = append(statements, decryptVia(jsii.String(via), "StringLike", "kms:EncryptionContext:SecretARN", jsii.Strings(unique(secretsVia[via])...)))
	}
	for _, via := range slices.Sorted(maps.Keys(parametersVia)) {
		statements = append(statements, decryptVia(jsii.String(via), "StringEquals", "kms:EncryptionContext:PARAMETER_ARN", jsii.Strings(unique(parametersVia[via])...)))
	}
	if len(localParameters) > 0 {
		via := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("ssm."), stack.Region(), jsii.String("."), stack.UrlSuffix()})
		statements = append(statements, decryptVia(via, "StringEquals", "kms:EncryptionContext:PARAMETER_ARN", &localParameters))
	}
	policy := awsiam.NewPolicy(s.Construct, jsii.String("ExecutionSecretsPolicy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{s.executionRole},
		Statements: &statements,
	})
	// A task of this revision needs the policy when it starts.
	s.taskDef.Node().AddDependency(policy)
	nagsuppress.Add(policy, nagsuppress.Rule{
		ID: "AwsSolutions-IAM5",
		Reason: "kms:Decrypt on \"*\" because the keys of the container's secrets are not known at synthesis; " +
			"each statement is limited by kms:ViaService to Secrets Manager or Parameter Store and by the encryption context to exactly the secrets and parameters the container reads",
		AppliesTo: []string{"Resource::*"},
	})
}

// decryptVia allows kms:Decrypt through one service endpoint for the
// given encryption context values only.
func decryptVia(via *string, op, contextKey string, values *[]*string) awsiam.PolicyStatement {
	conditions := map[string]any{"StringEquals": map[string]any{"kms:ViaService": via}}
	if op == "StringEquals" {
		conditions[op].(map[string]any)[contextKey] = values
	} else {
		conditions[op] = map[string]any{contextKey: values}
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &conditions,
	})
}

// parameterArn is the ARN of a parameter of this account and Region: a
// name in a hierarchy keeps its leading "/" as the ARN's separator
// (arn:aws:ssm:<region>:<account>:parameter/path/name), a name without
// one gets it (parameter/name).
func parameterArn(stack awscdk.Stack, name string) *string {
	if name[0] == '/' {
		name = name[1:]
	}
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ssm"), Resource: jsii.String("parameter"), ResourceName: jsii.String(name),
		ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

// urlSuffix is the partition's domain, as in service endpoints.
func urlSuffix(partition string) string {
	if partition == "aws-cn" {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

func unique(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}
