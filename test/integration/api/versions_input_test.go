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

package api

import (
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// testVersionsBadInput: a body of the other version, a v2beta1-only field
// sent to v1alpha2 under each fieldValidation, and a client's attempt to
// write the server's reserved annotation; each gets a 4xx or is ignored,
// never a 500.
func testVersionsBadInput(t *testing.T, e *env) {
	const ns = "versions-input"
	t.Run("apiVersion disagrees with the path", func(t *testing.T) {
		for _, c := range []struct{ path, body string }{{alpha, beta}, {beta, alpha}} {
			body := versionJob(c.body, ns, "mismatch-"+c.path, obj{})
			r := e.do(t, harness.Request{Method: http.MethodPost, URL: versionNSPath(c.path, ns), Body: body})
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "kubeflow.org/"+c.body, "kubeflow.org/"+c.path)
			e.expectNotInEtcd(t, ns, "mismatch-"+c.path)
		}
		e.createIn(t, alpha, versionJob(alpha, ns, "put-mismatch", obj{}))
		cur := e.readIn(t, alpha, ns, "put-mismatch")
		before := e.etcdGet(t, ns, "put-mismatch")
		cur["apiVersion"] = "kubeflow.org/" + beta
		r := e.do(t, harness.Request{Method: http.MethodPut, URL: versionObjPath(alpha, ns, "put-mismatch"), Body: cur})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "kubeflow.org/"+beta, "kubeflow.org/"+alpha)
		e.expectEtcdUnchanged(t, ns, "put-mismatch", before)
	})

	t.Run("v2beta1-only field sent to v1alpha2", func(t *testing.T) {
		for _, mode := range []string{"Strict", "Warn", "Ignore"} {
			name := "ssh-" + strings.ToLower(mode)
			body := versionJob(alpha, ns, name, obj{"sshAuthMountPath": "/home/mpi/.ssh"})
			r := e.do(t, harness.Request{Method: http.MethodPost, URL: versionNSPath(alpha, ns) + "?fieldValidation=" + mode, Body: body})
			warned := hasUnknownFieldWarning(r, "spec.sshAuthMountPath")
			switch mode {
			case "Strict":
				harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, `unknown field "spec.sshAuthMountPath"`)
				e.expectNotInEtcd(t, ns, name)
				continue
			case "Warn":
				harness.ExpectCode(t, r, http.StatusCreated)
				if !warned {
					t.Errorf("Warn: no Warning naming spec.sshAuthMountPath: %v", r.Header.Values("Warning"))
				}
			case "Ignore":
				harness.ExpectCode(t, r, http.StatusCreated)
				if len(r.Header.Values("Warning")) > 0 {
					t.Errorf("Ignore: warnings %v", r.Header.Values("Warning"))
				}
			}
			// Dropped, not stored: v2beta1 shows no sshAuthMountPath.
			if v, ok := get(e.readIn(t, beta, ns, name), "spec", "sshAuthMountPath"); ok {
				t.Errorf("%s: sshAuthMountPath %v read in v2beta1, want it dropped", mode, v)
			}
		}
	})

	t.Run("reserved annotation", func(t *testing.T) {
		forged := `{"v2beta1Only":{"sshAuthMountPath":"/forged"}}`
		annotations := obj{carryover.Annotation: forged, "user": "kept"}
		expect := func(t *testing.T, name, wantSSH string) {
			t.Helper()
			for _, v := range bothVersions {
				got := e.readIn(t, v, ns, name)
				if d := diff(obj{"user": "kept"}, mustGet(t, got, "metadata", "annotations")); d != "" {
					t.Errorf("annotations read in %s (-want +got):\n%s", v, d)
				}
			}
			ssh, _ := get(e.readIn(t, beta, ns, name), "spec", "sshAuthMountPath")
			if s, _ := ssh.(string); s != wantSSH {
				t.Errorf("sshAuthMountPath %v, want %q (not the client's annotation)", ssh, wantSSH)
			}
			raw := e.etcdGet(t, ns, name)
			if strings.Contains(string(raw), "/forged") {
				t.Errorf("etcd holds the client's annotation value: %s", truncate(raw))
			}
			stored, _ := get(e.etcdObject(t, ns, name), "metadata", "annotations", carryover.Annotation)
			if s, _ := stored.(string); wantSSH != "" && !strings.Contains(s, wantSSH) {
				t.Errorf("etcd's reserved annotation %q, want the server's own with %s", s, wantSSH)
			}
		}
		t.Run("create in v1alpha2", func(t *testing.T) {
			body := versionJob(alpha, ns, "forged-alpha", obj{})
			body["metadata"].(obj)["annotations"] = annotations
			e.createIn(t, alpha, body)
			expect(t, "forged-alpha", "")
			if stored, ok := get(e.etcdObject(t, ns, "forged-alpha"), "metadata", "annotations", carryover.Annotation); ok {
				t.Errorf("etcd holds a reserved annotation %v for a job with nothing to carry over", stored)
			}
		})
		t.Run("create in v2beta1", func(t *testing.T) {
			body := versionJob(beta, ns, "forged-beta", obj{"sshAuthMountPath": "/real"})
			body["metadata"].(obj)["annotations"] = annotations
			e.createIn(t, beta, body)
			expect(t, "forged-beta", "/real")
		})
		t.Run("update and patch in v1alpha2", func(t *testing.T) {
			cur := e.readIn(t, alpha, ns, "forged-beta")
			cur["metadata"].(obj)["annotations"] = annotations
			harness.ExpectCode(t, e.do(t, harness.Request{Method: http.MethodPut, URL: versionObjPath(alpha, ns, "forged-beta"), Body: cur}), http.StatusOK)
			expect(t, "forged-beta", "/real")
			patch := obj{"metadata": obj{"annotations": obj{carryover.Annotation: forged}}}
			for _, ct := range []string{contentMerge, contentSMP} {
				r := e.do(t, harness.Request{Method: http.MethodPatch, URL: versionObjPath(alpha, ns, "forged-beta"), ContentType: ct, Body: patch})
				expectNoReserved(t, r)
				harness.ExpectCode(t, r, http.StatusOK)
				expect(t, "forged-beta", "/real")
			}
		})
	})
}
