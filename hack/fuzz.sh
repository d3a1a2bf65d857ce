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

# Runs each fuzz target for a bounded time and prints its executions and
# findings. `go test -fuzz` runs one target per invocation and rebuilds the
# package instrumented, so each target gets its own run.
#
#   FUZZTIME   time per target (default 30s; any -fuzztime value)
#   FUZZMINIMIZETIME  time to minimize each new input (default 5s): Go's
#              default of 60s is spent on every input that adds coverage, and
#              with no executions counted meanwhile it can eat the whole run
#   FUZZFLAGS  extra go test flags (e.g. -parallel=1 on a busy machine)
#
# New failing inputs are written by Go under the package's
# testdata/fuzz/<FuzzName>/; the script exits non-zero when there is one.
set -uo pipefail

cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0
FUZZTIME="${FUZZTIME:-30s}"
FUZZMINIMIZETIME="${FUZZMINIMIZETIME:-5s}"
FUZZFLAGS="${FUZZFLAGS:-}"

# package target
TARGETS=(
	"./api/kubeflow/validation FuzzDecodeValidate"
	"./api/kubeflow/install FuzzRoundTripHub"
	"./api/kubeflow/install FuzzRoundTripWire"
)

failed=0
summary=()
for t in "${TARGETS[@]}"; do
	read -r pkg name <<<"$t"
	log="$(mktemp)"
	echo "=== $name ($pkg) for $FUZZTIME"
	# shellcheck disable=SC2086
	go test "$pkg" -run "^${name}\$" -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" $FUZZFLAGS 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# The last progress line: "fuzz: elapsed: 1m0s, execs: 123456 (2057/sec), new interesting: 12 (total: 40)"
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')"
	interesting="$(grep -o 'new interesting: [0-9]*' "$log" | tail -1 | awk '{print $3}')"
	if [ "$rc" -eq 0 ]; then
		findings=0
	else
		findings=1
		failed=1
		grep -E 'Failing input written to|panic:|--- FAIL' "$log" | sed 's/^/    /'
	fi
	summary+=("$(printf '%-20s %-28s execs %-10s new-interesting %-5s findings %s' "$name" "$pkg" "${execs:-0}" "${interesting:-0}" "$findings")")
	rm -f "$log"
done

echo
echo "=== fuzz summary (FUZZTIME=$FUZZTIME per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
