package delivery

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/nagsuppress"
)

// suppressDocumentedWildcards records, on each policy that holds one, why
// every "*" in a resource is needed, in cdk-nag's terms (AwsSolutions-IAM5
// findings, one reason each). A wildcard not listed here fails the checks.
func (p *pipeline) suppressDocumentedWildcards(r resolved) {
	stack := awscdk.Stack_Of(p.Construct)
	artifacts := map[string]string{
		nagResource(stack, p.bucket.ArnForObjects(jsii.String("*"))): "artifact objects: CodePipeline names the object keys per execution, so object-level access needs a key pattern; the bucket holds only this pipeline's artifacts",
	}
	suppressWildcards(p.role, artifacts)

	suppressWildcards(p.project.Role(), merged(map[string]string{
		"Resource::*": "ecr:GetAuthorizationToken accepts only \"*\" (no resource type in the service authorization reference); pushes are granted on the repository alone",
	}, projectGrants(stack, p.project), artifacts))
	if p.render != nil {
		suppressWildcards(p.render.Role(), merged(map[string]string{
			"Resource::*": "ecs:DescribeTaskDefinition accepts only \"*\" (no resource type in the service authorization reference); the image actions are granted on the repository alone",
		}, projectGrants(stack, p.render), artifacts))
	}
	for _, e := range r.envs {
		e.target.engine.suppressWildcards(p, e, artifacts)
	}
}

// suppressEventBridgeDeadLetterQueue records why the dead-letter queue of an
// EventBridge target has no dead-letter queue of its own.
func suppressEventBridgeDeadLetterQueue(queue awssqs.Queue) {
	nagsuppress.Add(queue, nagsuppress.Rule{
		ID: "AwsSolutions-SQS3",
		Reason: "the queue is the dead-letter queue of the failure rule's EventBridge target (cdk-nag recognises only SQS and Lambda dead-letter queues); " +
			"nothing consumes it, so no message is ever redriven, and an alarm announces any message it receives",
	})
}

// projectGrants are the wildcards of CDK's grants to a CodeBuild project's
// role, with their reasons.
func projectGrants(stack awscdk.Stack, project awscodebuild.PipelineProject) map[string]string {
	return map[string]string{
		nagResource(stack, stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("logs"), Resource: jsii.String("log-group"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
			ResourceName: jsii.String("/aws/codebuild/" + *project.ProjectName() + ":*"),
		})): "CDK's CodeBuild grant for the project's default log group: log streams are named per build; the project logs to its own log group, granted without a wildcard",
		nagResource(stack, stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("codebuild"), Resource: jsii.String("report-group"),
			ResourceName: jsii.String(*project.ProjectName() + "-*"),
		})): "CDK's CodeBuild grant for test report groups, named at run time with the project's name as prefix",
	}
}

// suppressWildcards adds one AwsSolutions-IAM5 suppression per finding to the
// default policy of a role.
func suppressWildcards(role awsiam.IRole, findings map[string]string) {
	policy := role.Node().FindChild(jsii.String("DefaultPolicy"))
	keys := make([]string, 0, len(findings))
	for k := range findings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rules := make([]nagsuppress.Rule, 0, len(keys))
	for _, k := range keys {
		rules = append(rules, nagsuppress.Rule{ID: "AwsSolutions-IAM5", Reason: findings[k], AppliesTo: []string{k}})
	}
	nagsuppress.Add(policy, rules...)
}

// nagResource names a policy resource the way a cdk-nag finding does:
// "Resource::" and the value with references written <LogicalId> and
// <LogicalId.Attribute>.
func nagResource(stack awscdk.Stack, value *string) string {
	return "Resource::" + flattenReference(stack.Resolve(value))
}

func flattenReference(v any) string {
	switch x := v.(type) {
	case string:
		return strings.NewReplacer("${", "<", "}", ">").Replace(x)
	case map[string]any:
		if join, ok := x["Fn::Join"].([]any); ok && len(join) == 2 {
			items, _ := join[1].([]any)
			parts := make([]string, len(items))
			for i, item := range items {
				parts[i] = flattenReference(item)
			}
			return strings.Join(parts, fmt.Sprint(join[0]))
		}
		if sub, ok := x["Fn::Sub"]; ok {
			return flattenReference(sub)
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			return "<" + flattenReference(att[0]) + "." + flattenReference(att[1]) + ">"
		}
		if ref, ok := x["Ref"]; ok {
			return "<" + flattenReference(ref) + ">"
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// merged is the union of findings maps (later ones win on a shared key).
func merged(findings ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, f := range findings {
		maps.Copy(out, f)
	}
	return out
}
