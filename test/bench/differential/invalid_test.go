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

package differential

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// invalidNS keeps the refused (and the CRD's accepted) jobs apart from the
// valid ones.
const invalidNS = "invalid"

// answer is what one server should say: the HTTP code and, for a refusal,
// the Status reason and the field a cause must name.
type answer struct {
	code    int
	reason  metav1.StatusReason
	field   string
	message string // in the Status message, when set
}

var (
	created = answer{code: http.StatusCreated}
	updated = answer{code: http.StatusOK}
)

func invalid(field string) answer {
	return answer{code: http.StatusUnprocessableEntity, reason: metav1.StatusReasonInvalid, field: field}
}

// undecodable is the typed decoder's answer to a number out of its Go
// type's range: 400 without causes, the path in the message.
func undecodable(path string) answer {
	return answer{code: http.StatusBadRequest, reason: metav1.StatusReasonBadRequest, message: path + " of type int32"}
}

// outOfInt32 is the CRD's answer to the same: its format check has no
// field path, so the cause's field is "<nil>" and the path is in the
// message.
func outOfInt32(path string) answer {
	return answer{code: http.StatusUnprocessableEntity, reason: metav1.StatusReasonInvalid,
		field: "<nil>", message: "must be of type integer with format int32 in " + path}
}

// invalidCase breaks a valid job in one way.
type invalidCase struct {
	name   string
	why    string
	mutate func(job map[string]any)
	ours   answer
	crd    answer
	// differs, when set, is why both refuse differently (code, reason or
	// fields): the test then checks that they still do.
	differs string
}

var launcher = "spec.mpiReplicaSpecs[Launcher]"

var invalidCases = []invalidCase{
	{"mpi-intelmpi", "mpiImplementation outside the enum (IntelMPI is not Intel)",
		func(j map[string]any) { spec(j)["mpiImplementation"] = "IntelMPI" },
		invalid("spec.mpiImplementation"), invalid("spec.mpiImplementation"), ""},
	{"clean-foo", "cleanPodPolicy outside All/Running/None; the CRD has no enum (6.3)",
		func(j map[string]any) { runPolicy(j)["cleanPodPolicy"] = "Foo" },
		invalid("spec.runPolicy.cleanPodPolicy"), created, ""},
	{"restart-always", "restartPolicy Always: the controller allows Never and OnFailure only (6.3)",
		func(j map[string]any) { replica(j, "Worker")["restartPolicy"] = "Always" },
		invalid("spec.mpiReplicaSpecs[Worker].restartPolicy"), created, ""},
	{"no-launcher", "no Launcher replica spec (6.3)",
		func(j map[string]any) { delete(spec(j)["mpiReplicaSpecs"].(map[string]any), "Launcher") },
		invalid(launcher), created, ""},
	{"launcher-2", "Launcher replicas must be 1 (6.3)",
		func(j map[string]any) { replica(j, "Launcher")["replicas"] = 2 },
		invalid(launcher + ".replicas"), created, ""},
	{"worker-0", "Worker replicas must be at least 1 (6.3)",
		func(j map[string]any) { replica(j, "Worker")["replicas"] = 0 },
		invalid("spec.mpiReplicaSpecs[Worker].replicas"), created, ""},
	{"backoff-negative", "negative backoffLimit (6.3)",
		func(j map[string]any) { runPolicy(j)["backoffLimit"] = -1 },
		invalid("spec.runPolicy.backoffLimit"), created, ""},
	{"slots-negative", "negative slotsPerWorker (6.3)",
		func(j map[string]any) { spec(j)["slotsPerWorker"] = -1 },
		invalid("spec.slotsPerWorker"), created, ""},
	{"ttl-negative", "negative ttlSecondsAfterFinished (6.3)",
		func(j map[string]any) { runPolicy(j)["ttlSecondsAfterFinished"] = -5 },
		invalid("spec.runPolicy.ttlSecondsAfterFinished"), created, ""},
	{"deadline-negative", "negative activeDeadlineSeconds (6.3)",
		func(j map[string]any) { runPolicy(j)["activeDeadlineSeconds"] = -5 },
		invalid("spec.runPolicy.activeDeadlineSeconds"), created, ""},
	{"managedby-other", "managedBy outside the two controllers (6.3)",
		func(j map[string]any) { runPolicy(j)["managedBy"] = "example.com/other" },
		invalid("spec.runPolicy.managedBy"), created, ""},
	{"dotted.name", "a name with a dot is a DNS subdomain but no DNS-1035 label (6.3)",
		func(map[string]any) {},
		invalid("metadata.name"), created, ""},
	{"long-name-with-worker-suffix-that-makes-the-hostname-too-long", "name-worker-N longer than 63 characters (6.3)",
		func(j map[string]any) { replica(j, "Worker")["replicas"] = 10 },
		invalid("metadata.name"), created, ""},
	{"no-containers", "an empty containers list (6.3)",
		func(j map[string]any) { pod(j, "Worker")["containers"] = []any{} },
		invalid("spec.mpiReplicaSpecs[Worker].template.spec.containers"), created, ""},
	{"dup-containers", "two containers named alike: the CRD's list-map key",
		func(j map[string]any) {
			p := pod(j, "Worker")
			p["containers"] = append(p["containers"].([]any), container("worker"))
		},
		invalid("spec.mpiReplicaSpecs[Worker].template.spec.containers[1]"),
		invalid("spec.mpiReplicaSpecs[Worker].template.spec.containers[1]"), ""},
	{"dup-env", "two env entries named alike: the CRD's list-map key",
		func(j map[string]any) {
			firstContainer(j, "Launcher")["env"] = []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "A", "value": "2"}}
		},
		invalid(launcher + ".template.spec.containers[0].env[1]"),
		invalid(launcher + ".template.spec.containers[0].env[1]"), ""},
	{"container-no-name", "a container without a name: required by the schema",
		func(j map[string]any) { delete(firstContainer(j, "Launcher"), "name") },
		invalid(launcher + ".template.spec.containers[0].name"),
		invalid(launcher + ".template.spec.containers[0].name"), ""},
	{"mpi-empty", "an explicit mpiImplementation \"\": our typed decoding sees it unset and defaults it, the CRD's enum refuses it",
		func(j map[string]any) { spec(j)["mpiImplementation"] = "" },
		created, invalid("spec.mpiImplementation"), ""},
	{"slots-int32-overflow", "slotsPerWorker 2^31 does not fit int32",
		func(j map[string]any) { spec(j)["slotsPerWorker"] = int64(1) << 31 },
		undecodable("spec.slotsPerWorker"), outOfInt32("spec.slotsPerWorker"),
		"int32-overflow-400: the typed decoder fails before validation"},
	{"replicas-int32-overflow", "Worker replicas 2^31 does not fit int32",
		func(j map[string]any) { replica(j, "Worker")["replicas"] = int64(1) << 31 },
		undecodable("spec.mpiReplicaSpecs.replicas"), outOfInt32("spec.mpiReplicaSpecs.Worker.replicas"),
		"int32-overflow-400: the typed decoder fails before validation"},
}

func testInvalid(t *testing.T, p *pair) {
	for _, tc := range invalidCases {
		t.Run(tc.name, func(t *testing.T) {
			job := baseJob(tc.name)
			tc.mutate(job)
			body := mustJSON(job)
			o := send(t, p.ours, http.MethodPost, jobsPath(invalidNS), body)
			c := send(t, p.crd, http.MethodPost, jobsPath(invalidNS), body)
			t.Logf("%s: ours %d, crd %d", tc.why, o.Code, c.Code)
			expect(t, "ours", o, tc.ours)
			expect(t, "crd", c, tc.crd)
			if o.Code >= 400 && c.Code >= 400 {
				agree(t, o, c, tc.differs)
			}
		})
	}
}

// testInvalidUpdates changes a stored valid job in a way only our server
// refuses.
func testInvalidUpdates(t *testing.T, p *pair) {
	for _, tc := range []struct {
		name   string
		why    string
		change func(job map[string]any)
		ours   answer
	}{
		{"managedby-change", "managedBy is immutable (6.3; not enforced upstream)",
			func(j map[string]any) { runPolicy(j)["managedBy"] = "kueue.x-k8s.io/multikueue" },
			invalid("spec.runPolicy.managedBy")},
		{"update-worker-0", "Worker replicas 0 on update (6.3)",
			func(j map[string]any) { replica(j, "Worker")["replicas"] = 0 },
			invalid("spec.mpiReplicaSpecs[Worker].replicas")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := baseJob(tc.name)
			runPolicy(job)["managedBy"] = "kubeflow.org/mpi-operator"
			var rs [2]harness.Response
			for i, s := range []*server{p.ours, p.crd} {
				r := send(t, s, http.MethodPost, jobsPath(invalidNS), mustJSON(job))
				expect(t, s.name+" create", r, created)
				read, err := object(r)
				if err != nil {
					t.Fatal(err)
				}
				tc.change(read)
				rs[i] = send(t, s, http.MethodPut, jobsPath(invalidNS)+"/"+tc.name, mustJSON(read))
			}
			t.Logf("%s: ours %d, crd %d", tc.why, rs[0].Code, rs[1].Code)
			expect(t, "ours", rs[0], tc.ours)
			expect(t, "crd", rs[1], updated)
		})
	}
}

// testInvalidStatus writes statuses through /status that the CRD's schema
// refuses.
func testInvalidStatus(t *testing.T, p *pair) {
	cond := func(typ, status string) map[string]any { return map[string]any{"type": typ, "status": status} }
	for _, tc := range []struct {
		name       string
		why        string
		conditions []any
		ours, crd  answer
		differs    string
	}{
		{"status-maybe", "a condition status outside True/False/Unknown",
			[]any{cond("Created", "Maybe")},
			invalid("status.conditions[0].status"), invalid("status.conditions[0].status"), ""},
		{"status-dup-type", "two conditions of one type: the CRD's list-map key",
			[]any{cond("Created", "True"), cond("Created", "False")},
			invalid("status.conditions[1]"), invalid("status.conditions[1]"), ""},
		{"status-no-type", "a condition without a type: required by the schema",
			[]any{map[string]any{"status": "True"}},
			invalid("status.conditions[0].type"), invalid("status.conditions[0].type"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs [2]harness.Response
			for i, s := range []*server{p.ours, p.crd} {
				r := send(t, s, http.MethodPost, jobsPath(invalidNS), mustJSON(baseJob(tc.name)))
				expect(t, s.name+" create", r, created)
				read, err := object(r)
				if err != nil {
					t.Fatal(err)
				}
				read["status"] = map[string]any{"conditions": tc.conditions}
				rs[i] = send(t, s, http.MethodPut, jobsPath(invalidNS)+"/"+tc.name+"/status", mustJSON(read))
			}
			t.Logf("%s: ours %d, crd %d", tc.why, rs[0].Code, rs[1].Code)
			expect(t, "ours", rs[0], tc.ours)
			expect(t, "crd", rs[1], tc.crd)
			if rs[0].Code >= 400 && rs[1].Code >= 400 {
				agree(t, rs[0], rs[1], tc.differs)
			}
		})
	}
}

func send(t *testing.T, s *server, method, path string, body []byte) harness.Response {
	t.Helper()
	r, err := s.send(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// expect checks the code and, for a refusal, the Status reason and that a
// cause names the field.
func expect(t *testing.T, side string, r harness.Response, want answer) {
	t.Helper()
	if r.Code != want.code {
		t.Errorf("%s: HTTP %d, want %d: %.800s", side, r.Code, want.code, r.Body)
		return
	}
	if r.Code < 400 {
		return
	}
	if r.Status == nil || r.Status.Reason != want.reason {
		t.Errorf("%s: want a Status with reason %s: %.800s", side, want.reason, r.Body)
		return
	}
	if want.field != "" && !causes(r.Status)[fieldPath(want.field)] {
		t.Errorf("%s: no cause names %s: %.800s", side, want.field, r.Body)
	}
	if !strings.Contains(r.Status.Message, want.message) {
		t.Errorf("%s: the message does not say %q: %.800s", side, want.message, r.Body)
	}
}

// agree checks that two refusals give the same code, reason and cause
// fields, or, when differs explains why not, that they still differ.
func agree(t *testing.T, o, c harness.Response, differs string) {
	t.Helper()
	same := o.Status != nil && c.Status != nil && o.Code == c.Code &&
		o.Status.Reason == c.Status.Reason && fields(o.Status) == fields(c.Status)
	switch {
	case differs == "" && !same:
		t.Errorf("both refuse, differently: ours %d %s %s, crd %d %s %s",
			o.Code, reasonOf(o), fieldsOf(o), c.Code, reasonOf(c), fieldsOf(c))
	case differs != "" && same:
		t.Errorf("both refuse alike now; drop the exception %q", differs)
	case differs != "":
		t.Logf("known difference %q: ours %d %s %s, crd %d %s %s", differs,
			o.Code, reasonOf(o), fieldsOf(o), c.Code, reasonOf(c), fieldsOf(c))
	}
}

// mapKey is a subscript by name, which our field paths write
// mpiReplicaSpecs[Worker] and the CRD's schema validation
// mpiReplicaSpecs.Worker (its list-map checks use brackets too).
var mapKey = regexp.MustCompile(`\[([A-Za-z][^\]]*)\]`)

func fieldPath(f string) string { return mapKey.ReplaceAllString(f, ".$1") }

func causes(s *metav1.Status) map[string]bool {
	out := map[string]bool{}
	if s != nil && s.Details != nil {
		for _, c := range s.Details.Causes {
			out[fieldPath(c.Field)] = true
		}
	}
	return out
}

func fields(s *metav1.Status) string {
	data, _ := json.Marshal(causes(s))
	return string(data)
}

func fieldsOf(r harness.Response) string { return fields(r.Status) }

func reasonOf(r harness.Response) metav1.StatusReason {
	if r.Status == nil {
		return ""
	}
	return r.Status.Reason
}

// baseJob is a small valid job with a runPolicy.
func baseJob(name string) map[string]any {
	rs := func(replicas int, c string) map[string]any {
		return map[string]any{"replicas": replicas, "restartPolicy": "Never",
			"template": map[string]any{"spec": map[string]any{"containers": []any{container(c)}}}}
	}
	return map[string]any{
		"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"runPolicy":       map[string]any{"cleanPodPolicy": "Running"},
			"mpiReplicaSpecs": map[string]any{"Launcher": rs(1, "launcher"), "Worker": rs(2, "worker")},
		},
	}
}

func container(name string) map[string]any {
	return map[string]any{"name": name, "image": "mpioperator/mpi-pi:openmpi"}
}

func spec(j map[string]any) map[string]any      { return j["spec"].(map[string]any) }
func runPolicy(j map[string]any) map[string]any { return spec(j)["runPolicy"].(map[string]any) }
func replica(j map[string]any, typ string) map[string]any {
	return spec(j)["mpiReplicaSpecs"].(map[string]any)[typ].(map[string]any)
}
func pod(j map[string]any, typ string) map[string]any {
	return replica(j, typ)["template"].(map[string]any)["spec"].(map[string]any)
}
func firstContainer(j map[string]any, typ string) map[string]any {
	return pod(j, typ)["containers"].([]any)[0].(map[string]any)
}
