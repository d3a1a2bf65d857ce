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

# Stands in for protoc when go-to-protobuf runs it: first lets the maps of
# pointers named in POINTER_MAP_FIELDS stay nullable, then runs the real
# protoc (PROTOC).
#
# go-to-protobuf marks every map field (gogoproto.nullable) = false, so gogo
# writes code for map[K]V; mpiReplicaSpecs and replicaStatuses are map[K]*V
# (mpi-operator's Go types, and a null entry is valid JSON), which is gogo's
# code without that option. The option is only in the gogo-annotated IDL the
# tool hands to protoc: the generated.proto it writes afterwards has no gogo
# options, so the committed IDL is the tool's own.
set -o errexit -o nounset -o pipefail

for arg in "$@"; do
    case "${arg}" in
    *.proto)
        for field in ${POINTER_MAP_FIELDS}; do
            line="^  map<.*> ${field} = .*(gogoproto.nullable) = false"
            if ! grep -q "${line}" "${arg}"; then
                echo "$0: no non-nullable map field ${field} in ${arg}" >&2
                exit 1
            fi
            sed -i "/^  map<.*> ${field} = /s/, (gogoproto.nullable) = false//" "${arg}"
        done
        ;;
    esac
done
exec "${PROTOC}" "$@"
