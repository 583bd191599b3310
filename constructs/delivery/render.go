package delivery

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Each deploy stage renders its environment's task definition template and
// AppSpec right before its CodeDeploy action, in the render project. A
// release can wait days between its build and a deploy stage (the approval
// before production), and a `cdk deploy` may register a new revision of the
// family meanwhile; rendering at deploy time copies that revision, where a
// copy made at build time would undo the change.

// Variables the render action passes to the render project.
const (
	deployEnvironmentVar = "DEPLOY_ENVIRONMENT"
	taskFamilyVar        = "TASK_FAMILY"
	containerNameVar     = "CONTAINER_NAME"
	appSpecVar           = "APPSPEC"
)

// renderedDirectory holds what the render publishes, and nothing else.
const renderedDirectory = "rendered"

// maxActionConfigurationValue is CodePipeline's limit on the length of an
// action configuration value (ActionDeclaration, configuration), which the
// render action's variables are.
const maxActionConfigurationValue = 1000

// TaskDefinitionKeys are the keys of a task definition, as
// DescribeTaskDefinition returns it, that the rendered template keeps: the
// parameters of RegisterTaskDefinition, which CodeDeploy calls with it. The
// read-only keys (taskDefinitionArn, revision, status, compatibilities,
// registeredAt and others) are not parameters and are dropped, and so is any
// key the API adds to its answers later. Two parameters are dropped on
// purpose: enableFaultInjection, which DescribeTaskDefinition returns for
// every task definition and which ECS clients older than the field reject;
// and tags, which DescribeTaskDefinition returns only with --include TAGS,
// beside the task definition, and whose aws: keys cannot be registered.
var TaskDefinitionKeys = []string{
	"family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
	"volumes", "placementConstraints", "requiresCompatibilities", "cpu", "memory",
	"pidMode", "ipcMode", "proxyConfiguration", "inferenceAccelerators",
	"ephemeralStorage", "runtimePlatform", "trustedExecutionConfiguration",
}

// taskDefinitionFilter turns `aws ecs describe-task-definition` output into
// input for RegisterTaskDefinition: it keeps TaskDefinitionKeys only and puts
// the image placeholder into the container named $name.
func taskDefinitionFilter() string {
	quoted := make([]string, len(TaskDefinitionKeys))
	for i, k := range TaskDefinitionKeys {
		quoted[i] = `"` + k + `"`
	}
	return `.taskDefinition | with_entries(select(.key | IN(` + strings.Join(quoted, ", ") + `))) | .containerDefinitions |= map(if .name == $name then .image = "<` + ImagePlaceholder + `>" else . end)`
}

// renderSpec is the buildspec of the render project, run in each deploy
// stage with the variables of renderVariables and the build's output
// (imageDetail.json) as its source; the project defines IMAGE_REPO_NAME.
// Like the image build, it runs under /bin/sh (dash) and uses POSIX sh only.
//
// Before rendering, it gives the image the environment's tag,
// "<environment>-<commit tag>" (ImageTagPrefix), on the same image: the
// repository's lifecycle policy keeps the newest images of each
// environment's tag, so that no burst of builds can expire what an
// environment runs or may roll back to. Tags are immutable; a rerun finds
// the tag and leaves it.
//
// With an environment in another account (cross), the project then
// assumes the role named by RENDER_ROLE_ARN, when the action sets it, to
// read that account's task definition.
func renderSpec(cross bool) map[string]any {
	env := "$" + deployEnvironmentVar
	tagged := tagImageCommands(env)
	if cross {
		tagged = append(tagged, assumeRoleCommands(renderRoleVar, "render-"+env)...)
	}
	taskDef := renderedDirectory + "/" + TaskDefinitionFile(env)
	raw := "taskdef.raw.json"
	return map[string]any{
		"version": "0.2",
		"phases": map[string]any{
			"build": map[string]any{
				"on-failure": "ABORT",
				"commands": append(tagged,
					`mkdir -p `+renderedDirectory,
					// The family's latest revision now: what CloudFormation
					// registered last, or the last release.
					fmt.Sprintf(`aws ecs describe-task-definition --task-definition "$%s" --output json > %s`, taskFamilyVar, raw),
					fmt.Sprintf(`echo "rendering the task definition template from $(jq -r '.taskDefinition.taskDefinitionArn' %s)"`, raw),
					fmt.Sprintf(`jq --arg name "$%s" '%s' %s > "%s"`, containerNameVar, taskDefinitionFilter(), raw, taskDef),
					// Fails the stage when no container carries the placeholder
					// (a container name that does not match), rather than the
					// deployment.
					fmt.Sprintf(`jq -e '[.containerDefinitions[] | select(.image == "<%s>")] | length == 1' "%s" > /dev/null`, ImagePlaceholder, taskDef),
					// The AppSpec was rendered from a Go value at synthesis
					// (renderAppSpec); checked to be JSON before it is written.
					fmt.Sprintf(`printf '%%s\n' "$%s" | jq -e '.Resources | length == 1' > /dev/null`, appSpecVar),
					fmt.Sprintf(`printf '%%s\n' "$%s" > "%s/%s"`, appSpecVar, renderedDirectory, AppSpecFile(env)),
				),
			},
		},
		"artifacts": map[string]any{
			"base-directory": renderedDirectory,
			"files":          []any{"**/*"},
		},
	}
}

// renderVariables are what the render action tells the render project about
// an environment released by CodeDeploy: only its fixed names, literals in
// the pipeline template, and the AppSpec, rendered from a Go value.
func renderVariables(environment string, t target) map[string]string {
	v := map[string]string{
		deployEnvironmentVar: environment,
		taskFamilyVar:        t.family,
		containerNameVar:     t.containerName,
	}
	v[appSpecVar] = renderAppSpec(t)
	return v
}

// checkRenderVariables reports variables too long for CodePipeline, which
// holds them in one action configuration value, as the CodeBuild action
// serializes them.
func checkRenderVariables(index int, environment string, t target) error {
	type variable struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	var list []variable
	for k, v := range renderVariables(environment, t) {
		list = append(list, variable{k, "PLAINTEXT", v})
	}
	b, _ := json.Marshal(list)
	if len(b) > maxActionConfigurationValue {
		return fmt.Errorf( //nolint:staticcheck // ST1005: starts with the prop's name
			"Environments[%d]: the render action's variables take %d characters, CodePipeline allows %d in an action configuration value; use shorter names", index, len(b), maxActionConfigurationValue)
	}
	return nil
}

// appSpec is the CodeDeploy AppSpec of an ECS deployment.
type appSpec struct {
	Version   json.Number                  `json:"version"`
	Resources []map[string]appSpecResource `json:"Resources"`
	Hooks     []map[string]string          `json:"Hooks"`
}

type appSpecResource struct {
	Type       string            `json:"Type"`
	Properties appSpecProperties `json:"Properties"`
}

type appSpecProperties struct {
	TaskDefinition   string                  `json:"TaskDefinition"`
	LoadBalancerInfo appSpecLoadBalancerInfo `json:"LoadBalancerInfo"`
}

type appSpecLoadBalancerInfo struct {
	ContainerName string  `json:"ContainerName"`
	ContainerPort float64 `json:"ContainerPort"`
}

// renderAppSpec is an environment's AppSpec as JSON: CodeDeploy routes the
// test and production listeners to the container and port, and runs the
// pre-traffic function at AfterAllowTestTraffic, on the test listener; its
// failure rolls back before production traffic moves.
func renderAppSpec(t target) string {
	spec := appSpec{
		Version: "0.0",
		Resources: []map[string]appSpecResource{{"TargetService": {
			Type: "AWS::ECS::Service",
			Properties: appSpecProperties{
				TaskDefinition:   "<" + TaskDefinitionPlaceholder + ">",
				LoadBalancerInfo: appSpecLoadBalancerInfo{ContainerName: t.containerName, ContainerPort: t.containerPort},
			},
		}}},
		Hooks: []map[string]string{{"AfterAllowTestTraffic": t.hookFunction}},
	}
	// Without HTML escaping: the deploy action replaces the text
	// <TASK_DEFINITION>, which json.Marshal would write as \u003c...\u003e.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(spec); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// tagImageCommands give the build's image (imageDetail.json) the
// environment's tag, "<environment>-<commit tag>" (ImageTagPrefix), on the
// same image: the repository's lifecycle policy keeps the newest images of
// each environment's tag, so that no burst of builds can expire what an
// environment runs or may roll back to. Tags are immutable; a rerun finds
// the tag and leaves it. They leave IMAGE_URI set and the image's
// BatchGetImage answer in image.json.
func tagImageCommands(env string) []any {
	return []any{
		`IMAGE_URI="$(jq -r '.ImageURI' ` + ImageDetailFile + `)"`,
		`IMAGE_TAG="${IMAGE_URI##*:}"`,
		`test -n "$IMAGE_TAG" && test "$IMAGE_TAG" != "$IMAGE_URI"`,
		`ENVIRONMENT_TAG="` + ImageTagPrefix(env) + `$IMAGE_TAG"`,
		// The manifest of the commit's image, byte for byte (jq -j
		// adds no newline): the new tag must name the same digest.
		`aws ecr batch-get-image --repository-name "$IMAGE_REPO_NAME" --image-ids imageTag="$IMAGE_TAG" --output json > image.json`,
		`jq -e '.images | length == 1' image.json > /dev/null`,
		`jq -j '.images[0].imageManifest' image.json > manifest.json`,
		`if aws ecr describe-images --repository-name "$IMAGE_REPO_NAME" --image-ids imageTag="$ENVIRONMENT_TAG" > /dev/null 2>&1; then echo "$ENVIRONMENT_TAG exists already"; ` +
			`else aws ecr put-image --repository-name "$IMAGE_REPO_NAME" --image-tag "$ENVIRONMENT_TAG" --image-manifest file://manifest.json ` +
			`--image-manifest-media-type "$(jq -r '.images[0].imageManifestMediaType' image.json)" --image-digest "$(jq -r '.images[0].imageId.imageDigest' image.json)" > /dev/null; fi`,
	}
}
