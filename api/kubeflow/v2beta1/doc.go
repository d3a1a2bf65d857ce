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

// Package v2beta1 holds the wire types of kubeflow.org/v2beta1 MPIJob, field
// for field as mpi-operator v0.7.0 serves them (JSON names, omitempty, enums).
// Where this package differs in Go from upstream, the JSON does not: runPolicy
// is a pointer so that a job without one reads back without one, as the CRD
// answers it, and minResources is a map with omitzero because protobuf cannot
// carry a pointer to a map.
//
// Unlike v1alpha2 this version is defaulted: a request body gets the schema
// defaults of the v0.7.0 CRD (defaults.go), so a job created here reads back
// as the CRD would return it.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/mpijob/mpijob-apiserver/api/kubeflow
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=org.kubeflow.v2beta1
// +groupName=kubeflow.org
package v2beta1
