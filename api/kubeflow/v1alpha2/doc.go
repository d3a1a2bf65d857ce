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
