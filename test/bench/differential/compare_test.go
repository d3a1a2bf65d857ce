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
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"
)

// serverAssigned are the metadata fields each store fills in for itself.
// generation is compared: both start at 1 and count spec changes.
var serverAssigned = []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"}

// normalise removes what cannot be equal and what docs/mpijob-v2beta1.md
// section 6 lists as deliberate, on a copy. ours tells the sides apart:
// the pod-template defaults are the CRD's, so only our side gets them.
func normalise(obj map[string]any, ours bool) map[string]any {
	obj = deepCopy(obj)
	if md, ok := obj["metadata"].(map[string]any); ok {
		for _, f := range serverAssigned {
			delete(md, f)
		}
	}
	// "Typed output always contains status: {}".
	if st, ok := obj["status"].(map[string]any); ok && len(st) == 0 {
		delete(obj, "status")
	}
	spec, _ := obj["spec"].(map[string]any)
	// 6.2: quantities compare by value.
	if sp, ok := dig(spec, "runPolicy", "schedulingPolicy").(map[string]any); ok {
		canonicalQuantities(sp["minResources"])
	}
	for _, pod := range podSpecs(spec) {
		canonicalQuantities(pod["overhead"])
		for _, c := range containersOf(pod) {
			canonicalQuantities(dig(c, "resources", "limits"))
			canonicalQuantities(dig(c, "resources", "requests"))
		}
		for _, v := range list(pod["volumes"]) {
			canonicalQuantities(dig(v, "emptyDir"))
		}
		if ours {
			applyCRDPodDefaults(pod)
		}
	}
	return obj
}

// applyCRDPodDefaults sets the 6.1 defaults the CRD schema gives a pod
// template, where our side left the field out. Only these:
//
//	containers[], initContainers[]: ports[].protocol TCP,
//	    env[].valueFrom.{configMapKeyRef,secretKeyRef}.name "",
//	    envFrom[].{configMapRef,secretRef}.name ""
//	imagePullSecrets[].name ""
//	volumes[].configMap.name ""
func applyCRDPodDefaults(pod map[string]any) {
	for _, c := range containersOf(pod) {
		for _, p := range list(c["ports"]) {
			setAbsent(p, "protocol", "TCP")
		}
		for _, e := range list(c["env"]) {
			for _, ref := range []string{"configMapKeyRef", "secretKeyRef"} {
				setAbsent(dig(e, "valueFrom", ref), "name", "")
			}
		}
		for _, e := range list(c["envFrom"]) {
			for _, ref := range []string{"configMapRef", "secretRef"} {
				setAbsent(e[ref], "name", "")
			}
		}
	}
	for _, s := range list(pod["imagePullSecrets"]) {
		setAbsent(s, "name", "")
	}
	for _, v := range list(pod["volumes"]) {
		setAbsent(v["configMap"], "name", "")
	}
}

// canonicalQuantities rewrites every value of a quantity map (or the
// sizeLimit of an emptyDir) as resource.Quantity prints it: the CRD keeps
// `cpu: 1` a JSON number, we write "1".
func canonicalQuantities(m any) {
	mm, ok := m.(map[string]any)
	if !ok {
		return
	}
	for k, v := range mm {
		if k == "medium" {
			continue
		}
		if q, err := resource.ParseQuantity(fmt.Sprint(v)); err == nil {
			mm[k] = q.String()
		}
	}
}

// podSpecs are the template.spec of every replica spec.
func podSpecs(spec map[string]any) []map[string]any {
	var out []map[string]any
	replicas, _ := spec["mpiReplicaSpecs"].(map[string]any)
	for _, rs := range replicas {
		if pod, ok := dig(rs, "template", "spec").(map[string]any); ok {
			out = append(out, pod)
		}
	}
	return out
}

func containersOf(pod map[string]any) []map[string]any {
	return append(list(pod["containers"]), list(pod["initContainers"])...)
}

func list(v any) []map[string]any {
	var out []map[string]any
	items, _ := v.([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func setAbsent(m any, key string, value any) {
	if mm, ok := m.(map[string]any); ok {
		if _, there := mm[key]; !there {
			mm[key] = value
		}
	}
}

func deepCopy(obj map[string]any) map[string]any {
	data, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		panic(err)
	}
	return out
}

// diff lists where a (ours) and b (the CRD's) differ, by JSON path.
func diff(path string, a, b any, out *[]string) {
	am, aMap := a.(map[string]any)
	bm, bMap := b.(map[string]any)
	if aMap && bMap {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			av, aok := am[k]
			bv, bok := bm[k]
			switch {
			case !aok:
				*out = append(*out, fmt.Sprintf("%s.%s: ours absent, crd %s", path, k, show(bv)))
			case !bok:
				*out = append(*out, fmt.Sprintf("%s.%s: ours %s, crd absent", path, k, show(av)))
			default:
				diff(path+"."+k, av, bv, out)
			}
		}
		return
	}
	al, aList := a.([]any)
	bl, bList := b.([]any)
	if aList && bList && len(al) == len(bl) {
		for i := range al {
			diff(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, fmt.Sprintf("%s: ours %s, crd %s", path, show(a), show(b)))
	}
}

func show(v any) string {
	data, _ := json.Marshal(v)
	if len(data) > 200 {
		return string(data[:200]) + "..."
	}
	return string(data)
}

// exception is a difference this test found that docs/mpijob-v2beta1.md
// section 6 does not list: in every map at a path matching parent, the
// field key is taken out of both sides when ours and crd both hold for
// what each side has there.
type exception struct {
	name   string
	parent *regexp.Regexp // the path of the map, list indices as []
	key    *regexp.Regexp
	ours   func(v any, has bool) bool
	crd    func(v any, has bool) bool
}

// apply takes the difference out of o and c and reports whether there was
// one.
func (e exception) apply(o, c map[string]any) bool {
	hit := false
	walkPairs("", o, c, func(path string, om, cm map[string]any) {
		if !e.parent.MatchString(path) {
			return
		}
		for _, k := range keysOf(om, cm) {
			if !e.key.MatchString(k) {
				continue
			}
			ov, oHas := om[k]
			cv, cHas := cm[k]
			if e.ours(ov, oHas) && e.crd(cv, cHas) {
				delete(om, k)
				delete(cm, k)
				hit = true
			}
		}
	})
	return hit
}

// walkPairs calls visit with every pair of maps found at the same path in
// a and b.
func walkPairs(path string, a, b any, visit func(path string, am, bm map[string]any)) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return
		}
		visit(path, av, bv)
		for k, x := range av {
			if y, ok := bv[k]; ok {
				walkPairs(path+"."+k, x, y, visit)
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return
		}
		for i := range av {
			walkPairs(path+"[]", av[i], bv[i], visit)
		}
	}
}

func keysOf(a, b map[string]any) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// exceptionHits counts, per exception, the comparisons it changed.
var exceptionHits = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// compare normalises both objects, takes the exceptions out and returns
// what still differs.
func compare(ours, crd map[string]any) []string {
	o, c := normalise(ours, true), normalise(crd, false)
	for _, e := range knownDifferences {
		if e.apply(o, c) {
			exceptionHits.Lock()
			exceptionHits.n[e.name]++
			exceptionHits.Unlock()
		}
	}
	var out []string
	diff("", o, c, &out)
	return out
}
