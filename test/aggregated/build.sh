#!/usr/bin/env bash
# Copyright The mpijob-apiserver Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# Builds what the aggregated-mode tests run besides our own server:
#   kube-apiserver v1.37.2  (k8s.io/kubernetes/cmd/kube-apiserver)
#   kubectl v1.37.2         (./cmd/kubectl, the k8s.io/kubectl command package)
#   kube-controller-manager v1.37.2 (k8s.io/kubernetes/cmd/kube-controller-manager:
#                           the namespace, garbage-collector and clusterrole-
#                           aggregation controllers, when a test asks for them)
# into _output/aggregated/bin under the repository root (or $OUT).
#
# A binary newer than this module's go.mod, go.sum, its main package and this
# script is kept; FORCE=1 rebuilds everything. kube-apiserver takes ~5 min on
# 2 cores with a cold build cache, ~2 min warm.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${OUT:-$root/_output/aggregated/bin}"

# One build cache with the Makefile (which exports CGO_ENABLED=0); no
# -trimpath, which would bypass that cache.
export CGO_ENABLED=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

cd "$here"
mkdir -p "$out"

kube_version="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)" # v1.37.2
# The release's own date, so that a rebuild links the same binary.
build_date="$(go list -m -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
build_date="${build_date:-1970-01-01T00:00:00Z}"
major="${kube_version#v}"; major="${major%%.*}"
minor="${kube_version#v*.}"; minor="${minor%%.*}"
vpkg=k8s.io/component-base/version
# Without these both binaries report v0.0.0, and kubectl's skew warnings and
# kube-apiserver's /version would be meaningless.
kube_ldflags="-X $vpkg.gitVersion=$kube_version -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor \
-X $vpkg.gitTreeState=clean -X $vpkg.buildDate=$build_date"

# needs_build BIN SRC...: true when BIN is missing or older than any SRC.
needs_build() {
	local bin="$1"; shift
	[[ "${FORCE:-}" == 1 || ! -x "$bin" ]] && return 0
	local src
	for src in "$here/go.mod" "$here/go.sum" "${BASH_SOURCE[0]}" "$@"; do
		[[ "$src" -nt "$bin" ]] && return 0
	done
	return 1
}

# build NAME PACKAGE LDFLAGS SRC...
build() {
	local name="$1" pkg="$2" ldflags="$3"; shift 3
	local bin="$out/$name"
	if ! needs_build "$bin" "$@"; then
		echo "build.sh: $name is up to date ($bin)"
		return
	fi
	local start=$SECONDS
	echo "build.sh: building $name from $pkg ..."
	go build -ldflags "$ldflags" -o "$bin.tmp" "$pkg"
	mv -f "$bin.tmp" "$bin"
	echo "build.sh: built $name in $((SECONDS - start)) s"
}

build kubectl ./cmd/kubectl "$kube_ldflags" "$here/cmd/kubectl/main.go"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ldflags"

"$out/kube-apiserver" --version
"$out/kube-controller-manager" --version
"$out/kubectl" version --client=true
