# kafka-qdrant — the two commands that matter are `make run` and `make test`.
GO       ?= go
BIN      := bin/kafka-qdrant
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
KAFKA    ?= embedded
BENCH    ?= .
BENCHTIME ?= 1x
COUNT    ?= 1

.PHONY: build run test unit e2e bench lint fmt tidy clean generate

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kafka-qdrant

## run: the connector on the embedded default (embedded Kafka, in-memory Qdrant, local backups).
run: build
	./$(BIN) dev

## test: unit + integration (race detector) and the e2e suite on a real Apache Kafka broker.
test: build
	./scripts/test.sh

## unit: unit + integration tests only (kfake and the in-memory Qdrant), race detector on.
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

## e2e: the end-to-end suite against the real binary (KAFKA=embedded|real).
e2e: build
	KAFKA=$(KAFKA) ./scripts/e2e.sh

## bench: hot-path benchmarks (records/s, allocs/record, memory). Compare runs with benchstat.
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count=$(COUNT) ./schemas/ ./sink/ ./internal/qdrantmem/
	$(GO) test -run '^$$' -bench 'Pipeline' -benchtime=$(BENCHTIME) -benchmem -count=$(COUNT) ./connector/
	$(GO) test -run '^$$' -bench 'StartupWithFinishedCommands' -benchtime=1x -count=$(COUNT) ./control/ctl/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi

tidy:
	$(GO) mod tidy

## generate: rewrite generated code (sink/wire_gen.go, from the go-client's descriptors; schemas/recordpb,
## from schemas/record.v1.proto with protoc from Maven Central); run after a go-client upgrade or a .proto change.
generate:
	$(GO) generate ./...

clean:
	rm -rf bin
