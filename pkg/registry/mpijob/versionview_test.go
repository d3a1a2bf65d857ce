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

package mpijob

import (
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	kubeflowfuzzer "github.com/mpijob/mpijob-apiserver/api/kubeflow/fuzzer"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/install"
)

// TestVersionViewShortcut: the view of a job its version can express all of
// is the job itself, with no round trip, and that is what the round trip
// would have given: checked, in both versions, on the fuzzed jobs and the
// views of fuzzed jobs that the version can express all of (at least a
// quarter of the cases, or the test says too little).
func TestVersionViewShortcut(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	fill := apitestingfuzzer.FuzzerFor(apitestingfuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kubeflowfuzzer.Funcs),
		rand.NewSource(20261207), serializer.NewCodecFactory(scheme))
	const n = 2000
	for _, version := range []string{carryover.V1alpha2, carryover.V2beta1} {
		v := versionView{convertor: scheme, version: version}
		shortcuts := 0
		check := func(what string, job *kubeflow.MPIJob) {
			t.Helper()
			if !expressible(version, job) {
				return
			}
			shortcuts++
			seen, err := v.view(job)
			if err != nil {
				t.Fatal(err)
			}
			if seen != job {
				t.Fatalf("%s: %s: the view of an expressible job is not the job itself", version, what)
			}
			rt, err := v.roundTrip(job)
			if err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(rt, job) {
				t.Fatalf("%s: %s: the round trip of an expressible job changed it:\n%s", version, what, cmp.Diff(job, rt))
			}
		}
		for range n {
			job := &kubeflow.MPIJob{}
			fill.Fill(job)
			check("fuzzed job", job)
			seen, err := v.roundTrip(job)
			if err != nil {
				t.Fatal(err)
			}
			check("the version's view of a fuzzed job", seen)
		}
		if shortcuts < n/4 {
			t.Errorf("%s: %d shortcuts checked, want at least %d", version, shortcuts, n/4)
		}
		t.Logf("%s: %d jobs checked through the shortcut", version, shortcuts)
	}
}

// BenchmarkVersionView: what the version view costs an update of the seed's
// job with the operator's finished status, as each version writes it (a job
// written in v2beta1 has a runPolicy): the shortcut against the round trip
// it replaces.
func BenchmarkVersionView(b *testing.B) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	for _, version := range []string{carryover.V1alpha2, carryover.V2beta1} {
		job := newJob("mpi-test")
		job.Status = finishedStatus()
		if version == carryover.V2beta1 {
			job.Spec.RunPolicy = &kubeflow.RunPolicy{}
		}
		v := versionView{convertor: scheme, version: version}
		if !expressible(version, job) {
			b.Fatalf("%s cannot express all of the seed's job: %+v", version, carryover.Take(version, job))
		}
		for name, view := range map[string]func(*kubeflow.MPIJob) (*kubeflow.MPIJob, error){
			"shortcut": v.view, "round-trip": v.roundTrip,
		} {
			b.Run(version+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := view(job); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
