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

package listwatch

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// testSelectors: label selectors (equality and set-based) and field
// selectors on every selectable field, status.state included after writing
// status through UpdateStatus; bad selectors are 400s.
//
//	job   labels               cleanPodPolicy slotsPerWorker conditions (type=status)                  status.state
//	sel-1 app=a,tier=front     Running        1              Created=True, Running=True               Running
//	sel-2 app=b,tier=back      All            2              Created=True                             Created
//	sel-3 app=a                -              -              Created=True, Running=True,
//	                                                         Succeeded=True, Failed=False             Succeeded
//	sel-4 -                    None           1              -                                        ""
func (e *env) testSelectors(t *testing.T) {
	const ns = "selectors"
	ctx := context.Background()
	jobs := e.client.KubeflowV1alpha2().MPIJobs(ns)
	policy := func(p v1alpha2.CleanPodPolicy) func(*v1alpha2.MPIJob) {
		return func(j *v1alpha2.MPIJob) { j.Spec.CleanPodPolicy = &p }
	}
	slots := func(n int32) func(*v1alpha2.MPIJob) {
		return func(j *v1alpha2.MPIJob) { j.Spec.SlotsPerWorker = &n }
	}
	conds := func(cs ...string) []v1alpha2.JobCondition {
		var out []v1alpha2.JobCondition
		for i := 0; i < len(cs); i += 2 {
			out = append(out, v1alpha2.JobCondition{Type: v1alpha2.JobConditionType(cs[i]), Status: corev1.ConditionStatus(cs[i+1])})
		}
		return out
	}
	type fixture struct {
		job        *v1alpha2.MPIJob
		conditions []v1alpha2.JobCondition
	}
	fixtures := []fixture{
		{newJob(ns, "sel-1", map[string]string{"app": "a", "tier": "front"}, policy(v1alpha2.CleanPodPolicyRunning), slots(1)),
			conds("Created", "True", "Running", "True")},
		{newJob(ns, "sel-2", map[string]string{"app": "b", "tier": "back"}, policy(v1alpha2.CleanPodPolicyAll), slots(2)),
			conds("Created", "True")},
		{newJob(ns, "sel-3", map[string]string{"app": "a"}),
			conds("Created", "True", "Running", "True", "Succeeded", "True", "Failed", "False")},
		{newJob(ns, "sel-4", nil, policy(v1alpha2.CleanPodPolicyNone), slots(1)), nil},
	}
	for _, f := range fixtures {
		created := e.create(t, f.job)
		if f.conditions == nil {
			continue
		}
		created.Status.Conditions = f.conditions
		updated, err := jobs.UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("UpdateStatus %s: %v", created.Name, err)
		}
		if len(updated.Status.Conditions) != len(f.conditions) {
			t.Fatalf("UpdateStatus %s stored %d conditions, want %d", created.Name, len(updated.Status.Conditions), len(f.conditions))
		}
	}
	// A list after every write: the watch cache has all of them.
	all, err := jobs.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(all.Items); !equal(got, []string{"sel-1", "sel-2", "sel-3", "sel-4"}) {
		t.Fatalf("all: %v", got)
	}

	cases := []struct {
		label, field string
		want         []string
	}{
		{label: "app=a", want: []string{"sel-1", "sel-3"}},
		{label: "app==a", want: []string{"sel-1", "sel-3"}},
		{label: "app!=a", want: []string{"sel-2", "sel-4"}},
		{label: "app=a,tier=front", want: []string{"sel-1"}},
		{label: "app in (a,b)", want: []string{"sel-1", "sel-2", "sel-3"}},
		{label: "app in (c)", want: []string{}},
		{label: "app notin (a)", want: []string{"sel-2", "sel-4"}},
		{label: "tier", want: []string{"sel-1", "sel-2"}},
		{label: "!tier", want: []string{"sel-3", "sel-4"}},
		{label: "app,!tier", want: []string{"sel-3"}},
		{label: "app in (a),tier notin (front)", want: []string{"sel-3"}},

		{field: "metadata.name=sel-2", want: []string{"sel-2"}},
		{field: "metadata.name!=sel-2", want: []string{"sel-1", "sel-3", "sel-4"}},
		{field: "metadata.namespace=" + ns, want: []string{"sel-1", "sel-2", "sel-3", "sel-4"}},
		{field: "metadata.namespace=elsewhere", want: []string{}},
		{field: "spec.cleanPodPolicy=Running", want: []string{"sel-1"}},
		{field: "spec.cleanPodPolicy==All", want: []string{"sel-2"}},
		{field: "spec.cleanPodPolicy=", want: []string{"sel-3"}},
		{field: "spec.cleanPodPolicy!=None", want: []string{"sel-1", "sel-2", "sel-3"}},
		{field: "spec.slotsPerWorker=1", want: []string{"sel-1", "sel-4"}},
		{field: "spec.slotsPerWorker=2", want: []string{"sel-2"}},
		{field: "spec.slotsPerWorker=", want: []string{"sel-3"}},
		{field: "status.state=Running", want: []string{"sel-1"}},
		{field: "status.state=Created", want: []string{"sel-2"}},
		{field: "status.state=Succeeded", want: []string{"sel-3"}},
		{field: "status.state=Failed", want: []string{}},
		{field: "status.state=", want: []string{"sel-4"}},
		{field: "status.state!=Running", want: []string{"sel-2", "sel-3", "sel-4"}},
		{field: "status.state=Running,spec.slotsPerWorker=1", want: []string{"sel-1"}},
		{field: "status.state!=Running,spec.slotsPerWorker=1", want: []string{"sel-4"}},

		{label: "app=a", field: "status.state=Succeeded", want: []string{"sel-3"}},
		{label: "tier", field: "spec.cleanPodPolicy!=Running", want: []string{"sel-2"}},
	}
	for _, c := range cases {
		name := "label=" + c.label + "/field=" + c.field
		t.Run(name, func(t *testing.T) {
			for _, limit := range []int64{0, 1} {
				var got []string
				opts := metav1.ListOptions{LabelSelector: c.label, FieldSelector: c.field, Limit: limit}
				for {
					l, err := jobs.List(ctx, opts)
					if err != nil {
						t.Fatalf("list %+v: %v", opts, err)
					}
					got = append(got, names(l.Items)...)
					if l.Continue == "" {
						break
					}
					opts.Continue = l.Continue
				}
				if got == nil {
					got = []string{}
				}
				if !equal(got, c.want) {
					t.Errorf("limit=%d: got %v, want %v", limit, got, c.want)
				}
			}
		})
	}

	// Errors, raw so the exact code and Status are seen.
	errCases := []struct {
		name, param, value string
		message            string
	}{
		{"unknown field", "fieldSelector", "spec.foo=bar",
			"field label not supported: spec.foo (supported: metadata.name, metadata.namespace, spec.cleanPodPolicy, spec.slotsPerWorker, status.state)"},
		{"unknown field next to a known one", "fieldSelector", "metadata.name=sel-1,status.phase=Running",
			"field label not supported: status.phase (supported: metadata.name, metadata.namespace, spec.cleanPodPolicy, spec.slotsPerWorker, status.state)"},
		{"field selector without an operator", "fieldSelector", "status.state",
			"invalid selector: 'status.state'; can't understand 'status.state'"},
		{"set-based field selector", "fieldSelector", "status.state in (Running)",
			"invalid selector: 'status.state in (Running)'; can't understand 'status.state in (Running)'"},
		{"unclosed set", "labelSelector", "app in (a",
			"unable to parse requirement: found '', expected: ',' or ')'"},
		{"bad label value", "labelSelector", "app=a b",
			"found 'b', expected: ',' or 'end of string'"},
		{"bad label key", "labelSelector", "-app=a",
			"unable to parse requirement: <nil>: Invalid value: \"-app\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"},
	}
	for _, c := range errCases {
		t.Run("error/"+c.name, func(t *testing.T) {
			r := e.list(t, ns, url.Values{c.param: {c.value}})
			if r.Code != http.StatusBadRequest {
				t.Fatalf("HTTP %d, want 400: %s", r.Code, r)
			}
			s := r.status(t)
			if s.Code != http.StatusBadRequest || s.Reason != metav1.StatusReasonBadRequest || s.Message != c.message {
				t.Errorf("Status %d/%s %q\nwant 400/BadRequest %q", s.Code, s.Reason, s.Message, c.message)
			}
		})
	}
}
