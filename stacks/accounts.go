package stacks

import (
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/constructs/delivery"
)

// environmentAccess creates, in each environment stack of another account
// than the pipeline's, the roles the pipeline assumes there. In one account
// it creates nothing: the pipeline's own deploy roles act directly.
func environmentAccess(cfg *config.Config, sys *System) map[string]delivery.EnvironmentAccess {
	access := map[string]delivery.EnvironmentAccess{}
	for _, s := range []struct {
		env   *config.Environment
		stack *ServiceStack
	}{{&cfg.Staging, sys.Staging}, {&cfg.Production, sys.Production}} {
		if cfg.Accounts.Of(s.env) == cfg.Accounts.Pipeline {
			continue
		}
		access[s.env.Name] = delivery.NewEnvironmentAccess(s.stack.Stack, "PipelineAccess", &delivery.EnvironmentAccessProps{
			Service:         s.stack.Service,
			Environment:     jsii.String(s.env.Name),
			RolePrefix:      jsii.String(cfg.ResourcePrefix(s.env)),
			PipelinePrefix:  jsii.String(cfg.PipelinePrefix()),
			PipelineAccount: jsii.String(cfg.Accounts.Pipeline),
		})
	}
	return access
}
