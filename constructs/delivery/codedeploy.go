package delivery

import (
	"errors"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	codedeploy "github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	actions "github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/constructs/bluegreen"
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

// renderVariables: the AppSpec, rendered here from a Go value.
func (codeDeployTarget) renderVariables(t target) map[string]string {
	return map[string]string{appSpecVar: renderAppSpec(t)}
}

func (t codeDeployTarget) action(p *pipeline, e environment, role awsiam.Role, rendered, buildOutput awscodepipeline.Artifact) awscodepipeline.IAction {
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
		// Without policy updates, CDK cannot add its "*" statements: the
		// role has exactly the statements the pipeline gives it.
		Role: role.WithoutPolicyUpdates(nil),
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
