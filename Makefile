# sessionguard — see README.md. `make run` starts the local stack;
# `make test` runs every test, `make test-short` those that need only Go.
GO      ?= go
GOFLAGS ?=
export GOFLAGS

.PHONY: browser-deps node-deps venv sam-local sam-local-deps run test test-short vet bench fuzz build bootstraps deploy local-invoke local-api invoke clean

# COGNITO=<endpoint of moto_server> adds an Amazon Cognito user pool there.
run:
	$(GO) run ./infra/local/cmd/sessionguard-local $(if $(COGNITO),-cognito $(COGNITO))

test: vet browser-deps node-deps venv
	$(WITH_VENV) $(GO) test -race -count=1 ./...
	$(MAKE) fuzz FUZZTIME=3s
	$(MAKE) sam-local

# The tests that need nothing but Go (go test -short), in under a minute;
# it installs nothing. The tests that need moto, Node, Chromium, the
# Python tools or the SAM CLI skip there, saying what they need.
test-short:
	$(GO) test -short ./...

# The project's Python tools (requirements.txt, every version pinned) in a
# virtual environment of its own; the tests find them first on PATH.
VENV = .venv
WITH_VENV = PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The browser tests drive Debian's chromium (headless).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	  { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }; }

# The SAM CLI on a real container engine (infra/samlocal, docs/deploying.md):
# sam build, sam local invoke on every function with each of its events,
# sam local start-api through the template's authorizer. As root: Debian's
# podman (rootful) serves a Docker-compatible socket, arm64 runs under
# qemu-user-static, a stand-in base image is built locally, on a network of
# the run's own. infra/samlocal/deps.sh installs the engine's packages where
# missing and extracts qemu and busybox into SAM_LOCAL_TOOLS (the machine's
# packages stay as they are); the run tears down what it set up.
SAM_LOCAL_TOOLS = /var/cache/sessionguard-samlocal
sam-local-deps:
	@sh infra/samlocal/deps.sh $(SAM_LOCAL_TOOLS)
sam-local: sam-local-deps venv
	$(WITH_VENV) SESSIONGUARD_SAM_LOCAL=1 SESSIONGUARD_SAM_LOCAL_TOOLS=$(SAM_LOCAL_TOOLS) $(GO) test -count=1 -v -timeout 30m ./infra/samlocal

# The tests' Node servers (a real OpenID Provider: oidc-provider), pinned in
# package.json and package-lock.json.
node-deps: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# go vet, gofmt and staticcheck (a tool of go.mod, pinned there).
vet:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Every benchmark in one go: a Markdown report on stdout and in bench/RESULTS.md
# (authorizer vs the bare signature check, DynamoDB calls, refresher, binary
# sizes, cold start, memory under a burst).
bench: venv node-deps
	$(WITH_VENV) $(GO) run ./infra/bench

# Fuzz runs of every fuzz target (corpora in each package's testdata/fuzz).
# Minimizing new inputs is off: it would spend the time budget re-running
# signature checks instead of exploring.
FUZZTIME ?= 30s
FUZZ = $(WITH_VENV) $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0
fuzz:
	$(FUZZ) -fuzz FuzzNeverPanics ./shared/jsonread
	$(FUZZ) -fuzz FuzzMatchesJSONText ./shared/jsonread
	$(FUZZ) -fuzz FuzzVerifierMatchesJWX ./shared/token
	$(FUZZ) -fuzz FuzzInvokeNeverPanics ./shared/authorizer
	$(FUZZ) -fuzz FuzzSessionIDReader ./shared/authorizer
	$(FUZZ) -fuzz FuzzSettingsBody ./shared/adminapi
	$(FUZZ) -fuzz FuzzSETBody ./shared/signals
	$(FUZZ) -fuzz FuzzRequest ./shared/globallogout
	$(FUZZ) -fuzz FuzzParse ./shared/dpop

# SAM builds each function from the one module (BuildMethod: makefile):
# sam build runs build-<LogicalId> with ARTIFACTS_DIR. A function's logical
# id is its folder's name under functions/, capitalised as in template.yaml,
# then Function (the function table, wiring.Functions, names both, and
# TestBuildTargets holds this rule to it), so one rule builds them all.
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'
lower = $(shell printf %s '$(1)' | tr '[:upper:]' '[:lower:]')
build-%Function:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(call lower,$*)
# The examples' app function (examples/*/template.yaml, CodeUri ../..).
build-AppFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./examples/app/function

# The functions' names (their folders), and the logical id of one: its
# resource in template.yaml.
FUNCTIONS = $(notdir $(wildcard functions/*))
logical = $(shell grep -ioE '^  $(1)Function:' template.yaml | tr -d ' :')

# With SAM (and Docker for the local targets). The SAM CLI comes from the
# project's virtual environment; --build-in-source builds in the repository
# instead of copying it (node_modules, .venv) to a scratch folder first.
build: venv
	$(WITH_VENV) sam build --build-in-source
deploy: build
	$(WITH_VENV) sam deploy --guided
local-invoke: build
	$(WITH_VENV) sam local invoke $(call logical,$(FN)) -e $(EVENT) --env-vars env.json
local-api: build
	$(WITH_VENV) sam local start-api --env-vars env.json --parameter-overrides Environments=demo

# Every function for Lambda (linux/arm64) into bin/<fn>/bootstrap, without SAM.
bootstraps:
	@for fn in $(FUNCTIONS); do $(LAMBDA_BUILD) -o bin/$$fn/bootstrap ./functions/$$fn || exit 1; done

# Without Docker or AWS: build FN for this machine and run it on EVENT under
# AWS's Lambda Runtime Interface Emulator (go.mod's tool block), e.g.
#   make invoke FN=authorizer EVENT=events/authorizer/http-api-v2.json
# It starts its own DynamoDB server (moto) unless AWS_ENDPOINT_URL_DYNAMODB
# names one; configuration variables set in the environment are passed on.
# It builds into $(INVOKE_BIN)/<fn>/bootstrap (the tests give a scratch folder).
INVOKE_BIN ?= bin/local
invoke: venv
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=authorizer EVENT=events/authorizer/http-api-v2.json"; exit 2; }
	CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -o $(INVOKE_BIN)/$(FN)/bootstrap ./functions/$(FN)
	$(WITH_VENV) $(GO) run ./infra/lambdarun/cmd/invoke -fn $(FN) -event $(EVENT) -bin $(INVOKE_BIN)/$(FN)/bootstrap

clean:
	rm -rf .aws-sam bin $(VENV)
