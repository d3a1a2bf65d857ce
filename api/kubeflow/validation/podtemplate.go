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
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validatePodTemplate checks the part of pod validation that would otherwise
// only fail later, when the operator creates the launcher Job or the worker
// StatefulSet and the job is stuck with an event nobody reads. Full pod
// validation lives in k8s.io/kubernetes, which this project must not import,
// so this is a deliberate subset: template labels and annotations, container
// names and images, and resource quantities.
func validatePodTemplate(tmpl *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	metaPath := fldPath.Child("metadata")
	allErrs := metav1validation.ValidateLabels(tmpl.Labels, metaPath.Child("labels"))
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(tmpl.Annotations, metaPath.Child("annotations"))...)

	specPath := fldPath.Child("spec")
	if len(tmpl.Spec.Containers) == 0 {
		allErrs = append(allErrs, field.Required(specPath.Child("containers"), "at least one container is required"))
	}
	if len(tmpl.Spec.EphemeralContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("ephemeralContainers"), "ephemeral containers are not allowed in pod templates"))
	}
	// Names are unique across init and regular containers, as in a pod.
	seen := map[string]bool{}
	allErrs = append(allErrs, validateContainers(tmpl.Spec.InitContainers, seen, specPath.Child("initContainers"))...)
	allErrs = append(allErrs, validateContainers(tmpl.Spec.Containers, seen, specPath.Child("containers"))...)
	return allErrs
}

func validateContainers(containers []corev1.Container, seen map[string]bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i := range containers {
		c := &containers[i]
		idxPath := fldPath.Index(i)
		namePath := idxPath.Child("name")
		switch {
		case c.Name == "":
			allErrs = append(allErrs, field.Required(namePath, ""))
		case seen[c.Name]:
			allErrs = append(allErrs, field.Duplicate(namePath, c.Name))
		default:
			for _, msg := range utilvalidation.IsDNS1123Label(c.Name) {
				allErrs = append(allErrs, field.Invalid(namePath, c.Name, msg))
			}
		}
		seen[c.Name] = true

		imagePath := idxPath.Child("image")
		if strings.TrimSpace(c.Image) == "" {
			allErrs = append(allErrs, field.Required(imagePath, ""))
		} else if c.Image != strings.TrimSpace(c.Image) {
			allErrs = append(allErrs, field.Invalid(imagePath, c.Image, "must not have leading or trailing whitespace"))
		}
		allErrs = append(allErrs, validateResources(&c.Resources, idxPath.Child("resources"))...)
	}
	return allErrs
}

func validateResources(req *corev1.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	limitsPath, requestsPath := fldPath.Child("limits"), fldPath.Child("requests")
	allErrs := validateResourceList(req.Limits, limitsPath)
	allErrs = append(allErrs, validateResourceList(req.Requests, requestsPath)...)
	for _, name := range sortedResourceNames(req.Requests) {
		request := req.Requests[name]
		limit, ok := req.Limits[name]
		if ok && request.Cmp(limit) > 0 {
			allErrs = append(allErrs, field.Invalid(requestsPath.Key(string(name)), request.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return allErrs
}

func validateResourceList(list corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, name := range sortedResourceNames(list) {
		q := list[name]
		if q.Sign() < 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
	}
	return allErrs
}

func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for name := range list {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}
