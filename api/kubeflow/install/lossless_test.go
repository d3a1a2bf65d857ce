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

package install

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// objectsPerPair is how many fuzzed objects each ordered pair of versions
// gets in each property.
const objectsPerPair = 10000

// maxReported stops a property after this many differences.
const maxReported = 3

// forEachPair runs f for every ordered pair of served versions: a stored
// in the one, b in the other (or the same) version.
func forEachPair(t *testing.T, f func(t *testing.T, e *env, a, b version)) {
	for _, a := range served {
		for _, b := range served {
			t.Run(a.name+"-"+b.name, func(t *testing.T) {
				t.Parallel()
				f(t, newSeededEnv(t), a, b)
			})
		}
	}
}

// stored returns the i-th stored object of a property: alternately a job a
// client wrote in version a and a hub object filled at random.
func (e *env) stored(i int, a version) *kubeflow.MPIJob {
	if i%2 == 0 {
		return e.body(e.fuzzed(a), a)
	}
	hub := e.fuzzedHub()
	carryover.DropAnnotation(&hub.ObjectMeta)
	return hub
}

// TestWriteBackUnchanged: a job written in a is read in b and written back
// unchanged (spec and status). The stored job must come back exactly,
// except for the defaults of a v2beta1 write; and a reader in a must read
// what it read before, in v1alpha2 except only for slotsPerWorker and
// mpiDistribution, the defaults the v1alpha2 operator assumed anyway.
func TestWriteBackUnchanged(t *testing.T) {
	forEachPair(t, func(t *testing.T, e *env, a, b version) {
		added, dropped := map[string]int{}, map[string]int{}
		diffs := 0
		for i := 0; i < objectsPerPair && diffs < maxReported; i++ {
			stored := e.stored(i, a)
			after := e.readAndWriteBack(stored, b)

			want := stored
			if b.name == carryover.V2beta1 {
				want = withV2beta1Defaults(stored, added)
			}
			if d := cmp.Diff(want, after); d != "" {
				diffs++
				t.Errorf("object %d: read in %s and written back, the stored job changed (-want +got):\n%s", i, b.name, d)
				continue
			}

			readBefore := e.view(stored, a)
			wantRead := readBefore
			switch {
			case b.name == carryover.V2beta1 && a.name == carryover.V1alpha2:
				wantRead = e.encode(e.json, withV1alpha2VisibleDefaults(e.toVersion(stored, a).(*v1alpha2.MPIJob)))
			case b.name == carryover.V2beta1:
				wantRead = e.view(want, a)
			}
			readAfter := e.view(after, a)
			if a.name == carryover.V1alpha2 && !bytes.Equal(wantRead, readAfter) {
				wantRead = e.encode(e.json, withoutDroppedEmptyPolicies(e.decode(e.json, wantRead, a).(*v1alpha2.MPIJob),
					e.decode(e.json, readAfter, a).(*v1alpha2.MPIJob), dropped))
			}
			if !bytes.Equal(wantRead, readAfter) {
				diffs++
				t.Errorf("object %d: a %s reader reads differently after a %s client wrote back what it read (-want +got):\n%s\nbefore %s",
					i, a.name, b.name, jsonDiff(wantRead, readAfter), readBefore)
			}
		}
		t.Logf("%d objects, %d differences; v2beta1 defaults added: %s; empty policies %s no longer sees: %s",
			objectsPerPair, diffs, counts(added), a.name, counts(dropped))
	})
}

// TestWriteHonoured: whatever job is stored (written in a, or any hub
// object), a client of b that writes a job reads back in b what it wrote,
// defaulted if b is v2beta1. The one allowed loss is an empty runPolicy or
// schedulingPolicy that a v1alpha2 reader no longer sees because carried-over
// v2beta1 fields fill it; those are counted.
func TestWriteHonoured(t *testing.T) {
	forEachPair(t, func(t *testing.T, e *env, a, b version) {
		dropped := map[string]int{}
		diffs, annotated := 0, 0
		for i := 0; i < objectsPerPair && diffs < maxReported; i++ {
			stored := e.stored(i, a)
			sent := e.fuzzed(b)
			written := e.body(sent, b)
			after := e.restore(stored, written, b)

			// What the client wrote, as the server reads a body: through
			// b's JSON, defaulted, without the reserved annotation.
			want := e.decode(e.json, e.encode(e.json, sent), b)
			e.scheme.Default(want)
			want.GetObjectKind().SetGroupVersionKind(b.gv.WithKind("MPIJob"))
			m, _ := meta.Accessor(want)
			if _, ok := m.GetAnnotations()[carryover.Annotation]; ok {
				annotated++
				annotations := m.GetAnnotations()
				delete(annotations, carryover.Annotation)
				if len(annotations) == 0 {
					annotations = nil
				}
				m.SetAnnotations(annotations)
			}
			got := e.toVersion(after, b)
			if b.name == carryover.V1alpha2 {
				want = withoutDroppedEmptyPolicies(want.(*v1alpha2.MPIJob), got.(*v1alpha2.MPIJob), dropped)
			}
			if w, g := e.encode(e.json, want), e.encode(e.json, got); !bytes.Equal(w, g) {
				diffs++
				t.Errorf("object %d: a %s client reads back other than it wrote over a job stored from %s (-wrote +read):\n%s\nstored %s",
					i, b.name, a.name, jsonDiff(w, g), hubJSON(stored))
			}
		}
		t.Logf("%d objects, %d differences, %d with a client's reserved annotation; empty policies dropped: %s",
			objectsPerPair, diffs, annotated, counts(dropped))
	})
}

// TestReaderSeesOnlyItsVersion: a job written in b and read in another
// version a shows nothing a cannot express: what a reader gets equals what
// it gets of the same job with all such data removed (v2beta1's fields and
// the policies that held only them, for a v1alpha2 reader), and never the
// reserved annotation.
func TestReaderSeesOnlyItsVersion(t *testing.T) {
	forEachPair(t, func(t *testing.T, e *env, a, b version) {
		if a.name == b.name {
			t.Skip("a version can express all it writes")
		}
		diffs, holding := 0, 0
		for i := 0; i < objectsPerPair && diffs < maxReported; i++ {
			written := e.body(e.fuzzed(b), b)
			projected := withoutV1alpha2Only(written)
			if a.name == carryover.V1alpha2 {
				projected = withoutV2beta1Only(written)
			}
			read, want := e.view(written, a), e.view(projected, a)
			if !bytes.Equal(read, want) {
				diffs++
				t.Errorf("object %d: a %s reader sees data of %s (-want +got):\n%s", i, a.name, b.name, jsonDiff(want, read))
			}
			if bytes.Contains(read, []byte(carryover.Annotation)) {
				diffs++
				t.Errorf("object %d: a %s reader sees the reserved annotation: %s", i, a.name, read)
			}
			if !cmp.Equal(written, projected) {
				holding++
			}
		}
		t.Logf("%d objects, %d differences, %d of them holding data %s cannot express", objectsPerPair, diffs, holding, a.name)
	})
}

func hubJSON(hub *kubeflow.MPIJob) []byte {
	b, err := json.Marshal(hub)
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

// counts prints a tally in a stable order.
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&buf, "%s=%d ", k, m[k])
	}
	if buf.Len() == 0 {
		return "none"
	}
	return buf.String()
}

// jsonDiff shows where two JSON documents differ.
func jsonDiff(want, got []byte) string {
	var w, g interface{}
	if json.Unmarshal(want, &w) != nil || json.Unmarshal(got, &g) != nil {
		return fmt.Sprintf("want %s\ngot  %s", want, got)
	}
	return cmp.Diff(w, g)
}
