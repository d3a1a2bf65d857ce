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
	"maps"
	"slices"
	"sync"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	informers "k8s.io/apiextensions-apiserver/pkg/client/informers/externalversions/apiextensions/v1"
	listers "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/endpoints/discovery"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// legacyDiscovery keeps the unaggregated /apis list (metav1.APIGroupList) in
// step with the established CRDs. In kube-apiserver the aggregator lists CRD
// groups through the APIService objects it registers for them; the
// apiextensions server itself adds CRD groups only to the aggregated
// discovery document.
type legacyDiscovery struct {
	lister listers.CustomResourceDefinitionLister
	groups discovery.GroupManager

	mu    sync.Mutex
	added sets.Set[string] // groups this type put into groups
}

func watchLegacyDiscovery(crds informers.CustomResourceDefinitionInformer, groups discovery.GroupManager) error {
	d := &legacyDiscovery{lister: crds.Lister(), groups: groups, added: sets.New[string]()}
	// Every event recomputes the whole list: a peer has a handful of CRDs.
	_, err := crds.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { d.sync() },
		UpdateFunc: func(any, any) { d.sync() },
		DeleteFunc: func(any) { d.sync() },
	})
	return err
}

// sync publishes every group with an established CRD, listing its served
// versions in Kubernetes version order (v1 > v1beta1 > v1alpha2), the first
// being the preferred one, as the apiextensions group discovery does.
func (d *legacyDiscovery) sync() {
	crds, err := d.lister.List(labels.Everything())
	if err != nil {
		klog.ErrorS(err, "Listing CRDs for /apis discovery")
		return
	}
	served := map[string]sets.Set[string]{}
	for _, crd := range crds {
		if !apiextensionshelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			if served[crd.Spec.Group] == nil {
				served[crd.Spec.Group] = sets.New[string]()
			}
			served[crd.Spec.Group].Insert(v.Name)
		}
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	for g := range d.added {
		if _, ok := served[g]; !ok {
			d.groups.RemoveGroup(g)
			d.added.Delete(g)
		}
	}
	// Sorted, so that /apis lists new groups in a stable order.
	for _, g := range slices.Sorted(maps.Keys(served)) {
		d.groups.AddGroup(apiGroup(g, served[g]))
		d.added.Insert(g)
	}
}

func apiGroup(name string, versions sets.Set[string]) metav1.APIGroup {
	ordered := sets.List(versions)
	slices.SortFunc(ordered, func(a, b string) int { return -version.CompareKubeAwareVersionStrings(a, b) })
	g := metav1.APIGroup{Name: name}
	for _, v := range ordered {
		g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: name + "/" + v, Version: v})
	}
	g.PreferredVersion = g.Versions[0]
	return g
}
