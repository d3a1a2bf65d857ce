/*
Copyright The mpijob-apiserver Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package deploy

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// certificate and issuer are the parts of cert-manager.io/v1 the overlay uses.
type certificate struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SecretName  string   `json:"secretName"`
		CommonName  string   `json:"commonName"`
		DNSNames    []string `json:"dnsNames"`
		IPAddresses []string `json:"ipAddresses"`
		Usages      []string `json:"usages"`
		IsCA        bool     `json:"isCA"`
		Duration    string   `json:"duration"`
		PrivateKey  *struct {
			Algorithm      string `json:"algorithm"`
			Size           int    `json:"size"`
			RotationPolicy string `json:"rotationPolicy"`
		} `json:"privateKey"`
		IssuerRef struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"issuerRef"`
	} `json:"spec"`
}

type issuer struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SelfSigned *struct{} `json:"selfSigned"`
		CA         *struct {
			SecretName string `json:"secretName"`
		} `json:"ca"`
	} `json:"spec"`
}

func TestCertManagerOverlay(t *testing.T) {
	m := render(t, "artifacts/deploy/cert-manager")

	// The base, unchanged but for the APIService annotation, plus cert-manager objects.
	var extra []string
	for _, k := range m.keys() {
		if !slices.Contains(baseObjects, k) {
			extra = append(extra, k)
		}
	}
	wantExtra := []string{
		"APIService " + v2beta1APIServiceName,
		"Certificate mpijob-system/mpijob-apiserver-ca",
		"Certificate mpijob-system/mpijob-apiserver-serving-cert",
		"Certificate mpijob-system/mpijob-etcd-ca",
		"Certificate mpijob-system/mpijob-etcd-client-tls",
		"Certificate mpijob-system/mpijob-etcd-peer-tls",
		"Certificate mpijob-system/mpijob-etcd-server-tls",
		"Issuer mpijob-system/mpijob-apiserver-ca",
		"Issuer mpijob-system/mpijob-etcd-ca",
		"Issuer mpijob-system/mpijob-selfsigned",
	}
	if diff := cmp.Diff(wantExtra, extra); diff != "" {
		t.Errorf("objects beyond the base (-want +got):\n%s", diff)
	}
	if len(m.objects) != len(baseObjects)+len(wantExtra) {
		t.Errorf("the overlay renders %d objects, want the base's %d plus %d", len(m.objects), len(baseObjects), len(wantExtra))
	}
	base := render(t, "artifacts/deploy")
	for _, o := range base.objects {
		got, ok := m.find(o.Kind, o.Metadata.Namespace, o.Metadata.Name)
		if ok && o.Kind != "APIService" && string(got.raw) != string(o.raw) {
			t.Errorf("the overlay changes %s", o.key())
		}
	}
	for _, o := range m.objects {
		if want := apiVersions[o.Kind]; o.APIVersion != want {
			t.Errorf("%s has apiVersion %q, want %q", o.key(), o.APIVersion, want)
		}
	}

	// The CA injector fills each APIService's caBundle from the serving certificate.
	for _, name := range []string{apiServiceName, v2beta1APIServiceName} {
		var as apiService
		m.get(t, "APIService", "", name, &as)
		if got := as.Metadata.Annotations["cert-manager.io/inject-ca-from"]; got != namespace+"/"+servingSecret {
			t.Errorf("APIService %s annotation cert-manager.io/inject-ca-from = %q, want %s/%s", name, got, namespace, servingSecret)
		}
		var plain apiService
		base.get(t, "APIService", "", name, &plain)
		if !cmp.Equal(plain.Spec, as.Spec) {
			t.Errorf("APIService %s spec changed by the overlay (-base +overlay):\n%s", name, cmp.Diff(plain.Spec, as.Spec))
		}
	}

	certs := map[string]certificate{}
	for _, o := range m.ofKind("Certificate") {
		var c certificate
		m.get(t, "Certificate", namespace, o.Metadata.Name, &c)
		certs[o.Metadata.Name] = c
	}
	issuers := map[string]issuer{}
	for _, o := range m.ofKind("Issuer") {
		var i issuer
		m.get(t, "Issuer", namespace, o.Metadata.Name, &i)
		issuers[o.Metadata.Name] = i
	}
	// rootOf follows a leaf to the CA Certificate behind its issuer, which
	// must itself come from the self-signed issuer.
	rootOf := func(c certificate) string {
		t.Helper()
		is, ok := issuers[c.Spec.IssuerRef.Name]
		if c.Spec.IssuerRef.Kind != "Issuer" || !ok || is.Spec.CA == nil {
			t.Fatalf("Certificate %s is not issued by a CA Issuer of the overlay: %+v", c.Metadata.Name, c.Spec.IssuerRef)
		}
		for _, ca := range certs {
			if ca.Spec.SecretName == is.Spec.CA.SecretName {
				self := issuers[ca.Spec.IssuerRef.Name]
				if !ca.Spec.IsCA || self.Spec.SelfSigned == nil {
					t.Errorf("CA Certificate %s: isCA %v, issuer %s not self-signed", ca.Metadata.Name, ca.Spec.IsCA, ca.Spec.IssuerRef.Name)
				}
				return ca.Metadata.Name
			}
		}
		t.Fatalf("Issuer %s uses Secret %s, which no Certificate makes", is.Metadata.Name, is.Spec.CA.SecretName)
		return ""
	}

	// Exactly the Secrets the workloads mount, each from the right CA, with
	// the names and usages the clients verify.
	var leafSecrets []string
	for _, c := range certs {
		if !c.Spec.IsCA {
			leafSecrets = append(leafSecrets, c.Spec.SecretName)
		}
		if c.Spec.PrivateKey == nil || c.Spec.PrivateKey.Algorithm == "" {
			t.Errorf("Certificate %s does not choose its key algorithm", c.Metadata.Name)
		}
	}
	sort.Strings(leafSecrets)
	wantSecrets := slices.Sorted(slices.Values(tlsSecrets))
	if diff := cmp.Diff(wantSecrets, leafSecrets); diff != "" {
		t.Errorf("Certificates' Secrets are not those the workloads mount (-want +got):\n%s", diff)
	}

	_, _, serverFlags := serverPod(t, m)
	sts, _, etcdFlags := etcdPod(t, m)
	var etcdHosts []string
	for i := 0; i < int(*sts.Spec.Replicas); i++ {
		etcdHosts = append(etcdHosts, etcdMemberHost(i))
	}
	for _, server := range strings.Split(serverFlags["--etcd-servers"], ",") {
		host := strings.TrimSuffix(strings.TrimPrefix(server, "https://"), ":2379")
		if !slices.Contains(etcdHosts, host) {
			t.Errorf("--etcd-servers has %s, not an etcd member", server)
		}
	}
	if !strings.Contains(etcdFlags["--initial-cluster"], etcdHosts[0]) {
		t.Errorf("--initial-cluster does not name %s", etcdHosts[0])
	}

	cases := []struct {
		name   string
		dns    []string
		usages []string
	}{
		{servingSecret, []string{serviceDNSName}, []string{"server auth"}},
		{etcdServerTLS, etcdHosts, []string{"server auth"}},
		{etcdPeerTLS, etcdHosts, []string{"server auth", "client auth"}},
		{etcdClientTLS, nil, []string{"client auth"}},
	}
	servingRoot := rootOf(certs[servingSecret])
	for _, tc := range cases {
		c, ok := certs[tc.name]
		if !ok {
			t.Errorf("no Certificate %s", tc.name)
			continue
		}
		if c.Spec.SecretName != tc.name {
			t.Errorf("Certificate %s writes Secret %s", tc.name, c.Spec.SecretName)
		}
		for _, dns := range tc.dns {
			if !slices.Contains(c.Spec.DNSNames, dns) {
				t.Errorf("Certificate %s lacks DNS name %s: %v", tc.name, dns, c.Spec.DNSNames)
			}
		}
		for _, u := range tc.usages {
			if !slices.Contains(c.Spec.Usages, u) {
				t.Errorf("Certificate %s lacks usage %q: %v", tc.name, u, c.Spec.Usages)
			}
		}
		root := rootOf(c)
		if isEtcd := strings.HasPrefix(tc.name, etcdName); isEtcd == (root == servingRoot) {
			t.Errorf("Certificate %s comes from CA %s: the serving certificate and etcd's must come from different CAs", tc.name, root)
		}
	}
	if certs[etcdClientTLS].Spec.CommonName != serverName {
		t.Errorf("etcd client certificate CN = %q, want %q", certs[etcdClientTLS].Spec.CommonName, serverName)
	}
}
