package test

import (
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"ecs-bluegreen/test/testapp"
)

// The three-account synthesis: testapp.ThreeAccounts (the pipeline in a
// tools account, staging and production in accounts of their own, staging on
// codedeploy and production on ecs).
const (
	toolsAccount      = testapp.ToolsAccount
	stagingAccount    = testapp.StagingAccount
	productionAccount = testapp.ProductionAccount
)

var (
	accountsOnce  sync.Once
	accountsSynth *accountsSynthesis
	accountsErr   error
	accountsIDs   = []string{"Staging", "Production", "Pipeline"}
	accountsOfIDs = map[string]string{"Staging": stagingAccount, "Production": productionAccount, "Pipeline": toolsAccount}
)

type accountsSynthesis struct {
	app       *testapp.App
	assembly  cxapi.CloudAssembly
	templates map[string]assertions.Template
}

// accountsApp is the shared three-account synthesis, checked by cdk-nag.
func accountsApp(t *testing.T) *accountsSynthesis {
	t.Helper()
	accountsOnce.Do(func() {
		a, err := testapp.New(testapp.ThreeAccounts())
		if err != nil {
			accountsErr = err
			return
		}
		awscdk.Aspects_Of(a.App).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
		s := &accountsSynthesis{app: a, assembly: a.Synth(), templates: map[string]assertions.Template{}}
		for _, id := range a.StackIDs() {
			s.templates[id] = assertions.Template_FromStack(a.Stack(id), nil)
		}
		accountsSynth = s
	})
	if accountsErr != nil {
		t.Fatalf("three-account synthesis: %v", accountsErr)
	}
	return accountsSynth
}
