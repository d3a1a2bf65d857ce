#!/usr/bin/env bash
# Regenerates every generated file: deepcopy, conversion and defaulters next to
# the API types; OpenAPI definitions, clientset, listers, informers and apply
# configurations under pkg/generated.
set -o errexit -o nounset -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
module="github.com/mpijob/mpijob-apiserver"
boilerplate="${root}/hack/boilerplate.go.txt"

# The generators are tool directives of go.mod; kube_codegen.sh installs them
# into GOBIN, which stays inside the repo's ignored output directory.
export GOBIN="${root}/_output/bin"
mkdir -p "${GOBIN}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

codegen_dir="$(go list -m -f '{{.Dir}}' k8s.io/code-generator)"
# shellcheck source=/dev/null
source "${codegen_dir}/kube_codegen.sh"

kube::codegen::gen_helpers \
    --boilerplate "${boilerplate}" \
    "${root}/api"

kube::codegen::gen_openapi \
    --boilerplate "${boilerplate}" \
    --output-dir "${root}/pkg/generated/openapi" \
    --output-pkg "${module}/pkg/generated/openapi" \
    --output-model-name-file zz_generated.model_name.go \
    --extra-pkgs k8s.io/api/core/v1 \
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
    "${root}/api"
