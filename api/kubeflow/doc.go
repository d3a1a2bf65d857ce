// Package kubeflow holds the internal (hub) MPIJob types. They are shaped
// exactly like v1alpha2 so that the generated conversions are plain copies;
// later served versions convert through this hub.
//
// +k8s:deepcopy-gen=package
// +groupName=kubeflow.org
package kubeflow
