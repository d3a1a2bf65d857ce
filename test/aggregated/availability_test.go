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

package aggregated

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// Bounds of TestAvailability, from the issue.
const (
	// availabilityTimeout: the aggregator re-checks an APIService every
	// 30 s when nothing about it changes.
	availabilityTimeout = 90 * time.Second
	// discoveryBound: discovery and /readyz answer within 5 s while etcd is
	// down (the aggregator marks a slow APIService unavailable).
	discoveryBound = 5 * time.Second
	// availabilityRequestTimeout is the server's --request-timeout here; a
	// request that needs etcd must fail within it (plus slack) rather than
	// hang.
	availabilityRequestTimeout = 10 * time.Second
	requestSlack               = 5 * time.Second
)

// TestAvailability: what a cluster sees when our server or its etcd goes
// away, and that both come back.
//   - server stopped: kube-apiserver answers MPIJob requests with 503 at once,
//     reports the APIService Available=False within availabilityTimeout, and
//     kubectl get mpijobs fails saying the server is unavailable; started
//     again (same port, same etcd), the APIService is Available and the
//     MPIJob created before is listed.
//   - our etcd stopped, the server running: its /readyz fails (etcd) within
//     5 s while /livez?exclude=etcd stays ok; discovery through
//     kube-apiserver (kubectl api-resources, GET /apis/kubeflow.org/v1alpha2)
//     answers within 5 s; a list through kube-apiserver is a 5xx Status within
//     --request-timeout (10 s) plus slack; the APIService stays Available.
//     etcd started again: lists work and /readyz is ok without restarting the
//     server.
func TestAvailability(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := c.ApplyDeployRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	// The library probes etcd with a 2 s timeout for each of /readyz's two
	// etcd checks, which puts the default detection right at the 5 s bound
	// (5.04 s measured on a loaded machine); a deployment that needs the
	// bound sets the probe timeouts lower, as here.
	s := c.StartServerForTest(t, cluster.ServerOptions{ExtraArgs: []string{
		"--request-timeout=" + availabilityRequestTimeout.String(),
		"--etcd-healthcheck-timeout=1s", "--etcd-readycheck-timeout=1s",
	}})
	const ns, name = "avail", "job-avail"
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(ctx, "alice", "mpijob-view", ns); err != nil {
		t.Fatal(err)
	}
	mc, err := c.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.KubeflowV1alpha2().MPIJobs(ns).Create(ctx, testMPIJob(ns, name), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	admin, err := c.HTTPClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	admin.Timeout = 2 * time.Minute // the test measures; the bound is the server's
	alice, err := c.HTTPClient("alice")
	if err != nil {
		t.Fatal(err)
	}
	alice.Timeout = 2 * time.Minute
	frontList := c.URL + "/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs"
	kubectlList := func() harness.KubectlResult {
		return c.Kubectl("alice").Run(ctx, "", "get", "mpijobs", "-n", ns, "-o", "name")
	}
	if r := kubectlList(); r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/"+name {
		t.Fatalf("kubectl get mpijobs before anything stops: %s", r)
	}

	t.Run("server stopped", func(t *testing.T) {
		stopped := time.Now()
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		t.Logf("server stopped in %s", time.Since(stopped).Round(time.Millisecond))

		// The proxy fails at once, before the availability check notices
		// (kube-apiserver's proxy answers in plain text, not a Status).
		r := directDo(t, ctx, admin, http.MethodGet, frontList, nil)
		if r.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s through kube-apiserver with the server just stopped: %s, want 503", frontList, r)
		} else {
			t.Logf("GET through kube-apiserver with the server just stopped: %s", r)
		}

		wctx, wcancel := context.WithTimeout(ctx, availabilityTimeout)
		err := c.WaitAPIService(wctx, false, nil)
		wcancel()
		if err != nil {
			t.Fatalf("APIService not Available=False within %s of the stop: %v", availabilityTimeout, err)
		}
		cond, _ := c.APIServiceAvailable(ctx)
		t.Logf("APIService Available=False %s after the stop: %s: %s", time.Since(stopped).Round(time.Millisecond), cond.Reason, cond.Message)

		r = directDo(t, ctx, admin, http.MethodGet, frontList, nil)
		if r.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s through kube-apiserver with the APIService unavailable: %s, want 503", frontList, r)
		} else {
			t.Logf("GET through kube-apiserver with the APIService unavailable: %s", r)
		}
		kr := kubectlList()
		if kr.ExitCode == 0 {
			t.Errorf("kubectl get mpijobs with the APIService unavailable succeeded:\n%s", kr.Stdout)
		} else if !strings.Contains(kr.Stderr, "ServiceUnavailable") && !strings.Contains(kr.Stderr, "503") {
			t.Errorf("kubectl get mpijobs with the APIService unavailable: %s\nwant an error that says the service is unavailable (503)", kr)
		} else {
			t.Logf("kubectl get mpijobs with the server stopped: %s", strings.TrimSpace(kr.Stderr))
		}

		restarted := time.Now()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(restarted); took > availabilityTimeout {
			t.Errorf("APIService Available again only %s after the restart, want within %s", took, availabilityTimeout)
		} else {
			t.Logf("server ready and APIService Available=True %s after the restart", took.Round(time.Millisecond))
		}
		if r := kubectlList(); r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/"+name {
			t.Errorf("kubectl get mpijobs after the restart: %s", r)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("etcd stopped", func(t *testing.T) {
		pid := s.Pid()
		plain := directClient(t, s, harness.KeyPair{})
		plain.Timeout = 30 * time.Second
		if r := directDo(t, ctx, plain, http.MethodGet, s.URL+"/readyz", nil); r.Code != http.StatusOK {
			t.Fatalf("/readyz before etcd stops: %s", r)
		}
		// Killed, so that the outage starts at a known moment (a SIGTERM
		// leaves etcd draining for seconds).
		if err := s.Etcd.Kill(); err != nil {
			t.Fatal(err)
		}
		stopped := time.Now()

		// /readyz fails, naming etcd, within 5 s.
		var readyz directResult
		for {
			r, err := directTry(ctx, plain, http.MethodGet, s.URL+"/readyz?verbose", nil)
			if err == nil && r.Code != http.StatusOK {
				readyz = r
				break
			}
			if time.Since(stopped) > 2*discoveryBound {
				t.Fatalf("/readyz still %s (%v) %s after etcd stopped", r, err, time.Since(stopped))
			}
			time.Sleep(100 * time.Millisecond)
		}
		took := time.Since(stopped)
		t.Logf("/readyz %d %s after etcd stopped: %s", readyz.Code, took.Round(time.Millisecond), failedLines(string(readyz.Body)))
		if took > discoveryBound {
			t.Errorf("/readyz failed only %s after etcd stopped, want within %s", took, discoveryBound)
		}
		if readyz.Code != http.StatusInternalServerError || !strings.Contains(failedLines(string(readyz.Body)), "etcd") {
			t.Errorf("/readyz with etcd down: %s, want 500 with a failed etcd check", readyz)
		}
		if r := directDo(t, ctx, plain, http.MethodGet, s.URL+"/livez?exclude=etcd", nil); r.Code != http.StatusOK || string(r.Body) != "ok" {
			t.Errorf("/livez?exclude=etcd with etcd down: %s, want 200 ok", r)
		}
		r := directDo(t, ctx, plain, http.MethodGet, s.URL+"/livez?verbose", nil)
		t.Logf("/livez with etcd down: %d in %s: %s", r.Code, r.Elapsed.Round(time.Millisecond), failedLines(string(r.Body)))

		// Discovery through kube-apiserver, as kubectl and controllers do it.
		begin := time.Now()
		kr := c.Kubectl("alice").Run(ctx, "", "api-resources", "--api-group=kubeflow.org", "-o", "name")
		took = time.Since(begin)
		t.Logf("kubectl api-resources --api-group=kubeflow.org with etcd down: %s", took.Round(time.Millisecond))
		if kr.ExitCode != 0 || strings.TrimSpace(kr.Stdout) != "mpijobs.kubeflow.org" {
			t.Errorf("kubectl api-resources --api-group=kubeflow.org with etcd down: %s", kr)
		}
		if took > discoveryBound {
			t.Errorf("kubectl api-resources took %s with etcd down, want within %s", took, discoveryBound)
		}
		r = directDo(t, ctx, alice, http.MethodGet, c.URL+"/apis/kubeflow.org/v1alpha2", nil)
		t.Logf("GET /apis/kubeflow.org/v1alpha2 through kube-apiserver with etcd down: %d in %s", r.Code, r.Elapsed.Round(time.Millisecond))
		var resources metav1.APIResourceList
		if r.Code != http.StatusOK || json.Unmarshal(r.Body, &resources) != nil || len(resources.APIResources) == 0 ||
			resources.APIResources[0].Name != "mpijobs" {
			t.Errorf("GET /apis/kubeflow.org/v1alpha2 through kube-apiserver with etcd down: %s, want the APIResourceList", r)
		}
		if r.Elapsed > discoveryBound {
			t.Errorf("GET /apis/kubeflow.org/v1alpha2 took %s with etcd down, want within %s", r.Elapsed, discoveryBound)
		}

		// A list needs etcd: it must fail with a 5xx Status within the
		// request timeout, not hang. Several at once (as alice and as admin,
		// and kubectl as alice), so that the test sees several rolls of the
		// race below (each lost about one time in three here) and takes no
		// longer.
		//
		// (k8s.io/apiserver's timeout filter encodes its Status without kind
		// and apiVersion, as kube-apiserver's own does; code, reason and
		// message are what a client reads.)
		type attempt struct {
			who string
			r   directResult
			err error
		}
		attempts := make(chan attempt)
		clients := []struct {
			who string
			hc  *http.Client
		}{
			{"admin", admin}, {"alice", alice}, {"admin", admin}, {"alice", alice},
			{"admin", admin}, {"alice", alice}, {"admin", admin}, {"alice", alice},
		}
		for _, cl := range clients {
			go func() {
				r, err := directTry(ctx, cl.hc, http.MethodGet, frontList, nil)
				attempts <- attempt{cl.who, r, err}
			}()
		}
		var kubectlRes harness.KubectlResult
		var kubectlTook time.Duration
		kubectlDone := make(chan struct{})
		go func() {
			defer close(kubectlDone)
			begin := time.Now()
			kubectlRes = kubectlList()
			kubectlTook = time.Since(begin)
		}()
		var results []attempt
		for range clients {
			results = append(results, <-attempts)
		}
		<-kubectlDone
		for _, a := range results {
			t.Logf("list through kube-apiserver as %s with etcd down: %s in %s (%v)", a.who, a.r, a.r.Elapsed.Round(time.Millisecond), a.err)
		}
		t.Logf("kubectl get mpijobs as alice with etcd down: exit %d in %s: %s", kubectlRes.ExitCode, kubectlTook.Round(time.Millisecond),
			strings.TrimSpace(kubectlRes.Stderr))

		t.Run("list fails within the request timeout", func(t *testing.T) {
			for _, a := range results {
				if a.err != nil || a.r.Code < 500 {
					t.Errorf("list through kube-apiserver as %s with etcd down: %s (%v), want a 5xx", a.who, a.r, a.err)
				}
				if a.r.Elapsed > availabilityRequestTimeout+requestSlack {
					t.Errorf("list through kube-apiserver as %s took %s with etcd down, want within --request-timeout=%s + %s",
						a.who, a.r.Elapsed, availabilityRequestTimeout, requestSlack)
				}
			}
			if kubectlRes.ExitCode == 0 {
				t.Errorf("kubectl get mpijobs with etcd down succeeded:\n%s", kubectlRes.Stdout)
			}
			if kubectlTook > availabilityRequestTimeout+requestSlack {
				t.Errorf("kubectl get mpijobs took %s with etcd down, want within --request-timeout=%s + %s", kubectlTook,
					availabilityRequestTimeout, requestSlack)
			}
		})
		// The answer must be a Status (code, reason, message), as the
		// server's own timeout answer is. When the list handler's own error
		// (the etcd call ends at the very request deadline) and
		// k8s.io/apiserver's timeout filter race, the filter resets the
		// HTTP/2 stream instead (pkg/server/filters/timeout.go,
		// baseTimeoutWriter.timeout: panic(http.ErrAbortHandler) once the
		// handler has written its header), and kube-apiserver answers a
		// plain-text 503 "error trying to reach service: stream error ...
		// INTERNAL_ERROR", which kubectl shows as "the server is currently
		// unable to handle the request".
		t.Run("list failure is a Status", func(t *testing.T) {
			for _, a := range results {
				var st metav1.Status
				if a.err != nil || a.r.Code < 500 || json.Unmarshal(a.r.Body, &st) != nil || st.Status != metav1.StatusFailure ||
					int(st.Code) != a.r.Code || st.Reason == "" || st.Message == "" {
					t.Errorf("list through kube-apiserver as %s with etcd down: %s (%v), want a 5xx Status", a.who, a.r, a.err)
				}
			}
			if kubectlRes.ExitCode != 0 && strings.Contains(kubectlRes.Stderr, "ServiceUnavailable") {
				t.Errorf("kubectl get mpijobs with etcd down: %s\nwant the server's timeout, not the aggregator's unavailable-service error", kubectlRes)
			}
		})

		// The outage did not make the APIService unavailable.
		if cond, err := c.APIServiceAvailable(ctx); err != nil || cond == nil || cond.Status != "True" {
			t.Errorf("APIService with our etcd down for %s: %+v (%v), want Available=True", time.Since(stopped).Round(time.Second), cond, err)
		}

		// etcd back: the same server process serves again.
		restarted := time.Now()
		if err := s.Etcd.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		var last directResult
		for {
			r, err := directTry(ctx, admin, http.MethodGet, frontList, nil)
			if err == nil && r.Code == http.StatusOK {
				break
			}
			last = r
			if time.Since(restarted) > time.Minute {
				t.Fatalf("list through kube-apiserver still %s (%v) a minute after etcd restarted", last, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("list through kube-apiserver works %s after etcd restarted", time.Since(restarted).Round(time.Millisecond))
		for {
			r := directDo(t, ctx, plain, http.MethodGet, s.URL+"/readyz", nil)
			if r.Code == http.StatusOK {
				break
			}
			if time.Since(restarted) > time.Minute {
				t.Fatalf("/readyz still %s a minute after etcd restarted", r)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("/readyz ok %s after etcd restarted", time.Since(restarted).Round(time.Millisecond))
		if r := kubectlList(); r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/"+name {
			t.Errorf("kubectl get mpijobs after etcd restarted: %s", r)
		}
		if exited, err := s.Exited(); exited || s.Pid() != pid {
			t.Errorf("the server restarted or exited (%v) while etcd was down: pid %d, was %d", err, s.Pid(), pid)
		}
	})
}

// failedLines keeps the [-] lines of a verbose health check.
func failedLines(body string) string {
	var failed []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "[-]") {
			failed = append(failed, l)
		}
	}
	return strings.Join(failed, "; ")
}
