# One build cache for build, test and the image: everything is static.
export CGO_ENABLED := 0
export GOTOOLCHAIN ?= local

BIN := _output/bin/mpijob-apiserver
# The one etcd program (v3.7.0, test/tools/etcd) that every test module runs.
ETCD := _output/bin/etcd
# The version is git describe; without a tag, a pseudo-version in the style of
# Go's (v0.0.0-<commit date>-<commit>), so that it is always valid semver.
VERSION ?= $(shell git describe --tags --match 'v*' --dirty 2>/dev/null || \
	echo "v0.0.0-$$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S 2>/dev/null || echo 0)-$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)")
GIT_COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
GIT_TREE_STATE ?= $(shell test -z "$$(git status --porcelain 2>/dev/null)" && echo clean || echo dirty)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION_PKG := k8s.io/component-base/version
LDFLAGS := -X $(VERSION_PKG).gitVersion=$(VERSION) -X $(VERSION_PKG).gitCommit=$(GIT_COMMIT) \
	-X $(VERSION_PKG).gitTreeState=$(GIT_TREE_STATE) -X $(VERSION_PKG).buildDate=$(BUILD_DATE)

GO_TEST_FLAGS ?= -count=1 -timeout 25m
RUN_ARGS ?=
IMAGE ?= mpijob-apiserver:$(VERSION)

.PHONY: all build etcd run test test-aggregated test-faults update verify image clean coldstart fuzz bench bench-quick bench-bins

all: build

## build: compile the server into _output/bin, stamped with the version.
build:
	go build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mpijob-apiserver

## run: build, then start standalone on https://127.0.0.1:8443 with its data in ./_data.
run: build
	$(BIN) --data-dir _data $(RUN_ARGS)

# What the tests run: the built server and etcd, by absolute path.
TEST_ENV := MPIJOB_APISERVER_BIN=$(CURDIR)/$(BIN) MPIJOB_APISERVER_VERSION=$(VERSION) ETCD_BIN=$(CURDIR)/$(ETCD)

## etcd: build the etcd v3.7.0 server that tests run as a process into _output/bin/etcd.
etcd:
	go build -o $(ETCD) ./test/tools/etcd

## test: unit, registry, integration and end-to-end tests (the e2e tests use the built binary).
test: build etcd
	$(TEST_ENV) go test $(GO_TEST_FLAGS) ./...

## test-aggregated: the server behind a real kube-apiserver v1.37.2 (builds it, kubectl
## v1.37.2 and kube-controller-manager in the separate test/aggregated module first).
test-aggregated: build etcd
	test/aggregated/build.sh
	cd test/aggregated && go vet ./... && \
		$(TEST_ENV) go test $(GO_TEST_FLAGS) ./...

## fuzz: run each fuzz target for FUZZTIME (default 30s) and print executions and findings.
fuzz:
	hack/fuzz.sh

## test-faults: the heavy fault tests of docs/RELIABILITY.md (kill -9 of the embedded etcd under
## write load, overload): behind the faults build tag, so plain `make test` does not run them.
test-faults: build etcd
	$(TEST_ENV) go test -tags faults -p 1 -count=1 -timeout 20m -v ./test/faults/...

## update: regenerate all generated code.
update:
	hack/update-codegen.sh

## verify: generated code is current, code is formatted and vetted.
verify:
	hack/verify-codegen.sh
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

## image: build the container image (needs a Docker engine).
image:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

BENCH_BIN := _output/bench
BENCH_ARGS ?=

bench-bins: build etcd
	cd test/bench && go build -o $(CURDIR)/$(BENCH_BIN)/crdpeer ./crdpeer
	cd test/bench && go build -o $(CURDIR)/$(BENCH_BIN)/bench .

## bench: this server against the same MPIJob served as a CRD by apiextensions-apiserver, each on
## its own etcd; prints the table and writes docs/BENCHMARKS.md and docs/benchmarks.svg
## (BENCH_ARGS='--objects=150000 --namespaces=150' for the large run).
bench: bench-bins
	$(BENCH_BIN)/bench --out docs/BENCHMARKS.md --svg docs/benchmarks.svg $(BENCH_ARGS)

## bench-quick: the harness on 1,000 objects and one round, to prove it works; writes no docs.
bench-quick: bench-bins
	$(BENCH_BIN)/bench --quick $(BENCH_ARGS)

## coldstart: median time from exec to a ready /readyz over 5 fresh starts.
coldstart: build
	hack/coldstart.sh 5

clean:
	rm -rf _output
