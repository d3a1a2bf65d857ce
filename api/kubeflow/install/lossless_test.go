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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/runtime"

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
	return e.storedHub()
}

// TestWriteBackUnchanged: a job written in a is read in b and written back
// unchanged (spec and status), in JSON and in protobuf. The stored job must
// come back exactly, except for the defaults of a v2beta1 write (definition
// (3) of docs/mpijob-v2beta1.md); and a reader in a must read what it read
// before, in v1alpha2 except only for slotsPerWorker and mpiDistribution,
// the defaults the v1alpha2 operator assumed anyway, and for an empty
// runPolicy that the suspend: false of a v2beta1 write fills and v1alpha2
// then hides (counted).
func TestWriteBackUnchanged(t *testing.T) {
	forEachPair(t, func(t *testing.T, e *env, a, b version) {
		added, dropped := map[string]int{}, map[string]int{}
		diffs := 0
		for i := 0; i < objectsPerPair && diffs < maxReported; i++ {
			stored := e.stored(i, a)
			after := e.readAndWriteBack(e.apiJSON, stored, b)

			want := stored
			if b.name == carryover.V2beta1 {
				want = withV2beta1Defaults(stored, added)
			}
			if d := diff(want, after); d != "" {
				diffs++
				t.Errorf("object %d: read in %s and written back, the stored job changed (-want +got):\n%s", i, b.name, d)
				continue
			}
			// Protobuf does not tell an empty list or map from an absent
			// one, for any Kubernetes type.
			if d := diff(want, e.readAndWriteBack(e.apiProto, stored, b), cmpopts.EquateEmpty()); d != "" {
				diffs++
				t.Errorf("object %d: read in %s as protobuf and written back, the stored job changed (-want +got):\n%s", i, b.name, d)
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
				wantRead = e.encode(e.apiJSON, withoutDroppedEmptyPolicies(e.decode(e.json, wantRead, a).(*v1alpha2.MPIJob),
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
// defaulted if b is v2beta1 and without a copy of the reserved annotation
// the client sent. The one allowed loss is an empty runPolicy or
// schedulingPolicy that a v1alpha2 reader no longer sees because
// carried-over v2beta1 fields fill it; those are counted.
//
// A client's annotation is dropped by the API's serializer before
// conversion: had it reached conversion, an unreadable value would have
// failed it with an error naming the annotation and the job, which is
// checked too.
func TestWriteHonoured(t *testing.T) {
	forEachPair(t, func(t *testing.T, e *env, a, b version) {
		dropped := map[string]int{}
		diffs, annotated, unreadable := 0, 0, 0
		for i := 0; i < objectsPerPair && diffs < maxReported; i++ {
			stored := e.stored(i, a)
			sent := e.fuzzed(b)
			written := e.body(sent, b)
			after := e.restore(stored, written, b)

			// What the client wrote, as the server reads a body: through
			// b's JSON, defaulted, without the reserved annotation.
			want, had := withoutAnnotationOf(e.decode(e.json, e.encode(e.json, sent), b))
			e.scheme.Default(want)
			want.GetObjectKind().SetGroupVersionKind(b.gv.WithKind("MPIJob"))
			if had {
				annotated++
				if e.checkUnreadableAnnotation(sent, b) {
					unreadable++
				}
			}
			got := e.decode(e.json, e.view(after, b), b)
			if b.name == carryover.V1alpha2 {
				want = withoutDroppedEmptyPolicies(want.(*v1alpha2.MPIJob), got.(*v1alpha2.MPIJob), dropped)
			}
			if w, g := e.encode(e.json, want), e.encode(e.json, got); !bytes.Equal(w, g) {
				diffs++
				t.Errorf("object %d: a %s client reads back other than it wrote over a job stored from %s (-wrote +read):\n%s\nstored %s",
					i, b.name, a.name, jsonDiff(w, g), hubJSON(stored))
			}
		}
		t.Logf("%d objects, %d differences, %d with a client's reserved annotation (%d unreadable); empty policies dropped: %s",
			objectsPerPair, diffs, annotated, unreadable, counts(dropped))
	})
}

// checkUnreadableAnnotation: sent holds a client's reserved annotation; if
// its value cannot be read, converting sent straight to the hub (skipping
// the API's serializer) must fail naming the annotation and the job. It
// reports whether the value was unreadable.
func (e *env) checkUnreadableAnnotation(sent runtime.Object, v version) bool {
	m := objectMeta(sent)
	if _, err := carryover.Unmarshal(m.Annotations[carryover.Annotation]); err == nil {
		return false
	}
	hub, err := e.tryToHub(sent)
	switch {
	case err == nil:
		e.t.Errorf("a %s object with the unreadable reserved annotation %q converted to the hub without an error: %s",
			v.name, m.Annotations[carryover.Annotation], hubJSON(hub))
	case !strings.Contains(err.Error(), carryover.Annotation) || !strings.Contains(err.Error(), m.Namespace+"/"+m.Name):
		e.t.Errorf("converting a %s object with an unreadable reserved annotation: the error names neither the annotation nor %s/%s: %v",
			v.name, m.Namespace, m.Name, err)
	}
	return true
}

// TestReaderSeesOnlyItsVersion: a job written in b and read in a, as JSON
// and as protobuf, shows nothing a cannot express: what a reader gets equals
// what it gets of the same job with all such data removed (v2beta1's fields
// and the policies that held only them, for a v1alpha2 reader), and never
// the reserved annotation (read checks it), though the converted object
// holds it whenever a cannot express all of the job.
func TestReaderSeesOnlyItsVersion(t *testing.T) {
	forEachPair(t, func(t *testing.T, e *env, a, b version) {
		diffs, holding := 0, 0
		for i := 0; i < objectsPerPair && diffs < maxReported; i++ {
			written := e.body(e.fuzzed(b), b)
			projected := written
			switch a.name {
			case b.name:
			case carryover.V1alpha2:
				projected = withoutV2beta1Only(written)
			default:
				projected = withoutV1alpha2Only(written)
			}
			if !carryover.Take(a.name, written).IsZero() {
				holding++
				if _, ok := objectMeta(e.toVersion(written, a)).Annotations[carryover.Annotation]; !ok {
					diffs++
					t.Errorf("object %d: %s cannot express all of the job, yet its conversion holds no reserved annotation", i, a.name)
				}
			}
			for _, s := range []runtime.Serializer{e.apiJSON, e.apiProto} {
				read, want := e.read(s, written, a), e.read(s, projected, a)
				if !bytes.Equal(read, want) {
					diffs++
					t.Errorf("object %d: a %s reader sees data of %s through %T (-want +got):\n%s", i, a.name, b.name, s, jsonDiff(want, read))
				}
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
		return fmt.Sprintf("want %q\ngot  %q", want, got)
	}
	return cmp.Diff(w, g)
}
