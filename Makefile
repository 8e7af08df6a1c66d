# Strata: typed, layered service configuration with AWS Secrets Manager.
#
#   make test   gofmt and vet, race-enabled tests of every module (the library, otel/, tests/),
#               a short fuzz pass
#   make demo   a service configured from defaults, .env, env and Secrets Manager,
#               on a local emulator (no AWS account needed)
#   make demo-rotation
#               a database password rotated 20 times under load, each AWS
#               strategy, with no failed query (docs/rotation.md); needs
#               PostgreSQL's server binaries (apt-get install -y postgresql)
#   make bench  the benchmarks behind docs/performance.md, the fleet simulation
#               at full size (its table in bin/fleet-table.md) and the long
#               rotation rehearsal (200 rotations of each kind; PostgreSQL)

GO       ?= go
# A count, not a duration: a duration's deadline can fail a fuzz run that
# found nothing, under load (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 10000x
BIN      := $(CURDIR)/bin

.PHONY: test vet unit fuzz demo demo-rotation bench clean

test: vet unit fuzz

vet:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l: these files need formatting:"; echo "$$out"; exit 1; fi
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
	$(GO) test -run '^$$' -fuzz '^FuzzFile$$' -fuzztime $(FUZZTIME) ./providers/file

demo:
	@mkdir -p $(BIN)
	cd tests && $(GO) build -o $(BIN)/strata-emulator ./cmd/emulator
	$(GO) build -o $(BIN)/service ./examples/service
	$(GO) build -o $(BIN)/lambda ./examples/lambda
	$(GO) build -o $(BIN)/configcheck ./cmd/configcheck
	@BIN=$(BIN) sh scripts/demo.sh

demo-rotation:
	@echo "demo-rotation needs PostgreSQL's server binaries (initdb, postgres): apt-get install -y postgresql"
	cd tests && $(GO) run ./cmd/rotationdemo

bench:
	@mkdir -p $(BIN)
	$(GO) test -run '^$$' -bench . -benchmem ./config/...
	cd tests && $(GO) test -run '^$$' -bench . -benchmem -timeout 20m ./...
	cd tests && $(GO) test -count=1 -run '^TestFleet' -timeout 30m ./fleet -fleet.full -fleet.table=$(BIN)/fleet-table.md
	cd tests && $(GO) test -count=1 -v -run '^TestRotation' -timeout 30m ./rotation -args -rotation.full

clean:
	rm -rf $(BIN)
