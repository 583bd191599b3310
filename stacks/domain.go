package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	"ecs-bluegreen/constructs/bluegreen"
)

// domain is the environment's own domain for the service, or nil. The zone
// is imported from its id and name, with no lookup, so synthesis stays
// offline; the configuration has checked that the name is in the zone.
func domain(stack awscdk.Stack, env *config.Environment) *bluegreen.DomainProps {
	if env.DomainName == "" {
		return nil
	}
	return &bluegreen.DomainProps{
		Name: jsii.String(env.DomainName),
		HostedZone: awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("HostedZone"), &awsroute53.HostedZoneAttributes{
			HostedZoneId: jsii.String(env.HostedZoneId),
			ZoneName:     jsii.String(env.HostedZoneName),
		}),
	}
}
