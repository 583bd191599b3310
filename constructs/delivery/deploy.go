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
	spec := renderSpec(len(p.cross) > 0)
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

// addDeploy adds the stage that releases to e, with the actions of e's
// engine.
func (p *pipeline) addDeploy(r resolved, e environment, buildOutput awscodepipeline.Artifact) {
	acts := e.target.engine.actions(p, r, e, buildOutput)
	p.pipeline.AddStage(&awscodepipeline.StageOptions{
		StageName: jsii.String(DeployStageName(e.name)),
		Actions:   &acts,
	})
}

// readArtifacts lets a deploy role read the pipeline's artifacts.
func (p *pipeline) readArtifacts() *awsiam.PolicyStatementProps {
	return &awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadArtifacts"),
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources: &[]*string{p.bucket.ArnForObjects(jsii.String("*"))},
	}
}

// decryptArtifacts lets a deploy role decrypt the pipeline's artifacts.
func (p *pipeline) decryptArtifacts() *awsiam.PolicyStatementProps {
	return &awsiam.PolicyStatementProps{
		Sid:       jsii.String("DecryptArtifacts"),
		Actions:   jsii.Strings("kms:Decrypt", "kms:DescribeKey"),
		Resources: &[]*string{p.key.KeyArn()},
	}
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
