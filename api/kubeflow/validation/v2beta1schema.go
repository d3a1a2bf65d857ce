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
	"encoding/json"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// The v0.7.0 CRD schema declares many pod-template lists as
// x-kubernetes-list-type: map, so two items with the same key are refused,
// and it marks the key fields required. A typed server cannot tell an
// absent string from an empty one, so an empty key counts as absent. Errors
// are worded as kube-apiserver words them for a custom resource.

// validateV2beta1Schema checks the template of every replica spec, Launcher
// and Worker or not: the schema covers every value of mpiReplicaSpecs.
func validateV2beta1Schema(spec *v2beta1.MPIJobSpec, fldPath *field.Path) field.ErrorList {
	specsPath := fldPath.Child("mpiReplicaSpecs")
	keys := make([]string, 0, len(spec.MPIReplicaSpecs))
	for k := range spec.MPIReplicaSpecs {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	var allErrs field.ErrorList
	for _, k := range keys {
		if rs := spec.MPIReplicaSpecs[v2beta1.MPIReplicaType(k)]; rs != nil {
			allErrs = append(allErrs, validatePodSpecLists(&rs.Template.Spec, specsPath.Key(k).Child("template", "spec"))...)
		}
	}
	return allErrs
}

func validatePodSpecLists(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateContainerLists(spec.Containers, fldPath.Child("containers"))
	allErrs = append(allErrs, validateContainerLists(spec.InitContainers, fldPath.Child("initContainers"))...)
	ephemeral := make([]corev1.Container, len(spec.EphemeralContainers))
	for i := range spec.EphemeralContainers {
		ephemeral[i] = corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
	}
	allErrs = append(allErrs, validateContainerLists(ephemeral, fldPath.Child("ephemeralContainers"))...)

	allErrs = append(allErrs, listMap(spec.Volumes, fldPath.Child("volumes"), func(v *corev1.Volume) map[string]any {
		return map[string]any{"name": v.Name}
	}, "name")...)
	allErrs = append(allErrs, listMap(spec.ImagePullSecrets, fldPath.Child("imagePullSecrets"), func(s *corev1.LocalObjectReference) map[string]any {
		return map[string]any{"name": s.Name}
	})...)
	allErrs = append(allErrs, listMap(spec.HostAliases, fldPath.Child("hostAliases"), func(h *corev1.HostAlias) map[string]any {
		return map[string]any{"ip": h.IP}
	}, "ip")...)
	allErrs = append(allErrs, listMap(spec.ResourceClaims, fldPath.Child("resourceClaims"), func(c *corev1.PodResourceClaim) map[string]any {
		return map[string]any{"name": c.Name}
	}, "name")...)
	allErrs = append(allErrs, listMap(spec.SchedulingGates, fldPath.Child("schedulingGates"), func(g *corev1.PodSchedulingGate) map[string]any {
		return map[string]any{"name": g.Name}
	}, "name")...)
	allErrs = append(allErrs, listMap(spec.TopologySpreadConstraints, fldPath.Child("topologySpreadConstraints"), func(c *corev1.TopologySpreadConstraint) map[string]any {
		return map[string]any{"topologyKey": c.TopologyKey, "whenUnsatisfiable": string(c.WhenUnsatisfiable)}
	}, "topologyKey", "whenUnsatisfiable")...)
	if spec.Resources != nil {
		allErrs = append(allErrs, validateClaims(spec.Resources.Claims, fldPath.Child("resources", "claims"))...)
	}
	return allErrs
}

func validateContainerLists(containers []corev1.Container, fldPath *field.Path) field.ErrorList {
	allErrs := listMap(containers, fldPath, func(c *corev1.Container) map[string]any {
		return map[string]any{"name": c.Name}
	}, "name")
	for i := range containers {
		c := &containers[i]
		idxPath := fldPath.Index(i)
		allErrs = append(allErrs, listMap(c.Env, idxPath.Child("env"), func(e *corev1.EnvVar) map[string]any {
			return map[string]any{"name": e.Name}
		}, "name")...)
		// The schema defaults protocol to TCP before it compares keys.
		allErrs = append(allErrs, listMap(c.Ports, idxPath.Child("ports"), func(p *corev1.ContainerPort) map[string]any {
			protocol := p.Protocol
			if protocol == "" {
				protocol = corev1.ProtocolTCP
			}
			return map[string]any{"containerPort": p.ContainerPort, "protocol": string(protocol)}
		})...)
		allErrs = append(allErrs, listMap(c.VolumeMounts, idxPath.Child("volumeMounts"), func(m *corev1.VolumeMount) map[string]any {
			return map[string]any{"mountPath": m.MountPath}
		}, "mountPath")...)
		for j := range c.VolumeMounts {
			allErrs = append(allErrs, requiredString(c.VolumeMounts[j].Name, idxPath.Child("volumeMounts").Index(j).Child("name"))...)
		}
		allErrs = append(allErrs, listMap(c.VolumeDevices, idxPath.Child("volumeDevices"), func(d *corev1.VolumeDevice) map[string]any {
			return map[string]any{"devicePath": d.DevicePath}
		}, "devicePath")...)
		for j := range c.VolumeDevices {
			allErrs = append(allErrs, requiredString(c.VolumeDevices[j].Name, idxPath.Child("volumeDevices").Index(j).Child("name"))...)
		}
		allErrs = append(allErrs, validateClaims(c.Resources.Claims, idxPath.Child("resources", "claims"))...)
	}
	return allErrs
}

func validateClaims(claims []corev1.ResourceClaim, fldPath *field.Path) field.ErrorList {
	return listMap(claims, fldPath, func(c *corev1.ResourceClaim) map[string]any {
		return map[string]any{"name": c.Name}
	}, "name")
}

// listMap checks a list-type map: key returns an item's key fields, and
// required names those of them the schema requires, which must not be
// empty. Every item whose key an earlier item has is a Duplicate.
func listMap[T any](items []T, fldPath *field.Path, key func(*T) map[string]any, required ...string) field.ErrorList {
	var allErrs field.ErrorList
	seen := make(map[string]bool, len(items))
	for i := range items {
		idxPath := fldPath.Index(i)
		k := key(&items[i])
		for _, name := range required {
			if s, _ := k[name].(string); s == "" {
				allErrs = append(allErrs, field.Required(idxPath.Child(name), ""))
			}
		}
		// JSON sorts map keys and quotes strings: one spelling per key.
		encoded, _ := json.Marshal(k)
		if seen[string(encoded)] {
			allErrs = append(allErrs, field.Duplicate(idxPath, k))
		}
		seen[string(encoded)] = true
	}
	return allErrs
}

func requiredString(value string, fldPath *field.Path) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return nil
}
