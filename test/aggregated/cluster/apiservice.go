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
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// The APIService this harness registers.
const (
	Group          = "kubeflow.org"
	Version        = "v1alpha2"
	APIServiceName = Version + "." + Group
	// ServiceName is the Service in ServerNamespace the APIService points at;
	// the server's certificate must name ServiceName.ServerNamespace.svc for
	// a caBundle to verify it.
	ServiceName = "mpijob-apiserver"
	// ServiceDNSName is the name kube-apiserver verifies the server's
	// certificate against.
	ServiceDNSName = ServiceName + "." + ServerNamespace + ".svc"
)

// APIServiceTimeout bounds waits for the APIService's Available condition.
// The aggregator's availability controller re-checks every 30 s when nothing
// changes, so a recovery can take that long.
const APIServiceTimeout = 2 * time.Minute

// RegisterAPIService points v1alpha2.kubeflow.org at a server on
// localhost:port: an ExternalName Service (externalName localhost) in
// ServerNamespace, which kube-apiserver follows with
// --enable-aggregator-routing=false, and the APIService. With caBundle nil the
// APIService says insecureSkipTLSVerify; otherwise kube-apiserver verifies the
// server's certificate as ServiceDNSName against caBundle. Existing objects
// are updated.
func (c *Cluster) RegisterAPIService(ctx context.Context, port int, caBundle []byte) error {
	if err := c.CreateNamespace(ctx, ServerNamespace); err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: ServerNamespace},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "https", Port: int32(port), Protocol: corev1.ProtocolTCP}},
		},
	}
	services := c.Client.CoreV1().Services(ServerNamespace)
	if old, err := services.Get(ctx, ServiceName, metav1.GetOptions{}); err == nil {
		if old.Spec.Type != corev1.ServiceTypeExternalName { // a ClusterIP Service from artifacts/deploy
			if err := services.Delete(ctx, ServiceName, metav1.DeleteOptions{}); err != nil {
				return err
			}
			_, err = services.Create(ctx, svc, metav1.CreateOptions{})
		} else {
			old.Spec = svc.Spec
			_, err = services.Update(ctx, old, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("cluster: service %s/%s: %w", ServerNamespace, ServiceName, err)
		}
	} else if apierrors.IsNotFound(err) {
		if _, err := services.Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("cluster: service %s/%s: %w", ServerNamespace, ServiceName, err)
		}
	} else {
		return err
	}

	port32 := int32(port)
	as := &apiregv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: APIServiceName},
		Spec: apiregv1.APIServiceSpec{
			Service:               &apiregv1.ServiceReference{Namespace: ServerNamespace, Name: ServiceName, Port: &port32},
			Group:                 Group,
			Version:               Version,
			CABundle:              caBundle,
			InsecureSkipTLSVerify: caBundle == nil,
			GroupPriorityMinimum:  1000,
			VersionPriority:       15,
		},
	}
	apiservices := c.Aggregator.ApiregistrationV1().APIServices()
	if old, err := apiservices.Get(ctx, APIServiceName, metav1.GetOptions{}); err == nil {
		old.Spec = as.Spec
		_, err = apiservices.Update(ctx, old, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("cluster: apiservice %s: %w", APIServiceName, err)
		}
	} else if apierrors.IsNotFound(err) {
		if _, err := apiservices.Create(ctx, as, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("cluster: apiservice %s: %w", APIServiceName, err)
		}
	} else {
		return err
	}
	return nil
}

// UnregisterAPIService deletes the APIService (not the Service).
func (c *Cluster) UnregisterAPIService(ctx context.Context) error {
	err := c.Aggregator.ApiregistrationV1().APIServices().Delete(ctx, APIServiceName, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// APIServiceAvailable is the APIService's Available condition (nil when it has
// none yet).
func (c *Cluster) APIServiceAvailable(ctx context.Context) (*apiregv1.APIServiceCondition, error) {
	as, err := c.Aggregator.ApiregistrationV1().APIServices().Get(ctx, APIServiceName, metav1.GetOptions{})
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

// WaitAPIService waits (up to APIServiceTimeout) until the APIService's
// Available condition is True (available) or False (!available). p, when not
// nil, is a process whose exit ends the wait early.
func (c *Cluster) WaitAPIService(ctx context.Context, available bool, p *harness.Process) error {
	ctx, cancel := context.WithTimeout(ctx, APIServiceTimeout)
	defer cancel()
	want := apiregv1.ConditionTrue
	if !available {
		want = apiregv1.ConditionFalse
	}
	return harness.Poll(ctx, fmt.Sprintf("APIService %s Available=%s", APIServiceName, want), p, 250*time.Millisecond,
		func(ctx context.Context) (bool, error) {
			cond, err := c.APIServiceAvailable(ctx)
			if err != nil {
				return false, err
			}
			if cond == nil {
				return false, fmt.Errorf("no Available condition yet")
			}
			if cond.Status == want {
				return true, nil
			}
			return false, fmt.Errorf("condition Available=%s %s: %s", cond.Status, cond.Reason, cond.Message)
		})
}
