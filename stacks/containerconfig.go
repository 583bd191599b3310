package stacks

import (
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/constructs/bluegreen"
	"ecs-bluegreen/rules"
)

// containerVariables are the environment's plain variables, nil for none.
func containerVariables(env *config.Environment) *map[string]*string {
	if len(env.Variables) == 0 {
		return nil
	}
	out := map[string]*string{}
	for k, v := range env.Variables {
		out[k] = jsii.String(v)
	}
	return &out
}

// containerSecrets are the environment's secrets as the construct takes
// them, nil for none.
func containerSecrets(env *config.Environment) *map[string]*bluegreen.ContainerSecret {
	if len(env.Secrets) == 0 {
		return nil
	}
	out := map[string]*bluegreen.ContainerSecret{}
	for name, ref := range env.Secrets {
		if ref.Source == rules.SourceParameterStore {
			out[name] = bluegreen.SecretFromSsmParameter(ref.ValueFrom())
			continue
		}
		s := &bluegreen.ContainerSecret{SecretsManagerArn: jsii.String(ref.Arn)}
		if ref.JsonKey != "" {
			s.JsonKey = jsii.String(ref.JsonKey)
		}
		if ref.VersionStage != "" {
			s.VersionStage = jsii.String(ref.VersionStage)
		}
		if ref.VersionId != "" {
			s.VersionId = jsii.String(ref.VersionId)
		}
		out[name] = s
	}
	return &out
}
