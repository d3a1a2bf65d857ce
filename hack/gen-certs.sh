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

# Certificates for artifacts/deploy without cert-manager, made with openssl.
#
# Usage:
#   hack/gen-certs.sh [--apply] [OUT_DIR]        OUT_DIR defaults to _output/certs
#
# Writes into OUT_DIR (mode 0700, private keys 0600):
#   apiserver-ca.crt/.key     the CA kube-apiserver trusts for this server (the APIService caBundle)
#   apiserver.crt/.key        serving certificate for mpijob-apiserver.mpijob-system.svc
#   etcd-ca.crt/.key          the CA of the etcd cluster; etcd accepts clients and peers it signed
#   etcd-server.crt/.key      etcd's client endpoint, mpijob-etcd-{0,1,2}.mpijob-etcd.mpijob-system.svc
#   etcd-peer.crt/.key        etcd member to member (server and client)
#   etcd-client.crt/.key      the API server towards etcd (CN mpijob-apiserver)
#   secrets.yaml              the Secrets the manifests mount, as `kubectl create secret ... --dry-run=client
#                             -o yaml` prints them: mpijob-apiserver-serving-cert, mpijob-etcd-server-tls,
#                             mpijob-etcd-peer-tls, mpijob-etcd-client-tls (each tls.crt, tls.key, ca.crt)
#   apiservice-cabundle.yaml  a merge patch that sets the caBundle of an APIService; every APIService of the
#                             server (label app.kubernetes.io/name=mpijob-apiserver: v1alpha2.kubeflow.org and,
#                             with the v2beta1 component, v2beta1.kubeflow.org) needs it
#
# Then install (README.md, "Run in a cluster"):
#   kubectl apply -k artifacts/deploy
#   kubectl apply --server-side -f OUT_DIR/secrets.yaml
#   kubectl get apiservices -l app.kubernetes.io/name=mpijob-apiserver -o name |
#       xargs -I{} kubectl patch {} --type=merge --patch-file OUT_DIR/apiservice-cabundle.yaml
# --apply does the last two against kubectl's current context (creating the namespace if needed; the
# APIServices are patched once they exist, so run it again after `kubectl apply -k` if they did not yet).
#
# Idempotent: a run keeps every certificate that is still good (its key matches, it verifies against its
# CA, it has more than 30 days left and was made with the same names and usages) and remakes the others;
# a remade CA remakes what it signs. Certificates last 365 days, CAs 10 years: run it again (with --apply)
# before a year is up to renew them; the API server and etcd load renewed files without a restart.
# Delete OUT_DIR to start from scratch.
#
# Needs openssl (1.1.1 or 3.x) and kubectl (only --apply talks to a cluster).
set -o errexit -o nounset -o pipefail

readonly NAMESPACE=mpijob-system
readonly SERVICE=mpijob-apiserver
# The label artifacts/deploy gives every APIService of the server.
readonly APISERVICE_SELECTOR=app.kubernetes.io/name=mpijob-apiserver
readonly ETCD=mpijob-etcd
readonly ETCD_MEMBERS=3
readonly LEAF_DAYS=365
readonly CA_DAYS=3650
readonly RENEW_SECONDS=$((30 * 24 * 3600))

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APPLY=false
OUT=""
for arg in "$@"; do
    case "${arg}" in
    --apply) APPLY=true ;;
    -h | --help)
        # The comment between the licence header and the first command.
        sed -n '/^# limitations under the License\./,/^set -o/p' "${BASH_SOURCE[0]}" | sed '1,2d; $d; s/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "unknown flag ${arg}; see --help" >&2
        exit 2
        ;;
    *) OUT="${arg}" ;;
    esac
done
OUT="${OUT:-${ROOT}/_output/certs}"

for tool in openssl kubectl; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
        echo "${tool} is needed and not on PATH" >&2
        exit 1
    fi
done

umask 077
mkdir -p "${OUT}"
chmod 700 "${OUT}"
cd "${OUT}"

# Names and usages of each certificate, as the openssl configuration it is made from. A changed
# configuration (a newer version of this script) remakes the certificate.
write_config() { # name common-name extensions...
    local name="$1" cn="$2"
    shift 2
    {
        printf '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = %s\n[ext]\n' "${cn}"
        printf '%s\n' "$@"
    } >"${name}.cnf.new"
    if cmp -s "${name}.cnf.new" "${name}.cnf"; then
        rm -f "${name}.cnf.new"
    else
        mv "${name}.cnf.new" "${name}.cnf"
        rm -f "${name}.crt" # made with other names or usages: remake
    fi
}

# good NAME CA: NAME.crt exists, matches NAME.key, verifies against CA.crt and does not expire soon.
good() {
    local name="$1" ca="$2"
    [[ -s "${name}.crt" && -s "${name}.key" ]] || return 1
    openssl x509 -in "${name}.crt" -noout -checkend "${RENEW_SECONDS}" >/dev/null 2>&1 || return 1
    [[ "$(openssl x509 -in "${name}.crt" -noout -pubkey 2>/dev/null)" == "$(openssl pkey -in "${name}.key" -pubout 2>/dev/null)" ]] || return 1
    openssl verify -CAfile "${ca}.crt" "${name}.crt" >/dev/null 2>&1
}

new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key.new" 2>/dev/null
    mv "$1.key.new" "$1.key"
}

make_ca() { # name common-name
    local name="$1"
    write_config "${name}" "$2" \
        "basicConstraints = critical, CA:TRUE" \
        "keyUsage = critical, keyCertSign, cRLSign, digitalSignature" \
        "subjectKeyIdentifier = hash"
    if good "${name}" "${name}"; then
        echo "kept   ${OUT}/${name}.crt"
        return
    fi
    new_key "${name}"
    openssl req -x509 -new -sha256 -key "${name}.key" -config "${name}.cnf" -extensions ext \
        -days "${CA_DAYS}" -set_serial "0x$(openssl rand -hex 16)" -out "${name}.crt"
    echo "made   ${OUT}/${name}.crt"
}

make_leaf() { # name ca common-name extensions...
    local name="$1" ca="$2" cn="$3"
    shift 3
    write_config "${name}" "${cn}" \
        "basicConstraints = critical, CA:FALSE" \
        "keyUsage = critical, digitalSignature" \
        "subjectKeyIdentifier = hash" \
        "authorityKeyIdentifier = keyid" \
        "$@"
    if good "${name}" "${ca}"; then
        echo "kept   ${OUT}/${name}.crt"
        return
    fi
    new_key "${name}"
    openssl req -new -sha256 -key "${name}.key" -config "${name}.cnf" -out "${name}.csr"
    openssl x509 -req -sha256 -in "${name}.csr" -CA "${ca}.crt" -CAkey "${ca}.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days "${LEAF_DAYS}" \
        -extfile "${name}.cnf" -extensions ext -out "${name}.crt" 2>/dev/null
    rm -f "${name}.csr"
    echo "made   ${OUT}/${name}.crt"
}

svc="${SERVICE}.${NAMESPACE}.svc"
make_ca apiserver-ca mpijob-apiserver-ca
make_leaf apiserver apiserver-ca "${svc}" \
    "extendedKeyUsage = serverAuth" \
    "subjectAltName = DNS:${svc}, DNS:${svc}.cluster.local, DNS:${SERVICE}.${NAMESPACE}, DNS:${SERVICE}"

etcd_names=""
for ((i = 0; i < ETCD_MEMBERS; i++)); do
    etcd_names+="DNS:${ETCD}-${i}.${ETCD}.${NAMESPACE}.svc, "
done
etcd_names+="DNS:*.${ETCD}.${NAMESPACE}.svc, DNS:*.${ETCD}.${NAMESPACE}.svc.cluster.local, "
etcd_names+="DNS:${ETCD}.${NAMESPACE}.svc, DNS:localhost, IP:127.0.0.1"
make_ca etcd-ca mpijob-etcd-ca
make_leaf etcd-server etcd-ca mpijob-etcd \
    "extendedKeyUsage = serverAuth" "subjectAltName = ${etcd_names}"
make_leaf etcd-peer etcd-ca mpijob-etcd-peer \
    "extendedKeyUsage = serverAuth, clientAuth" "subjectAltName = ${etcd_names}"
make_leaf etcd-client etcd-ca mpijob-apiserver \
    "extendedKeyUsage = clientAuth"

# The Secrets, in cert-manager's layout so that both ways fit the same manifests. kubectl does not
# contact a cluster for a client-side dry run.
tls_secret() { # secret-name cert-name ca-name
    kubectl create secret generic "$1" --namespace="${NAMESPACE}" --type=kubernetes.io/tls \
        --from-file=tls.crt="$2.crt" --from-file=tls.key="$2.key" --from-file=ca.crt="$3.crt" \
        --dry-run=client --output=yaml
}
{
    tls_secret mpijob-apiserver-serving-cert apiserver apiserver-ca
    echo "---"
    tls_secret mpijob-etcd-server-tls etcd-server etcd-ca
    echo "---"
    tls_secret mpijob-etcd-peer-tls etcd-peer etcd-ca
    echo "---"
    tls_secret mpijob-etcd-client-tls etcd-client etcd-ca
} >secrets.yaml.new
mv secrets.yaml.new secrets.yaml
printf 'spec:\n  caBundle: %s\n' "$(openssl base64 -A <apiserver-ca.crt)" >apiservice-cabundle.yaml
echo "wrote  ${OUT}/secrets.yaml"
echo "wrote  ${OUT}/apiservice-cabundle.yaml"

if [[ "${APPLY}" != true ]]; then
    cat <<EOF

Next:
  kubectl apply -k ${ROOT}/artifacts/deploy
  kubectl apply --server-side -f ${OUT}/secrets.yaml
  kubectl get apiservices -l ${APISERVICE_SELECTOR} -o name |
      xargs -I{} kubectl patch {} --type=merge --patch-file ${OUT}/apiservice-cabundle.yaml
(or run this again with --apply for the last two)
EOF
    exit 0
fi

kubectl apply -f "${ROOT}/artifacts/deploy/base/namespace.yaml"
# Server-side apply: no last-applied annotation holding a second copy of each private key.
kubectl apply --server-side --field-manager=mpijob-gen-certs -f secrets.yaml
apiservices="$(kubectl get apiservices --selector="${APISERVICE_SELECTOR}" --output=name)"
if [[ -n "${apiservices}" ]]; then
    for apiservice in ${apiservices}; do
        kubectl patch "${apiservice}" --type=merge --patch-file apiservice-cabundle.yaml
    done
else
    echo "no APIService labelled ${APISERVICE_SELECTOR} exists yet: after kubectl apply -k artifacts/deploy," >&2
    echo "run this again with --apply" >&2
fi
