package delivery

import (
	"errors"
	"fmt"
	"math"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// resolved holds the props with defaults applied; the caller's props are never modified.
type resolved struct {
	prefix, owner, repo, branch string
	connectionArn, email        string
	removal                     awscdk.RemovalPolicy
	retention                   awslogs.RetentionDays
	imagesPerEnvironment        float64
	envs                        []environment
}

type environment struct {
	name            string
	service         ReleaseTarget
	requireApproval bool
	access          EnvironmentAccess
	// target holds the environment's fixed names, from which every policy,
	// the deploy action and the build variables are built (see names.go).
	target target
}

var environmentNameRe = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

func resolve(p *PipelineProps) (resolved, error) {
	if p == nil {
		return resolved{}, errors.New("delivery: props are required")
	}
	var problems []error
	required := func(field string, v *string) string {
		if v == nil || *v == "" {
			problems = append(problems, fmt.Errorf("%s is required", field))
			return ""
		}
		return *v
	}
	r := resolved{
		prefix:        required("NamePrefix", p.NamePrefix),
		owner:         required("GitHubOwner", p.GitHubOwner),
		repo:          required("GitHubRepo", p.GitHubRepo),
		branch:        orString(p.GitHubBranch, "main"),
		connectionArn: orString(p.ConnectionArn, ""),
		email:         orString(p.NotificationEmail, ""),
		removal:       p.RemovalPolicy,
		retention:     p.LogRetention,
	}
	if r.removal == "" {
		r.removal = awscdk.RemovalPolicy_RETAIN
	}
	if r.retention == "" {
		r.retention = awslogs.RetentionDays_ONE_MONTH
	}
	r.imagesPerEnvironment = 10
	if n := p.ImagesKeptPerEnvironment; n != nil {
		if *n < 1 || *n != math.Trunc(*n) {
			problems = append(problems, fmt.Errorf("ImagesKeptPerEnvironment %v must be a whole number of at least 1", *n))
		}
		r.imagesPerEnvironment = *n
	}
	if r.connectionArn == "" && !isToken(r.prefix) && len(r.prefix) > maxConnectionName {
		problems = append(problems, fmt.Errorf("NamePrefix %q has %d characters; the connection it names allows %d (or give ConnectionArn)", r.prefix, len(r.prefix), maxConnectionName))
	}
	if !isToken(r.prefix) && len(r.prefix)+len(failureRuleSuffix) > maxRuleName {
		problems = append(problems, fmt.Errorf("NamePrefix %q has %d characters; the failure rule it names allows %d", r.prefix, len(r.prefix), maxRuleName-len(failureRuleSuffix)))
	}
	if len(p.Environments) == 0 {
		problems = append(problems, errors.New("Environments needs at least one environment")) //nolint:staticcheck // ST1005: starts with the prop's name
	}
	seen := map[string]bool{}
	for i, e := range p.Environments {
		if e == nil || e.Service == nil || e.Name == nil {
			problems = append(problems, fmt.Errorf("Environments[%d] needs a Name and a Service", i)) //nolint:staticcheck // ST1005: starts with the prop's name
			continue
		}
		name := *e.Name
		switch {
		case !environmentNameRe.MatchString(name):
			problems = append(problems, fmt.Errorf("Environments[%d].Name %q must be lower-case letters and digits, starting with a letter", i, name))
		case seen[name]:
			problems = append(problems, fmt.Errorf("Environments[%d].Name %q is used twice", i, name))
		}
		seen[name] = true
		// The engine's deploy path (engine.go) reads its part of the target.
		t, err := readTarget(i, e.Service)
		if err == nil {
			err = t.engine.check(i, name, t)
		}
		if err != nil {
			problems = append(problems, err)
			continue
		}
		r.envs = append(r.envs, environment{name: name, service: e.Service, requireApproval: e.RequireApproval, access: e.Access, target: t})
	}
	if len(problems) > 0 {
		return resolved{}, fmt.Errorf("delivery: invalid pipeline props: %w", errors.Join(problems...))
	}
	return r, nil
}

// renders reports whether an environment is released by CodeDeploy, whose
// deploy stages run the render project.
func (r resolved) renders() bool {
	for _, e := range r.envs {
		if e.target.engine.renders() {
			return true
		}
	}
	return false
}
