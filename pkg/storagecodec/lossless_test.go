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

package storagecodec_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
)

const objectsPerVersion = 10000

// TestStoredLossless: for each storage version S, a hub object is stored as
// JSON of S, with the reserved annotation (written by the conversion to S)
// exactly when carryover.Take(S, obj) is non-empty and holding that, never a
// stale copy the hub object held; it reads back as it was (the conversion
// from S restores and removes the annotation), through a codec of either
// storage version, so changing --storage-version loses nothing already
// stored. Objects the server holds have no annotation; a fuzzed stale one
// is kept in some objects to check it is replaced.
func TestStoredLossless(t *testing.T) {
	cs, factory := codecs(t)
	for _, gv := range storageVersions {
		t.Run(gv.Version, func(t *testing.T) {
			f := filler(t, factory)
			annotated, staleCopies := 0, 0
			for i := 0; i < objectsPerVersion; i++ {
				job := fuzzedHub(t, f)
				before := job.DeepCopy()
				if _, ok := job.Annotations[carryover.Annotation]; ok {
					staleCopies++
				}
				data := encode(t, cs[gv.Version], job)
				if d := cmp.Diff(before, job); d != "" {
					t.Fatalf("object %d: encoding changed the object (-before +after):\n%s", i, d)
				}
				want := withoutAnnotation(job)

				apiVersion, value := stored(t, data)
				if apiVersion != "kubeflow.org/"+gv.Version {
					t.Fatalf("object %d: stored as %q, want kubeflow.org/%s", i, apiVersion, gv.Version)
				}
				preserved := carryover.Take(gv.Version, want)
				switch {
				case preserved.IsZero() && value != nil:
					t.Fatalf("object %d: %s expresses all of the job, yet the annotation is stored: %q", i, gv.Version, *value)
				case !preserved.IsZero() && value == nil:
					t.Fatalf("object %d: %s cannot express all of the job, yet no annotation is stored:\n%s", i, gv.Version, data)
				case value != nil:
					annotated++
					if w := mustMarshal(t, preserved); *value != w {
						t.Fatalf("object %d: stored annotation %q, want %q", i, *value, w)
					}
				}

				for _, reader := range storageVersions {
					if d := cmp.Diff(want, decode(t, cs[reader.Version], data)); d != "" {
						t.Fatalf("object %d: stored as %s, read by a %s-storage codec, differs (-want +got):\n%s\nstored %s",
							i, gv.Version, reader.Version, d, data)
					}
				}
			}
			t.Logf("%d objects: %d stored with the annotation, %d filled with a stale copy", objectsPerVersion, annotated, staleCopies)
		})
	}
}
