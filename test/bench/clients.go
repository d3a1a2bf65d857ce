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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

// The Go clients each peer's users would read it with.

// typedClient is the generated clientset for our server as a Go program
// uses it, speaking protobuf.
func typedClient(p *peer) (versioned.Interface, error) {
	cfg := &rest.Config{
		Host:            p.base,
		BearerToken:     p.token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             -1, // no client-side rate limit: the server is measured
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	return versioned.NewForConfig(cfg)
}

// typedListOnce LISTs a namespace through the typed clientset, decoding into
// Go objects as a controller would, every page when limit > 0.
func typedListOnce(ctx context.Context, c versioned.Interface, ns string, v listVariant) (time.Duration, int, error) {
	start := time.Now()
	opts := metav1.ListOptions{ResourceVersion: v.rv, Limit: int64(v.limit)}
	items := 0
	for {
		list, err := c.KubeflowV1alpha2().MPIJobs(ns).List(ctx, opts)
		if err != nil {
			return 0, 0, err
		}
		items += len(list.Items)
		if list.Continue == "" {
			return time.Since(start), items, nil
		}
		opts = metav1.ListOptions{Limit: int64(v.limit), Continue: list.Continue}
	}
}

// dynamicClient is how a Go program reads the CRD: client-go's dynamic
// client, JSON into unstructured objects (a CRD serves no protobuf).
func dynamicClient(p *peer) (dynamic.Interface, error) {
	cfg := &rest.Config{Host: p.base, BearerToken: p.token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: -1}
	return dynamic.NewForConfig(cfg)
}

var mpijobsResource = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1alpha2", Resource: "mpijobs"}

// dynamicListOnce LISTs a namespace through the dynamic client, every page
// when limit > 0.
func dynamicListOnce(ctx context.Context, c dynamic.Interface, ns string, v listVariant) (time.Duration, int, error) {
	start := time.Now()
	opts := metav1.ListOptions{ResourceVersion: v.rv, Limit: int64(v.limit)}
	items := 0
	for {
		list, err := c.Resource(mpijobsResource).Namespace(ns).List(ctx, opts)
		if err != nil {
			return 0, 0, err
		}
		items += len(list.Items)
		if list.GetContinue() == "" {
			return time.Since(start), items, nil
		}
		opts = metav1.ListOptions{Limit: int64(v.limit), Continue: list.GetContinue()}
	}
}
