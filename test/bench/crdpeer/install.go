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

package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"
)

//go:embed mpijob-crd.yaml
var crdYAML []byte

// justCreatedDelay mirrors the apiextensions CR handler, which holds every
// create for 2 s after its CRD became Established (so that, in HA, all
// servers have seen the CRD). Readiness waits it out, or the first creates
// of a benchmark would each take 2 s longer.
const justCreatedDelay = 2 * time.Second

// crdInstaller creates (or updates) the MPIJob CRD through the server's own
// loopback client and tells /readyz when MPIJobs are served.
type crdInstaller struct {
	crd   *apiextensionsv1.CustomResourceDefinition
	ready atomic.Bool
}

// loadCRD decodes the CRD in file, or the embedded one when file is empty.
// Strict, so that a field this apiextensions version does not know fails
// the start instead of being dropped from what is served.
func loadCRD(file string) (*apiextensionsv1.CustomResourceDefinition, error) {
	data, what := crdYAML, "the embedded mpijob-crd.yaml"
	if file != "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, fmt.Errorf("--crd-file: %w", err)
		}
		what = file
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", what, err)
	}
	if crd.Kind != "CustomResourceDefinition" || len(crd.Spec.Versions) == 0 {
		return nil, fmt.Errorf("%s is not a CustomResourceDefinition with at least one version", what)
	}
	return crd, nil
}

func newCRDInstaller(crd *apiextensionsv1.CustomResourceDefinition) *crdInstaller {
	return &crdInstaller{crd: crd}
}

func (i *crdInstaller) readyzCheck() healthz.HealthChecker {
	return healthz.NamedCheck("mpijob-crd", func(*http.Request) error {
		if !i.ready.Load() {
			return errors.New("the MPIJob CRD is not served yet")
		}
		return nil
	})
}

// run installs the CRD and waits, step by step, until MPIJobs are served the
// way a client sees them; each step retries until ctx ends.
func (i *crdInstaller) run(ctx context.Context, loopback *rest.Config) {
	start := time.Now()
	client, err := clientset.NewForConfig(loopback)
	if err != nil {
		klog.ErrorS(err, "Creating the apiextensions client; MPIJobs will never be served")
		return
	}
	raw := client.Discovery().RESTClient()
	gv := i.crd.Spec.Group + "/" + i.crd.Spec.Versions[0].Name
	var established time.Time

	steps := []struct {
		what string
		try  func(context.Context) error
	}{
		{"install the CRD", func(ctx context.Context) error { return i.apply(ctx, client) }},
		{"wait for Established", func(ctx context.Context) error {
			var err error
			established, err = i.established(ctx, client)
			return err
		}},
		{"list " + i.crd.Spec.Names.Plural, func(ctx context.Context) error {
			return raw.Get().AbsPath("/apis", gv, i.crd.Spec.Names.Plural).Param("limit", "1").Do(ctx).Error()
		}},
		{"find the CRD in OpenAPI v3", func(ctx context.Context) error { return openAPIv3Has(ctx, raw, "apis/"+gv) }},
		{"find the CRD in OpenAPI v2", func(ctx context.Context) error { return openAPIv2Has(ctx, raw, i.crd) }},
		{"sit out the just-created window", func(context.Context) error {
			if left := justCreatedDelay - time.Since(established); left > 0 {
				return fmt.Errorf("%v left", left.Round(time.Millisecond))
			}
			return nil
		}},
	}
	for _, s := range steps {
		err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			if err := s.try(ctx); err != nil {
				klog.V(2).InfoS("MPIJob CRD not ready", "step", s.what, "err", err)
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			return // the server is stopping
		}
	}
	i.ready.Store(true)
	klog.InfoS("MPIJob CRD served", "crd", i.crd.Name, "after", time.Since(start).Round(time.Millisecond))
}

// apply creates the CRD, or on a restart against the same etcd replaces the
// stored spec with the embedded one.
func (i *crdInstaller) apply(ctx context.Context, client clientset.Interface) error {
	crds := client.ApiextensionsV1().CustomResourceDefinitions()
	_, err := crds.Create(ctx, i.crd.DeepCopy(), metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		existing, err := crds.Get(ctx, i.crd.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		existing.Spec = *i.crd.Spec.DeepCopy()
		_, err = crds.Update(ctx, existing, metav1.UpdateOptions{})
		return err
	})
}

// established returns when the CRD's Established condition last turned true.
func (i *crdInstaller) established(ctx context.Context, client clientset.Interface) (time.Time, error) {
	crd, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, i.crd.Name, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, err
	}
	c := apiextensionshelpers.FindCRDCondition(crd, apiextensionsv1.Established)
	if c == nil || c.Status != apiextensionsv1.ConditionTrue {
		return time.Time{}, errors.New("not Established yet")
	}
	return c.LastTransitionTime.Time, nil
}

// openAPIv3Has checks the OpenAPI v3 index for the group-version path, which
// the CRD OpenAPI controller adds asynchronously.
func openAPIv3Has(ctx context.Context, raw rest.Interface, path string) error {
	body, err := raw.Get().AbsPath("/openapi/v3").DoRaw(ctx)
	if err != nil {
		return err
	}
	var index struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &index); err != nil {
		return err
	}
	if _, ok := index.Paths[path]; !ok {
		return fmt.Errorf("/openapi/v3 does not list %s yet", path)
	}
	return nil
}

// openAPIv2Has checks the OpenAPI v2 document for the CRD's kind, under the
// reverse-DNS definition name kube-apiserver gives CRDs
// (org.kubeflow.v1alpha2.MPIJob).
func openAPIv2Has(ctx context.Context, raw rest.Interface, crd *apiextensionsv1.CustomResourceDefinition) error {
	body, err := raw.Get().AbsPath("/openapi/v2").DoRaw(ctx)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return err
	}
	name := crdDefinitionName(crd.Spec.Group, crd.Spec.Versions[0].Name, crd.Spec.Names.Kind)
	if _, ok := doc.Definitions[name]; !ok {
		return fmt.Errorf("/openapi/v2 has no definition %s yet", name)
	}
	return nil
}

// crdDefinitionName is the OpenAPI model name of a CRD kind: the group
// reversed, then version and kind.
func crdDefinitionName(group, version, kind string) string {
	parts := strings.Split(group, ".")
	slices.Reverse(parts)
	return strings.Join(parts, ".") + "." + version + "." + kind
}
