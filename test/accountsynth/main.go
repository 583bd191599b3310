// Command accountsynth synthesizes the three-account system
// (testapp.ThreeAccounts) offline into the cloud assembly CDK_OUTDIR names,
// for `make accounts-gates` to run cfn-lint and cfn-guard on.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/test/testapp"
)

func main() {
	if os.Getenv("CDK_OUTDIR") == "" {
		fmt.Fprintln(os.Stderr, "accountsynth: set CDK_OUTDIR to the directory of the cloud assembly")
		os.Exit(2)
	}
	a, err := testapp.New(testapp.ThreeAccounts())
	if err != nil {
		fmt.Fprintln(os.Stderr, "accountsynth:", err)
		os.Exit(1)
	}
	a.Synth()
	stacks := len(a.StackIDs())
	jsii.Close()
	fmt.Printf("accountsynth: %d stacks of the three-account system in %s\n", stacks, os.Getenv("CDK_OUTDIR"))
}
