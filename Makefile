# Strata: typed, layered service configuration with AWS Secrets Manager.
#
#   make test   vet, race-enabled tests of every module (the library, otel/, tests/),
#               a short fuzz pass
#   make demo   a service configured from defaults, .env, env and Secrets Manager,
#               on a local emulator (no AWS account needed)
#   make bench  the benchmarks behind docs/performance.md

GO       ?= go
FUZZTIME ?= 3s
BIN      := $(CURDIR)/bin

.PHONY: test vet unit fuzz demo bench clean

test: vet unit fuzz

vet:
	$(GO) vet ./...
	cd otel && $(GO) vet ./...
	cd tests && $(GO) vet ./...

unit:
	$(GO) test -race -shuffle=on -count=1 ./...
	cd otel && $(GO) test -race -shuffle=on -count=1 ./...
	cd tests && $(GO) test -race -shuffle=on -count=1 -timeout 10m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDotenv$$' -fuzztime $(FUZZTIME) ./providers/dotenv
	$(GO) test -run '^$$' -fuzz '^FuzzQuote$$' -fuzztime $(FUZZTIME) ./providers/dotenv
	$(GO) test -run '^$$' -fuzz '^FuzzEnvName$$' -fuzztime $(FUZZTIME) ./providers/env
	$(GO) test -run '^$$' -fuzz '^FuzzSchema$$' -fuzztime $(FUZZTIME) ./config

demo:
	@mkdir -p $(BIN)
	cd tests && $(GO) build -o $(BIN)/strata-emulator ./cmd/emulator
	$(GO) build -o $(BIN)/service ./examples/service
	$(GO) build -o $(BIN)/lambda ./examples/lambda
	$(GO) build -o $(BIN)/configcheck ./cmd/configcheck
	@BIN=$(BIN) sh scripts/demo.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./config/...
	cd tests && $(GO) test -run '^$$' -bench . -benchmem -timeout 20m ./...

clean:
	rm -rf $(BIN)
