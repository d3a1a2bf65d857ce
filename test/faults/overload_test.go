//go:build faults

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

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

const (
	userName   = "alice"
	userToken  = "faults-alice-token-0123456789abcdef"
	jobsPath   = "/apis/kubeflow.org/v1alpha2/namespaces/" + namespace + "/mpijobs"
	burstSize  = 50   // concurrent requests in a burst, well over the limits
	maxBursts  = 5    // bursts tried until one shows a 429
	preloadN   = 2000 // objects that make a LIST take a while
	slowWrites = 1500 // creates while a watcher does not read
	slowBytes  = 6 * 1024
)

// tokenFile writes a --token-auth-file with one ordinary user: not in
// system:masters, which the max-in-flight filter never limits.
func tokenFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.csv")
	line := fmt.Sprintf("%s,%s,%s-uid,\"developers\"\n", userToken, userName, userName)
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// userConfig is the server's client config with the ordinary user's token.
func (s *server) userConfig() *rest.Config {
	cfg := rest.CopyConfig(s.config)
	cfg.BearerToken = userToken
	return cfg
}

// simpleJob is a valid MPIJob whose annotation carries size bytes.
func simpleJob(name string, size int) *v1alpha2.MPIJob {
	return &v1alpha2.MPIJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "kubeflow.org/v1alpha2", Kind: "MPIJob"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Annotations: map[string]string{payloadAnno: strings.Repeat("x", size)}},
		Spec: v1alpha2.MPIJobSpec{MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
			v1alpha2.MPIReplicaTypeLauncher: {Replicas: ptr(int32(1)), Template: template("launcher.example/" + name)},
			v1alpha2.MPIReplicaTypeWorker:   {Replicas: ptr(int32(2)), Template: template("worker.example/" + name)},
		}},
	}
}

func template(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "mpi", Image: image}}}}
}

// createMany creates names[i] with c from workers goroutines; every create
// must succeed. It returns each create's latency.
func createMany(t *testing.T, c clientset.Interface, names []string, size, workers int, onAck func(name string, at time.Time)) []time.Duration {
	t.Helper()
	lat := make([]time.Duration, len(names))
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(names) || failed.Load() > 0 {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
				begin := time.Now()
				_, err := c.KubeflowV1alpha2().MPIJobs(namespace).Create(ctx, simpleJob(names[i], size), metav1.CreateOptions{})
				cancel()
				lat[i] = time.Since(begin)
				if err != nil {
					failed.Add(1)
					t.Errorf("creating %s: %v", names[i], err)
					return
				}
				if onAck != nil {
					onAck(names[i], time.Now())
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	return lat
}

type reply struct {
	code       int
	retryAfter string
	body       []byte
	err        error
}

// burst sends n requests at once (made by mk) and returns the replies.
func burst(hc *http.Client, n int, mk func(i int) *http.Request) []reply {
	out := make([]reply, n)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := mk(i)
			<-gate
			resp, err := hc.Do(req)
			if err != nil {
				out[i].err = err
				return
			}
			defer resp.Body.Close()
			out[i].code = resp.StatusCode
			out[i].retryAfter = resp.Header.Get("Retry-After")
			out[i].body, out[i].err = io.ReadAll(resp.Body)
		}()
	}
	close(gate)
	wg.Wait()
	return out
}

// upstream429 is the body kube-apiserver's own max-in-flight and
// priority-and-fairness filters send with a 429 (k8s.io/apiserver
// pkg/server/filters, tooManyRequests: http.Error, text/plain).
const upstream429 = "Too many requests, please try again later.\n"

// check429 checks a refusal from the max-in-flight filter: a Retry-After of
// at least one second, and the body kube-apiserver sends (plain text) or a
// Status with reason TooManyRequests.
func check429(t *testing.T, what string, r reply) {
	t.Helper()
	if n, err := strconv.Atoi(r.retryAfter); err != nil || n < 1 {
		t.Errorf("%s: 429 with Retry-After %q, want a number of seconds ≥ 1", what, r.retryAfter)
	}
	if string(r.body) == upstream429 {
		return
	}
	var st metav1.Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Errorf("%s: the 429's body is neither kube-apiserver's %q nor a Status: %v: %s", what, upstream429, err, r.body)
		return
	}
	if st.Kind != "Status" || st.Code != http.StatusTooManyRequests || st.Reason != metav1.StatusReasonTooManyRequests {
		t.Errorf("%s: 429 Status kind %q code %d reason %q, want Status 429 TooManyRequests", what, st.Kind, st.Code, st.Reason)
	}
}

// clientGo429s sends n LISTs at once through the generated clientset's REST
// client with retries off (it would otherwise honour Retry-After and retry)
// and returns the errors; every error must be a TooManyRequests Status that
// suggests the Retry-After delay.
func clientGo429s(t *testing.T, c clientset.Interface, n int) (ok int, errs []error) {
	t.Helper()
	results := make([]error, n)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			results[i] = c.KubeflowV1alpha2().RESTClient().Get().Namespace(namespace).Resource("mpijobs").
				MaxRetries(0).Do(ctx).Error()
		}()
	}
	close(gate)
	wg.Wait()
	for _, err := range results {
		if err == nil {
			ok++
			continue
		}
		errs = append(errs, err)
		if !apierrors.IsTooManyRequests(err) {
			t.Errorf("client-go LIST: %v, want a TooManyRequests error", err)
			continue
		}
		if st := err.(apierrors.APIStatus).Status(); st.Reason != metav1.StatusReasonTooManyRequests || st.Code != http.StatusTooManyRequests {
			t.Errorf("client-go LIST: Status reason %q code %d", st.Reason, st.Code)
		}
		if d, ok := apierrors.SuggestsClientDelay(err); !ok || d < 1 {
			t.Errorf("client-go LIST: the error suggests no delay (%d, %v): the Retry-After was lost", d, ok)
		}
	}
	return ok, errs
}

func (s *server) request(method, path, token string, body []byte) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// TestOverloadMaxInFlight: an ordinary user sending 50 concurrent LISTs (of
// 2,000 objects) or creates to a server limited to 5 reads and 2 writes in
// flight gets 429s with Retry-After (the body kube-apiserver sends; through
// client-go a TooManyRequests Status error that suggests the delay), never a
// 5xx; the refused creates are not stored, the accepted ones are; the admin
// (system:masters) is never limited; the server stays healthy.
func TestOverloadMaxInFlight(t *testing.T) {
	srv := start(t, "--token-auth-file="+tokenFile(t),
		"--max-requests-inflight=5", "--max-mutating-requests-inflight=2")
	user, err := clientset.NewForConfig(srv.userConfig())
	if err != nil {
		t.Fatal(err)
	}

	names := make([]string, preloadN)
	for i := range names {
		names[i] = fmt.Sprintf("load-%05d", i)
	}
	begin := time.Now()
	createMany(t, srv.client, names, 1024, 16, nil) // the admin is not limited
	t.Logf("preloaded %d objects as the admin in %s", preloadN, time.Since(begin).Round(time.Millisecond))

	hc := srv.httpClient(burstSize)
	defer hc.CloseIdleConnections()

	// Reads.
	var listCodes map[int]int
	var list429 []reply
	for b := 0; b < maxBursts && len(list429) == 0; b++ {
		listCodes = map[int]int{}
		for _, r := range burst(hc, burstSize, func(int) *http.Request { return srv.request(http.MethodGet, jobsPath, userToken, nil) }) {
			if r.err != nil {
				t.Fatalf("LIST as %s: no answer: %v", userName, r.err)
			}
			listCodes[r.code]++
			switch r.code {
			case http.StatusOK:
			case http.StatusTooManyRequests:
				list429 = append(list429, r)
			default:
				t.Errorf("LIST as %s: %d, want 200 or 429: %s", userName, r.code, r.body)
			}
		}
		t.Logf("burst of %d LISTs as %s: %v", burstSize, userName, listCodes)
	}
	if len(list429) == 0 {
		t.Fatalf("%d bursts of %d LISTs over --max-requests-inflight=5 got no 429", maxBursts, burstSize)
	}
	for _, r := range list429 {
		check429(t, "LIST", r)
	}

	// The same through client-go: a TooManyRequests Status error.
	var goErrs []error
	goOK := 0
	for b := 0; b < maxBursts && len(goErrs) == 0; b++ {
		goOK, goErrs = clientGo429s(t, user, burstSize)
	}
	if len(goErrs) == 0 {
		t.Fatalf("%d bursts of %d client-go LISTs got no 429", maxBursts, burstSize)
	}
	t.Logf("burst of %d client-go LISTs as %s: %d ok, %d errors, e.g. %v (reason %s)", burstSize, userName, goOK, len(goErrs),
		goErrs[0], apierrors.ReasonForError(goErrs[0]))

	// Writes: each create is a new name; a 429 must leave nothing stored.
	created, refused := map[string]bool{}, map[string]bool{}
	for b := 0; b < maxBursts && len(refused) == 0; b++ {
		codes := map[int]int{}
		bnames := make([]string, burstSize)
		replies := burst(hc, burstSize, func(i int) *http.Request {
			bnames[i] = fmt.Sprintf("burst-%d-%02d", b, i)
			body, _ := json.Marshal(simpleJob(bnames[i], 1024))
			return srv.request(http.MethodPost, jobsPath, userToken, body)
		})
		for i, r := range replies {
			if r.err != nil {
				t.Fatalf("create as %s: no answer: %v", userName, r.err)
			}
			codes[r.code]++
			switch r.code {
			case http.StatusCreated:
				created[bnames[i]] = true
			case http.StatusTooManyRequests:
				refused[bnames[i]] = true
				check429(t, "create", r)
			default:
				t.Errorf("create as %s: %d, want 201 or 429: %s", userName, r.code, r.body)
			}
		}
		t.Logf("burst of %d creates as %s: %v", burstSize, userName, codes)
	}
	if len(refused) == 0 {
		t.Fatalf("%d bursts of %d creates over --max-mutating-requests-inflight=2 got no 429", maxBursts, burstSize)
	}

	// The admin is exempt: the same burst of LISTs is all 200.
	adminCodes := map[int]int{}
	for _, r := range burst(hc, burstSize, func(int) *http.Request {
		return srv.request(http.MethodGet, jobsPath, srv.config.BearerToken, nil)
	}) {
		if r.err != nil {
			t.Fatalf("LIST as the admin: %v", r.err)
		}
		adminCodes[r.code]++
	}
	t.Logf("burst of %d LISTs as the admin (system:masters): %v", burstSize, adminCodes)
	if adminCodes[http.StatusOK] != burstSize {
		t.Errorf("admin LISTs: %v, want all %d 200 (system:masters is exempt)", adminCodes, burstSize)
	}

	// Healthy afterwards: /readyz, and the user's next request is served.
	recoverStart := time.Now()
	var recovered time.Duration
	for {
		resp, err := hc.Do(srv.request(http.MethodGet, jobsPath+"?limit=1", userToken, nil))
		if err != nil {
			t.Fatalf("LIST after the bursts: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			recovered = time.Since(recoverStart)
			break
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Since(recoverStart) > 10*time.Second {
			t.Fatalf("LIST after the bursts: %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := hc.Do(srv.request(http.MethodGet, "/readyz", userToken, nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz after the bursts: %d", resp.StatusCode)
	}

	stored := map[string]bool{}
	for _, o := range listAll(t, srv.client) {
		stored[o.Name] = true
	}
	for name := range created {
		if !stored[name] {
			t.Errorf("LOST: %s got a 201 but is not stored", name)
		}
	}
	for name := range refused {
		if stored[name] {
			t.Errorf("%s got a 429 but is stored", name)
		}
	}
	t.Logf("SUMMARY overload: LIST 429s %d (last burst %v); creates %d acknowledged (lost: 0), %d refused with 429 (stored: 0); 5xx: 0; admin burst %v; first 200 after the bursts in %s",
		len(list429), listCodes, len(created), len(refused), adminCodes, recovered.Round(time.Millisecond))
}

// TestSlowWatchReader: a watcher that never reads (a 4 KiB socket receive
// buffer, nothing consumed) while 1,500 objects of ~7 KiB are created must
// not stall the writers or another watcher: every create succeeds within a
// bound, and the reading watcher sees every ADDED event, in order, once,
// within a bound of its create.
func TestSlowWatchReader(t *testing.T) {
	srv := start(t, "--token-auth-file="+tokenFile(t))
	user, err := clientset.NewForConfig(srv.userConfig())
	if err != nil {
		t.Fatal(err)
	}

	// The slow watcher: its own HTTP/1.1 connection with a tiny receive
	// buffer; after the response headers it reads nothing.
	slowTransport := &http.Transport{
		TLSClientConfig: srv.httpClient(1).Transport.(*http.Transport).TLSClientConfig,
		DialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			}); err != nil {
				return err
			}
			return serr
		}}).DialContext,
	}
	defer slowTransport.CloseIdleConnections()
	slowCtx, slowCancel := context.WithCancel(context.Background())
	defer slowCancel()
	slowReq := srv.request(http.MethodGet, jobsPath+"?watch=true", userToken, nil).WithContext(slowCtx)
	slowResp, err := (&http.Client{Transport: slowTransport}).Do(slowReq)
	if err != nil {
		t.Fatalf("opening the slow watch: %v", err)
	}
	defer slowResp.Body.Close()
	if slowResp.StatusCode != http.StatusOK {
		t.Fatalf("slow watch: %d", slowResp.StatusCode)
	}

	// The reading watcher.
	watchCtx, watchCancel := context.WithCancel(context.Background())
	defer watchCancel()
	w, err := user.KubeflowV1alpha2().MPIJobs(namespace).Watch(watchCtx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("opening the watch: %v", err)
	}
	defer w.Stop()
	var (
		mu      sync.Mutex
		seen    = map[string]time.Time{}
		acked   = map[string]time.Time{}
		dups    int
		order   int // events whose resourceVersion is not above the previous one
		lastRV  int64
		others  []string
		allSeen = make(chan struct{})
	)
	// The server may end any watch (here, on a starved machine, it has
	// closed even the reading watcher as too slow); a client resumes from the
	// last resourceVersion it saw, as informers do. What must hold is that
	// the resumed stream misses nothing and repeats nothing.
	resumed := 0
	go func() {
		current := w
		for {
			for ev := range current.ResultChan() {
				now := time.Now()
				job, ok := ev.Object.(*v1alpha2.MPIJob)
				mu.Lock()
				if ev.Type != watch.Added || !ok {
					others = append(others, fmt.Sprintf("%s %T", ev.Type, ev.Object))
					mu.Unlock()
					continue
				}
				if _, dup := seen[job.Name]; dup {
					dups++
				}
				seen[job.Name] = now
				rv, _ := strconv.ParseInt(job.ResourceVersion, 10, 64)
				if rv <= lastRV {
					order++
				}
				lastRV = rv
				if len(seen) == slowWrites {
					close(allSeen)
				}
				mu.Unlock()
			}
			mu.Lock()
			from, finished := lastRV, len(seen) == slowWrites
			if !finished {
				resumed++
			}
			mu.Unlock()
			if finished || watchCtx.Err() != nil {
				return
			}
			next, err := user.KubeflowV1alpha2().MPIJobs(namespace).Watch(watchCtx,
				metav1.ListOptions{ResourceVersion: strconv.FormatInt(from, 10)})
			if err != nil {
				mu.Lock()
				others = append(others, "resuming the watch: "+err.Error())
				mu.Unlock()
				return
			}
			defer next.Stop()
			current = next
		}
	}()

	names := make([]string, slowWrites)
	for i := range names {
		names[i] = fmt.Sprintf("slow-%05d", i)
	}
	begin := time.Now()
	lat := createMany(t, user, names, slowBytes, 8, func(name string, at time.Time) {
		mu.Lock()
		acked[name] = at
		mu.Unlock()
	})
	writeTime := time.Since(begin)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	maxLat, p99 := lat[len(lat)-1], lat[len(lat)*99/100]
	if maxLat > 10*time.Second {
		t.Errorf("slowest create took %s while a watcher did not read (want < 10s)", maxLat)
	}

	select {
	case <-allSeen:
	case <-time.After(30 * time.Second):
	}
	watchCancel()
	mu.Lock()
	missed := 0
	var maxLag time.Duration
	for _, name := range names {
		at, ok := seen[name]
		if !ok {
			missed++
			continue
		}
		if lag := at.Sub(acked[name]); lag > maxLag {
			maxLag = lag
		}
	}
	gotDups, gotOrder, gotOthers := dups, order, others
	mu.Unlock()
	if missed > 0 || gotDups > 0 || gotOrder > 0 || len(gotOthers) > 0 {
		t.Errorf("the reading watcher: %d of %d ADDED events missed, %d duplicates, %d out of order, other events %v",
			missed, slowWrites, gotDups, gotOrder, gotOthers)
	}
	if maxLag > 10*time.Second {
		t.Errorf("the reading watcher saw an event %s after its create was acknowledged (want < 10s)", maxLag)
	}

	// What the slow watcher got: read it now, for at most 20 s.
	slowEvents, slowEnded := 0, false
	timer := time.AfterFunc(20*time.Second, slowCancel)
	dec := json.NewDecoder(slowResp.Body)
	for {
		var ev metav1.WatchEvent
		if err := dec.Decode(&ev); err != nil {
			slowEnded = err == io.EOF || strings.Contains(err.Error(), "unexpected EOF")
			break
		}
		slowEvents++
		if slowEvents == slowWrites {
			break
		}
	}
	timer.Stop()
	slowFate := "it was still open with every event"
	if slowEvents < slowWrites {
		slowFate = fmt.Sprintf("the server had closed it after %d of %d events (ended=%v)", slowEvents, slowWrites, slowEnded)
	}
	t.Logf("the reading watcher resumed %d times after the server ended its watch", resumed)
	t.Logf("SUMMARY slow watch: %d creates of %d KiB in %s, all acknowledged (lost: 0), p99 %s, max %s; reading watcher: %d events, missed %d, max lag from ack %s; slow watcher: %s",
		slowWrites, slowBytes/1024, writeTime.Round(time.Millisecond), p99.Round(time.Millisecond), maxLat.Round(time.Millisecond),
		len(seen), missed, maxLag.Round(time.Millisecond), slowFate)
}
