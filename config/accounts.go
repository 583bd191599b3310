package config

import "fmt"

// Accounts are the AWS accounts the stacks deploy to: the pipeline's (the
// tools account, which builds the image once and releases it) and each
// environment's. Each is account unless set, so one account is the
// default and its templates are those of a single-account system.
type Accounts struct {
	Pipeline   string
	Staging    string
	Production string
}

// Of is the account of an environment ("staging" or "production").
func (a Accounts) Of(env *Environment) string {
	if env.Name == "production" {
		return a.Production
	}
	return a.Staging
}

// CrossAccount reports whether an environment lives in another account than
// the pipeline.
func (a Accounts) CrossAccount() bool {
	return a.Staging != a.Pipeline || a.Production != a.Pipeline
}

// readAccounts reads pipeline.account, staging.account and
// production.account, each defaulting to account. All stacks deploy in one
// region (region): the pipeline names the environments' resources by ARNs
// in its own region, and CodePipeline runs an action in another region only
// through an artifact bucket there.
func readAccounts(r *reader, c *Config) {
	malformed := false
	check := func(s string) string {
		if s != "" && !accountRe.MatchString(s) {
			malformed = true
			return "must be a 12-digit AWS account id, or empty for account"
		}
		return ""
	}
	read := func(part, role string) string {
		v := r.str(part+".account", "",
			fmt.Sprintf("AWS account id of the %s stack (%s). Empty: account.", part, role), check)
		return firstNonEmpty(v, c.Account)
	}
	c.Accounts.Pipeline = read("pipeline", "the tools account: it builds each image once and releases it to the environments' accounts")
	c.Accounts.Staging = read("staging", "the pipeline deploys to it through roles the staging stack creates")
	c.Accounts.Production = read("production", "the pipeline deploys to it through roles the production stack creates")
	// A malformed id is reported alone: whether the accounts differ is
	// unknown until it is fixed.
	if malformed || !c.Accounts.CrossAccount() {
		return
	}
	// Roles and policies in one account name those of another by ARN, which
	// holds the account id: an account-agnostic template cannot name them.
	for _, k := range []struct{ key, value string }{
		{"pipeline.account", c.Accounts.Pipeline},
		{"staging.account", c.Accounts.Staging},
		{"production.account", c.Accounts.Production},
	} {
		if k.value == "" {
			r.fail(k.key, k.value, "must be set (here or as account) when another stack lives in another account: the roles that cross accounts name each other by account id")
		}
	}
}
