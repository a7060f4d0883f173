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

clean:
	rm -rf .aws-sam
