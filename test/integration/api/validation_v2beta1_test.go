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
	"testing"

	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

const v2beta1Path = "/apis/kubeflow.org/v2beta1"

func v2beta1ObjPath(ns, name string) string {
	return v2beta1Path + "/namespaces/" + ns + "/mpijobs/" + name
}

// v2beta1Job is a job as a v2beta1 client writes it, with one Worker.
func v2beta1Job(ns, name string) obj {
	template := func(name string) obj {
		return obj{"spec": obj{"containers": []interface{}{obj{"name": name, "image": "mpioperator/mpi-pi:openmpi"}}}}
	}
	return obj{
		"apiVersion": "kubeflow.org/v2beta1",
		"kind":       "MPIJob",
		"metadata":   obj{"name": name, "namespace": ns},
		"spec": obj{"mpiReplicaSpecs": obj{
			"Launcher": obj{"replicas": 1, "template": template("launcher")},
			"Worker":   obj{"replicas": 2, "template": template("worker")},
		}},
	}
}

func TestValidationV2beta1(t *testing.T) {
	e := newEnv(t, inprocess.Start(t))
	const ns = "validation-v2beta1"

	t.Run("InvalidCreates", func(t *testing.T) {
		cases := []struct {
			name     string
			mutate   func(o obj)
			field    string
			contains string
		}{
			{"intelmpi", func(o obj) { set(t, o, "IntelMPI", "spec", "mpiImplementation") },
				"spec.mpiImplementation", `Unsupported value: "IntelMPI"`},
			{"no-workers", func(o obj) { set(t, o, 0, "spec", "mpiReplicaSpecs", "Worker", "replicas") },
				"spec.mpiReplicaSpecs[Worker].replicas", "must be greater than or equal to 1"},
			{"unset-workers", func(o obj) { del(t, o, "spec", "mpiReplicaSpecs", "Worker", "replicas") },
				"spec.mpiReplicaSpecs[Worker].replicas", "Required value"},
			{"clean-pod-policy", func(o obj) { set(t, o, obj{"cleanPodPolicy": "Sometimes"}, "spec", "runPolicy") },
				"spec.runPolicy.cleanPodPolicy", `Unsupported value: "Sometimes"`},
			{"exit-code", func(o obj) { set(t, o, "ExitCode", "spec", "mpiReplicaSpecs", "Launcher", "restartPolicy") },
				"spec.mpiReplicaSpecs[Launcher].restartPolicy", `supported values: "Never", "OnFailure"`},
			{"managed-by", func(o obj) { set(t, o, obj{"managedBy": "me"}, "spec", "runPolicy") },
				"spec.runPolicy.managedBy", `Unsupported value: "me"`},
			{"duplicate-containers", func(o obj) {
				c := mustGet(t, o, "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers").([]interface{})
				set(t, o, append(c, obj{"name": "worker", "image": "x"}), "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers")
			}, "spec.mpiReplicaSpecs[Worker].template.spec.containers[1]", `Duplicate value: {"name":"worker"}`},
			{"1job", func(obj) {}, "metadata.name", `"1job-worker-1", must be a DNS-1035 label`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				o := v2beta1Job(ns, tc.name)
				tc.mutate(o)
				r := e.do(t, harness.Request{Method: "POST", URL: v2beta1Path + "/namespaces/" + ns + "/mpijobs", Body: o})
				harness.ExpectInvalid(t, r, tc.field, tc.contains)
				e.expectNotInEtcd(t, ns, tc.name)
			})
		}
	})

	t.Run("WithoutWorkerWrittenBackInV1alpha2", func(t *testing.T) {
		const name = "launcher-only"
		o := v2beta1Job(ns, name)
		del(t, o, "spec", "mpiReplicaSpecs", "Worker")

		// v1alpha2 requires a Worker: its rules still hold for its writes.
		alpha := deepCopy(o)
		alpha["apiVersion"] = "kubeflow.org/v1alpha2"
		harness.ExpectInvalid(t, e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: alpha}), "spec.mpiReplicaSpecs[Worker]")
		e.expectNotInEtcd(t, ns, name)

		harness.ExpectObject(t, e.do(t, harness.Request{Method: "POST", URL: v2beta1Path + "/namespaces/" + ns + "/mpijobs", Body: o}), http.StatusCreated)
		read := e.read(t, ns, name)
		if _, ok := get(read, "spec", "mpiReplicaSpecs", "Worker"); ok {
			t.Fatalf("v1alpha2 read has a Worker: %v", read["spec"])
		}

		back := harness.ExpectObject(t, e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name), Body: read}), http.StatusOK)
		if d := diff(read["spec"], back["spec"]); d != "" {
			t.Errorf("unchanged write-back changed the spec (-read +written):\n%s", d)
		}

		set(t, back, obj{"team": "a"}, "metadata", "labels")
		relabelled := harness.ExpectObject(t, e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name), Body: back}), http.StatusOK)
		if got, _ := get(relabelled, "metadata", "labels", "team"); got != "a" {
			t.Errorf("labels after relabelling: %v", relabelled["metadata"])
		}
		if generation(t, relabelled) != 1 {
			t.Errorf("generation %d after two writes that left the spec alone, want 1", generation(t, relabelled))
		}
	})

	t.Run("ManagedByImmutable", func(t *testing.T) {
		const name = "managed"
		o := v2beta1Job(ns, name)
		set(t, o, obj{"managedBy": "kueue.x-k8s.io/multikueue"}, "spec", "runPolicy")
		created := harness.ExpectObject(t, e.do(t, harness.Request{Method: "POST", URL: v2beta1Path + "/namespaces/" + ns + "/mpijobs", Body: o}), http.StatusCreated)
		before := e.etcdGet(t, ns, name)
		set(t, created, "kubeflow.org/mpi-operator", "spec", "runPolicy", "managedBy")
		r := e.do(t, harness.Request{Method: "PUT", URL: v2beta1ObjPath(ns, name), Body: created})
		harness.ExpectInvalid(t, r, "spec.runPolicy.managedBy", "field is immutable")
		e.expectEtcdUnchanged(t, ns, name, before)
	})
}
