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

package validation

import (
	"reflect"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Ratchet returns the errors of an update that the stored object does not
// already have, as kube-apiserver ratchets custom resources: an error with
// the same type, path and bad value in old (the stored object judged by the
// same rules) is dropped. A job stored under other rules, because it was
// written in the other version or before a rule existed, can then be
// relabelled, have its finalizers removed or be written back as read, while
// every value an update changes or adds is still checked. List items are
// matched by index, so an update that moves a faulty item reports it.
func Ratchet(errs, old field.ErrorList) field.ErrorList {
	if len(errs) == 0 || len(old) == 0 {
		return errs
	}
	stored := make(map[string][]*field.Error, len(old))
	for _, o := range old {
		k := string(o.Type) + "\x00" + o.Field
		stored[k] = append(stored[k], o)
	}
	var out field.ErrorList
	for _, e := range errs {
		if !hasValue(stored[string(e.Type)+"\x00"+e.Field], e.BadValue) {
			out = append(out, e)
		}
	}
	return out
}

func hasValue(errs []*field.Error, value any) bool {
	for _, o := range errs {
		if reflect.DeepEqual(o.BadValue, value) {
			return true
		}
	}
	return false
}
