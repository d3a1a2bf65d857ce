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

# The Go modules of tests beside the root module. Each is tidied, vetted and
# linted with the root module by make verify, `make test-<its last path
# element>` runs its tests and `make test-modules` (CI) runs them all: a new
# test module is one more word here.
TEST_MODULES := test/aggregated test/bench
# Modules with code, vetted and linted; every go.mod, kept tidy.
CODE_MODULES := . $(TEST_MODULES)
GO_MODULES := $(CODE_MODULES) hack/tools test/operators/v0.7.0 test/operators/v0.3.0
space := $(subst ,, )
comma := ,
# Build tags of files that plain builds leave out (test/faults). go vet runs
# without and with them; golangci-lint, slower, only with them, which adds
# files and excludes none as long as no file says //go:build !<tag>.
EXTRA_BUILD_TAGS := faults

TEST_MODULE_TARGETS := $(addprefix test-,$(notdir $(TEST_MODULES)))
# The upstream mpi-operator releases that test-aggregated runs (test/operators/build.sh).
OPERATORS_BIN := _output/operators/bin
# What the tests run: the built server and etcd, and the operators, by absolute path.
TEST_ENV := MPIJOB_APISERVER_BIN=$(CURDIR)/$(BIN) MPIJOB_APISERVER_VERSION=$(VERSION) ETCD_BIN=$(CURDIR)/$(ETCD) \
	MPI_OPERATOR_V070_BIN=$(CURDIR)/$(OPERATORS_BIN)/mpi-operator-v0.7.0 \
	MPI_OPERATOR_V030_BIN=$(CURDIR)/$(OPERATORS_BIN)/mpi-operator-v0.3.0 \
	MPIJOB_INFORMER_V030_BIN=$(CURDIR)/$(OPERATORS_BIN)/mpijob-informer-v0.3.0

# The Go files of the checkout: tracked or new, not ignored, not deleted.
GO_FILES = $$(git ls-files -z --cached --others --exclude-standard '*.go' | \
	xargs -0 sh -c 'for f; do [ -f "$$f" ] && echo "$$f"; done' sh)

# golangci-lint, pinned by the tool directive of hack/tools/go.mod.
GOLANGCI_LINT := _output/tools/golangci-lint

.PHONY: all help build etcd run check-tools check-test-tools check-verify-tools \
	test test-modules $(TEST_MODULE_TARGETS) aggregated-bins test-operators-heavy test-faults fuzz \
	update update-generated update-mod update-boilerplate update-gofmt \
	verify verify-generated verify-mod verify-lint verify-boilerplate verify-vet verify-gofmt \
	image bench bench-quick bench-bins coldstart clean

## all: the default, build.
all: build

## help: list the targets and what each does.
help:
	@echo "make targets (TEST_MODULES: $(TEST_MODULES)):"
	@awk '/^## [a-zA-Z0-9<>_./-]+: / { n = index($$0, ": "); printf "  %-28s %s\n", substr($$0, 4, n - 4), substr($$0, n + 2); more = 1; next } \
		/^## / && more { printf "  %-28s %s\n", "", substr($$0, 4); next } \
		{ more = 0 }' $(MAKEFILE_LIST)

## build: compile the server into _output/bin, stamped with the version.
build:
	go build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mpijob-apiserver

## etcd: build the etcd v3.7.0 server that tests run as a process into _output/bin/etcd.
etcd:
	go build -o $(ETCD) ./test/tools/etcd

## run: build, then start standalone on https://127.0.0.1:8443 with its data in ./_data.
run: build
	$(BIN) --data-dir _data $(RUN_ARGS)

# need: fails naming each of the commands $(1) that is not on PATH, what needs
# them ($(2)) and where to get them ($(3)).
need = @missing=""; for tool in $(1); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then echo "missing on PATH:$$missing. $(2) ($(3))." >&2; exit 1; fi

## check-tools: fail, naming them, if commands that make test or make verify run are missing.
check-tools: check-test-tools check-verify-tools

## check-test-tools: kubectl and curl (test/e2e drives the server with them; test/deploy runs
## kubectl kustomize) and openssl (test/deploy runs hack/gen-certs.sh).
check-test-tools:
	$(call need,go kubectl curl openssl,make test needs kubectl and curl (test/e2e) and openssl (test/deploy),Debian: apt-get install curl openssl; kubectl: https://kubernetes.io/docs/tasks/tools/)

## check-verify-tools: protoc (the protobuf code of verify-generated) and git (the file lists).
check-verify-tools:
	$(call need,go git protoc,make verify needs protoc (verify-generated) and git,Debian: apt-get install protobuf-compiler git)

## test: unit, registry, integration, deployment and end-to-end tests of the root module
## (the e2e tests run the built binary); needs kubectl, curl and openssl.
test: check-test-tools build etcd
	$(TEST_ENV) go test $(GO_TEST_FLAGS) ./...

## test-<module>: the tests of the test module test/<module> (one of TEST_MODULES), with
## the built server and etcd.
$(TEST_MODULE_TARGETS): test-%: build etcd
	cd $(filter %/$*,$(TEST_MODULES)) && $(TEST_ENV) go test $(GO_TEST_FLAGS) ./...

## test-modules: the tests of every test module (test-aggregated, test-bench, ...).
test-modules: $(TEST_MODULE_TARGETS)

## aggregated-bins: kube-apiserver, kube-controller-manager and kubectl v1.37.2
## (test/aggregated/build.sh, into _output/aggregated/bin) and mpi-operator v0.7.0 and
## v0.3.0 (test/operators/build.sh, into _output/operators/bin) for test-aggregated.
aggregated-bins:
	test/aggregated/build.sh
	test/operators/build.sh

## test-aggregated: the server behind a real kube-apiserver v1.37.2 (module test/aggregated;
## builds kube-apiserver, kube-controller-manager, kubectl v1.37.2 and the operators first).
test-aggregated: aggregated-bins

## test-operators-heavy: TestOperatorV070Faults of test-aggregated with 50 jobs of each version
## instead of 20 (docs/OPERATORS.md); not in CI.
test-operators-heavy: aggregated-bins build etcd
	cd test/aggregated && $(TEST_ENV) MPIJOB_OPERATOR_FAULT_JOBS=50 go test -count=1 -timeout 30m -v \
		-run '^TestOperatorV070Faults$$' .

## test-bench: the CRD peer's tests and the differential test of kubeflow.org/v2beta1 against
## mpi-operator v0.7.0's CRD served by that peer (module test/bench).
test-bench:

## test-faults: the heavy fault tests of docs/RELIABILITY.md (kill -9 of the embedded etcd under
## write load, overload): behind the faults build tag, so plain `make test` does not run them.
test-faults: build etcd
	$(TEST_ENV) go test -tags faults -p 1 -count=1 -timeout 20m -v ./test/faults/...

## fuzz: run each fuzz target for FUZZTIME (default 30s) and print executions and findings.
fuzz:
	hack/fuzz.sh

## update: everything verify checks that a tool can fix: generated code, go.mod files,
## licence headers, formatting.
update: update-generated update-mod update-boilerplate update-gofmt

## update-generated: regenerate all generated code (needs protoc).
update-generated:
	hack/update-codegen.sh

## update-mod: go mod tidy in every module.
update-mod:
	@for m in $(GO_MODULES); do echo "go mod tidy in $$m"; (cd $$m && go mod tidy) || exit 1; done

## update-boilerplate: add the licence header to Go and shell files that lack it.
update-boilerplate:
	hack/boilerplate.sh --fix

## update-gofmt: gofmt -w every Go file.
update-gofmt:
	gofmt -w $(GO_FILES)

## verify: what CI checks before the tests: generated code, go.mod files, lint, licence
## headers, go vet and gofmt. Fails on the first target that fails.
verify: verify-generated verify-mod verify-boilerplate verify-gofmt verify-vet verify-lint

## verify-generated: regenerate into a temporary copy of the checkout and diff it against
## the checkout (needs protoc).
verify-generated: check-verify-tools
	hack/verify-codegen.sh

## verify-mod: every go.mod and go.sum is tidy (go mod tidy -diff).
verify-mod:
	@failed=""; for m in $(GO_MODULES); do \
		echo "go mod tidy -diff in $$m"; (cd $$m && go mod tidy -diff) || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then echo "not tidy:$$failed (run make update-mod)" >&2; exit 1; fi

## verify-lint: golangci-lint (.golangci.yml) in every module, with EXTRA_BUILD_TAGS.
verify-lint: $(GOLANGCI_LINT)
	@if git grep -qE '^//go:build .*!($(subst $(space),|,$(EXTRA_BUILD_TAGS)))\b' -- '*.go'; then \
		echo "a file is built only without one of EXTRA_BUILD_TAGS: lint without them too" >&2; exit 1; fi
	@failed=""; for m in $(CODE_MODULES); do \
		echo "golangci-lint in $$m (tags: $(EXTRA_BUILD_TAGS))"; \
		(cd $$m && $(CURDIR)/$(GOLANGCI_LINT) run --config $(CURDIR)/.golangci.yml \
			--build-tags "$(subst $(space),$(comma),$(EXTRA_BUILD_TAGS))" ./...) || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then echo "golangci-lint found problems in:$$failed" >&2; exit 1; fi

## verify-boilerplate: every Go and shell file starts with the licence header.
verify-boilerplate:
	hack/boilerplate.sh

## verify-vet: go vet in every module, also with EXTRA_BUILD_TAGS.
verify-vet:
	@failed=""; for m in $(CODE_MODULES); do for tags in "" $(EXTRA_BUILD_TAGS); do \
		echo "go vet in $$m$${tags:+ with tags $$tags}"; \
		(cd $$m && go vet $${tags:+-tags $$tags} ./...) || failed="$$failed $$m$${tags:+($$tags)}"; \
	done; done; \
	if [ -n "$$failed" ]; then echo "go vet found problems in:$$failed" >&2; exit 1; fi

## verify-gofmt: every Go file is gofmt-formatted.
verify-gofmt:
	@unformatted="$$(gofmt -l $(GO_FILES))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed (run make update-gofmt):"; echo "$$unformatted"; exit 1; fi

## _output/tools/golangci-lint: build golangci-lint at the version hack/tools/go.mod pins
## (again when that changes).
$(GOLANGCI_LINT): hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && go build -o $(CURDIR)/$@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

IMAGE_NAME ?= mpijob-apiserver
IMAGE ?= $(IMAGE_NAME):$(VERSION)

## image: build the container image mpijob-apiserver:<VERSION>, also tagged :latest (needs a
## Docker engine). The build context has no .git: the version comes in as build arguments.
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg GIT_COMMIT=$(GIT_COMMIT) \
		--build-arg GIT_TREE_STATE=$(GIT_TREE_STATE) --build-arg BUILD_DATE=$(BUILD_DATE) \
		-t $(IMAGE) -t $(IMAGE_NAME):latest .

BENCH_BIN := _output/bench
BENCH_ARGS ?=

## bench-bins: build the server, etcd, the bench harness and the CRD peer (module test/bench).
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

## clean: remove _output (binaries, tools, certificates).
clean:
	rm -rf _output
