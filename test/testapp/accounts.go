package testapp

// The fake account ids of the three-account configuration.
const (
	ToolsAccount      = "111111111111"
	StagingAccount    = "222222222222"
	ProductionAccount = "333333333333"
	accountsRegion    = "us-east-1"
)

// ThreeAccounts is the context of the three-account system the tests and
// `make accounts-gates` synthesize: the pipeline in a tools account, staging
// and production in accounts of their own, staging on the codedeploy engine
// and production on ecs, so that both engines' cross-account paths are
// there. With a concrete account the VPC looks up the region's availability
// zones; the context answers that lookup as cdk.context.json would (the
// CLI's -c cannot: it splits a key at its first "="), so the synthesis stays
// offline.
func ThreeAccounts() map[string]any {
	zones := []any{accountsRegion + "a", accountsRegion + "b", accountsRegion + "c"}
	ctx := map[string]any{
		"region":             accountsRegion,
		"pipeline.account":   ToolsAccount,
		"staging.account":    StagingAccount,
		"production.account": ProductionAccount,
		"production.engine":  "ecs",
		// As for the app's other shared syntheses: CDK's validation runs in
		// `cdk synth`, not here; cfn-lint and cfn-guard check the templates.
		"@aws-cdk/core:failSynthOnValidationErrors": false,
	}
	for _, account := range []string{ToolsAccount, StagingAccount, ProductionAccount} {
		ctx["availability-zones:account="+account+":region="+accountsRegion] = zones
	}
	return ctx
}
