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
	"net"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// AggregatorRoutingFlag makes kube-apiserver proxy to an APIService's
// endpoints (its EndpointSlices) instead of the Service's ClusterIP, which
// nothing routes in a cluster without nodes. Pass it in Options.ExtraArgs
// to use RegisterAPIServiceEndpoints.
const AggregatorRoutingFlag = "--enable-aggregator-routing=true"

// routedServicePort is the port of the Service that
// RegisterAPIServiceEndpoints makes, as artifacts/deploy's Service has it.
const routedServicePort = 443

// Endpoint is a server replica as the Service's EndpointSlices list it.
type Endpoint struct {
	// Name tells replicas apart: its EndpointSlice is ServiceName-<Name>.
	Name string
	IP   net.IP // not loopback: EndpointSlice validation refuses it
	Port int
}

func (e Endpoint) sliceName() string { return ServiceName + "-" + e.Name }

// RegisterAPIServiceEndpoints points every APIService at the replicas eps,
// as a cluster with pods does: a ClusterIP Service without a selector, with
// port "https" 443, and one EndpointSlice per replica (a slice has one
// number per port, and replicas on one machine differ in port), each Ready.
// kube-apiserver then picks a replica at random for each request when it
// runs with AggregatorRoutingFlag. caBundle is as for RegisterAPIService;
// every replica's certificate must verify against it.
func (c *Cluster) RegisterAPIServiceEndpoints(ctx context.Context, caBundle []byte, eps ...Endpoint) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: ServerNamespace},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{{Name: "https", Port: routedServicePort,
				TargetPort: intstr.FromString("https"), Protocol: corev1.ProtocolTCP}},
		},
	}
	if err := c.putService(ctx, svc); err != nil {
		return err
	}
	slices := c.Client.DiscoveryV1().EndpointSlices(ServerNamespace)
	for _, ep := range eps {
		if ep.IP.To4() == nil || ep.IP.IsLoopback() {
			return fmt.Errorf("cluster: endpoint %s: %s is not a non-loopback IPv4 address", ep.Name, ep.IP)
		}
		name, port, ready := "https", int32(ep.Port), true
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: ep.sliceName(), Namespace: ServerNamespace, Labels: map[string]string{
				discoveryv1.LabelServiceName: ServiceName,
				discoveryv1.LabelManagedBy:   "test.mpijob-apiserver.kubeflow.org",
			}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ep.IP.String()},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		}
		if err := slices.Delete(ctx, slice.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if _, err := slices.Create(ctx, slice, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("cluster: EndpointSlice %s: %w", slice.Name, err)
		}
	}
	return c.putAPIServices(ctx, routedServicePort, caBundle)
}

// SetEndpointReady sets the Ready condition of the replica's endpoint, as
// the EndpointSlice controller does when the replica's readiness changes:
// kube-apiserver stops sending it requests while it is not Ready.
func (c *Cluster) SetEndpointReady(ctx context.Context, ep Endpoint, ready bool) error {
	slices := c.Client.DiscoveryV1().EndpointSlices(ServerNamespace)
	slice, err := slices.Get(ctx, ep.sliceName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	for i := range slice.Endpoints {
		slice.Endpoints[i].Conditions.Ready = &ready
	}
	_, err = slices.Update(ctx, slice, metav1.UpdateOptions{})
	return err
}

// HostIP is the machine's first non-loopback IPv4 address, where a replica
// listening on 0.0.0.0 can be reached through an EndpointSlice.
func HostIP() (net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.To4(), nil
		}
	}
	return nil, errors.New("cluster: this machine has no non-loopback IPv4 address for an EndpointSlice")
}
