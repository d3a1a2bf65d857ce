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

package storagecodec_test

import (
	"strings"
	"testing"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
)

// TestDecodeDoesNotDefault: a job stored without the fields v2beta1
// defaults reads back without them, whatever the storage version: only
// request bodies are defaulted.
func TestDecodeDoesNotDefault(t *testing.T) {
	cs, _ := codecs(t)
	for name, data := range map[string]string{
		"v1alpha2": `{"apiVersion":"kubeflow.org/v1alpha2","kind":"MPIJob","metadata":{"name":"a"},"spec":{"runPolicy":{}}}`,
		"v2beta1":  `{"apiVersion":"kubeflow.org/v2beta1","kind":"MPIJob","metadata":{"name":"a"},"spec":{"runPolicy":{}}}`,
	} {
		for storage, c := range cs {
			job := decode(t, c, []byte(data))
			s := job.Spec
			if s.SlotsPerWorker != nil || s.RunLauncherAsWorker != nil || s.SSHAuthMountPath != "" ||
				s.LauncherCreationPolicy != "" || s.MPIDistribution != nil || s.RunPolicy == nil || s.RunPolicy.Suspend != nil {
				t.Errorf("%s bytes read by the %s-storage codec were defaulted: %+v", name, storage, s)
			}
		}
	}
}

// TestCorruptAnnotation: a reserved annotation that is not what the
// conversions write, in bytes of either version, fails the read with an
// error naming the annotation and the job.
func TestCorruptAnnotation(t *testing.T) {
	cs, _ := codecs(t)
	for name, value := range map[string]string{
		"not JSON":    `{"v2beta1Only":`,
		"wrong type":  `{"v2beta1Only":{"suspend":"yes"}}`,
		"not object":  `[1,2]`,
		"empty value": ``,
	} {
		for _, written := range []string{"v1alpha2", "v2beta1"} {
			data := `{"apiVersion":"kubeflow.org/` + written + `","kind":"MPIJob","metadata":{"name":"a","namespace":"n","annotations":{"` +
				carryover.Annotation + `":` + quote(value) + `}},"spec":{}}`
			for storage, c := range cs {
				obj, _, err := c.Decode([]byte(data), nil, &kubeflow.MPIJob{})
				if err == nil {
					t.Errorf("%s, stored as %s: the %s-storage codec read %+v without an error", name, written, storage, obj)
					continue
				}
				if !strings.Contains(err.Error(), carryover.Annotation) || !strings.Contains(err.Error(), "n/a") {
					t.Errorf("%s, stored as %s: the error does not name the annotation and the job: %v", name, written, err)
				}
			}
		}
	}
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
