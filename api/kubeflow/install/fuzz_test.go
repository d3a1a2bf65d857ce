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
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/randfill/bytesource"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// FuzzRoundTripHub fills a stored hub object from the fuzz input and has a
// client of each version read it and write it back unchanged: the stored
// object must come back exactly, but for the defaults of a v2beta1 write.
func FuzzRoundTripHub(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newEnv(t, bytesource.New(data))
		stored := e.storedHub()
		for _, b := range served {
			want := stored
			if b.name == carryover.V2beta1 {
				want = withV2beta1Defaults(stored, map[string]int{})
			}
			if d := diff(want, e.readAndWriteBack(e.apiJSON, stored, b)); d != "" {
				t.Fatalf("read in %s and written back, the stored job changed (-want +got):\n%s", b.name, d)
			}
		}
	})
}

// FuzzRoundTripWire reads arbitrary bytes as an MPIJob body in JSON, in the
// version they name (v1alpha2 when they name none), with the strict
// serializer, keeping what decodes with only strict errors as the handlers
// do. What the server stores of it must (1) encode stably in that version:
// a first encoding is canonical, so from then on nothing may change; and
// (2) survive a client of each version reading it and writing it back.
func FuzzRoundTripWire(f *testing.F) {
	e := newEnv(f, nil)
	defaultGVK := v1alpha2.SchemeGroupVersion.WithKind("MPIJob")

	f.Fuzz(func(t *testing.T, data []byte) {
		e.t = t
		obj, _, err := e.apiStrictJSON.Decode(data, &defaultGVK, nil)
		if err != nil && (obj == nil || !runtime.IsStrictDecodingError(err)) {
			return
		}
		var v version
		for _, s := range served {
			if obj.GetObjectKind().GroupVersionKind() == s.gv.WithKind("MPIJob") {
				v = s
			}
		}
		if v.new == nil {
			return
		}
		if _, ok := objectMeta(obj).Annotations[carryover.Annotation]; ok {
			t.Fatalf("the API's strict serializer kept a client's reserved annotation\ninput %q", data)
		}
		e.scheme.Default(obj)
		stored := e.toHub(obj)
		first := e.view(stored, v)
		again := e.write(e.apiJSON, first, v)
		if second := e.view(again, v); !bytes.Equal(first, second) {
			t.Fatalf("encoding is not stable:\nfirst  %s\nsecond %s\ninput %q", first, second, data)
		}
		for _, b := range served {
			want := again
			if b.name == carryover.V2beta1 {
				want = withV2beta1Defaults(again, map[string]int{})
			}
			if d := diff(want, e.readAndWriteBack(e.apiJSON, again, b)); d != "" {
				t.Fatalf("written in %s, read in %s and written back, the stored job changed (-want +got):\n%s\ninput %q", v.name, b.name, d, data)
			}
		}
	})
}
