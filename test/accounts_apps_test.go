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

// The three-account synthesis: the pipeline in a tools account, staging and
// production in accounts of their own (fake ids), staging on the codedeploy
// engine and production on ecs, so that both engines' cross-account paths
// are synthesized. With a concrete account, the VPC would look up the
// region's availability zones; the context answers that lookup as
// cdk.context.json would, so the synthesis stays offline.
const (
	toolsAccount      = "111111111111"
	stagingAccount    = "222222222222"
	productionAccount = "333333333333"
	accountsRegion    = "us-east-1"
)

// AccountsOverrides is the three-account configuration, with the
// availability-zone answers for the two environment accounts.
func accountsOverrides() map[string]any {
	zones := []any{accountsRegion + "a", accountsRegion + "b", accountsRegion + "c"}
	return map[string]any{
		"region":             accountsRegion,
		"pipeline.account":   toolsAccount,
		"staging.account":    stagingAccount,
		"production.account": productionAccount,
		"production.engine":  "ecs",
		"@aws-cdk/core:failSynthOnValidationErrors":                                     false,
		"availability-zones:account=" + stagingAccount + ":region=" + accountsRegion:    zones,
		"availability-zones:account=" + productionAccount + ":region=" + accountsRegion: zones,
		"availability-zones:account=" + toolsAccount + ":region=" + accountsRegion:      zones,
	}
}

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
		a, err := testapp.New(accountsOverrides())
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
