# Everything a user runs: `make synth`, `make test`, `make deploy`.
# The pinned aws-cdk CLI and a supported Node.js come from package.json into
# node_modules/.bin, which goes first on PATH so no older Node is used.

SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# The CLI's telemetry and update notices add noise and reach the network.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true

CDK := node_modules/.bin/cdk
TOOLS_STAMP := node_modules/.tools-installed
CFN_LINT_VERSION := 1.51.0
# golangci-lint is installed from source at this version into bin/ (its
# authors advise against tracking it as a module dependency).
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := bin/golangci-lint-$(GOLANGCI_LINT_VERSION)

.PHONY: help tools synth test unit-test cli-synth lint guard readme-check deploy diff destroy clean bench release-time
.PHONY: connect golint rename-module

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(TOOLS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

tools: $(TOOLS_STAMP) $(GOLANGCI_LINT) ## install the pinned CDK CLI, Node.js, cfn-lint and golangci-lint
	@command -v cfn-lint >/dev/null || python3 -m pip install --user --quiet "cfn-lint==$(CFN_LINT_VERSION)"
	@go mod download

$(GOLANGCI_LINT):
	GOBIN=$(CURDIR)/bin go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@mv bin/golangci-lint $@

golint: $(GOLANGCI_LINT) ## golangci-lint (standard linters, staticcheck) on every package
	$(GOLANGCI_LINT) run ./...

synth: $(TOOLS_STAMP) ## synthesize every stack into cdk.out (no AWS credentials needed)
	$(CDK) synth --quiet
	@ls cdk.out/*.template.json

test: tools ## everything that proves the project works
	go mod tidy -diff
	go vet ./...
	$(MAKE) --no-print-directory golint
	node --test --test-reporter=spec constructs/bluegreen/pretraffic/index.test.mjs
	go tool gotestsum --format standard-quiet -- ./...
	$(MAKE) --no-print-directory cli-synth lint guard
	$(MAKE) --no-print-directory ecs-gates
	$(MAKE) --no-print-directory accounts-gates
	$(MAKE) --no-print-directory readme-check

unit-test: ## go test only
	go test ./...

cli-synth: $(TOOLS_STAMP)
	rm -rf cdk.out
	$(CDK) synth --quiet
	@test -f cdk.out/validation-report.json || { echo "cdk synth ran no template validation (no cdk.out/validation-report.json)"; exit 1; }

# OUT is the cloud assembly lint and guard check.
OUT ?= cdk.out
# ECS_CONTEXT puts both environments on the ecs engine, staging with a
# linear and production with a canary shift: every ECS strategy with steps.
ECS_CONTEXT = -c staging.engine=ecs -c production.engine=ecs \
	-c staging.deploymentConfig=CodeDeployDefault.ECSLinear10PercentEvery1Minutes \
	-c production.deploymentConfig=CodeDeployDefault.ECSCanary10Percent5Minutes

lint: ## cfn-lint every synthesized template (errors and warnings fail)
	@test -n "$$(ls $(OUT)/*.template.json 2>/dev/null)" || { echo "no templates in $(OUT); run make synth first" >&2; exit 2; }
	cfn-lint --version
	cfn-lint --non-zero-exit-code warning $(LINT_ARGS) -- $(OUT)/*.template.json
	@echo "cfn-lint: $$(ls $(OUT)/*.template.json | wc -l) templates in $(OUT), no errors or warnings"

guard: $(TOOLS_STAMP) ## cfn-guard every template against AWS Control Tower rules (exceptions: guard-exceptions.yaml)
	go run ./tools/cfnguard $(OUT)/*.template.json

# accounts-gates: the three-account system (test/testapp.ThreeAccounts),
# synthesized offline by test/accountsynth (the CLI cannot pass the
# availability-zone answers a concrete account needs). cfn-lint's W3010
# (hard-coded availability zones) is accepted there: with a concrete account
# CDK writes the zones it looked up (cdk.context.json) into the subnets. The
# command line's --ignore-checks replaces .cfnlintrc's list, so it repeats it.
accounts-gates: $(TOOLS_STAMP) ## cfn-lint and cfn-guard on the three-account system (pipeline, staging, production in their own accounts)
	rm -rf cdk.out.accounts
	CDK_OUTDIR=cdk.out.accounts go run ./test/accountsynth
	$(MAKE) --no-print-directory lint guard OUT=cdk.out.accounts LINT_ARGS="--ignore-checks W3005 W3010"

ecs-synth: $(TOOLS_STAMP) ## synthesize with both environments on the ecs engine into cdk.out.ecs (CDK's validation on)
	rm -rf cdk.out.ecs
	$(CDK) synth --quiet $(ECS_CONTEXT) -o cdk.out.ecs
	@test -f cdk.out.ecs/validation-report.json || { echo "cdk synth ran no template validation (no cdk.out.ecs/validation-report.json)"; exit 1; }

ecs-gates: ecs-synth ## cfn-lint and cfn-guard with both environments on the ecs engine
	$(MAKE) --no-print-directory lint guard OUT=cdk.out.ecs

readme-check: ## fail when a generated README block is not what `go generate ./...` writes (reads cdk.out)
	go run ./tools/readmegen -check

bench: ## time warm synth, warm tests and the cold path (min/median/max)
	scripts/bench.sh

release-time: synth ## minimum release time and worst-case exposure, from the templates
	go run ./tools/releasetime cdk.out

deploy: $(TOOLS_STAMP) ## deploy staging, production, then the pipeline
	$(CDK) deploy --all

rename-module: ## MODULE=github.com/<org>/<repo>: name the Go module after the repository it is published from
	scripts/rename-module.sh "$(MODULE)"

connect: $(TOOLS_STAMP) ## after the connection handshake: wait until it is AVAILABLE, re-save the pipeline so pushes start releases
	scripts/connect.sh

diff: $(TOOLS_STAMP) ## show what a deploy would change
	$(CDK) diff --all

# make destroy CONFIRM_PRODUCTION=delete turns production's load balancer
# deletion protection off itself; FORCE=yes does not ask; CONTEXT='-c key=value'
# is passed to the synth whose stacks are deleted.
destroy: $(TOOLS_STAMP) ## delete pipeline, production, staging (retained resources stay); stops first on deletion protection
	scripts/destroy.sh $(CONTEXT)

clean: ## remove generated output
	rm -rf cdk.out cdk.out.ecs cdk.out.accounts
