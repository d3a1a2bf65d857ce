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

// views is one job as each served version shows it.
type views map[string]obj

func (e *env) views(t *testing.T, ns, name string) views {
	t.Helper()
	return views{alpha: e.readIn(t, alpha, ns, name), beta: e.readIn(t, beta, ns, name)}
}

// withoutWriteMeta drops what every write changes: resourceVersion and
// managedFields.
func withoutWriteMeta(o obj) obj {
	o = deepCopy(o)
	md := o["metadata"].(obj)
	delete(md, "resourceVersion")
	delete(md, "managedFields")
	return o
}

// expectViews compares got with want in both versions.
func expectViews(t *testing.T, want, got views) {
	t.Helper()
	for _, v := range bothVersions {
		if d := diff(withoutWriteMeta(want[v]), withoutWriteMeta(got[v])); d != "" {
			t.Errorf("read in %s (-want +got):\n%s", v, d)
		}
	}
}

func (e *env) strategicPatch(t *testing.T, version, ns, name, subresource, body string) obj {
	t.Helper()
	url := versionObjPath(version, ns, name)
	if subresource != "" {
		url += "/" + subresource
	}
	r := e.do(t, harness.Request{Method: http.MethodPatch, URL: url, ContentType: contentSMP, Body: body})
	expectNoReserved(t, r)
	return harness.ExpectObject(t, r, http.StatusOK)
}

// v2beta1OnlyJob sets every field v1alpha2 cannot express.
func v2beta1OnlyJob(ns, name string) obj {
	return versionJob(beta, ns, name, obj{
		"runLauncherAsWorker":    true,
		"sshAuthMountPath":       "/home/mpiuser/.ssh",
		"launcherCreationPolicy": "WaitForWorkersReady",
		"mpiImplementation":      "MPICH",
		"runPolicy": obj{
			"backoffLimit":     3,
			"suspend":          true,
			"managedBy":        "kueue.x-k8s.io/multikueue",
			"schedulingPolicy": obj{"minAvailable": 3, "scheduleTimeoutSeconds": 30},
		},
	})
}

// withReplicaStatuses writes, in version, a status whose Worker has
// selectors (v2beta1 only; v1alpha2 gets the counts).
func (e *env) withReplicaStatuses(t *testing.T, version, ns, name string) {
	t.Helper()
	o := e.readIn(t, version, ns, name)
	worker := obj{"active": 1}
	if version == beta {
		worker["selector"] = "job=" + name
		worker["labelSelector"] = obj{"matchLabels": obj{"job": name}}
	}
	o["status"] = deepCopy(obj{"replicaStatuses": obj{"Launcher": obj{"active": 1}, "Worker": worker}})
	r := e.do(t, harness.Request{Method: http.MethodPut, URL: versionObjPath(version, ns, name) + "/status", Body: o})
	harness.ExpectCode(t, r, http.StatusOK)
}

// TestStrategicMergePatchAcrossVersions: kubectl's default patch, into the
// replica maps, in each version of jobs created in each: the job read back
// in both versions is the one before with only the patched values changed.
func TestStrategicMergePatchAcrossVersions(t *testing.T) {
	e := newEnv(t, inprocess.Start(t))
	const ns = "smp-versions"

	t.Run("v2beta1 spec of a v2beta1 job", func(t *testing.T) {
		e.createIn(t, beta, v2beta1OnlyJob(ns, "beta-spec"))
		want := e.views(t, ns, "beta-spec")
		got := e.strategicPatch(t, beta, ns, "beta-spec", "", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":5,`+
			`"template":{"spec":{"containers":[{"name":"mpi","image":"worker:2"}]}}}}}}`)
		for _, v := range bothVersions {
			set(t, want[v], float64(2), "metadata", "generation")
			set(t, want[v], float64(5), "spec", "mpiReplicaSpecs", "Worker", "replicas")
			set(t, want[v], "worker:2", "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers", 0, "image")
		}
		after := e.views(t, ns, "beta-spec")
		expectViews(t, want, after)
		if d := diff(withoutWriteMeta(after[beta]), withoutWriteMeta(got)); d != "" {
			t.Errorf("the PATCH answer differs from the GET after it (-get +patch):\n%s", d)
		}
	})

	t.Run("v2beta1 status of a v2beta1 job keeps the selectors", func(t *testing.T) {
		e.createIn(t, beta, v2beta1OnlyJob(ns, "beta-status"))
		e.withReplicaStatuses(t, beta, ns, "beta-status")
		want := e.views(t, ns, "beta-status")
		if _, ok := get(want[beta], "status", "replicaStatuses", "Worker", "selector"); !ok {
			t.Fatalf("the status write lost the selector: %v", want[beta]["status"])
		}
		got := e.strategicPatch(t, beta, ns, "beta-status", "status", `{"status":{"replicaStatuses":{"Worker":{"active":3}}}}`)
		for _, v := range bothVersions {
			set(t, want[v], float64(3), "status", "replicaStatuses", "Worker", "active")
		}
		after := e.views(t, ns, "beta-status")
		expectViews(t, want, after)
		if d := diff(withoutWriteMeta(after[beta]), withoutWriteMeta(got)); d != "" {
			t.Errorf("the PATCH answer differs from the GET after it (-get +patch):\n%s", d)
		}
	})

	t.Run("v1alpha2 spec and status of a v2beta1 job", func(t *testing.T) {
		e.createIn(t, beta, v2beta1OnlyJob(ns, "beta-by-alpha"))
		e.withReplicaStatuses(t, beta, ns, "beta-by-alpha")
		want := e.views(t, ns, "beta-by-alpha")
		e.strategicPatch(t, alpha, ns, "beta-by-alpha", "", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":4}}}}`)
		e.strategicPatch(t, alpha, ns, "beta-by-alpha", "status", `{"status":{"replicaStatuses":{"Worker":{"succeeded":1}}}}`)
		for _, v := range bothVersions {
			set(t, want[v], float64(2), "metadata", "generation")
			set(t, want[v], float64(4), "spec", "mpiReplicaSpecs", "Worker", "replicas")
			set(t, want[v], float64(1), "status", "replicaStatuses", "Worker", "succeeded")
		}
		expectViews(t, want, e.views(t, ns, "beta-by-alpha"))
	})

	// A v2beta1 write adds the v2beta1 defaults (docs/mpijob-v2beta1.md §5);
	// the v1alpha2-only shape (mainContainer, both copies of a policy) stays.
	t.Run("v2beta1 spec and status of a v1alpha2 job", func(t *testing.T) {
		job := versionJob(alpha, ns, "alpha-by-beta", obj{"mainContainer": "mpi", "backoffLimit": 2,
			"runPolicy": obj{"backoffLimit": 3}, "slotsPerWorker": 1})
		e.createIn(t, alpha, job)
		e.withReplicaStatuses(t, alpha, ns, "alpha-by-beta")
		want := e.views(t, ns, "alpha-by-beta")
		e.strategicPatch(t, beta, ns, "alpha-by-beta", "", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":3}}}}`)
		e.strategicPatch(t, beta, ns, "alpha-by-beta", "status", `{"status":{"replicaStatuses":{"Worker":{"active":2}}}}`)
		for _, v := range bothVersions {
			set(t, want[v], float64(2), "metadata", "generation")
			set(t, want[v], float64(3), "spec", "mpiReplicaSpecs", "Worker", "replicas")
			set(t, want[v], float64(2), "status", "replicaStatuses", "Worker", "active")
		}
		set(t, want[alpha], "OpenMPI", "spec", "mpiDistribution")
		set(t, want[beta], "OpenMPI", "spec", "mpiImplementation")
		set(t, want[beta], false, "spec", "runLauncherAsWorker")
		set(t, want[beta], "/root/.ssh", "spec", "sshAuthMountPath")
		set(t, want[beta], "AtStartup", "spec", "launcherCreationPolicy")
		set(t, want[beta], false, "spec", "runPolicy", "suspend")
		expectViews(t, want, e.views(t, ns, "alpha-by-beta"))
	})

	t.Run("a version the server does not serve", func(t *testing.T) {
		e.createIn(t, beta, v2beta1OnlyJob(ns, "unserved"))
		r := e.do(t, harness.Request{Method: http.MethodPatch, URL: versionObjPath("v1", ns, "unserved"), ContentType: contentSMP,
			Body: `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":3}}}}`})
		harness.ExpectCode(t, r, http.StatusNotFound)
	})
}
