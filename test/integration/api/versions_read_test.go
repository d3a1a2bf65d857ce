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
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// testVersionsReadAcross: a job created in one version reads in the other
// with the documented mapping, over JSON and protobuf, by GET and LIST;
// defaults are applied to v2beta1 bodies only, never on read.
func testVersionsReadAcross(t *testing.T, e *env) {
	const ns = "versions-read"
	// Both copies of backoffLimit differ, so the one v2beta1 shows is
	// runPolicy's; both copies of cleanPodPolicy differ, so it shows the
	// top-level one; activeDeadlineSeconds has only a top-level copy.
	alphaSpec := deepCopy(obj{
		"slotsPerWorker":        2,
		"backoffLimit":          3,
		"activeDeadlineSeconds": 100,
		"cleanPodPolicy":        "Running",
		"mainContainer":         "mpi",
		"mpiDistribution":       "IntelMPI",
		"runPolicy":             obj{"cleanPodPolicy": "All", "backoffLimit": 5, "ttlSecondsAfterFinished": 60},
	})
	betaSpec := deepCopy(obj{
		"runPolicy": obj{"cleanPodPolicy": "All", "backoffLimit": 2},
	})

	cases := []struct {
		name, created string
		spec          obj
		// want is the spec without mpiReplicaSpecs, read in each version.
		want map[string]obj
	}{{
		name: "from-v1alpha2", created: alpha, spec: alphaSpec,
		want: map[string]obj{
			alpha: alphaSpec,
			// No defaults: sshAuthMountPath, launcherCreationPolicy,
			// runLauncherAsWorker and runPolicy.suspend stay absent.
			beta: deepCopy(obj{
				"slotsPerWorker":    2,
				"mpiImplementation": "Intel",
				"runPolicy":         obj{"cleanPodPolicy": "Running", "backoffLimit": 5, "activeDeadlineSeconds": 100, "ttlSecondsAfterFinished": 60},
			}),
		},
	}, {
		name: "from-v2beta1", created: beta, spec: betaSpec,
		want: map[string]obj{
			beta: deepCopy(obj{
				"slotsPerWorker":         1,
				"runLauncherAsWorker":    false,
				"sshAuthMountPath":       "/root/.ssh",
				"launcherCreationPolicy": "AtStartup",
				"mpiImplementation":      "OpenMPI",
				"runPolicy":              obj{"cleanPodPolicy": "All", "backoffLimit": 2, "suspend": false},
			}),
			// The defaulted values v1alpha2 can express show; cleanPodPolicy
			// is the top-level copy, backoffLimit stays in runPolicy.
			alpha: deepCopy(obj{
				"slotsPerWorker":  1,
				"mpiDistribution": "OpenMPI",
				"cleanPodPolicy":  "All",
				"runPolicy":       obj{"backoffLimit": 2},
			}),
		},
	}, {
		name: "bare-v2beta1", created: beta, spec: obj{},
		want: map[string]obj{
			// No runPolicy in the body: none defaulted.
			beta: deepCopy(obj{
				"slotsPerWorker":         1,
				"runLauncherAsWorker":    false,
				"sshAuthMountPath":       "/root/.ssh",
				"launcherCreationPolicy": "AtStartup",
				"mpiImplementation":      "OpenMPI",
			}),
			alpha: deepCopy(obj{"slotsPerWorker": 1, "mpiDistribution": "OpenMPI"}),
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			created := e.createIn(t, c.created, versionJob(c.created, ns, c.name, c.spec))
			replicas := mustGet(t, created, "spec", "mpiReplicaSpecs")
			reads := map[string]obj{}
			for _, v := range bothVersions {
				got := e.readIn(t, v, ns, c.name)
				reads[v] = got
				spec := deepCopy(got["spec"].(obj))
				if d := diff(replicas, spec["mpiReplicaSpecs"]); d != "" {
					t.Errorf("read in %s: mpiReplicaSpecs differ from the created ones (-want +got):\n%s", v, d)
				}
				delete(spec, "mpiReplicaSpecs")
				if d := diff(c.want[v], spec); d != "" {
					t.Errorf("created in %s, read in %s: spec (-want +got):\n%s", c.created, v, d)
				}
				if _, ok := mustGet(t, got, "metadata").(obj)["annotations"]; ok {
					t.Errorf("read in %s: annotations %v, want none", v, got["metadata"].(obj)["annotations"])
				}
				if got["kind"] != "MPIJob" {
					t.Errorf("read in %s: kind %v", v, got["kind"])
				}
			}
			if d := diff(reads[alpha]["metadata"], reads[beta]["metadata"]); d != "" {
				t.Errorf("metadata differs between the versions (-v1alpha2 +v2beta1):\n%s", d)
			}
			if d := diff(created["spec"], reads[c.created]["spec"]); d != "" {
				t.Errorf("the create answer's spec differs from a read in %s (-create +read):\n%s", c.created, d)
			}

			for _, v := range bothVersions {
				items := e.listIn(t, v, ns, "?fieldSelector=metadata.name="+c.name)
				if len(items) != 1 {
					t.Fatalf("list in %s by name: %d items", v, len(items))
				}
				want := deepCopy(reads[v])
				delete(want, "apiVersion")
				delete(want, "kind")
				if d := diff(want, items[0]); d != "" {
					t.Errorf("list item in %s differs from GET (-get +list):\n%s", v, d)
				}
				e.expectProtobufEqualsJSON(t, v, ns, c.name, reads[v])
			}
		})
	}
}

// expectProtobufEqualsJSON reads the job and its list over protobuf with
// the generated clientset and compares them with the JSON read; the raw
// protobuf bytes must not carry the reserved annotation either.
func (e *env) expectProtobufEqualsJSON(t *testing.T, version, ns, name string, fromJSON obj) {
	t.Helper()
	ctx := context.Background()
	for _, path := range []string{versionObjPath(version, ns, name), versionNSPath(version, ns)} {
		r := e.do(t, harness.Request{URL: path, Accept: contentProtobuf})
		harness.ExpectCode(t, r, 200)
		if got := mediaType(r.Header.Get("Content-Type")); got != contentProtobuf {
			t.Errorf("GET %s asking for protobuf: Content-Type %q", path, got)
		}
		expectNoReserved(t, r)
	}
	wire, c := recordedClient(t, e, "")
	var got, listed any
	switch version {
	case alpha:
		j, err := c.KubeflowV1alpha2().MPIJobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l, err := c.KubeflowV1alpha2().MPIJobs(ns).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("protobuf list in %s: %v %v", version, l, err)
		}
		got, listed = j, &l.Items[0]
	case beta:
		j, err := c.KubeflowV2beta1().MPIJobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l, err := c.KubeflowV2beta1().MPIJobs(ns).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("protobuf list in %s: %v %v", version, l, err)
		}
		got, listed = j, &l.Items[0]
	}
	wire.expectAll(t, contentProtobuf)
	want := deepCopy(fromJSON)
	// Typed clients clear apiVersion and kind.
	delete(want, "apiVersion")
	delete(want, "kind")
	if d := diff(want, jsonObject(t, got)); d != "" {
		t.Errorf("protobuf GET in %s differs from JSON GET (-json +protobuf):\n%s", version, d)
	}
	if d := diff(want, jsonObject(t, listed)); d != "" {
		t.Errorf("protobuf LIST item in %s differs from JSON GET (-json +protobuf):\n%s", version, d)
	}
}
