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
// has a file of its own here (codedeploy.go) that adds its path to
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
	// statements are what the environment's deploy role may do with the
	// engine's resources, besides registering the family's revisions and
	// passing the task roles (which every engine needs).
	statements() []*awsiam.PolicyStatementProps
	// renderVariables are the engine's own inputs of the render action.
	renderVariables(t target) map[string]string
	// action is the deploy action that releases the rendered files with
	// the build's image, as the environment's deploy role, which it must
	// use without policy updates: the role has exactly the statements the
	// pipeline gives it.
	action(p *pipeline, e environment, role awsiam.Role, rendered, buildOutput awscodepipeline.Artifact) awscodepipeline.IAction
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
