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

package importer

import (
	"context"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

// mpiJob is a pointer to the MPIJob type of one kubeflow.org version.
type mpiJob interface {
	runtime.Object
	metav1.Object
}

// jobClient is the typed client of one version's MPIJobs in one namespace.
type jobClient[J mpiJob] interface {
	Create(ctx context.Context, job J, opts metav1.CreateOptions) (J, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (J, error)
	UpdateStatus(ctx context.Context, job J, opts metav1.UpdateOptions) (J, error)
}

// kind is what the import needs to know of the MPIJob of one version. Each
// exported object is written in the version it was exported in, so that
// the server applies that version's defaults and rules, as for any client
// of it.
type kind[J mpiJob] struct {
	gv     schema.GroupVersion
	newJob func() J
	client func(c clientset.Interface, namespace string) jobClient[J]
	spec   func(J) any
	status func(J) any
	// copyStatus sets to's status to from's.
	copyStatus func(to, from J)
}

var (
	v1alpha2Kind = &kind[*v1alpha2.MPIJob]{
		gv:     v1alpha2.SchemeGroupVersion,
		newJob: func() *v1alpha2.MPIJob { return &v1alpha2.MPIJob{} },
		client: func(c clientset.Interface, ns string) jobClient[*v1alpha2.MPIJob] {
			return c.KubeflowV1alpha2().MPIJobs(ns)
		},
		spec:       func(j *v1alpha2.MPIJob) any { return j.Spec },
		status:     func(j *v1alpha2.MPIJob) any { return j.Status },
		copyStatus: func(to, from *v1alpha2.MPIJob) { to.Status = *from.Status.DeepCopy() },
	}
	v2beta1Kind = &kind[*v2beta1.MPIJob]{
		gv:     v2beta1.SchemeGroupVersion,
		newJob: func() *v2beta1.MPIJob { return &v2beta1.MPIJob{} },
		client: func(c clientset.Interface, ns string) jobClient[*v2beta1.MPIJob] {
			return c.KubeflowV2beta1().MPIJobs(ns)
		},
		spec:       func(j *v2beta1.MPIJob) any { return j.Spec },
		status:     func(j *v2beta1.MPIJob) any { return j.Status },
		copyStatus: func(to, from *v2beta1.MPIJob) { to.Status = *from.Status.DeepCopy() },
	}
)

// preparer decodes an exported object of one version.
type preparer interface {
	prepare(o *object, raw []byte, defaultNamespace string)
}

// importable are the versions an export may be in, by apiVersion.
var importable = map[schema.GroupVersion]preparer{
	v1alpha2Kind.gv: v1alpha2Kind,
	v2beta1Kind.gv:  v2beta1Kind,
}

// importableNames lists the importable apiVersions, for messages.
func importableNames() string {
	return strings.Join([]string{v1alpha2Kind.gv.String(), v2beta1Kind.gv.String()}, " and ")
}

// defaulter applies each version's defaults as the server does to a
// request body, so that an export is compared with what creating it stored.
var defaulter = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{v1alpha2.AddToScheme, v2beta1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()
