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

# Regenerates every generated file: the protobuf encoding (generated.proto,
# generated.pb.go and the protobuf struct tags), deepcopy, conversion and
# defaulters next to the API types; OpenAPI definitions, clientset, listers,
# informers and apply configurations under pkg/generated.
set -o errexit -o nounset -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
module="github.com/mpijob/mpijob-apiserver"
boilerplate="${root}/hack/boilerplate.go.txt"

# The generators are tool directives of go.mod; kube_codegen.sh installs them
# into GOBIN, which stays inside the repo's ignored output directory (or
# CODEGEN_BIN: hack/verify-codegen.sh runs this in a copy of the repo).
export GOBIN="${CODEGEN_BIN:-${root}/_output/bin}"
mkdir -p "${GOBIN}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

# go-to-protobuf first: it adds the protobuf struct tags to the types, which
# the later generators read. Its output names, generated.proto and
# generated.pb.go, are fixed in the tool (the .pb.go names its .proto), so
# these two keep Kubernetes' names instead of zz_generated.*. It reads and
# writes files by import path under one source root, as in a GOPATH, so a
# temporary root of symlinks stands for the repo and for what the .proto
# imports: k8s.io/api, apimachinery, gogo.proto and, under gogo's protobuf/,
# the google/protobuf descriptors. It runs protoc, protoc-gen-gogo and
# goimports from PATH; protoc there is hack/protoc-pointer-maps.sh.
PROTOC="$(command -v protoc)" || {
    echo "protoc not found (Debian: apt-get install protobuf-compiler)" >&2
    exit 1
}
export PROTOC POINTER_MAP_FIELDS="mpiReplicaSpecs replicaStatuses"
go install k8s.io/code-generator/cmd/go-to-protobuf \
    k8s.io/code-generator/cmd/go-to-protobuf/protoc-gen-gogo \
    golang.org/x/tools/cmd/goimports
proto_root="$(mktemp -d)"
trap 'rm -rf "${proto_root}"' EXIT
link() { mkdir -p "$(dirname "${proto_root}/$1")" && ln -s "$2" "${proto_root}/$1"; }
link bin/protoc "${root}/hack/protoc-pointer-maps.sh"
link "src/${module}" "${root}"
for dep in k8s.io/api k8s.io/apimachinery github.com/gogo/protobuf; do
    link "src/${dep}" "$(go list -m -f '{{.Dir}}' "${dep}")"
done
# Packages with a '-' are not generated, only read for the messages ours use.
proto_deps=(
    -k8s.io/apimachinery/pkg/util/intstr
    -k8s.io/apimachinery/pkg/api/resource
    -k8s.io/apimachinery/pkg/runtime/schema
    -k8s.io/apimachinery/pkg/runtime
    -k8s.io/apimachinery/pkg/apis/meta/v1
    -k8s.io/api/core/v1
)
PATH="${proto_root}/bin:${GOBIN}:${PATH}" "${GOBIN}/go-to-protobuf" \
    --go-header-file "${boilerplate}" \
    --output-dir "${proto_root}/src" \
    --proto-import "${proto_root}/src/github.com/gogo/protobuf/protobuf" \
    --apimachinery-packages "$(IFS=,; echo "${proto_deps[*]}")" \
    --packages "${module}/api/kubeflow/v1alpha2,${module}/api/kubeflow/v2beta1"
rm -rf "${proto_root}"

codegen_dir="$(go list -m -f '{{.Dir}}' k8s.io/code-generator)"
# shellcheck source=/dev/null
source "${codegen_dir}/kube_codegen.sh"

kube::codegen::gen_helpers \
    --boilerplate "${boilerplate}" \
    "${root}/api"
# defaulter-gen imports core/v1 for the pod templates it scans, though no
# defaulter of core/v1 is importable here, so nothing uses the import.
"${GOBIN}/goimports" -w "${root}"/api/kubeflow/*/zz_generated.defaults.go

kube::codegen::gen_openapi \
    --boilerplate "${boilerplate}" \
    --output-dir "${root}/pkg/generated/openapi" \
    --output-pkg "${module}/pkg/generated/openapi" \
    --output-model-name-file zz_generated.model_name.go \
    --extra-pkgs k8s.io/api/core/v1 \
    --extra-pkgs k8s.io/api/autoscaling/v1 \
    --extra-pkgs k8s.io/apimachinery/pkg/util/intstr \
    --report-filename "${root}/hack/api-rule-violations.list" \
    --update-report \
    "${root}/api"

kube::codegen::gen_client \
    --boilerplate "${boilerplate}" \
    --output-dir "${root}/pkg/generated" \
    --output-pkg "${module}/pkg/generated" \
    --with-watch \
    --with-applyconfig \
    --prefers-protobuf \
    "${root}/api"
