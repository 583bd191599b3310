package test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ecs-bluegreen/config"
)

// The build contract across accounts: with an environment in another
// account than the pipeline's, the action that acts there (the render of a
// CodeDeploy environment, the release of an ECS one) tags the image in the
// tools account with its project's own credentials, then assumes the
// environment's role ("<environment prefix>-render" or "-release", which
// the environment stack creates and the action's variable names) and makes
// every call of that account with the assumed credentials. The stand-in
// `aws` answers as AWS would for the caller's account: a repository, task
// family or stack of another account does not exist for it, and a role may
// be assumed only by the principal its trust policy admits.

// Variables naming the role a project assumes in an environment's account.
const (
	renderRoleVariable  = "RENDER_ROLE_ARN"
	releaseRoleVariable = "RELEASE_ROLE_ARN"
)

// assumableRoles lists the roles of the environments' stacks that the
// pipeline's roles may assume, one "<role ARN><tab><principal ARN>" a line:
// each statement of a role's trust policy that allows sts:AssumeRole to
// another account, for the one principal its aws:PrincipalArn condition
// names.
func assumableRoles(t *testing.T, w *cfnWorld, p *pipelineUnderTest) string {
	t.Helper()
	var lines []string
	for _, s := range w.stacks {
		if s == p.stack {
			continue
		}
		for logical, r := range s.resourcesOfType("AWS::IAM::Role") {
			for _, st := range asList(dig(r, "Properties", "AssumeRolePolicyDocument", "Statement")) {
				if dig(st, "Effect") != "Allow" || !containsValue(append(asList(dig(st, "Action")), dig(st, "Action")), "sts:AssumeRole") {
					continue
				}
				trusted := dig(st, "Condition", "ArnEquals", "aws:PrincipalArn")
				if trusted == nil {
					continue
				}
				arn := w.mustString(t, s, map[string]any{"Fn::GetAtt": []any{logical, "Arn"}})
				lines = append(lines, arn+"\t"+w.mustString(t, s, trusted))
			}
		}
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// expectAssumedRoles finds the actions that act in another account than the
// pipeline's and the role each must assume there: the role named
// "<environment prefix>-render" (the render of a CodeDeploy environment) or
// "-release" (the release of an ECS one) in the environment's account,
// which the environment's stack holds and the action's variable names. It
// proves that as many actions act in other accounts as the configuration
// puts environments there (cfg nil: none).
func expectAssumedRoles(t *testing.T, w *cfnWorld, p *pipelineUnderTest, b *buildSandbox, cfg *config.Config) {
	t.Helper()
	expect := func(step *codeBuildStep, envStack *cfnStack, environment, suffix, variable string) {
		if step == nil || envStack.account == p.stack.account {
			return
		}
		if cfg == nil {
			t.Fatalf("%s acts in account %s, not the pipeline's %s; give its synthesis's configuration", step.name(), envStack.account, p.stack.account)
		}
		var env *config.Environment
		for _, e := range cfg.Environments() {
			if e.Name == environment {
				env = e
			}
		}
		if env == nil {
			t.Fatalf("%s: no environment %q in the configuration", step.name(), environment)
		}
		if got := cfg.Accounts.Of(env); got != envStack.account {
			t.Errorf("%s: %s's stack %s is in account %s, the configuration says %s", step.name(), environment, envStack.id, envStack.account, got)
		}
		want := "arn:aws:iam::" + envStack.account + ":role/" + cfg.ResourcePrefix(env) + suffix
		var held []string
		for logical := range envStack.resourcesOfType("AWS::IAM::Role") {
			if w.mustString(t, envStack, map[string]any{"Fn::GetAtt": []any{logical, "Arn"}}) == want {
				held = append(held, logical)
			}
		}
		if len(held) != 1 {
			t.Errorf("%s: %s holds %d roles %s (%v), want 1", step.name(), envStack.id, len(held), want, held)
		}
		if got := envValue(step, variable); got != want {
			t.Errorf("%s: %s = %q, want the role of %s's account %s", step.name(), variable, got, environment, want)
		}
		if other, ok := b.assumes[step.name()]; ok && other != want {
			t.Errorf("%s acts in two accounts' roles: %s and %s", step.name(), other, want)
		}
		b.assumes[step.name()] = want
	}
	for _, d := range p.deploys {
		expect(p.producer(d.artifacts["TaskDefinitionTemplateArtifact"]), d.environment.stack, d.environmentName(), "-render", renderRoleVariable)
	}
	for _, r := range p.releases {
		expect(r.step, r.stack, r.environment, "-release", releaseRoleVariable)
	}
	want := 0
	if cfg != nil {
		for _, e := range cfg.Environments() {
			if cfg.Accounts.Of(e) != cfg.Accounts.Pipeline {
				want++
			}
		}
	}
	if len(b.assumes) != want {
		t.Errorf("%d actions act in an environment's account (%v); the configuration puts %d environments in another account than the pipeline's", len(b.assumes), b.assumes, want)
	}
	// Steps in the pipeline's account alone name no role to assume.
	for _, step := range p.builds {
		if _, ok := b.assumes[step.name()]; ok {
			continue
		}
		for _, v := range []string{renderRoleVariable, releaseRoleVariable} {
			if got := envValue(step, v); got != "" {
				t.Errorf("%s acts in the pipeline's account, but %s = %q", step.name(), v, got)
			}
		}
	}
}

// envValue is a variable of what a build sees, "" if it is not set.
func envValue(step *codeBuildStep, name string) string {
	for _, kv := range step.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// checkActingAccounts proves who made each AWS call of a run. An action of
// the pipeline's account calls as its project's role, and assumes nothing.
// An action of an environment's account makes its ECR calls (the image's
// tags, in the tools account) as its project's role, then assumes exactly
// the environment's role, once, as its project's role, and makes every ECS
// and CloudFormation call after it with the credentials that assume-role
// gave: a session of that role, in the environment's account.
func checkActingAccounts(t *testing.T, b *buildSandbox, step *codeBuildStep, run *buildRun) {
	t.Helper()
	if run == nil {
		t.Errorf("%s did not run", step.name())
		return
	}
	want := b.assumes[step.name()]
	assumed := -1
	for i, c := range run.log {
		if c[0] == "aws" && len(c) > 2 && c[1] == "sts" {
			if c[2] != "assume-role" || assumed >= 0 || want == "" {
				t.Errorf("%s: call %q; want %s", step.name(), c, map[bool]string{true: "no sts call: it acts in the pipeline's account", false: "one assume-role of " + want}[want == ""])
				continue
			}
			assumed = i
			if got := optionValues(c, "--role-arn"); len(got) != 1 || got[0] != want {
				t.Errorf("%s: assume-role --role-arn %v, want %s", step.name(), got, want)
			}
			if who := run.callers[i]; who.key != "" || who.arn != step.roleArn {
				t.Errorf("%s: assume-role called as %+v, want the project's role %s", step.name(), who, step.roleArn)
			}
		}
	}
	if want != "" && assumed < 0 {
		t.Errorf("%s: no sts assume-role of %s; calls:\n%s", step.name(), want, run.describeCalls())
	}
	envAccount := ""
	if want != "" {
		envAccount = strings.Split(want, ":")[4]
	}
	calls := 0
	for i, c := range run.log {
		if c[0] != "aws" || len(c) < 3 || c[1] == "sts" {
			continue
		}
		calls++
		who := run.callers[i]
		switch service := c[1]; {
		case want == "" || service == "ecr":
			// The pipeline's account, with the project's own credentials.
			if who.key != "" || who.arn != step.roleArn {
				t.Errorf("%s: %q called as %+v, want the project's role %s", step.name(), c[1:3], who, step.roleArn)
			}
			if want != "" && i > assumed {
				t.Errorf("%s: %q after the assume-role of %s; the image is tagged in the tools account, before", step.name(), c[1:3], want)
			}
		case service == "ecs" || service == "cloudformation":
			if i < assumed || assumed < 0 {
				t.Errorf("%s: %q before the assume-role of %s", step.name(), c[1:3], want)
			}
			session := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/", envAccount, want[strings.LastIndex(want, "/")+1:])
			if who.key == "" || !strings.HasPrefix(who.arn, session) {
				t.Errorf("%s: %q called as %+v, want a session of %s (%s...)", step.name(), c[1:3], who, want, session)
				continue
			}
			// The key is one assume-role gave out for that role.
			issued, err := os.ReadFile(filepath.Join(b.state, "credentials", who.key))
			if lines := strings.Split(string(issued), "\n"); err != nil || len(lines) < 4 || lines[3] != want {
				t.Errorf("%s: %q called with key %s, which no assume-role of %s gave (%v)", step.name(), c[1:3], who.key, want, err)
			}
		default:
			t.Errorf("%s: %q: this test does not know which account it acts in", step.name(), c[1:3])
		}
	}
	if calls == 0 {
		t.Errorf("%s made no AWS call", step.name())
	}
}
