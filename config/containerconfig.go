package config

import (
	"fmt"
	"maps"
	"slices"

	"ecs-bluegreen/rules"
)

// readContainerConfig reads the container's plain variables and secrets:
// each a JSON object, given as a structure in cdk.json or as a JSON string
// with -c. Every bad entry is its own problem, under the key that holds it.
func readContainerConfig(r *reader, k func(string) string, e *Environment) {
	var variables map[string]string
	if r.jsonValue(k("environment"), "{}",
		`Plain environment variables of the container, as a JSON object of names to string values: {"LOG_LEVEL":"info"}. Never put a secret here: the values are in the template.`, &variables) {
		for _, name := range slices.Sorted(maps.Keys(variables)) {
			if msg := rules.CheckVariableName(name); msg != "" {
				r.fail(k("environment"), name, msg)
			}
		}
	}
	var secrets map[string]string
	refs := map[string]rules.SecretReference{}
	if r.jsonValue(k("secrets"), "{}",
		`Secret environment variables of the container, as a JSON object of names to a Secrets Manager secret ARN (optionally :<json-key>[:<version-stage>[:<version-id>]]) or a Parameter Store SecureString parameter's name or ARN. ECS reads them when a task starts; the template holds only the references.`, &secrets) {
		for _, name := range slices.Sorted(maps.Keys(secrets)) {
			if msg := rules.CheckVariableName(name); msg != "" {
				r.fail(k("secrets"), name, msg)
				continue
			}
			if _, plain := variables[name]; plain {
				r.fail(k("secrets"), name, fmt.Sprintf("is also a plain variable in %s: a name is either plain or secret", k("environment")))
				continue
			}
			ref, msg := rules.ParseSecretReference(secrets[name])
			if msg != "" {
				r.fail(k("secrets"), fmt.Sprintf("%s: %s", name, secrets[name]), msg)
				continue
			}
			refs[name] = ref
		}
	}
	if n := rules.ContainerConfigBytes(variables, secrets); n > rules.MaxContainerConfigBytes {
		r.fail(k("environment"), fmt.Sprintf("%d variables and %d secrets", len(variables), len(secrets)), fmt.Sprintf(
			"take %d bytes of the task definition together with %s; Amazon ECS accepts task definitions of at most 64 KiB, which leaves %d bytes for them",
			n, k("secrets"), rules.MaxContainerConfigBytes))
	}
	// nil for none, as the other optional lists.
	if len(variables) > 0 {
		e.Variables = variables
	}
	if len(refs) > 0 {
		e.Secrets = refs
	}
}
