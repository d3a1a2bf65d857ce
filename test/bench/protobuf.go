package main

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

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
