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

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

func TestValidateV2beta1Schema(t *testing.T) {
	const (
		c0 = v2C + "[0]"
		ps = v2W + ".template.spec"
	)
	cases := []struct {
		name   string
		mutate func(s *corev1.PodSpec)
		want   []string
	}{
		{name: "distinct keys", mutate: func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, corev1.Container{Name: "sidecar"})
			s.InitContainers = []corev1.Container{{Name: "worker"}} // another list
			c := &s.Containers[0]
			c.Env = []corev1.EnvVar{{Name: "A"}, {Name: "B"}}
			c.Ports = []corev1.ContainerPort{{ContainerPort: 80}, {ContainerPort: 80, Protocol: corev1.ProtocolUDP}, {ContainerPort: 81}}
			c.VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/a"}, {Name: "v", MountPath: "/b"}}
			s.Volumes = []corev1.Volume{{Name: "v"}, {Name: "w"}}
		}},
		{name: "container without name", mutate: func(s *corev1.PodSpec) { s.Containers[0].Name = "" },
			want: []string{c0 + ".name: Required value"}},
		{name: "duplicate containers", mutate: func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, corev1.Container{Name: "worker"})
		}, want: []string{v2C + `[1]: Duplicate value: {"name":"worker"}`}},
		{name: "duplicate init containers", mutate: func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "i"}, {Name: "j"}, {Name: "i"}}
		}, want: []string{ps + `.initContainers[2]: Duplicate value: {"name":"i"}`}},
		{name: "duplicate ephemeral containers", mutate: func(s *corev1.PodSpec) {
			e := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "d"}}
			s.EphemeralContainers = []corev1.EphemeralContainer{e, e}
		}, want: []string{ps + `.ephemeralContainers[1]: Duplicate value: {"name":"d"}`}},
		{name: "duplicate env", mutate: func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "A", Value: "2"}, {Value: "3"}}
		}, want: []string{
			c0 + `.env[1]: Duplicate value: {"name":"A"}`,
			c0 + `.env[2].name: Required value`,
		}},
		{name: "duplicate ports, protocol defaulting to TCP", mutate: func(s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}, {ContainerPort: 80, Protocol: corev1.ProtocolTCP}}
		}, want: []string{c0 + `.ports[1]: Duplicate value: {"containerPort":80,"protocol":"TCP"}`}},
		{name: "duplicate volume mounts, mount without name", mutate: func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/a"}, {Name: "w", MountPath: "/a"}, {MountPath: "/b"}}
		}, want: []string{
			c0 + `.volumeMounts[1]: Duplicate value: {"mountPath":"/a"}`,
			c0 + `.volumeMounts[2].name: Required value`,
		}},
		{name: "mount without path", mutate: func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "v"}}
		}, want: []string{c0 + `.volumeMounts[0].mountPath: Required value`}},
		{name: "duplicate volume devices", mutate: func(s *corev1.PodSpec) {
			s.Containers[0].VolumeDevices = []corev1.VolumeDevice{{Name: "v", DevicePath: "/dev/a"}, {Name: "w", DevicePath: "/dev/a"}}
		}, want: []string{c0 + `.volumeDevices[1]: Duplicate value: {"devicePath":"/dev/a"}`}},
		{name: "duplicate volumes, volume without name", mutate: func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "v"}, {Name: "v"}, {}}
		}, want: []string{
			ps + `.volumes[1]: Duplicate value: {"name":"v"}`,
			ps + `.volumes[2].name: Required value`,
		}},
		{name: "duplicate pod-level keys", mutate: func(s *corev1.PodSpec) {
			s.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "r"}, {Name: "r"}}
			s.HostAliases = []corev1.HostAlias{{IP: "10.0.0.1"}, {IP: "10.0.0.1"}}
			s.SchedulingGates = []corev1.PodSchedulingGate{{Name: "g"}, {Name: "g"}}
			s.ResourceClaims = []corev1.PodResourceClaim{{Name: "c"}, {Name: "c"}}
			tsc := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule}
			s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{tsc, tsc}
		}, want: []string{
			ps + `.imagePullSecrets[1]: Duplicate value: {"name":"r"}`,
			ps + `.hostAliases[1]: Duplicate value: {"ip":"10.0.0.1"}`,
			ps + `.schedulingGates[1]: Duplicate value: {"name":"g"}`,
			ps + `.resourceClaims[1]: Duplicate value: {"name":"c"}`,
			ps + `.topologySpreadConstraints[1]: Duplicate value: {"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule"}`,
		}},
		{name: "duplicate resource claims", mutate: func(s *corev1.PodSpec) {
			claims := []corev1.ResourceClaim{{Name: "gpu"}, {Name: "gpu"}}
			s.Containers[0].Resources.Claims = claims
			s.Resources = &corev1.ResourceRequirements{Claims: claims}
		}, want: []string{
			c0 + `.resources.claims[1]: Duplicate value: {"name":"gpu"}`,
			ps + `.resources.claims[1]: Duplicate value: {"name":"gpu"}`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := validV2beta1Job()
			tc.mutate(&v2Worker(j).Template.Spec)
			expectErrorStrings(t, ValidateV2beta1MPIJob(j), tc.want)
		})
	}
}

// The schema covers every replica spec, known to the operator or not.
func TestValidateV2beta1SchemaOtherReplicaKeys(t *testing.T) {
	j := validV2beta1Job()
	j.Spec.MPIReplicaSpecs["PS"] = &v2beta1.ReplicaSpec{Template: podTemplate("ps", "x")}
	j.Spec.MPIReplicaSpecs["PS"].Template.Spec.Containers[0].Name = ""
	expectErrorStrings(t, ValidateV2beta1MPIJob(j), []string{"spec.mpiReplicaSpecs[PS].template.spec.containers[0].name: Required value"})
}
