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

func run() (code int) {
	// Validate the CLI's context before the CDK runtime starts: a bad value
	// fails in milliseconds and nothing is synthesized. Warnings come first:
	// a likely typo often explains the error.
	cfg, warnings, checked, err := config.CheckCLIContext()
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	defer jsii.Close()
	// A construct that rejects its props panics; report it as an error, not a
	// Go stack trace.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(os.Stderr, "synth failed:", r)
			code = 1
		}
	}()
	app := awscdk.NewApp(nil)
	// The configuration is read once: from the CLI's context above, or, for
	// an app the CLI did not start, from the app's own context here.
	if !checked {
		cfg, err = config.Load(app.Node())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, w := range cfg.Warnings {
			fmt.Fprintln(os.Stderr, "warning:", w)
		}
	}
	stacks.NewApp(app, cfg)
	app.Synth(nil)
	return 0
}
