package delivery

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Environments in other accounts than the pipeline's (the tools account).
//
// CloudFormation exports do not cross accounts, so each side names the
// other by fixed names and ARNs built from them: the environment stack
// creates the roles the pipeline's actions assume there, and trusts the
// pipeline's roles by their fixed names; the pipeline stack imports those
// roles by ARN and admits them in its artifact bucket's and key's policies.
//
// A trust policy that names a role of another account as its Principal is
// refused while that role does not exist (IAM stores the role's unique id).
// The environment's roles therefore trust the tools account with the
// condition aws:PrincipalArn equal to the one role allowed to assume them,
// as CDK's pipeline does for the cross-account action roles it generates
// (aws-codepipeline/lib/pipeline.js, getRoleFromActionPropsOrGenerateIfCrossAccount,
// "@aws-cdk/pipelines:reduceCrossAccountActionRoleTrustScope"): only that
// role can assume them, yet the environment stacks deploy before the
// pipeline's, whose policies name the environments' roles (which must
// exist, for the same reason).

// Fixed names of the pipeline's roles that act in an environment's account.
// They are given only when an environment lives in another account: in one
// account the roles keep CloudFormation's generated names.
func pipelineRoleName(prefix string) string { return prefix + "-pipeline" }
func renderRoleName(prefix string) string   { return prefix + "-render" }
func releaseProjectRoleName(prefix, environment string) string {
	return prefix + "-release-" + environment
}

// ArtifactBucketName is the artifact bucket's fixed name when an
// environment lives in another account (its deploy role reads the
// artifacts by the bucket's ARN): S3 bucket names are global, so the name
// holds the tools account and the region.
func ArtifactBucketName(prefix, account, region string) string {
	return fmt.Sprintf("%s-artifacts-%s-%s", prefix, account, region)
}

// Names of the roles an environment's stack creates for the pipeline.
func environmentDeployRoleName(rolePrefix string) string  { return rolePrefix + "-deploy" }
func environmentRenderRoleName(rolePrefix string) string  { return rolePrefix + "-render" }
func environmentReleaseRoleName(rolePrefix string) string { return rolePrefix + "-release" }

// Variables of the render and release projects when an environment lives
// in another account: the role each assumes there before reading or
// updating anything of that account.
const (
	renderRoleVar  = "RENDER_ROLE_ARN"
	releaseRoleVar = "RELEASE_ROLE_ARN"
)

// assumeRoleCommands define assume_environment_role, which assumes the role
// named by the variable roleVar with the project's own credentials and
// exports the role's for the commands after it (CodeBuild runs a phase's
// commands in one shell; POSIX sh), and call it once.
// https://docs.aws.amazon.com/cli/latest/reference/sts/assume-role.html
//
// A CodeBuild service role assuming another role is role chaining, which
// STS caps at one hour (AssumeRole, DurationSeconds:
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html);
// a command that may outlast it calls assume_environment_role again once
// reassumeSeconds have passed (ASSUMED_AT), as the release's poll does.
func assumeRoleCommands(roleVar, session string) []any {
	return []any{
		`assume_environment_role() { unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; ` +
			`CREDENTIALS="$(aws sts assume-role --role-arn "$` + roleVar + `" --role-session-name "` + session + `" --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)" || exit 1; ` +
			`set -- $CREDENTIALS; [ "$#" -eq 3 ] || { echo "assuming $` + roleVar + ` returned no credentials" >&2; exit 1; }; ` +
			`export AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" AWS_SESSION_TOKEN="$3"; unset CREDENTIALS; ` +
			`ASSUMED_AT="$(date +%s)"; echo "acting as $` + roleVar + `"; }`,
		`assume_environment_role`,
	}
}

// reassumeSeconds is how long a command uses the assumed credentials before
// it assumes the role again: well inside role chaining's one hour.
const reassumeSeconds = 3000

// reassumeCommand assumes the environment's role again when its credentials
// are reassumeSeconds old.
func reassumeCommand() string {
	return fmt.Sprintf(`if [ $(( $(date +%%s) - ASSUMED_AT )) -ge %d ]; then assume_environment_role; fi; `, reassumeSeconds)
}

// EnvironmentAccessProps configures the roles an environment's account
// gives the pipeline of the tools account.
type EnvironmentAccessProps struct {
	// Service is the environment's service (the pipeline's ReleaseTarget). Required.
	Service ReleaseTarget
	// Environment is the environment's name in the pipeline ("staging"). Required.
	Environment *string
	// RolePrefix starts the roles' names: "<RolePrefix>-deploy" and
	// "-render" (CodeDeploy), "-release" (ECS). Required.
	RolePrefix *string
	// PipelinePrefix is the pipeline's NamePrefix. Required.
	PipelinePrefix *string
	// PipelineAccount is the tools account. Required.
	PipelineAccount *string
}

// EnvironmentAccess are the roles of an environment's account that the
// pipeline's actions assume.
type EnvironmentAccess interface {
	constructs.Construct
	// Roles are the roles created, by their fixed names.
	Roles() map[string]awsiam.Role
	// RolePrefix starts the roles' names.
	RolePrefix() string
}

type environmentAccess struct {
	constructs.Construct
	roles      map[string]awsiam.Role
	rolePrefix string
}

func (a *environmentAccess) Roles() map[string]awsiam.Role { return a.roles }

// NewEnvironmentAccess creates, in an environment's stack, the roles the
// pipeline's actions assume there, with the permissions the same-account
// pipeline gives its own deploy roles, and lets the environment's
// execution role pull from the tools account's repository.
func NewEnvironmentAccess(scope constructs.Construct, id string, props *EnvironmentAccessProps) EnvironmentAccess {
	if props == nil || props.Service == nil || props.Environment == nil || props.RolePrefix == nil || props.PipelinePrefix == nil || props.PipelineAccount == nil {
		panic("delivery: EnvironmentAccessProps with Service, Environment, RolePrefix, PipelinePrefix and PipelineAccount is required")
	}
	t, err := readTarget(0, props.Service)
	if err != nil {
		panic(err)
	}
	this := constructs.NewConstruct(scope, &id)
	a := &environmentAccess{Construct: this, roles: map[string]awsiam.Role{}, rolePrefix: *props.RolePrefix}
	stack := awscdk.Stack_Of(this)
	tools := toolsAccount{stack: stack, account: *props.PipelineAccount, prefix: *props.PipelinePrefix}
	env := *props.Environment

	// Pulls from the tools account's repository: the repository's policy
	// names the execution role, and, across accounts, the role's own
	// policy must allow the pulls too (IAM user guide, "Cross-account
	// policy evaluation logic"). ECR decrypts the layers with the grant it
	// holds on the repository's key (ECR user guide, "Encryption at rest":
	// https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html),
	// so the execution role needs no key permission of its own.
	if exec, ok := props.Service.ExecutionRole().(awsiam.Role); ok {
		exec.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("PullFromTools"),
			Actions:   jsii.Strings("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"),
			Resources: &[]*string{tools.arn("ecr", "repository", tools.prefix, awscdk.ArnFormat_SLASH_RESOURCE_NAME)},
		}))
	}

	newRole := func(id, name, trusted, description string, statements []*awsiam.PolicyStatementProps) awsiam.Role {
		role := awsiam.NewRole(this, jsii.String(id), &awsiam.RoleProps{
			RoleName:    jsii.String(name),
			AssumedBy:   tools.principal(trusted),
			Description: jsii.String(description),
		})
		for _, s := range statements {
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(s))
		}
		a.roles[name] = role
		return role
	}
	t.engine.environmentRoles(&accessBuilder{stack: stack, tools: tools, env: env, rolePrefix: *props.RolePrefix, target: t, newRole: newRole})
	return a
}

// accessBuilder is what an engine needs to create the roles its actions
// assume in an environment's account (engineTarget.environmentRoles).
type accessBuilder struct {
	stack      awscdk.Stack
	tools      toolsAccount
	env        string
	rolePrefix string
	target     target
	// newRole creates a role with a fixed name, trusted by the tools
	// account's role named trusted only.
	newRole func(id, name, trusted, description string, statements []*awsiam.PolicyStatementProps) awsiam.Role
}

// toolsAccount formats what an environment's stack names of the tools
// account: in the environment stack's partition and region (one region).
type toolsAccount struct {
	stack   awscdk.Stack
	account string
	prefix  string
}

func (t toolsAccount) arn(service, resource, name string, format awscdk.ArnFormat) *string {
	c := &awscdk.ArnComponents{Service: jsii.String(service), Resource: jsii.String(resource), ResourceName: jsii.String(name), ArnFormat: format, Account: jsii.String(t.account)}
	if service == "iam" || service == "s3" {
		c.Region = jsii.String("")
	}
	if service == "s3" {
		c.Account = jsii.String("")
	}
	return t.stack.FormatArn(c)
}

func (t toolsAccount) bucket() string {
	return ArtifactBucketName(t.prefix, t.account, *t.stack.Region())
}

// principal is the tools account, narrowed to one of its roles.
func (t toolsAccount) principal(role string) awsiam.IPrincipal {
	return awsiam.NewAccountPrincipal(jsii.String(t.account)).WithConditions(&map[string]any{
		"ArnEquals": map[string]any{"aws:PrincipalArn": t.arn("iam", "role", role, awscdk.ArnFormat_SLASH_RESOURCE_NAME)},
	})
}

// artifactObjects is the ARN of every object of the artifact bucket.
func (t toolsAccount) artifactObjects() *string {
	return t.arn("s3", t.bucket(), "*", awscdk.ArnFormat_SLASH_RESOURCE_NAME)
}

// keys is the ARN of every KMS key of the tools account in the region.
func (t toolsAccount) keys() *string {
	return t.arn("kms", "key", "*", awscdk.ArnFormat_SLASH_RESOURCE_NAME)
}

func (t toolsAccount) readArtifacts() *awsiam.PolicyStatementProps {
	return &awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadArtifacts"),
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources: &[]*string{t.artifactObjects()},
	}
}

// decryptArtifacts: the key's id is generated in the tools account and
// cannot be named here. Across accounts, both this policy and the key's
// must allow a use (KMS developer guide, "Allowing users in other accounts
// to use a KMS key": https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html),
// and of the tools account's keys only the pipeline's names this role.
func (t toolsAccount) decryptArtifacts() *awsiam.PolicyStatementProps {
	return &awsiam.PolicyStatementProps{
		Sid:       jsii.String("DecryptArtifacts"),
		Actions:   jsii.Strings("kms:Decrypt", "kms:DescribeKey"),
		Resources: &[]*string{t.keys()},
	}
}

// RolePrefix is the prefix of the access roles' names.
func (a *environmentAccess) RolePrefix() string { return a.rolePrefix }

// crossAccount finds the environments whose stacks live in another account
// than the pipeline's, and refuses an environment in another region.
func crossAccount(pipelineStack awscdk.Stack, envs []environment) (map[string]bool, error) {
	cross := map[string]bool{}
	var problems []error
	for i, e := range envs {
		stack := awscdk.Stack_Of(e.service.TaskDefinition())
		if a, b := *stack.Region(), *pipelineStack.Region(); !isToken(a) && !isToken(b) && a != b {
			problems = append(problems, fmt.Errorf("Environments[%d] (%s) is in region %s and the pipeline in %s: the pipeline releases within its own region", i, e.name, a, b)) //nolint:staticcheck // ST1005: starts with the prop's name
		}
		a, b := *stack.Account(), *pipelineStack.Account()
		if a == b || (isToken(a) && isToken(b)) {
			continue
		}
		if isToken(a) || isToken(b) {
			problems = append(problems, fmt.Errorf("Environments[%d] (%s): give both its stack and the pipeline's an explicit account, or neither", i, e.name)) //nolint:staticcheck // ST1005: starts with the prop's name
			continue
		}
		if e.access == nil {
			problems = append(problems, fmt.Errorf("Environments[%d] (%s) lives in account %s, not the pipeline's: give its Access (NewEnvironmentAccess in its stack)", i, e.name, a)) //nolint:staticcheck // ST1005: starts with the prop's name
			continue
		}
		cross[e.name] = true
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("delivery: invalid pipeline props: %w", errors.Join(problems...))
	}
	return cross, nil
}

// accessRoleArn is the ARN of one of an environment's access roles.
func accessRoleArn(e environment, name func(string) string) *string {
	stack := awscdk.Stack_Of(e.service.TaskDefinition())
	return arnIn(stack)("iam", "role", name(e.access.RolePrefix()), awscdk.ArnFormat_SLASH_RESOURCE_NAME)
}

// importAccessRole imports one of an environment's access roles by ARN,
// immutable: its policies are the environment stack's.
func (p *pipeline) importAccessRole(id string, e environment, name func(string) string) awsiam.IRole {
	return awsiam.Role_FromRoleArn(p.Construct, jsii.String(id+"-"+e.name), accessRoleArn(e, name), &awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)})
}

// nameRole gives a role CDK creates (a project's) a fixed name.
func nameRole(role awsiam.IRole, name string) {
	if cfn, ok := role.Node().DefaultChild().(awsiam.CfnRole); ok {
		cfn.SetRoleName(jsii.String(name))
	}
}
