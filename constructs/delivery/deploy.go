package delivery

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	actions "github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// renderProject creates the project every deploy stage renders its files
// with. It builds nothing, so it runs unprivileged.
func (p *pipeline) renderProject(r resolved, name func(string) *string) {
	spec := renderSpec()
	p.render, p.renderLogs = p.newProject(r, "RenderLogs", "Render", &awscodebuild.PipelineProjectProps{
		ProjectName: name("-render"),
		Description: jsii.String(fmt.Sprintf("%s: renders an environment's task definition template and AppSpec in its deploy stage, just before the release", r.prefix)),
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			"IMAGE_REPO_NAME": {Value: p.repo.RepositoryName()},
		},
		BuildSpec: awscodebuild.BuildSpec_FromObject(&spec),
		Timeout:   awscdk.Duration_Minutes(jsii.Number(10)),
	})
	restrictToProject(p.render, name("-render"))
	// Tagging the image for an environment: read its manifest, look the tag
	// up, put the tag; on this repository only.
	p.repo.Grant(p.render, jsii.String("ecr:BatchGetImage"), jsii.String("ecr:DescribeImages"), jsii.String("ecr:PutImage"))
	// ecs:DescribeTaskDefinition has no resource type in the AWS service
	// authorization reference: it accepts only "*".
	p.render.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ecs:DescribeTaskDefinition"),
		Resources: jsii.Strings("*"),
	}))
}

// addDeploy adds the stage that releases to e: the render action writes the
// task definition template and the AppSpec (runOrder 1), then CodeDeploy
// releases them with the build's image (runOrder 2).
//
// The CodeDeploy action runs as a role of its own whose permissions are
// written here: CDK's action would grant ecs:RegisterTaskDefinition and
// iam:PassRole on "*". Every name and ARN comes from the environment's fixed
// names (e.target), so that nothing here depends on a cross-stack value that
// can go stale.
func (p *pipeline) addDeploy(r resolved, e environment, buildOutput awscodepipeline.Artifact) {
	t := e.target
	role := awsiam.NewRole(p.Construct, jsii.String("DeployRole-"+e.name), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewArnPrincipal(p.role.RoleArn()),
		Description: jsii.String(fmt.Sprintf("%s pipeline: releases to %s with CodeDeploy", r.prefix, e.name)),
	})
	statements := append(t.engine.statements(), []*awsiam.PolicyStatementProps{
		{
			// The service authorization reference gives RegisterTaskDefinition
			// the task-definition resource type: only this family is allowed.
			Sid:       jsii.String("RegisterTaskDefinition"),
			Actions:   jsii.Strings("ecs:RegisterTaskDefinition", "ecs:TagResource"),
			Resources: &[]*string{t.taskDefinitionsArn},
		},
		{
			Sid:       jsii.String("PassTaskRoles"),
			Actions:   jsii.Strings("iam:PassRole"),
			Resources: &[]*string{t.taskRoleArn, t.executionRoleArn},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"},
			},
		},
		{
			Sid:       jsii.String("ReadArtifacts"),
			Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
			Resources: &[]*string{p.bucket.ArnForObjects(jsii.String("*"))},
		},
		{
			Sid:       jsii.String("DecryptArtifacts"),
			Actions:   jsii.Strings("kms:Decrypt", "kms:DescribeKey"),
			Resources: &[]*string{p.key.KeyArn()},
		},
	}...)
	for _, s := range statements {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(s))
	}
	p.deployRoles[e.name] = role

	rendered := awscodepipeline.NewArtifact(jsii.String("Rendered-"+e.name), nil)
	variables := map[string]*awscodebuild.BuildEnvironmentVariable{}
	for k, v := range renderVariables(e.name, t) {
		variables[k] = &awscodebuild.BuildEnvironmentVariable{Value: jsii.String(v)}
	}
	render := actions.NewCodeBuildAction(&actions.CodeBuildActionProps{
		ActionName:           jsii.String("Render"),
		RunOrder:             jsii.Number(1),
		Project:              p.render,
		Input:                buildOutput,
		Outputs:              &[]awscodepipeline.Artifact{rendered},
		EnvironmentVariables: &variables,
	})

	deploy := t.engine.action(p, e, role, rendered, buildOutput)
	p.pipeline.AddStage(&awscodepipeline.StageOptions{
		StageName: jsii.String(DeployStageName(e.name)),
		Actions:   &[]awscodepipeline.IAction{render, deploy},
	})
}

// addApproval adds the manual approval before e, linking to the environment
// released just before it.
func (p *pipeline) addApproval(e environment, before []environment) {
	props := &actions.ManualApprovalActionProps{
		ActionName:            jsii.String("Approve"),
		NotificationTopic:     p.topic,
		AdditionalInformation: jsii.String(fmt.Sprintf("Approve to release this build to %s.", e.name)),
	}
	if len(before) > 0 {
		prev := before[len(before)-1]
		url := prev.service.ProductionUrl()
		props.AdditionalInformation = jsii.String(fmt.Sprintf("This build is live in %s at %s. Check it there, then approve to release it to %s.", prev.name, *url, e.name))
		props.ExternalEntityLink = url
	}
	p.pipeline.AddStage(&awscodepipeline.StageOptions{
		StageName: jsii.String(ApprovalStageName(e.name)),
		Actions:   &[]awscodepipeline.IAction{actions.NewManualApprovalAction(props)},
	})
}
