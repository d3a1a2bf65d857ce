// Package install registers the kubeflow.org group, internal and v1alpha2,
// with a scheme, v1alpha2 first in priority (it is also the storage version).
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// Install adds every version of the group to scheme.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(kubeflow.AddToScheme(scheme))
	utilruntime.Must(v1alpha2.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1alpha2.SchemeGroupVersion))
}
