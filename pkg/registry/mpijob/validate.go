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

package mpijob

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/validation"
)

// A write is judged by the rules of the version the client wrote in, on the
// object as that version shows it, so that every error names a field the
// client sent. Callers inside the server write the hub and get the v1alpha2
// rules, the ones the hub was shaped by. Updates ratchet in both versions:
// the stored object is judged by the same rules and its faults are not held
// against the update.

var v2beta1Version = v2beta1.SchemeGroupVersion.Version

func (s mpiJobStrategy) validateCreate(ctx context.Context, job *kubeflow.MPIJob) field.ErrorList {
	if requestVersion(ctx) != v2beta1Version {
		return validation.ValidateMPIJob(job)
	}
	v, err := s.asV2beta1(job)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return validation.ValidateV2beta1MPIJob(v)
}

func (s mpiJobStrategy) validateUpdate(ctx context.Context, newJob, oldJob *kubeflow.MPIJob) field.ErrorList {
	if requestVersion(ctx) != v2beta1Version {
		return validation.ValidateMPIJobRatchetingUpdate(newJob, oldJob)
	}
	newV, oldV, err := s.bothAsV2beta1(newJob, oldJob)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return validation.ValidateV2beta1MPIJobUpdate(newV, oldV)
}

func (s mpiJobStrategy) validateStatusUpdate(ctx context.Context, newJob, oldJob *kubeflow.MPIJob) field.ErrorList {
	if requestVersion(ctx) != v2beta1Version {
		return validation.ValidateMPIJobRatchetingStatusUpdate(newJob, oldJob)
	}
	newV, oldV, err := s.bothAsV2beta1(newJob, oldJob)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return validation.ValidateV2beta1MPIJobStatusUpdate(newV, oldV)
}

func (s mpiJobStrategy) bothAsV2beta1(newJob, oldJob *kubeflow.MPIJob) (*v2beta1.MPIJob, *v2beta1.MPIJob, error) {
	newV, err := s.asV2beta1(newJob)
	if err != nil {
		return nil, nil, err
	}
	oldV, err := s.asV2beta1(oldJob)
	if err != nil {
		return nil, nil, err
	}
	return newV, oldV, nil
}

// asV2beta1 converts through the scheme the strategy was made with. The
// result may share memory with job, so it is only read.
func (s mpiJobStrategy) asV2beta1(job *kubeflow.MPIJob) (*v2beta1.MPIJob, error) {
	convertor, ok := s.ObjectTyper.(runtime.ObjectConvertor)
	if !ok {
		return nil, fmt.Errorf("the MPIJob strategy's scheme %T cannot convert to %s", s.ObjectTyper, v2beta1.SchemeGroupVersion)
	}
	out := &v2beta1.MPIJob{}
	if err := convertor.Convert(job, out, nil); err != nil {
		return nil, fmt.Errorf("converting MPIJob %s to %s: %w", job.Name, v2beta1.SchemeGroupVersion, err)
	}
	return out, nil
}
