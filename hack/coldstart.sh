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

# Measures the cold start of the built server: from exec to the first 200 of
# /readyz, on a fresh data dir each time (so it includes generating the
# serving certificate and starting the embedded etcd). Prints every run and
# the median. Usage: hack/coldstart.sh [runs] (default 5); run `make build` first.
set -o errexit -o nounset -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${root}/_output/bin/mpijob-apiserver"
runs="${1:-5}"
port="${COLDSTART_PORT:-18443}"
[ -x "${bin}" ] || { echo "build first: make build" >&2; exit 1; }

times=()
for i in $(seq 1 "${runs}"); do
    dir="$(mktemp -d /tmp/mjcold.XXXXXX)"
    start=$(date +%s%N)
    "${bin}" --data-dir "${dir}" --secure-port "${port}" >"${dir}.log" 2>&1 &
    pid=$!
    until curl -skf "https://127.0.0.1:${port}/readyz" >/dev/null 2>&1; do
        kill -0 "${pid}" 2>/dev/null || { echo "server exited; see ${dir}.log" >&2; exit 1; }
        sleep 0.01
    done
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    times+=("${ms}")
    echo "run ${i}: ${ms} ms"
    kill -TERM "${pid}"; wait "${pid}" || true
    rm -rf "${dir}" "${dir}.log"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
echo "median cold start to /readyz over ${runs} runs: ${median} ms"
