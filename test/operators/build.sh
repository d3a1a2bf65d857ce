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

# Builds the upstream operators that the aggregated-mode tests run against our
# server, each from its own module (they pin client-go versions far apart):
#   mpi-operator-v0.7.0  (v0.7.0/: github.com/kubeflow/mpi-operator/cmd/mpi-operator,
#                         the v2beta1 operator)
#   mpi-operator-v0.3.0  (v0.3.0/: .../cmd/mpi-operator.v1alpha2 with v0.3.0's
#                         replace block, the v1alpha2 operator)
#   mpijob-informer-v0.3.0 (v0.3.0/cmd/mpijob-informer: a v1alpha2 informer of
#                         v0.3.0's generated clientset that prints its events)
# into _output/operators/bin under the repository root (or $OUT).
#
# A binary newer than its module's go.mod, go.sum, tools.go, this script and
# (for a package of the build module itself) its Go files is kept; FORCE=1
# rebuilds them all. v0.7.0 takes ~4 min on 2 cores with a cold build
# cache, v0.3.0 ~1 min.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${OUT:-$root/_output/operators/bin}"

# One build cache with the Makefile (which exports CGO_ENABLED=0); no
# -trimpath, which would bypass that cache.
export CGO_ENABLED=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

mkdir -p "$out"

# needs_build BIN MODDIR [SRC...]: true when BIN is missing or older than the
# module's files, this script or a SRC.
needs_build() {
	local bin="$1" mod="$2"
	shift 2
	[[ "${FORCE:-}" == 1 || ! -x "$bin" ]] && return 0
	local src
	for src in "$mod/go.mod" "$mod/go.sum" "$mod/tools.go" "${BASH_SOURCE[0]}" "$@"; do
		[[ "$src" -nt "$bin" ]] && return 0
	done
	return 1
}

# build VERSION PACKAGE [NAME]: builds PACKAGE in the module $here/VERSION into
# NAME-VERSION (NAME is mpi-operator unless given); a PACKAGE of the module
# itself (./...) is rebuilt when one of its Go files changes too.
build() {
	local version="$1" pkg="$2" name="${3:-mpi-operator}"
	local mod="$here/$version" bin="$out/$name-$version"
	local srcs=()
	[[ "$pkg" == ./* ]] && srcs=("$mod/${pkg#./}"/*.go)
	if ! needs_build "$bin" "$mod" "${srcs[@]}"; then
		echo "build.sh: $name-$version is up to date ($bin)"
		return
	fi
	local start=$SECONDS
	echo "build.sh: building $name-$version from $pkg ..."
	(cd "$mod" && go build -o "$bin.tmp" "$pkg")
	mv -f "$bin.tmp" "$bin"
	echo "build.sh: built $name-$version in $((SECONDS - start)) s"
}

build v0.7.0 github.com/kubeflow/mpi-operator/cmd/mpi-operator
build v0.3.0 github.com/kubeflow/mpi-operator/cmd/mpi-operator.v1alpha2
build v0.3.0 ./cmd/mpijob-informer mpijob-informer
