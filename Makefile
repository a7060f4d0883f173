# sessionguard — see README.md. `make run` starts the local stack;
# `make test` runs every test.
GO      ?= go
GOFLAGS ?=
export GOFLAGS

.PHONY: run test vet bench fuzz build clean

run:
	$(GO) run ./infra/local/cmd/sessionguard-local

test: vet
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Benchmarks of the authorizer's hot path (numbers go in the issue notes).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./shared/... ./functions/...

# Short fuzz runs of every fuzz target.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./shared/jsonlite -run '^$$' -fuzz FuzzValidMatchesEncodingJSON -fuzztime $(FUZZTIME)
	$(GO) test ./shared/jsonlite -run '^$$' -fuzz FuzzAppendStringMatchesEncodingJSON -fuzztime $(FUZZTIME)
	$(GO) test ./shared/token -run '^$$' -fuzz FuzzVerifierMatchesJWX -fuzztime $(FUZZTIME)
	$(GO) test ./shared/authorizer -run '^$$' -fuzz FuzzInvokeNeverPanics -fuzztime $(FUZZTIME)
	$(GO) test ./shared/adminapi -run '^$$' -fuzz FuzzSettingsBody -fuzztime $(FUZZTIME)

# SAM builds each function from the one module (BuildMethod: makefile).
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'
build-AuthorizerFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/authorizer
build-SessionsFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sessions
build-SettingsFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/settings
build-RefresherFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/refresher
build-SignalsFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/signals
build-AuditorFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/auditor

# Builds every function for Lambda into bin/ (no SAM needed).
build:
	$(MAKE) build-AuthorizerFunction ARTIFACTS_DIR=bin/authorizer
	$(MAKE) build-SessionsFunction ARTIFACTS_DIR=bin/sessions
	$(MAKE) build-SettingsFunction ARTIFACTS_DIR=bin/settings
	$(MAKE) build-RefresherFunction ARTIFACTS_DIR=bin/refresher
	$(MAKE) build-SignalsFunction ARTIFACTS_DIR=bin/signals
	$(MAKE) build-AuditorFunction ARTIFACTS_DIR=bin/auditor

clean:
	rm -rf .aws-sam bin
