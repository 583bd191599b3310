package delivery

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodeconnections"
	"github.com/aws/jsii-runtime-go"
)

// buildSource uses the given connection or creates one.
func (p *pipeline) buildSource(r resolved) {
	if r.connectionArn != "" {
		p.connectionArn = jsii.String(r.connectionArn)
		return
	}
	p.connection = awscodeconnections.NewCfnConnection(p.Construct, jsii.String("Connection"), &awscodeconnections.CfnConnectionProps{
		ConnectionName: jsii.String(r.prefix),
		ProviderType:   jsii.String("GitHub"),
	})
	p.connectionArn = p.connection.AttrConnectionArn()
	awscdk.NewCfnOutput(p.Construct, jsii.String("ConnectionArn"), &awscdk.CfnOutputProps{
		Description: jsii.String(fmt.Sprintf(
			"GitHub connection %s, created PENDING. Approve it once: AWS console > Developer Tools > Settings > Connections > %s > Update pending connection; then run make connect, which saves the pipeline again so that its push trigger registers, and push or choose Release change.",
			r.prefix, r.prefix)),
		Value: p.connectionArn,
	})
}
