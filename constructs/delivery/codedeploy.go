package delivery

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	actions "github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/internal/nagsuppress"
)

// The CodeDeploy deploy path: the render action writes an AppSpec beside
// the task definition template, and CodeDeploy's ECS blue/green action
// releases them on the environment's deployment group.

func init() { deployPaths = append(deployPaths, codeDeployPath{}) }

type codeDeployPath struct{}

func (codeDeployPath) engine() bluegreen.Engine { return bluegreen.EngineCodeDeploy }

// codeDeployTarget is what the CodeDeploy path names of an environment.
type codeDeployTarget struct {
	application, group, config          string
	applicationArn, groupArn, configArn *string
}

func (codeDeployPath) read(index int, release bluegreen.Release) (engineTarget, bool, error) {
	r, ok := release.(bluegreen.CodeDeployRelease)
	if !ok {
		return nil, false, nil
	}
	group := r.DeploymentGroup()
	names := &fixedNames{index: index}
	fixed := names.of
	t := codeDeployTarget{
		application: fixed("CodeDeploy application", group.Application(), applicationName(group.Application())),
		group:       fixed("CodeDeploy deployment group", group, deploymentGroupName(group)),
		config:      fixed("CodeDeploy deployment configuration", group, deploymentConfigName(group.DeploymentConfig())),
	}
	if len(names.problems) > 0 {
		return nil, true, errors.Join(names.problems...)
	}
	arn := arnIn(awscdk.Stack_Of(group))
	t.applicationArn = arn("codedeploy", "application", t.application, awscdk.ArnFormat_COLON_RESOURCE_NAME)
	t.groupArn = arn("codedeploy", "deploymentgroup", t.application+"/"+t.group, awscdk.ArnFormat_COLON_RESOURCE_NAME)
	t.configArn = arn("codedeploy", "deploymentconfig", t.config, awscdk.ArnFormat_COLON_RESOURCE_NAME)
	return t, true, nil
}

func (t codeDeployTarget) check(index int, environment string, tg target) error {
	return checkRenderVariables(index, environment, tg)
}

// actions: the render action writes the task definition template and the
// AppSpec (runOrder 1), then CodeDeploy releases them with the build's
// image (runOrder 2).
//
// The CodeDeploy action runs as a role of its own whose permissions are
// written here: CDK's action would grant ecs:RegisterTaskDefinition and
// iam:PassRole on "*". Every name and ARN comes from the environment's fixed
// names (e.target), so that nothing here depends on a cross-stack value that
// can go stale.
func (t codeDeployTarget) actions(p *pipeline, r resolved, e environment, buildOutput awscodepipeline.Artifact) []awscodepipeline.IAction {
	tg := e.target
	var actionRole awsiam.IRole
	if p.cross[e.name] {
		// The environment's account holds the role (NewEnvironmentAccess);
		// CDK's pipeline lets the pipeline role assume it
		// (aws-codepipeline/lib/pipeline.js, getRoleForAction:
		// grantAssumeRole), admits it to the artifact bucket and key (the
		// action's bind grants its role read on the bucket, which for a
		// role of another account is a bucket and a key policy statement)
		// and, as the action has a role, creates no support stack for its
		// account.
		actionRole = p.importAccessRole("DeployRole", e, environmentDeployRoleName)
	} else {
		role := awsiam.NewRole(p.Construct, jsii.String("DeployRole-"+e.name), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewArnPrincipal(p.role.RoleArn()),
			Description: jsii.String(fmt.Sprintf("%s pipeline: releases to %s with CodeDeploy", r.prefix, e.name)),
		})
		statements := append(t.statements(), append(taskDefinitionStatements(tg), p.readArtifacts(), p.decryptArtifacts())...)
		for _, s := range statements {
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(s))
		}
		p.deployRoles[e.name] = role
	}

	rendered := awscodepipeline.NewArtifact(jsii.String("Rendered-"+e.name), nil)
	variables := map[string]*awscodebuild.BuildEnvironmentVariable{}
	for k, v := range renderVariables(e.name, tg) {
		variables[k] = &awscodebuild.BuildEnvironmentVariable{Value: jsii.String(v)}
	}
	if p.cross[e.name] {
		renderRole := accessRoleArn(e, environmentRenderRoleName)
		variables[renderRoleVar] = &awscodebuild.BuildEnvironmentVariable{Value: renderRole}
		p.render.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AssumeRender" + envVarPrefix(e.name)),
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: &[]*string{renderRole},
		}))
	}
	render := actions.NewCodeBuildAction(&actions.CodeBuildActionProps{
		ActionName:           jsii.String("Render"),
		RunOrder:             jsii.Number(1),
		Project:              p.render,
		Input:                buildOutput,
		Outputs:              &[]awscodepipeline.Artifact{rendered},
		EnvironmentVariables: &variables,
	})
	if actionRole == nil {
		actionRole = p.deployRoles[e.name]
	}
	return []awscodepipeline.IAction{render, t.deployAction(p, e, actionRole, rendered, buildOutput)}
}

func (codeDeployTarget) suppressWildcards(p *pipeline, e environment, artifacts map[string]string) {
	if p.cross[e.name] {
		return
	}
	suppressWildcards(p.deployRoles[e.name], merged(map[string]string{
		nagResource(awscdk.Stack_Of(p.Construct), e.target.taskDefinitionsArn): "task definition revisions of the service's own family: ECS numbers each revision at registration",
	}, artifacts))
}

// environmentRoles: in another account, the deploy role the CodeDeploy
// action uses and the role the render reads the live task definition with.
func (t codeDeployTarget) environmentRoles(a *accessBuilder) {
	deploy := a.newRole("DeployRole", environmentDeployRoleName(a.rolePrefix), pipelineRoleName(a.tools.prefix),
		fmt.Sprintf("%s pipeline: releases to %s with CodeDeploy", a.tools.prefix, a.env),
		append(t.statements(), append(taskDefinitionStatements(a.target), a.tools.readArtifacts(), a.tools.decryptArtifacts())...))
	render := a.newRole("RenderRole", environmentRenderRoleName(a.rolePrefix), renderRoleName(a.tools.prefix),
		fmt.Sprintf("%s pipeline: reads the task definition %s renders its release from", a.tools.prefix, a.env),
		[]*awsiam.PolicyStatementProps{{
			// ecs:DescribeTaskDefinition has no resource type in the AWS
			// service authorization reference: it accepts only "*".
			Sid:       jsii.String("DescribeTaskDefinition"),
			Actions:   jsii.Strings("ecs:DescribeTaskDefinition"),
			Resources: jsii.Strings("*"),
		}})
	suppressWildcards(deploy, map[string]string{
		nagResource(a.stack, a.target.taskDefinitionsArn): "task definition revisions of the service's own family: ECS numbers each revision at registration",
		nagResource(a.stack, a.tools.artifactObjects()):   "the pipeline's artifacts: each execution writes objects under keys CodePipeline generates",
		nagResource(a.stack, a.tools.keys()):              "keys of the tools account, whose pipeline key has a generated id: of its keys, only the pipeline's policy admits this role",
	})
	nagsuppress.AddToChildren(render, nagsuppress.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    "ecs:DescribeTaskDefinition accepts only \"*\" (it has no resource type in the service authorization reference)",
		AppliesTo: []string{"Resource::*"},
	})
}

// renders: the CodeDeploy path's first action is the render.
func (codeDeployTarget) renders() bool { return true }

// statements are what the deploy role may do with CodeDeploy.
func (t codeDeployTarget) statements() []*awsiam.PolicyStatementProps {
	return []*awsiam.PolicyStatementProps{
		{
			Sid:       jsii.String("CreateDeployment"),
			Actions:   jsii.Strings("codedeploy:CreateDeployment", "codedeploy:GetDeployment"),
			Resources: &[]*string{t.groupArn},
		},
		{
			Sid:       jsii.String("RegisterRevision"),
			Actions:   jsii.Strings("codedeploy:GetApplication", "codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision"),
			Resources: &[]*string{t.applicationArn},
		},
		{
			Sid:       jsii.String("ReadDeploymentConfig"),
			Actions:   jsii.Strings("codedeploy:GetDeploymentConfig"),
			Resources: &[]*string{t.configArn},
		},
	}
}

// deployAction releases the rendered files with the build's image, as the
// environment's deploy role, which it must use without policy updates: the
// role has exactly the statements given here.
func (t codeDeployTarget) deployAction(p *pipeline, e environment, role awsiam.IRole, rendered, buildOutput awscodepipeline.Artifact) awscodepipeline.IAction {
	// The action names the application and deployment group by their fixed
	// names: the group is imported here by name rather than referenced
	// across stacks.
	group := codedeploy.EcsDeploymentGroup_FromEcsDeploymentGroupAttributes(p.Construct, jsii.String("DeploymentGroup-"+e.name), &codedeploy.EcsDeploymentGroupAttributes{
		Application:         codedeploy.EcsApplication_FromEcsApplicationName(p.Construct, jsii.String("Application-"+e.name), jsii.String(t.application)),
		DeploymentGroupName: jsii.String(t.group),
		DeploymentConfig:    codedeploy.EcsDeploymentConfig_FromEcsDeploymentConfigName(p.Construct, jsii.String("DeploymentConfig-"+e.name), jsii.String(t.config)),
	})
	return actions.NewCodeDeployEcsDeployAction(&actions.CodeDeployEcsDeployActionProps{
		ActionName:                 jsii.String("BlueGreen"),
		RunOrder:                   jsii.Number(2),
		DeploymentGroup:            group,
		TaskDefinitionTemplateFile: rendered.AtPath(jsii.String(TaskDefinitionFile(e.name))),
		AppSpecTemplateFile:        rendered.AtPath(jsii.String(AppSpecFile(e.name))),
		ContainerImageInputs: &[]*actions.CodeDeployEcsContainerImageInput{{
			Input:                     buildOutput,
			TaskDefinitionPlaceholder: jsii.String(ImagePlaceholder),
		}},
		Role: withoutPolicyUpdates(role),
	})
}

func applicationName(a codedeploy.IEcsApplication) *string {
	if cfn, ok := a.Node().DefaultChild().(codedeploy.CfnApplication); ok {
		return cfn.ApplicationName()
	}
	return a.ApplicationName()
}

func deploymentGroupName(g codedeploy.IEcsDeploymentGroup) *string {
	if cfn, ok := g.Node().DefaultChild().(codedeploy.CfnDeploymentGroup); ok {
		return cfn.DeploymentGroupName()
	}
	return g.DeploymentGroupName()
}

// deploymentConfigName is the name of a configuration the app defines, or of
// a predefined one (CodeDeployDefault.*), which keeps CodeDeploy's name.
func deploymentConfigName(c codedeploy.IEcsDeploymentConfig) *string {
	// The predefined configurations CDK offers as constants
	// (EcsDeploymentConfig_ALL_AT_ONCE) are not constructs.
	if !isConstruct(c) {
		return c.DeploymentConfigName()
	}
	if cfn, ok := c.Node().DefaultChild().(codedeploy.CfnDeploymentConfig); ok {
		return cfn.DeploymentConfigName()
	}
	return c.DeploymentConfigName()
}

// taskDefinitionStatements let a deploy role register revisions of the
// environment's family and pass its task roles to ECS.
func taskDefinitionStatements(tg target) []*awsiam.PolicyStatementProps {
	return []*awsiam.PolicyStatementProps{
		{
			// The service authorization reference gives RegisterTaskDefinition
			// the task-definition resource type: only this family is allowed.
			Sid:       jsii.String("RegisterTaskDefinition"),
			Actions:   jsii.Strings("ecs:RegisterTaskDefinition", "ecs:TagResource"),
			Resources: &[]*string{tg.taskDefinitionsArn},
		},
		{
			Sid:       jsii.String("PassTaskRoles"),
			Actions:   jsii.Strings("iam:PassRole"),
			Resources: &[]*string{tg.taskRoleArn, tg.executionRoleArn},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"},
			},
		},
	}
}

// withoutPolicyUpdates is the role an action is given: CDK cannot add its
// "*" statements to it, so that it has exactly the statements the pipeline
// (or, for an imported role, the environment's stack) gives it.
func withoutPolicyUpdates(role awsiam.IRole) awsiam.IRole {
	if r, ok := role.(awsiam.Role); ok {
		return r.WithoutPolicyUpdates(nil)
	}
	return role
}
