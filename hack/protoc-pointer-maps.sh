#!/usr/bin/env bash
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
