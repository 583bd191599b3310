package delivery

import (
	"fmt"
	"strings"
)

// Files the build writes and the deploy actions read. The application
// repository must hold its Dockerfile at its root: the build runs
// `docker build .` in the checked-out source.
const (
	// ImageDetailFile names the image that was pushed, as
	// {"ImageURI":"<repository URI>:<tag>"}; every deploy action reads it.
	ImageDetailFile = "imageDetail.json"
	// ImagePlaceholder stands for the image in the task definition templates;
	// CodeDeploy replaces it with the ImageURI of ImageDetailFile.
	ImagePlaceholder = "IMAGE1_NAME"
	// TaskDefinitionPlaceholder stands for the task definition in the
	// AppSpecs; CodeDeploy replaces it with the revision it registers.
	TaskDefinitionPlaceholder = "TASK_DEFINITION"
)

// TaskDefinitionFile is the task definition template the build writes for an
// environment: the family's latest registered revision with the image
// replaced by <IMAGE1_NAME>.
func TaskDefinitionFile(environment string) string {
	return "taskdef-" + environment + ".json"
}

// AppSpecFile is the CodeDeploy AppSpec the build writes for an environment.
func AppSpecFile(environment string) string {
	return "appspec-" + environment + ".yaml"
}

// envVarPrefix is the upper-case prefix of an environment's build variables
// (STAGING_TASK_FAMILY and so on).
func envVarPrefix(environment string) string {
	return strings.ToUpper(environment)
}

// Build variables the project defines for each environment.
func taskFamilyVar(environment string) string { return envVarPrefix(environment) + "_TASK_FAMILY" }
func containerNameVar(environment string) string {
	return envVarPrefix(environment) + "_CONTAINER_NAME"
}
func containerPortVar(environment string) string {
	return envVarPrefix(environment) + "_CONTAINER_PORT"
}
func hookFunctionVar(environment string) string {
	return envVarPrefix(environment) + "_HOOK_FUNCTION"
}

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

// buildSpec is the buildspec of the image build. Its commands run under
// CodeBuild's default shell, /bin/sh (dash on the standard images), so they
// use POSIX sh only; variables assigned by one command persist to the later
// commands and phases (buildspec version 0.2). Every variable it reads is
// defined by the project (REPOSITORY_URI, IMAGE_REPO_NAME, <ENV>_TASK_FAMILY, _CONTAINER_NAME, _CONTAINER_PORT, _HOOK_FUNCTION), by the
// pipeline action (COMMIT_ID) or by CodeBuild (AWS_DEFAULT_REGION,
// CODEBUILD_RESOLVED_SOURCE_VERSION).
func buildSpec(environments []string) map[string]interface{} {
	image := `"$REPOSITORY_URI:$IMAGE_TAG"`
	postBuild := []string{
		// Tags are immutable: a rerun for a commit that was already pushed
		// (a "Release change" after a failed deploy) reuses the image instead
		// of failing on the push.
		`if aws ecr describe-images --repository-name "$IMAGE_REPO_NAME" --image-ids imageTag="$IMAGE_TAG" > /dev/null 2>&1; then echo "$REPOSITORY_URI:$IMAGE_TAG exists already, reusing it"; else docker push ` + image + `; fi`,
		`printf '{"ImageURI":"%s"}\n' ` + image + ` > ` + ImageDetailFile,
	}
	files := []interface{}{ImageDetailFile}
	for _, env := range environments {
		postBuild = append(postBuild, environmentCommands(env)...)
		files = append(files, TaskDefinitionFile(env), AppSpecFile(env))
	}
	return map[string]interface{}{
		"version": "0.2",
		"phases": map[string]interface{}{
			"pre_build": map[string]interface{}{
				"on-failure": "ABORT",
				"commands": []interface{}{
					// The image is tagged with the commit, never "latest": the
					// deployed image is always traceable to its source.
					`IMAGE_TAG="$(printf '%s' "${COMMIT_ID:-$CODEBUILD_RESOLVED_SOURCE_VERSION}" | cut -c1-12)"`,
					`test -n "$IMAGE_TAG"`,
					`REGISTRY="${REPOSITORY_URI%%/*}"`,
					`aws ecr get-login-password --region "$AWS_DEFAULT_REGION" | docker login --username AWS --password-stdin "$REGISTRY"`,
				},
			},
			"build": map[string]interface{}{
				"on-failure": "ABORT",
				"commands": []interface{}{
					`docker build --tag ` + image + ` .`,
				},
			},
			"post_build": map[string]interface{}{
				"commands": toInterfaces(postBuild),
			},
		},
		"artifacts": map[string]interface{}{
			"files": files,
		},
	}
}

// environmentCommands writes the task definition template and the AppSpec of
// one environment. The task definition comes from what CloudFormation (or the
// last release) registered for the family, so the CDK task definition stays
// the only place where CPU, memory, roles, ports and logging are written.
func environmentCommands(env string) []string {
	raw := "taskdef-" + env + ".raw.json"
	taskDef := TaskDefinitionFile(env)
	return []string{
		fmt.Sprintf(`aws ecs describe-task-definition --task-definition "$%s" --output json > %s`, taskFamilyVar(env), raw),
		fmt.Sprintf(`jq --arg name "$%s" '%s' %s > %s`, containerNameVar(env), taskDefinitionFilter(), raw, taskDef),
		// Fails the build when no container carries the placeholder (a
		// container name that does not match), rather than the deployment.
		fmt.Sprintf(`jq -e '[.containerDefinitions[] | select(.image == "<%s>")] | length == 1' %s > /dev/null`, ImagePlaceholder, taskDef),
		// The AfterAllowTestTraffic hook validates the new version on the test
		// listener; a failure rolls back before production traffic moves.
		fmt.Sprintf(`printf 'version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: "<%s>"\n        LoadBalancerInfo:\n          ContainerName: "%%s"\n          ContainerPort: %%s\nHooks:\n  - AfterAllowTestTraffic: "%%s"\n' "$%s" "$%s" "$%s" > %s`,
			TaskDefinitionPlaceholder, containerNameVar(env), containerPortVar(env), hookFunctionVar(env), AppSpecFile(env)),
	}
}

func toInterfaces(s []string) []interface{} {
	out := make([]interface{}, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
