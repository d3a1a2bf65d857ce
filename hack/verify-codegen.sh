#!/usr/bin/env bash
# Fails when the generated code is not what hack/update-codegen.sh makes from
# the current sources: it regenerates in place and asks git for differences.
set -o errexit -o nounset -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

"${root}/hack/update-codegen.sh"

generated=(api pkg/generated hack/api-rule-violations.list)
if ! git diff --exit-code -- "${generated[@]}"; then
    echo "Generated code is out of date: run 'make update' and commit the result." >&2
    exit 1
fi
untracked="$(git ls-files --others --exclude-standard -- "${generated[@]}")"
if [ -n "${untracked}" ]; then
    echo "Generated files are not committed:" >&2
    echo "${untracked}" >&2
    exit 1
fi
echo "Generated code is current."
