package delivery

import (
	"strings"
)

// Files the pipeline's actions write and the deploy actions read. The
// application repository must hold its Dockerfile at its root: the build runs
// `docker build .` in the checked-out source.
const (
	// ImageDetailFile names the image that was pushed, as
	// {"ImageURI":"<repository URI>:<tag>"}; the build writes it, every deploy
	// action reads it.
	ImageDetailFile = "imageDetail.json"
	// ImagePlaceholder stands for the image in the task definition templates;
	// CodeDeploy replaces it with the ImageURI of ImageDetailFile.
	ImagePlaceholder = "IMAGE1_NAME"
	// TaskDefinitionPlaceholder stands for the task definition in the
	// AppSpecs; CodeDeploy replaces it with the revision it registers.
	TaskDefinitionPlaceholder = "TASK_DEFINITION"
)

// TaskDefinitionFile is the task definition template an environment's deploy
// stage renders: the family's latest registered revision with the image
// replaced by <IMAGE1_NAME>.
func TaskDefinitionFile(environment string) string {
	return "taskdef-" + environment + ".json"
}

// AppSpecFile is the CodeDeploy AppSpec an environment's deploy stage
// renders. It is JSON, which is also YAML: CodeDeploy reads AppSpecs in
// either form, and the deploy action's default file name is appspec.yaml.
func AppSpecFile(environment string) string {
	return "appspec-" + environment + ".yaml"
}

// envVarPrefix is the upper-case form of an environment's name, as in the
// repository policy's statement ids (PullSTAGING).
func envVarPrefix(environment string) string {
	return strings.ToUpper(environment)
}

// buildSpec is the buildspec of the image build: it builds the image, pushes
// it and writes ImageDetailFile, nothing else; each deploy stage renders its
// own task definition and AppSpec (renderSpec). Its commands run under
// CodeBuild's default shell, /bin/sh (dash on the standard images), so they
// use POSIX sh only; variables assigned by one command persist to the later
// commands and phases (buildspec version 0.2). Every variable it reads is
// defined by the project (REPOSITORY_URI, IMAGE_REPO_NAME), by the pipeline
// action (COMMIT_ID) or by CodeBuild (AWS_DEFAULT_REGION,
// CODEBUILD_RESOLVED_SOURCE_VERSION).
func buildSpec() map[string]any {
	image := `"$REPOSITORY_URI:$IMAGE_TAG"`
	return map[string]any{
		"version": "0.2",
		"phases": map[string]any{
			"pre_build": map[string]any{
				"on-failure": "ABORT",
				"commands": []any{
					// The image is tagged with the commit, never "latest": the
					// deployed image is always traceable to its source.
					`IMAGE_TAG="$(printf '%s' "${COMMIT_ID:-$CODEBUILD_RESOLVED_SOURCE_VERSION}" | cut -c1-12)"`,
					`test -n "$IMAGE_TAG"`,
					`REGISTRY="${REPOSITORY_URI%%/*}"`,
					`aws ecr get-login-password --region "$AWS_DEFAULT_REGION" | docker login --username AWS --password-stdin "$REGISTRY"`,
				},
			},
			"build": map[string]any{
				"on-failure": "ABORT",
				"commands": []any{
					`docker build --tag ` + image + ` .`,
				},
			},
			"post_build": map[string]any{
				"commands": []any{
					// Tags are immutable: a rerun for a commit that was already
					// pushed (a "Release change" after a failed deploy) reuses
					// the image instead of failing on the push.
					`if aws ecr describe-images --repository-name "$IMAGE_REPO_NAME" --image-ids imageTag="$IMAGE_TAG" > /dev/null 2>&1; then echo "$REPOSITORY_URI:$IMAGE_TAG exists already, reusing it"; else docker push ` + image + `; fi`,
					`printf '{"ImageURI":"%s"}\n' ` + image + ` > ` + ImageDetailFile,
				},
			},
		},
		"artifacts": map[string]any{
			"files": []any{ImageDetailFile},
		},
	}
}

// ImageTagPrefix starts the tag an environment's deploy stage gives the image
// it releases, "<environment>-<commit tag>"; the repository keeps the newest
// images carrying each environment's prefix. Commit tags are hexadecimal, so
// no commit tag starts with a prefix.
func ImageTagPrefix(environment string) string {
	return environment + "-"
}
