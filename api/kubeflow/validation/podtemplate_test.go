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
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

func TestValidatePodTemplates(t *testing.T) {
	const (
		tmpl = "spec.mpiReplicaSpecs[Worker].template"
		c0   = tmpl + ".spec.containers[0]"
	)
	cases := []struct {
		name   string
		mutate func(spec *corev1.PodTemplateSpec)
		want   []wantErr
	}{
		{name: "valid", mutate: func(*corev1.PodTemplateSpec) {}},
		{name: "valid without resources", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
		}},
		{name: "valid request below limit", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("500m")
		}},
		{name: "valid request without limit", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}},
		{name: "no containers", mutate: func(s *corev1.PodTemplateSpec) { s.Spec.Containers = nil },
			want: []wantErr{required(tmpl + ".spec.containers")}},
		{name: "container without name", mutate: func(s *corev1.PodTemplateSpec) { s.Spec.Containers[0].Name = "" },
			want: []wantErr{required(c0 + ".name")}},
		{name: "container name not a DNS label", mutate: func(s *corev1.PodTemplateSpec) { s.Spec.Containers[0].Name = "Worker_1" },
			want: []wantErr{invalid(c0 + ".name")}},
		{name: "duplicate container names", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.Containers = append(s.Spec.Containers, corev1.Container{Name: "worker", Image: "x"})
		}, want: []wantErr{{field.ErrorTypeDuplicate, tmpl + ".spec.containers[1].name"}}},
		{name: "init container shares a name with a container", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.InitContainers = []corev1.Container{{Name: "worker", Image: "x"}}
		}, want: []wantErr{{field.ErrorTypeDuplicate, c0 + ".name"}}},
		{name: "init container without name and image", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.InitContainers = []corev1.Container{{}}
		}, want: []wantErr{required(tmpl + ".spec.initContainers[0].name"), required(tmpl + ".spec.initContainers[0].image")}},
		{name: "container without image", mutate: func(s *corev1.PodTemplateSpec) { s.Spec.Containers[0].Image = "" },
			want: []wantErr{required(c0 + ".image")}},
		{name: "blank image", mutate: func(s *corev1.PodTemplateSpec) { s.Spec.Containers[0].Image = "  " },
			want: []wantErr{required(c0 + ".image")}},
		{name: "image with whitespace", mutate: func(s *corev1.PodTemplateSpec) { s.Spec.Containers[0].Image = " busybox" },
			want: []wantErr{invalid(c0 + ".image")}},
		{name: "request above limit", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
		}, want: []wantErr{invalid(c0 + ".resources.requests[cpu]")}},
		{name: "negative limit and request", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("-1")
			s.Spec.Containers[0].Resources.Requests[corev1.ResourceName("nvidia.com/gpu")] = resource.MustParse("-2")
		}, want: []wantErr{invalid(c0 + ".resources.limits[memory]"), invalid(c0 + ".resources.requests[nvidia.com/gpu]")}},
		{name: "bad template label", mutate: func(s *corev1.PodTemplateSpec) { s.Labels = map[string]string{"bad key!": "v"} },
			want: []wantErr{invalid(tmpl + ".metadata.labels")}},
		{name: "bad template annotation", mutate: func(s *corev1.PodTemplateSpec) { s.Annotations = map[string]string{"bad key!": "v"} },
			want: []wantErr{invalid(tmpl + ".metadata.annotations")}},
		{name: "ephemeral containers", mutate: func(s *corev1.PodTemplateSpec) {
			s.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "x"}}}
		}, want: []wantErr{{field.ErrorTypeForbidden, tmpl + ".spec.ephemeralContainers"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.mutate(&j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Template)
			assertErrors(t, ValidateMPIJob(j), tc.want)
		})
	}
}

// The Launcher template gets the same rules as the Worker's.
func TestValidateLauncherTemplate(t *testing.T) {
	j := validJob()
	launcher(j).Template.Spec.Containers = nil
	assertErrors(t, ValidateMPIJob(j), []wantErr{required("spec.mpiReplicaSpecs[Launcher].template.spec.containers")})
}
