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

package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// The API group and the Service the harness registers it with.
const (
	Group = "kubeflow.org"
	// Version is the preferred version (the highest versionPriority of
	// APIServices), the one kubectl uses for mj and mpijobs.
	Version        = "v1alpha2"
	APIServiceName = Version + "." + Group
	// ServiceName is the Service in ServerNamespace the APIServices point
	// at; the server's certificate must name ServiceName.ServerNamespace.svc
	// for a caBundle to verify it.
	ServiceName = "mpijob-apiserver"
	// ServiceDNSName is the name kube-apiserver verifies the server's
	// certificate against.
	ServiceDNSName = ServiceName + "." + ServerNamespace + ".svc"
	// APIServiceSelector selects the server's APIServices in the manifests
	// (and in a cluster they were applied to).
	APIServiceSelector = "app.kubernetes.io/name=" + ServiceName
)

// APIVersion is what an APIService of the server says about its version.
type APIVersion struct {
	Version              string
	GroupPriorityMinimum int32
	VersionPriority      int32
}

// Name is the APIService's name, <version>.kubeflow.org.
func (v APIVersion) Name() string { return v.Version + "." + Group }

// DefaultAPIVersions mirror the APIServices of artifacts/deploy (base and
// components/v2beta1). RegisterAPIService uses the rendered manifests
// themselves and these only when the repository has no artifacts/deploy;
// TestVersionsAPIServices checks that both agree.
var DefaultAPIVersions = []APIVersion{
	{Version: "v1alpha2", GroupPriorityMinimum: 1000, VersionPriority: 15},
	{Version: "v2beta1", GroupPriorityMinimum: 1000, VersionPriority: 10},
}

// DeployAPIVersions are the versions of the APIServices among objs (a
// rendering of artifacts/deploy or an overlay) that APIServiceSelector
// selects, in the order of objs. An APIService of another group, or one that
// points at another Service, is an error.
func DeployAPIVersions(objs []*unstructured.Unstructured) ([]APIVersion, error) {
	selector, err := labels.Parse(APIServiceSelector)
	if err != nil {
		return nil, err
	}
	var versions []APIVersion
	for _, o := range objs {
		if o.GetKind() != "APIService" || !selector.Matches(labels.Set(o.GetLabels())) {
			continue
		}
		var as apiregv1.APIService
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &as); err != nil {
			return nil, fmt.Errorf("cluster: APIService %s: %w", o.GetName(), err)
		}
		v := APIVersion{Version: as.Spec.Version, GroupPriorityMinimum: as.Spec.GroupPriorityMinimum,
			VersionPriority: as.Spec.VersionPriority}
		if as.Spec.Group != Group || as.Name != v.Name() {
			return nil, fmt.Errorf("cluster: APIService %s is for %s/%s", as.Name, as.Spec.Group, as.Spec.Version)
		}
		if s := as.Spec.Service; s == nil || s.Namespace != ServerNamespace || s.Name != ServiceName {
			return nil, fmt.Errorf("cluster: APIService %s points at %+v, not Service %s/%s", as.Name, s, ServerNamespace, ServiceName)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("cluster: no APIService labelled %s", APIServiceSelector)
	}
	return versions, nil
}

// APIVersions are the versions RegisterAPIService registers: those of
// `kubectl kustomize artifacts/deploy` (rendered once per cluster), or
// DefaultAPIVersions without artifacts/deploy.
func (c *Cluster) APIVersions(ctx context.Context) ([]APIVersion, error) {
	c.apiVersionsMu.Lock()
	defer c.apiVersionsMu.Unlock()
	if c.apiVersions != nil {
		return c.apiVersions, nil
	}
	objs, err := c.RenderDeploy(ctx)
	switch {
	case errors.Is(err, ErrNoDeployArtifacts):
		c.apiVersions = DefaultAPIVersions
		return c.apiVersions, nil
	case err != nil:
		return nil, err
	}
	versions, err := DeployAPIVersions(objs)
	if err != nil {
		return nil, err
	}
	c.apiVersions = versions
	return versions, nil
}

// apiServiceNames are the names of APIVersions.
func (c *Cluster) apiServiceNames(ctx context.Context) ([]string, error) {
	versions, err := c.APIVersions(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(versions))
	for i, v := range versions {
		names[i] = v.Name()
	}
	return names, nil
}

// APIServiceTimeout bounds waits for the APIService's Available condition.
// The aggregator's availability controller re-checks every 30 s when nothing
// changes, so a recovery can take that long.
const APIServiceTimeout = 2 * time.Minute

// RegisterAPIService points every APIService of APIVersions
// (v1alpha2.kubeflow.org, v2beta1.kubeflow.org) at a server on
// localhost:port, with the manifests' priorities: an ExternalName Service
// (externalName localhost) in ServerNamespace, which kube-apiserver follows
// with --enable-aggregator-routing=false, and the APIServices. With caBundle
// nil the APIServices say insecureSkipTLSVerify; otherwise kube-apiserver
// verifies the server's certificate as ServiceDNSName against caBundle.
// Existing objects are updated.
func (c *Cluster) RegisterAPIService(ctx context.Context, port int, caBundle []byte) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: ServerNamespace},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "https", Port: int32(port), Protocol: corev1.ProtocolTCP}},
		},
	}
	if err := c.putService(ctx, svc); err != nil {
		return err
	}
	return c.putAPIServices(ctx, int32(port), caBundle)
}

// putService creates svc in ServerNamespace, or replaces the Service there:
// its spec is updated in place when the type stays, else it is recreated
// (the ClusterIP of a ClusterIP Service cannot be cleared by an update).
func (c *Cluster) putService(ctx context.Context, svc *corev1.Service) error {
	if err := c.CreateNamespace(ctx, ServerNamespace); err != nil {
		return err
	}
	services := c.Client.CoreV1().Services(ServerNamespace)
	old, err := services.Get(ctx, svc.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = services.Create(ctx, svc, metav1.CreateOptions{})
	case err != nil:
	case old.Spec.Type != svc.Spec.Type:
		if err = services.Delete(ctx, svc.Name, metav1.DeleteOptions{}); err == nil {
			_, err = services.Create(ctx, svc, metav1.CreateOptions{})
		}
	default:
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = old.Spec.ClusterIP, old.Spec.ClusterIPs
		old.Spec = svc.Spec
		_, err = services.Update(ctx, old, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("cluster: service %s/%s: %w", ServerNamespace, svc.Name, err)
	}
	return nil
}

// putAPIServices creates or updates every APIService of APIVersions,
// pointing at port of Service ServiceName.
func (c *Cluster) putAPIServices(ctx context.Context, port int32, caBundle []byte) error {
	versions, err := c.APIVersions(ctx)
	if err != nil {
		return err
	}
	apiservices := c.Aggregator.ApiregistrationV1().APIServices()
	for _, v := range versions {
		as := &apiregv1.APIService{
			ObjectMeta: metav1.ObjectMeta{Name: v.Name(), Labels: map[string]string{"app.kubernetes.io/name": ServiceName}},
			Spec: apiregv1.APIServiceSpec{
				Service:               &apiregv1.ServiceReference{Namespace: ServerNamespace, Name: ServiceName, Port: &port},
				Group:                 Group,
				Version:               v.Version,
				CABundle:              caBundle,
				InsecureSkipTLSVerify: caBundle == nil,
				GroupPriorityMinimum:  v.GroupPriorityMinimum,
				VersionPriority:       v.VersionPriority,
			},
		}
		if old, err := apiservices.Get(ctx, as.Name, metav1.GetOptions{}); err == nil {
			old.Spec = as.Spec
			if _, err := apiservices.Update(ctx, old, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("cluster: apiservice %s: %w", as.Name, err)
			}
		} else if apierrors.IsNotFound(err) {
			if _, err := apiservices.Create(ctx, as, metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("cluster: apiservice %s: %w", as.Name, err)
			}
		} else {
			return err
		}
	}
	return nil
}

// UnregisterAPIService deletes the APIServices (not the Service).
func (c *Cluster) UnregisterAPIService(ctx context.Context) error {
	names, err := c.apiServiceNames(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		err := c.Aggregator.ApiregistrationV1().APIServices().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// APIServiceAvailable is the Available condition of the preferred version's
// APIService, APIServiceName (nil when it has none yet).
func (c *Cluster) APIServiceAvailable(ctx context.Context) (*apiregv1.APIServiceCondition, error) {
	return c.APIServiceAvailableOf(ctx, APIServiceName)
}

// APIServiceAvailableOf is the Available condition of the APIService name
// (nil when it has none yet).
func (c *Cluster) APIServiceAvailableOf(ctx context.Context, name string) (*apiregv1.APIServiceCondition, error) {
	as, err := c.Aggregator.ApiregistrationV1().APIServices().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	for i := range as.Status.Conditions {
		if as.Status.Conditions[i].Type == apiregv1.Available {
			return &as.Status.Conditions[i], nil
		}
	}
	return nil, nil
}

// WaitAPIService waits (up to APIServiceTimeout) until the Available
// condition of every APIService RegisterAPIService registers is True
// (available) or False (!available). p, when not nil, is a process whose
// exit ends the wait early.
func (c *Cluster) WaitAPIService(ctx context.Context, available bool, p *harness.Process) error {
	names, err := c.apiServiceNames(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, APIServiceTimeout)
	defer cancel()
	want := apiregv1.ConditionTrue
	if !available {
		want = apiregv1.ConditionFalse
	}
	return harness.Poll(ctx, fmt.Sprintf("APIServices %s Available=%s", strings.Join(names, ", "), want), p, 250*time.Millisecond,
		func(ctx context.Context) (bool, error) {
			for _, name := range names {
				cond, err := c.APIServiceAvailableOf(ctx, name)
				if err != nil {
					return false, err
				}
				if cond == nil {
					return false, fmt.Errorf("%s: no Available condition yet", name)
				}
				if cond.Status != want {
					return false, fmt.Errorf("%s: condition Available=%s %s: %s", name, cond.Status, cond.Reason, cond.Message)
				}
			}
			return true, nil
		})
}
