package test

import (
	"sync"
	"testing"

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
	accountsSynth *checkedSynthesis
	accountsErr   error
	accountsIDs   = []string{"Staging", "Production", "Pipeline"}
	accountsOfIDs = map[string]string{"Staging": stagingAccount, "Production": productionAccount, "Pipeline": toolsAccount}
)

// accountsApp is the shared three-account synthesis, checked by cdk-nag.
func accountsApp(t *testing.T) *checkedSynthesis {
	t.Helper()
	accountsOnce.Do(func() {
		accountsSynth, accountsErr = synthesizeChecked(testapp.ThreeAccounts())
	})
	if accountsErr != nil {
		t.Fatalf("three-account synthesis: %v", accountsErr)
	}
	return accountsSynth
}
