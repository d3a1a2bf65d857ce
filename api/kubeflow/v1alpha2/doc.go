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

// Package v1alpha2 holds the wire types of kubeflow.org/v1alpha2 MPIJob, field
// for field as mpi-operator v0.2.0–v0.3.0 served them. The JSON names and
// omitempty tags are part of the contract: clients written against the old CRD
// must read back exactly what they wrote.
//
// There is deliberately no defaulting: mpi-operator applied its defaults
// (backoffLimit 6, cleanPodPolicy None, Launcher restartPolicy OnFailure) in
// memory only, and a server that persisted them would change what clients
// read back. So the package does not opt in to defaulter-gen.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/mpijob/mpijob-apiserver/api/kubeflow
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=org.kubeflow.v1alpha2
// +groupName=kubeflow.org
package v1alpha2
