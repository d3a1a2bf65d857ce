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

package encodedcache

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/pkg/reservedannotation"
)

// apiEncoders are the encoders a LIST answer is written with, as the API
// group stacks them: the library's (conversion, then the reserved
// annotation's serializer), and the same with this package's cache in
// between.
type apiEncoders struct {
	fixture
	plain, cached runtime.NegotiatedSerializer
}

func newAPIEncoders(t testing.TB) *apiEncoders {
	x := newFixture(t)
	return &apiEncoders{
		fixture: x,
		plain:   reservedannotation.NegotiatedSerializer(x.factory),
		cached:  reservedannotation.NegotiatedSerializer(NegotiatedSerializer(x.factory, x.cache, x.scheme)),
	}
}

func (a *apiEncoders) encoder(t testing.TB, ns runtime.NegotiatedSerializer, mediaType string, gv schema.GroupVersion) runtime.Encoder {
	info, ok := runtime.SerializerInfoForMediaType(ns.SupportedMediaTypes(), mediaType)
	if !ok {
		t.Fatalf("no serializer for %s", mediaType)
	}
	return ns.EncoderForVersion(info.Serializer, gv)
}

// randomHubList is a list as the registry returns it: hub items without a
// kind, each with a namespace, name, UID and resourceVersion.
func (a *apiEncoders) randomHubList(n int) *kubeflow.MPIJobList {
	list := &kubeflow.MPIJobList{}
	a.f.Fill(&list.ListMeta)
	for i := 0; i < n; i++ {
		var job kubeflow.MPIJob
		a.f.Fill(&job)
		job.TypeMeta = kubeflow.MPIJob{}.TypeMeta
		identify(&job.ObjectMeta, i)
		list.Items = append(list.Items, job)
	}
	return list
}

// TestHubListBytesAreTheLibrarys: a hub list written in a served version
// converting only the items the cache lacks is byte for byte what the
// library writes after converting the whole list, for JSON and protobuf,
// in both versions, on misses, on hits and after objects change; no item
// shows the reserved annotation; and the hub list keeps its values (encoding
// may fill in a quantity's cached string, as the library's own path does).
func TestHubListBytesAreTheLibrarys(t *testing.T) {
	a := newAPIEncoders(t)
	carried := 0
	for _, gv := range []schema.GroupVersion{v1alpha2.SchemeGroupVersion, v2beta1.SchemeGroupVersion} {
		for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
			t.Run(gv.Version+" "+mediaType, func(t *testing.T) {
				plain, cached := a.encoder(t, a.plain, mediaType, gv), a.encoder(t, a.cached, mediaType, gv)
				for round := 0; round < 20; round++ {
					list := a.randomHubList(1 + round%7)
					if _, ok := cached.(hubListEncoder).asHubList(list); !ok {
						t.Fatalf("the cached encoder converts the whole hub list itself")
					}
					before := list.DeepCopy()
					want := encode(t, plain, list)
					for pass := 0; pass < 2; pass++ {
						if got := encode(t, cached, list); !bytes.Equal(got, want) {
							t.Fatalf("round %d pass %d: differs from the library's:\n got %q\nwant %q", round, pass, got, want)
						}
					}
					if bytes.Contains(want, []byte(carryover.Annotation)) {
						t.Fatalf("round %d: the library's answer shows %s", round, carryover.Annotation)
					}
					if !apiequality.Semantic.DeepEqual(list, before) {
						t.Fatalf("round %d: encoding changed the hub list", round)
					}
					carried += countCarried(t, a.scheme, list, gv)
					changed := a.randomHubList(len(list.Items))
					reidentify(metas(list.Items), metas(changed.Items))
					if got, want := encode(t, cached, changed), encode(t, plain, changed); !bytes.Equal(got, want) {
						t.Fatalf("round %d: a list of changed objects is served stale:\n got %q\nwant %q", round, got, want)
					}
				}
			})
		}
	}
	if carried == 0 {
		t.Fatal("no fuzzed item needed the reserved annotation in either version; the test does not cover its removal")
	}
	if a.cache.Len() == 0 {
		t.Fatal("the lists left nothing in the cache")
	}
}

// TestHubListOthersUnchanged: what is not a hub MPIJob list, or goes to a
// serializer of the library's own (YAML), is the library's encoding.
func TestHubListOthersUnchanged(t *testing.T) {
	a := newAPIEncoders(t)
	list := a.randomHubList(3)
	var job kubeflow.MPIJob
	a.f.Fill(&job)
	for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf, runtime.ContentTypeYAML} {
		plain, cached := a.encoder(t, a.plain, mediaType, v1alpha2.SchemeGroupVersion), a.encoder(t, a.cached, mediaType, v1alpha2.SchemeGroupVersion)
		_, fast := cached.(hubListEncoder).asHubList(list)
		if fast != (mediaType != runtime.ContentTypeYAML) {
			t.Errorf("%s: hub lists taken as they are: %v", mediaType, fast)
		}
		for _, obj := range []runtime.Object{list, &job} {
			if got, want := encode(t, cached, obj), encode(t, plain, obj); !bytes.Equal(got, want) {
				t.Errorf("%s %T:\n got %q\nwant %q", mediaType, obj, got, want)
			}
		}
	}
}

// countCarried is how many items of list need the reserved annotation in gv.
func countCarried(t testing.TB, scheme *runtime.Scheme, list *kubeflow.MPIJobList, gv schema.GroupVersion) int {
	out, err := scheme.ConvertToVersion(list.DeepCopy(), gv)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	l, _ := asJobList(out)
	for i := 0; i < l.len(); i++ {
		if _, ok := l.items[i].GetAnnotations()[carryover.Annotation]; ok {
			n++
		}
	}
	return n
}

// BenchmarkHubListEncode is a LIST of 1,000 copies of the seed's job with
// a running job's status, in v1alpha2 JSON with every item cached: the
// library converting the whole list first, against converting only the
// (no) misses.
func BenchmarkHubListEncode(b *testing.B) {
	a := newAPIEncoders(b)
	data, err := os.ReadFile("../../artifacts/mpijobs/mpi-test.yaml")
	if err != nil {
		b.Fatal(err)
	}
	seedJSON, err := yaml.ToJSON(data)
	if err != nil {
		b.Fatal(err)
	}
	obj, _, err := serializer.NewCodecFactory(a.scheme).UniversalDecoder().Decode(seedJSON, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	seed := obj.(*kubeflow.MPIJob)
	started := metav1.Now()
	seed.Status = kubeflow.JobStatus{
		Conditions: []kubeflow.JobCondition{
			{Type: kubeflow.JobCreated, Status: "True", Reason: "MPIJobCreated", LastUpdateTime: started, LastTransitionTime: started},
			{Type: kubeflow.JobRunning, Status: "True", Reason: "MPIJobRunning", LastUpdateTime: started, LastTransitionTime: started},
		},
		ReplicaStatuses: map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{"Launcher": {Active: 1}, "Worker": {Active: 2}},
		StartTime:       &started,
	}
	list := &kubeflow.MPIJobList{}
	for i := 0; i < 1000; i++ {
		job := *seed.DeepCopy()
		job.Name, job.UID, job.ResourceVersion = fmt.Sprintf("job-%d", i), types.UID(fmt.Sprintf("uid-%d", i)), fmt.Sprint(100+i)
		list.Items = append(list.Items, job)
	}
	fast := a.encoder(b, a.cached, runtime.ContentTypeJSON, v1alpha2.SchemeGroupVersion)
	for _, c := range []struct {
		name string
		enc  runtime.Encoder
	}{{"whole list converted", fast.(hubListEncoder).codec}, {"misses converted", fast}} {
		b.Run(c.name, func(b *testing.B) {
			encode(b, c.enc, list) // fills the cache
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := c.enc.Encode(list, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
