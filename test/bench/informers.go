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
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/transport"

	"github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/pkg/generated/informers/externalversions"
)

// Watchers as operators run them: client-go informers, which list and then
// watch from the list's resourceVersion, decode every event into Go objects
// and keep a cache. The raw watchers of watch.go start without a
// resourceVersion and do not decode.

// informerKind is how the informers of a watch measurement read.
type informerKind string

const (
	// typedInformers use the generated clientset and informers, in
	// protobuf (this server only: a CRD serves no protobuf).
	typedInformers informerKind = "typed"
	// dynamicInformers use client-go's dynamic informers, JSON into
	// unstructured objects: how a Go program watches a CRD.
	dynamicInformers informerKind = "dynamic"
)

// startInformers starts w.watchers informers of w.informers on w.ns, 25 to a
// connection as the raw watchers share them, and waits until every one has
// synced; each reports the ADDED events of the benchmark's writes to saw.
// They stop with ctx.
func (w *watchBench) startInformers(ctx context.Context) error {
	if w.api != "" && w.api != apiPath {
		return fmt.Errorf("informers watch %s only", apiPath)
	}
	handler := cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		now := time.Now()
		if m, err := meta.Accessor(obj); err == nil {
			w.saw(m.GetName(), now)
		}
	}}
	var synced []cache.InformerSynced
	var hc *http.Client
	for i := 0; i < w.watchers; i++ {
		if i%watchersPerConn == 0 {
			hc = w.authorizedClient()
		}
		informer, err := w.newInformer(hc)
		if err != nil {
			return err
		}
		if _, err := informer.AddEventHandler(handler); err != nil {
			return err
		}
		go informer.Run(ctx.Done())
		synced = append(synced, informer.HasSynced)
	}
	syncCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		return fmt.Errorf("%d %s informers on %s did not sync", w.watchers, w.informers, w.p.name)
	}
	return nil
}

// authorizedClient is a connection of its own that sends the peer's token.
func (w *watchBench) authorizedClient() *http.Client {
	base := newHTTPClient(1)
	return &http.Client{Transport: transport.NewBearerAuthRoundTripper(w.p.token, base.Transport)}
}

// newInformer is one informer of w.informers on w.ns, over hc.
func (w *watchBench) newInformer(hc *http.Client) (cache.SharedIndexInformer, error) {
	cfg := &rest.Config{Host: w.p.base, QPS: -1}
	switch w.informers {
	case typedInformers:
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		c, err := versioned.NewForConfigAndClient(cfg, hc)
		if err != nil {
			return nil, err
		}
		f := externalversions.NewSharedInformerFactoryWithOptions(c, 0, externalversions.WithNamespace(w.ns))
		return f.Kubeflow().V1alpha2().MPIJobs().Informer(), nil
	case dynamicInformers:
		c, err := dynamic.NewForConfigAndClient(cfg, hc)
		if err != nil {
			return nil, err
		}
		f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c, 0, w.ns, nil)
		return f.ForResource(mpijobsResource).Informer(), nil
	}
	return nil, fmt.Errorf("unknown informer kind %q", w.informers)
}

// measureInformerWatch is the watch measurement with informers on a
// namespace of their own each time: this server watched by typed informers
// (protobuf) against the CRD peer watched by dynamic ones (JSON), what each
// peer's Go users run; and both watched by dynamic informers.
func (r *results) measureInformerWatch(ctx context.Context, peers []*peer, seed map[string]any) error {
	runs := []struct {
		p    *peer
		kind informerKind
	}{{peers[0], typedInformers}, {peers[0], dynamicInformers}, {peers[1], dynamicInformers}}
	// One kind after the other, not alternating round by round: each
	// informer keeps every job written to its namespace, and three sets of
	// 200 informer caches held at once outgrow the machine's memory (the
	// dynamic ones keep each job as nested maps).
	got := make([]watchSamples, len(runs))
	for k, x := range runs {
		w := &watchBench{p: x.p, seed: seed, ns: fmt.Sprintf("bench-informers-%d", k), watchers: r.cfg.watchers,
			rate: r.cfg.watchRate, seconds: r.cfg.watchSeconds, informers: x.kind}
		res, err := alternatingSamples(ctx, []*watchBench{w}, r.cfg.rounds)
		if err != nil {
			return fmt.Errorf("%s informers: %w", x.kind, err)
		}
		got[k] = res[0]
		logf("%s informers on %s: %d rounds", x.kind, x.p.name, r.cfg.rounds)
	}
	for _, cmp := range []struct {
		ours  int
		label string
	}{
		{0, fmt.Sprintf("%d informers, ours typed (protobuf) vs CRD dynamic (JSON), %d writes/s", r.cfg.watchers, r.cfg.watchRate)},
		{1, fmt.Sprintf("%d dynamic informers (JSON) on both, %d writes/s", r.cfg.watchers, r.cfg.watchRate)},
	} {
		r.add(row{metric: "informer watch delivery p99 (each round's, median of the rounds), " + cmp.label, unit: "ms",
			ours: summarize(got[cmp.ours].p99s), peer: ptr(summarize(got[2].p99s)), lowerBetter: true})
		r.add(row{metric: fmt.Sprintf("server CPU per %d s informer watch round, %s", r.cfg.watchSeconds, cmp.label), unit: "s",
			ours: summarize(got[cmp.ours].cpu), peer: ptr(summarize(got[2].cpu)), lowerBetter: true, goalPeer: 0.5})
	}
	return nil
}
