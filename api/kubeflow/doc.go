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

// Package kubeflow holds the internal (hub) MPIJob types: the union of what
// v1alpha2 and v2beta1 can say. They are shaped like v1alpha2, with the
// v2beta1-only fields added where v2beta1 keeps them, so the v1alpha2
// conversions are nearly plain copies and v2beta1's differ only where the two
// versions do (conversion.go in each version's package).
//
// +k8s:deepcopy-gen=package
// +groupName=kubeflow.org
package kubeflow
