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

# Checks that every Go and shell file of the repository starts with the
# licence header: hack/boilerplate.go.txt in Go files (after their //go:build
# lines, which Go wants first), hack/boilerplate.sh.txt in shell scripts (after
# the #! line). Shell scripts are *.sh files and files whose #! line runs sh
# or bash (.ci/run). The files are those git tracks plus new ones it does not
# ignore.
#
#   hack/boilerplate.sh          lists the files without the header; fails if any
#   hack/boilerplate.sh --fix    adds the header where it is missing (again: no change)
set -o errexit -o nounset -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

fix=false
case "${1:-}" in
--fix) fix=true ;;
"") ;;
*)
    echo "usage: $0 [--fix]" >&2
    exit 2
    ;;
esac

# kind FILE prints go or sh for a file that needs a header, nothing otherwise.
kind() {
    case "$1" in
    *.go) echo go ;;
    *.sh) echo sh ;;
    *)
        local first
        first="$(head -c 128 -- "$1" | head -n 1 | tr -d '\0')"
        case "${first}" in
        '#!'*/sh | '#!'*/bash | '#!'*' sh' | '#!'*' bash' | '#!'*/sh' '* | '#!'*/bash' '* | '#!'*' bash '*) echo sh ;;
        esac
        ;;
    esac
}

# header KIND FILE: with fix=0, exits 1 when FILE lacks the header; with
# fix=1, prints FILE with the header added (exits 2 when it was there).
header() {
    awk -v kind="$1" -v fix="$2" '
        FNR == NR { h[++n] = $0; next }    # the header file
        { line[++m] = $0 }
        END {
            if (h[n] == "") n--            # its closing blank line separates it from the code
            start = 1
            if (kind == "go") {
                while (start <= m && line[start] ~ /^\/\/(go:build| \+build)/) start++
                if (start > 1 && line[start] == "") start++
            } else if (line[1] ~ /^#!/) {
                start = 2
            }
            ok = 1
            for (i = 1; i <= n; i++) if (line[start + i - 1] != h[i]) { ok = 0; break }
            if (!fix) exit !ok
            if (ok) exit 2
            for (i = 1; i < start; i++) print line[i]
            for (i = 1; i <= n; i++) print h[i]
            print ""
            for (i = start; i <= m; i++) print line[i]
        }' "hack/boilerplate.$1.txt" "$3"
}

missing=()
while IFS= read -r -d '' file; do
    [[ -f "${file}" && ! -L "${file}" ]] || continue # deleted in the checkout, or a link
    k="$(kind "${file}")"
    [[ -n "${k}" ]] || continue
    if ! "${fix}"; then
        header "${k}" 0 "${file}" || missing+=("${file}")
        continue
    fi
    tmp="$(mktemp)"
    rc=0
    header "${k}" 1 "${file}" >"${tmp}" || rc=$?
    if [[ "${rc}" -eq 0 ]]; then
        cat "${tmp}" >"${file}" # in place: keeps the file's mode
        echo "added the licence header to ${file}"
    elif [[ "${rc}" -ne 2 ]]; then
        rm -f "${tmp}"
        echo "$0: failed on ${file}" >&2
        exit 1
    fi
    rm -f "${tmp}"
done < <(git ls-files -z --cached --others --exclude-standard)

if [[ "${#missing[@]}" -gt 0 ]]; then
    echo "These files do not start with the licence header (run make update-boilerplate):" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi
