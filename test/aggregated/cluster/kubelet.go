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
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KubeletOptions tune StartKubelet.
type KubeletOptions struct {
	// Namespaces whose pods it runs.
	Namespaces []string
	// LauncherPhase is the phase a pod owned by a Job ends in: PodSucceeded
	// when nil or when it returns "", else what it returns for the pod.
	LauncherPhase func(*corev1.Pod) corev1.PodPhase
	// LauncherRunFor is how long a Job's pod stays Running (1 s when 0).
	LauncherRunFor time.Duration
	// LauncherMayEnd, when set, holds a Job's Running pod after
	// LauncherRunFor until it returns true.
	LauncherMayEnd func(*corev1.Pod) bool
}

// Kubelet stands in for the kubelet of a cluster without nodes: through the
// real API (pods/status, as Admin) it moves every Pending pod of its
// namespaces to Running with Ready=True and a pod IP, and a pod owned by a
// Job on to LauncherPhase after LauncherRunFor (and LauncherMayEnd). Nothing
// runs.
type Kubelet struct {
	o      KubeletOptions
	client kubernetes.Interface
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	running map[string]time.Time // pod UID -> when it turned Running
	ran     []string             // namespace/name of the pods it started
	nextIP  int
	errs    []error
}

// StartKubelet starts the stand-in; Stop stops it.
func (c *Cluster) StartKubelet(o KubeletOptions) *Kubelet {
	if o.LauncherRunFor == 0 {
		o.LauncherRunFor = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &Kubelet{o: o, client: c.Client, cancel: cancel, done: make(chan struct{}), running: map[string]time.Time{}}
	go k.loop(ctx)
	return k
}

// Stop stops it and returns the errors its status updates met, if any
// (conflicts are retried and not counted).
func (k *Kubelet) Stop() []error {
	k.cancel()
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.errs
}

// Ran is namespace/name of every pod it moved to Running, in that order.
func (k *Kubelet) Ran() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.ran...)
}

func (k *Kubelet) loop(ctx context.Context) {
	defer close(k.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		for _, ns := range k.o.Namespaces {
			pods, err := k.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for i := range pods.Items {
				k.sync(ctx, &pods.Items[i])
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func ownedByJob(p *corev1.Pod) bool {
	for _, r := range p.OwnerReferences {
		if r.Kind == "Job" && r.Controller != nil && *r.Controller {
			return true
		}
	}
	return false
}

func (k *Kubelet) sync(ctx context.Context, p *corev1.Pod) {
	if p.DeletionTimestamp != nil {
		return
	}
	now := metav1.Now()
	switch p.Status.Phase {
	case "", corev1.PodPending:
		k.mu.Lock()
		k.nextIP++
		ip := fmt.Sprintf("10.244.%d.%d", k.nextIP/250, 1+k.nextIP%250)
		k.mu.Unlock()
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
		p.Status.HostIP, p.Status.HostIPs = "10.0.0.1", []corev1.HostIP{{IP: "10.0.0.1"}}
		p.Status.StartTime = &now
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
		p.Status.ContainerStatuses = nil
		for _, c := range p.Spec.Containers {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
				Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: ptrTo(true),
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
			})
		}
		if k.update(ctx, p) {
			k.mu.Lock()
			k.running[string(p.UID)] = time.Now()
			k.ran = append(k.ran, p.Namespace+"/"+p.Name)
			k.mu.Unlock()
		}
	case corev1.PodRunning:
		if !ownedByJob(p) {
			return
		}
		k.mu.Lock()
		since, ok := k.running[string(p.UID)]
		k.mu.Unlock()
		if !ok || time.Since(since) < k.o.LauncherRunFor || (k.o.LauncherMayEnd != nil && !k.o.LauncherMayEnd(p)) {
			return
		}
		phase, code := corev1.PodSucceeded, int32(0)
		if k.o.LauncherPhase != nil {
			if ph := k.o.LauncherPhase(p); ph != "" {
				phase = ph
			}
		}
		reason := "Completed"
		if phase == corev1.PodFailed {
			code, reason = 1, "Error"
		}
		p.Status.Phase = phase
		for i := range p.Status.Conditions {
			if t := p.Status.Conditions[i].Type; t == corev1.PodReady || t == corev1.ContainersReady {
				p.Status.Conditions[i].Status = corev1.ConditionFalse
				p.Status.Conditions[i].Reason = "PodCompleted"
				p.Status.Conditions[i].LastTransitionTime = now
			}
		}
		for i := range p.Status.ContainerStatuses {
			cs := &p.Status.ContainerStatuses[i]
			var started metav1.Time
			if cs.State.Running != nil {
				started = cs.State.Running.StartedAt
			}
			cs.Ready, cs.Started = false, ptrTo(false)
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: now}}
		}
		k.update(ctx, p)
	}
}

// update writes p's status; false when it did not (a conflict is retried on
// the next pass, a pod gone is not an error).
func (k *Kubelet) update(ctx context.Context, p *corev1.Pod) bool {
	_, err := k.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err == nil {
		return true
	}
	if ctx.Err() == nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		k.mu.Lock()
		k.errs = append(k.errs, fmt.Errorf("pod %s/%s status: %w", p.Namespace, p.Name, err))
		k.mu.Unlock()
	}
	return false
}

func ptrTo[T any](v T) *T { return &v }
