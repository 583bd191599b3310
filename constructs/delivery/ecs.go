package delivery

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	actions "github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
)

// The ECS deploy path: one action, the environment's release project. It
// gives the build's image the environment's tag (as the render does for
// CodeDeploy), then updates the environment stack with its current
// template and every parameter at its previous value except the image
// parameter, which it sets to the image by digest. CloudFormation registers
// the task definition revision and updates the service; ECS carries the
// deployment out, and CloudFormation's update ends when ECS's deployment
// does. The project waits for the update and fails when it does not end in
// UPDATE_COMPLETE (ECS rolled the release back, or CloudFormation failed):
// the pipeline then stops before the next environment.
//
// So CloudFormation is the one writer of what runs. A release changes the
// image alone and never the template; `cdk deploy` changes the template
// and keeps the image parameter's previous value (the CLI's
// --previous-parameters, on by default).

func init() { deployPaths = append(deployPaths, ecsPath{}) }

type ecsPath struct{}

func (ecsPath) engine() bluegreen.Engine { return bluegreen.EngineEcs }

// Variables of the release project.
const (
	stackNameVar      = "STACK_NAME"
	imageParameterVar = "IMAGE_PARAMETER"
	pollSecondsVar    = "POLL_SECONDS"
)

// releasePollSeconds is how often the release project reads the stack's
// status while CloudFormation updates it.
const releasePollSeconds = 20

// Limits of a CodeBuild project's timeout, in minutes (CodeBuild API
// reference, CreateProject, timeoutInMinutes).
const (
	minBuildTimeoutMinutes = 5
	maxBuildTimeoutMinutes = 2160
)

// ecsTarget is what the ECS path names of an environment.
type ecsTarget struct {
	stack, parameter string
	stackArn         *string
	bootstrapArn     *string
	timeoutMinutes   float64
}

func (ecsPath) read(index int, release bluegreen.Release) (engineTarget, bool, error) {
	r, ok := release.(bluegreen.EcsRelease)
	if !ok {
		return nil, false, nil
	}
	stack := r.Stack()
	names := &fixedNames{index: index}
	t := ecsTarget{stack: names.of("stack", stack, stack.StackName())}
	if logical, ok := stack.Resolve(r.ImageParameter().LogicalId()).(string); ok {
		t.parameter = logical
	} else {
		names.problems = append(names.problems, fmt.Errorf("Environments[%d]: the image parameter has no literal logical ID", index)) //nolint:staticcheck // ST1005: starts with the prop's name
	}
	if len(names.problems) > 0 {
		return nil, true, errors.Join(names.problems...)
	}
	t.stackArn = arnIn(stack)("cloudformation", "stack", t.stack+"/*", awscdk.ArnFormat_SLASH_RESOURCE_NAME)
	t.bootstrapArn = arnIn(stack)("ssm", "parameter", bootstrapParameter(stack), awscdk.ArnFormat_SLASH_RESOURCE_NAME)
	t.timeoutMinutes = math.Min(maxBuildTimeoutMinutes, math.Max(minBuildTimeoutMinutes, math.Ceil(*r.ReleaseTimeout().ToMinutes(nil))))
	return t, true, nil
}

// bootstrapParameter is the name, without its leading "/", of the SSM
// parameter that holds the bootstrap version the stack's template checks:
// CloudFormation reads it on every update, as the caller.
func bootstrapParameter(stack awscdk.Stack) string {
	qualifier := *awscdk.DefaultStackSynthesizer_DEFAULT_QUALIFIER()
	if q, ok := stack.Node().TryGetContext(jsii.String("@aws-cdk/core:bootstrapQualifier")).(string); ok && q != "" {
		qualifier = q
	}
	return "cdk-bootstrap/" + qualifier + "/version"
}

func (ecsTarget) check(int, string, target) error { return nil }

// renders: the ECS path releases without the render project.
func (ecsTarget) renders() bool { return false }

// environmentRoles: in another account, the role the release project
// updates the environment's stack with.
func (t ecsTarget) environmentRoles(a *accessBuilder) {
	release := a.newRole("ReleaseRole", environmentReleaseRoleName(a.rolePrefix), releaseProjectRoleName(a.tools.prefix, a.env),
		fmt.Sprintf("%s pipeline: updates the image parameter of stack %s", a.tools.prefix, t.stack), t.statements())
	suppressWildcards(release, map[string]string{
		nagResource(a.stack, t.stackArn): "the environment stack by its fixed name: a stack's ARN ends in the id CloudFormation gives it at creation, which the wildcard stands for",
	})
}

func (t ecsTarget) actions(p *pipeline, r resolved, e environment, buildOutput awscodepipeline.Artifact) []awscodepipeline.IAction {
	projectName := jsii.String(r.prefix + "-release-" + e.name)
	cross := p.cross[e.name]
	spec := releaseSpec(cross)
	variables := map[string]*awscodebuild.BuildEnvironmentVariable{
		"IMAGE_REPO_NAME": {Value: p.repo.RepositoryName()},
		stackNameVar:      {Value: jsii.String(t.stack)},
		imageParameterVar: {Value: jsii.String(t.parameter)},
		pollSecondsVar:    {Value: jsii.String(fmt.Sprint(releasePollSeconds))},
	}
	var releaseRole *string
	if cross {
		releaseRole = accessRoleArn(e, environmentReleaseRoleName)
		variables[releaseRoleVar] = &awscodebuild.BuildEnvironmentVariable{Value: releaseRole}
	}
	project, _ := p.newProject(r, "ReleaseLogs-"+e.name, "Release-"+e.name, &awscodebuild.PipelineProjectProps{
		ProjectName:          projectName,
		Description:          jsii.String(fmt.Sprintf("%s: releases the build's image to %s by updating the image parameter of stack %s, and waits for ECS's deployment", r.prefix, e.name, t.stack)),
		EnvironmentVariables: &variables,
		BuildSpec:            awscodebuild.BuildSpec_FromObject(&spec),
		Timeout:              awscdk.Duration_Minutes(jsii.Number(t.timeoutMinutes)),
	})
	restrictToProject(project, projectName)
	p.repo.Grant(project, jsii.String("ecr:BatchGetImage"), jsii.String("ecr:DescribeImages"), jsii.String("ecr:PutImage"))
	if cross {
		// The environment's release role (NewEnvironmentAccess) updates its
		// stack; this project's role only assumes it, by a fixed name that
		// role's trust policy names.
		nameRole(project.Role(), releaseProjectRoleName(r.prefix, e.name))
		project.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AssumeRelease"),
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: &[]*string{releaseRole},
		}))
	} else {
		for _, s := range t.statements() {
			project.AddToRolePolicy(awsiam.NewPolicyStatement(s))
		}
	}
	p.releaseProjects[e.name] = project
	return []awscodepipeline.IAction{actions.NewCodeBuildAction(&actions.CodeBuildActionProps{
		ActionName: jsii.String("Release"),
		RunOrder:   jsii.Number(1),
		Project:    project,
		Input:      buildOutput,
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			deployEnvironmentVar: {Value: jsii.String(e.name)},
		},
	})}
}

func (t ecsTarget) suppressWildcards(p *pipeline, e environment, artifacts map[string]string) {
	stack := awscdk.Stack_Of(p.Construct)
	project := p.releaseProjects[e.name]
	own := map[string]string{
		nagResource(stack, t.stackArn): "the environment stack by its fixed name: a stack's ARN ends in the id CloudFormation gives it at creation, which the wildcard stands for",
	}
	if p.cross[e.name] {
		// The stack is updated by the environment's release role.
		own = map[string]string{}
	}
	suppressWildcards(project.Role(), merged(own, projectGrants(stack, project), artifacts))
}

// statements are what the release project may do besides tagging the image:
// update and read this environment's stack, and let CloudFormation read the
// bootstrap version as the caller. The update names no role: CloudFormation
// then uses the role the stack was deployed with (CDK's execution role),
// "even if the users don't have permission to pass it" (CloudFormation API
// reference, UpdateStack, RoleARN), so no iam:PassRole is granted.
func (t ecsTarget) statements() []*awsiam.PolicyStatementProps {
	return []*awsiam.PolicyStatementProps{
		{
			Sid:       jsii.String("UpdateStack"),
			Actions:   jsii.Strings("cloudformation:UpdateStack", "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents"),
			Resources: &[]*string{t.stackArn},
		},
		{
			Sid:       jsii.String("ReadBootstrapVersion"),
			Actions:   jsii.Strings("ssm:GetParameters"),
			Resources: &[]*string{t.bootstrapArn},
		},
	}
}

// releaseSpec is the buildspec of the release projects, run with the
// build's output (imageDetail.json) as its source. Like the image build, it
// runs under /bin/sh (dash) and uses POSIX sh only.
//
// In another account (cross), the project tags the image in the tools
// account with its own credentials, then assumes the environment's release
// role (RELEASE_ROLE_ARN) for the CloudFormation calls.
func releaseSpec(cross bool) map[string]any {
	env := "$" + deployEnvironmentVar
	commands := tagImageCommands(env)
	// The poll may outlast the assumed credentials (reassumeCommand).
	reassume := ""
	if cross {
		commands = append(commands, assumeRoleCommands(releaseRoleVar, "release-"+env)...)
		reassume = " " + strings.TrimSuffix(reassumeCommand(), " ")
	}
	commands = append(commands,
		// The image by digest: what the tag names now, immutable.
		`IMAGE="${IMAGE_URI%:*}@$(jq -r '.images[0].imageId.imageDigest' image.json)"`,
		`aws cloudformation describe-stacks --stack-name "$`+stackNameVar+`" --output json > stack.json`,
		`jq -e --arg key "$`+imageParameterVar+`" '[.Stacks[0].Parameters[]? | select(.ParameterKey == $key)] | length == 1' stack.json > /dev/null`,
		// Every parameter keeps its value but the image's.
		`jq --arg key "$`+imageParameterVar+`" --arg image "$IMAGE" '[.Stacks[0].Parameters[] | if .ParameterKey == $key then {ParameterKey: .ParameterKey, ParameterValue: $image} else {ParameterKey: .ParameterKey, UsePreviousValue: true} end]' stack.json > parameters.json`,
		`CAPABILITIES="$(jq -r '[.Stacks[0].Capabilities[]?] | join(" ")' stack.json)"`,
		// The current template and the role the stack was deployed with:
		// UpdateStack without RoleARN uses it. Nothing to update (this image
		// runs already) is a release done.
		`if aws cloudformation update-stack --stack-name "$`+stackNameVar+`" --use-previous-template --parameters file://parameters.json ${CAPABILITIES:+--capabilities $CAPABILITIES} > update.json 2> update.err; then `+
			`echo "updating $`+stackNameVar+` to $IMAGE"; `+
			`elif grep -q 'No updates are to be performed' update.err; then echo "$`+stackNameVar+` runs $IMAGE already"; `+
			`else cat update.err >&2; exit 1; fi`,
		// Until the update (and ECS's deployment) ends; a rollback ends in
		// UPDATE_ROLLBACK_COMPLETE, and the release fails.
		`while STATUS="$(aws cloudformation describe-stacks --stack-name "$`+stackNameVar+`" --query 'Stacks[0].StackStatus' --output text)"; do `+
			`case "$STATUS" in *_IN_PROGRESS) sleep "$`+pollSecondsVar+`";`+reassume+`; *) break;; esac; done`,
		`echo "$`+stackNameVar+`: $STATUS"`,
		`if [ "$STATUS" != UPDATE_COMPLETE ]; then `+
			`aws cloudformation describe-stack-events --stack-name "$`+stackNameVar+`" --max-items 30 --query 'StackEvents[?ends_with(ResourceStatus, `+"`_FAILED`"+`)].[Timestamp,LogicalResourceId,ResourceStatusReason]' --output text >&2; `+
			`exit 1; fi`,
	)
	return map[string]any{
		"version": "0.2",
		"phases": map[string]any{
			"build": map[string]any{
				"on-failure": "ABORT",
				"commands":   commands,
			},
		},
	}
}
