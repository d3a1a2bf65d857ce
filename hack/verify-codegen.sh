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

# Fails when the generated code differs from what hack/update-codegen.sh makes
# from the current sources. It regenerates into a temporary copy of the
# checkout (its files as they are now, uncommitted edits and new files
# included, without what git ignores) and compares the generated paths with
# the checkout, which it never writes: a hand edit in progress under api/
# shows up as a difference instead of being overwritten.
set -o errexit -o nounset -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

# What the generators write: next to the types, under pkg/generated, and the
# report of API rule violations.
generated=(api pkg/generated hack/api-rule-violations.list)

copy="$(mktemp -d)"
trap 'rm -rf "${copy}"' EXIT
git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
        # A tracked file deleted in the checkout stays deleted in the copy.
        if [[ -e "${f}" || -L "${f}" ]]; then printf '%s\0' "${f}"; fi
    done |
    tar --create --null --files-from=- --file=- | tar --extract --file=- --directory="${copy}"

# The generators' binaries are shared with the checkout's: same go.mod, and
# installing them again elsewhere would only relink them.
CODEGEN_BIN="${root}/_output/bin" "${copy}/hack/update-codegen.sh"

failed=0
for path in "${generated[@]}"; do
    if ! out="$(diff -ruN "${root}/${path}" "${copy}/${path}")"; then
        failed=1
        # With a/ (the checkout) and b/ (regenerated), as git diff prints them.
        printf '%s\n' "${out}" | sed -e "s#${root}/#a/#g" -e "s#${copy}/#b/#g"
    fi
done
if [[ "${failed}" -ne 0 ]]; then
    echo "Generated code is out of date (above: checkout -> regenerated): run 'make update-generated'." >&2
    exit 1
fi
echo "Generated code is current."
