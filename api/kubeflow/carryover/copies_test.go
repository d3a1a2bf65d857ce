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

package carryover

import "testing"

func p[T any](v T) *T { return &v }

func show[T any](v *T) string {
	if v == nil {
		return "nil"
	}
	return "set"
}

// TestCopiesAfter: the two v1alpha2 copies of a policy value once a v2beta1
// client wrote the one value it was shown.
func TestCopiesAfter(t *testing.T) {
	for _, tc := range []struct {
		name            string
		copies          Copies[int32]
		written         *int32
		wantTop, wantRP *int32
	}{
		{"unchanged, both set", Copies[int32]{Top: p[int32](1), RunPolicy: p[int32](2)}, p[int32](2), p[int32](1), p[int32](2)},
		{"unchanged, top only", Copies[int32]{Top: p[int32](1)}, p[int32](1), p[int32](1), nil},
		{"changed, runPolicy copy shown: it changes, the shadowed top stays", Copies[int32]{Top: p[int32](1), RunPolicy: p[int32](2)}, p[int32](3), p[int32](1), p[int32](3)},
		{"changed, top copy shown: it changes", Copies[int32]{Top: p[int32](1)}, p[int32](3), p[int32](3), nil},
		{"removed: both go", Copies[int32]{Top: p[int32](1), RunPolicy: p[int32](2)}, nil, nil, nil},
		{"removed, top only", Copies[int32]{Top: p[int32](1)}, nil, nil, nil},
		{"neither set, a value written: runPolicy's", Copies[int32]{}, p[int32](3), nil, p[int32](3)},
		{"neither set, none written", Copies[int32]{}, nil, nil, nil},
	} {
		top, rp := tc.copies.after(tc.written)
		if !equal(top, tc.wantTop) || !equal(rp, tc.wantRP) {
			t.Errorf("%s: got top %s %v, runPolicy %s %v; want top %s %v, runPolicy %s %v", tc.name,
				show(top), deref(top), show(rp), deref(rp), show(tc.wantTop), deref(tc.wantTop), show(tc.wantRP), deref(tc.wantRP))
		}
	}
}

func deref[T any](v *T) interface{} {
	if v == nil {
		return nil
	}
	return *v
}
