package delivery

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"

	"ecs-bluegreen/constructs/bluegreen"
)

// ReleaseTarget is what the pipeline needs from an environment to release
// to it: what runs there (the task definition whose family every release
// registers a revision of, its container and port, and the roles the tasks
// run with), which pre-traffic check each release runs, which URL people
// check before approving the next environment, and which engine moves the
// traffic. A bluegreen.Service is one, whatever its engine.
type ReleaseTarget interface {
	TaskDefinition() awsecs.FargateTaskDefinition
	ContainerName() *string
	ContainerPort() *float64
	ExecutionRole() awsiam.IRole
	TaskRole() awsiam.IRole
	PreTrafficHook() awslambda.IFunction
	ProductionUrl() *string
	Release() bluegreen.Release
}

// A deployPath is how the pipeline releases with one engine. Each engine
// has a file of its own here (codedeploy.go, ecs.go) that adds its path to
// deployPaths; adding an engine adds a file, and nothing else in this
// package changes.
type deployPath interface {
	// engine is the engine this path releases with.
	engine() bluegreen.Engine
	// read returns the engine's part of an environment's target, from the
	// engine's fixed names; ok is false for a release of another engine.
	read(index int, release bluegreen.Release) (t engineTarget, ok bool, err error)
}

// engineTarget is an engine's part of a target.
type engineTarget interface {
	// check reports what the engine's deploy stage cannot carry for the
	// environment (such as variables longer than CodePipeline allows).
	check(index int, environment string, t target) error
	// actions are the deploy stage's actions, in their run order: they
	// release the build's image to e.
	actions(p *pipeline, r resolved, e environment, buildOutput awscodepipeline.Artifact) []awscodepipeline.IAction
	// suppressWildcards records why each "*" in the policies of the
	// engine's actions is needed (see pipeline.suppressDocumentedWildcards),
	// once the stage is in the pipeline; artifacts are the findings of the
	// artifact bucket's grants.
	suppressWildcards(p *pipeline, e environment, artifacts map[string]string)
	// renders reports whether the deploy stage runs the render project.
	renders() bool
	// environmentRoles creates, in an environment's own account, the roles
	// the engine's actions assume there (NewEnvironmentAccess).
	environmentRoles(a *accessBuilder)
}

// deployPaths are the engines this pipeline releases with.
var deployPaths []deployPath

// readEngine finds the deploy path of an environment's engine and reads its
// part of the target.
func readEngine(index int, s ReleaseTarget) (engineTarget, error) {
	release := s.Release()
	for _, path := range deployPaths {
		if release == nil {
			break
		}
		if t, ok, err := path.read(index, release); ok {
			return t, err
		}
	}
	engines := make([]string, len(deployPaths))
	for i, path := range deployPaths {
		engines[i] = string(path.engine())
	}
	sort.Strings(engines)
	engine := "no engine"
	if release != nil {
		engine = string(release.Engine())
	}
	return nil, fmt.Errorf("Environments[%d].Service is released by %s; this pipeline deploys with %s only", index, engine, strings.Join(engines, ", "))
}
