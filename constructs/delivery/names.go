package delivery

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The pipeline usually lives in a stack of its own, and what it knows of an
// environment then comes through cross-stack references. With cdk.json's
// "@aws-cdk/core:defaultCrossStackReferences": "weak", those are
// Fn::GetStackOutput, which CloudFormation resolves only when the pipeline
// stack itself is updated; `cdk deploy` skips a stack whose template did not
// change, so the value can stay what it was at the pipeline's last update.
// In a policy that would be a grant to, or of, something that no longer
// exists. So every value the pipeline writes into a policy, into its deploy
// action or into the variables of its builds is a fixed physical name read
// from the environment's own resources, formatted here into ARNs for the
// environment stack's partition, account and region (in one account, those
// pseudo parameters resolve the same in the consuming stack). Only what
// informs people (the approval's link) may stay a reference.
//
// Fixed names also keep the policies true over time. CloudFormation refuses
// to replace a resource that has a custom name, so a role with a fixed name
// is never replaced silently by an update. That matters because IAM stores a
// role named in a policy's Principal as the role's unique id: a role deleted
// and recreated under the same name would no longer match the repository
// policy that names it.

// target is what the pipeline names of one environment: physical names
// read from the L1 resources, and ARNs built from them. What belongs to the
// release engine is in engine.
type target struct {
	family, containerName   string
	containerPort           float64
	executionRole, taskRole string
	hookFunction            string

	executionRoleArn, taskRoleArn *string
	taskDefinitionsArn            *string

	// engine is the release engine's part: its names, its permissions and
	// its deploy action (one deploy path per engine, see engine.go).
	engine engineTarget
}

// readTarget reads the fixed names of an environment's resources. A name
// that is not a literal (an unresolved token) is reported: a policy built
// from it would depend on a value that can go stale.
func readTarget(index int, s ReleaseTarget) (target, error) {
	names := &fixedNames{index: index}
	fixed := names.of

	t := target{containerName: *s.ContainerName(), containerPort: *s.ContainerPort()}
	var family *string
	if cfn, ok := s.TaskDefinition().Node().DefaultChild().(awsecs.CfnTaskDefinition); ok {
		family = cfn.Family()
	}
	t.family = fixed("task definition family", s.TaskDefinition(), family)
	t.executionRole = fixed("execution role", s.ExecutionRole(), roleName(s.ExecutionRole()))
	t.taskRole = fixed("task role", s.TaskRole(), roleName(s.TaskRole()))
	t.hookFunction = fixed("pre-traffic function", s.PreTrafficHook(), functionName(s.PreTrafficHook()))
	for _, r := range []awsiam.IRole{s.ExecutionRole(), s.TaskRole()} {
		if r == nil {
			continue
		}
		if cfn, ok := r.Node().DefaultChild().(awsiam.CfnRole); ok && cfn.Path() != nil {
			fixed("role path", r, cfn.Path())
		}
	}
	engine, err := readEngine(index, s)
	if err != nil {
		names.problems = append(names.problems, err)
	}
	if len(names.problems) > 0 {
		return target{}, errors.Join(names.problems...)
	}
	t.engine = engine

	// ARNs in the environment stack's partition, account and region. (The
	// service itself is a Go value embedding its construct: jsii is handed
	// one of its resources.)
	arn := arnIn(awscdk.Stack_Of(s.TaskDefinition()))
	t.executionRoleArn = arn("iam", "role", rolePath(s.ExecutionRole())+t.executionRole, awscdk.ArnFormat_SLASH_RESOURCE_NAME)
	t.taskRoleArn = arn("iam", "role", rolePath(s.TaskRole())+t.taskRole, awscdk.ArnFormat_SLASH_RESOURCE_NAME)
	// Every revision of the family: ECS numbers each one at registration.
	t.taskDefinitionsArn = arn("ecs", "task-definition", t.family+":*", awscdk.ArnFormat_SLASH_RESOURCE_NAME)

	return t, nil
}

// fixedName returns a resource's physical name, or reports that it has none
// a policy could rely on: a name that is not a literal (an unresolved token)
// can go stale.
func fixedName(index int, what string, owner constructs.IConstruct, name *string) (string, error) {
	if name == nil || *name == "" || isToken(*name) {
		path := "none given"
		if isConstruct(owner) {
			path = *owner.Node().Path()
		}
		return "", fmt.Errorf( //nolint:staticcheck // ST1005: starts with the prop's name
			"Environments[%d]: the %s (%s) has no fixed physical name: a policy would depend on a value that can go stale (a cross-stack reference is resolved only when the pipeline stack is updated); give the resource a fixed name",
			index, what, path)
	}
	return *name, nil
}

// fixedNames reads the fixed names of one environment's resources and
// gathers what is missing, to be reported together.
type fixedNames struct {
	index    int
	problems []error
}

// of is a resource's fixed name, or "" with the problem recorded.
func (f *fixedNames) of(what string, owner constructs.IConstruct, name *string) string {
	n, err := fixedName(f.index, what, owner, name)
	if err != nil {
		f.problems = append(f.problems, err)
	}
	return n
}

// arnIn formats ARNs in a stack's partition, account and region (IAM's
// without a region: it is global).
func arnIn(stack awscdk.Stack) func(service, resource, name string, format awscdk.ArnFormat) *string {
	return func(service, resource, name string, format awscdk.ArnFormat) *string {
		c := &awscdk.ArnComponents{Service: jsii.String(service), Resource: jsii.String(resource), ResourceName: jsii.String(name), ArnFormat: format}
		if service == "iam" {
			c.Region = jsii.String("")
		}
		return stack.FormatArn(c)
	}
}

// roleName is the RoleName of the role's CfnRole, or for an imported role the
// name it was imported with.
func roleName(r awsiam.IRole) *string {
	if r == nil {
		return nil
	}
	if cfn, ok := r.Node().DefaultChild().(awsiam.CfnRole); ok {
		return cfn.RoleName()
	}
	return r.RoleName()
}

// rolePath is the path of a role the app creates, without its leading "/",
// as the role's ARN carries it; "" for the default path.
func rolePath(r awsiam.IRole) string {
	if cfn, ok := r.Node().DefaultChild().(awsiam.CfnRole); ok && cfn.Path() != nil {
		return strings.TrimPrefix(*cfn.Path(), "/")
	}
	return ""
}

func functionName(f awslambda.IFunction) *string {
	if f == nil {
		return nil
	}
	if cfn, ok := f.Node().DefaultChild().(awslambda.CfnFunction); ok {
		return cfn.FunctionName()
	}
	return f.FunctionName()
}

// isConstruct tells a construct from nil and from the values CDK returns
// that have no construct tree.
func isConstruct(c constructs.IConstruct) bool {
	return c != nil && *constructs.Construct_IsConstruct(c)
}
