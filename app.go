// Command ecs-bluegreen is the CDK app: it reads the configuration and wires
// the staging, production and pipeline stacks.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	_ "ecs-bluegreen/internal/jsiinode"
	"ecs-bluegreen/stacks"
)

func main() {
	os.Exit(run())
}

func run() int {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := config.Load(app.Node())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	stacks.NewApp(app, cfg)
	app.Synth(nil)
	return 0
}
