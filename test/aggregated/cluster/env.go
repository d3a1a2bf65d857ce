package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// EnvOptions tune StartEnvForTest.
type EnvOptions struct {
	Cluster Options
	Server  ServerOptions
	// Controllers, when not empty, starts kube-controller-manager with these
	// controllers after the APIService is Available.
	Controllers []string
}

// Env is a cluster with the shipped RBAC of artifacts/deploy applied (the
// server's identity and the mpijob-view/edit/admin roles) and our server
// registered and Available: what several tests share.
type Env struct {
	*Cluster
	Server *Server
}

// StartEnvForTest starts a cluster, applies the RBAC objects of
// artifacts/deploy (ApplyDeployRBAC), starts our server behind it and, with
// o.Controllers, kube-controller-manager. Everything stops when t ends.
func StartEnvForTest(t testing.TB, o EnvOptions) *Env {
	t.Helper()
	c := StartForTest(t, o.Cluster)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := c.ApplyDeployRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	s := c.StartServerForTest(t, o.Server)
	// The APIService turns Available before kube-apiserver has merged the
	// server's OpenAPI (about a second later); until then kubectl explain
	// finds no mpijobs and kubectl falls back to client-side validation.
	if err := c.WaitOpenAPIV3(ctx); err != nil {
		t.Fatal(err)
	}
	if len(o.Controllers) > 0 {
		if err := c.StartControllerManager(ctx, o.Controllers...); err != nil {
			t.Fatal(err)
		}
	}
	return &Env{Cluster: c, Server: s}
}

// WaitOpenAPIV3 waits (up to APIServiceTimeout) until kube-apiserver's
// /openapi/v3 lists apis/kubeflow.org/v1alpha2.
func (c *Cluster) WaitOpenAPIV3(ctx context.Context) error {
	hc, err := c.HTTPClient(Admin)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, APIServiceTimeout)
	defer cancel()
	path := "apis/" + Group + "/" + Version
	return poll(ctx, "/openapi/v3 lists "+path, c.APIServer, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		r, err := Do(ctx, hc, http.MethodGet, c.URL+"/openapi/v3", "", "")
		if err != nil {
			return false, err
		}
		var doc struct {
			Paths map[string]json.RawMessage `json:"paths"`
		}
		if r.Code != http.StatusOK || json.Unmarshal(r.Body, &doc) != nil {
			return false, fmt.Errorf("GET /openapi/v3: %s", r)
		}
		_, ok := doc.Paths[path]
		return ok, nil
	})
}

// UsersWith is DefaultUsers plus token users with these names (token
// "token-<name>", no groups), for Options.Users.
func UsersWith(names ...string) []User {
	users := DefaultUsers()
	for _, n := range names {
		users = append(users, User{Name: n, UID: "uid-" + n, Token: "token-" + n})
	}
	return users
}

// NewMPIJob is a small valid MPIJob: one launcher, workers workers, one
// container each.
func NewMPIJob(namespace, name string, workers int32) *v1alpha2.MPIJob {
	one := int32(1)
	container := func(image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "mpi", Image: image}}}}
	}
	return &v1alpha2.MPIJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "kubeflow.org/v1alpha2", Kind: "MPIJob"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha2.MPIJobSpec{
			SlotsPerWorker: &one,
			MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
				v1alpha2.MPIReplicaTypeLauncher: {Replicas: &one, Template: container("mpi-launcher:1")},
				v1alpha2.MPIReplicaTypeWorker:   {Replicas: &workers, Template: container("mpi-worker:1")},
			},
		},
	}
}

// MPIJobJSON is NewMPIJob as JSON, for kubectl -f - and raw requests,
// without the empty status that encoding the type gives (a user's manifest
// has none).
func MPIJobJSON(namespace, name string, workers int32) string {
	data, err := json.Marshal(NewMPIJob(namespace, name, workers))
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		panic(err)
	}
	delete(m, "status")
	delete(m["metadata"].(map[string]any), "creationTimestamp")
	if data, err = json.Marshal(m); err != nil {
		panic(err)
	}
	return string(data)
}

// StatusOf is the metav1.Status of an API error (nil when err is not one).
func StatusOf(err error) *metav1.Status {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		st := s.Status()
		return &st
	}
	return nil
}

// Response is what a raw HTTP request got back.
type Response struct {
	Code int
	Body []byte
	// Status is the body decoded as a metav1.Status when its kind is Status.
	Status *metav1.Status
}

// String is the code and the body, for messages.
func (r Response) String() string {
	return fmt.Sprintf("%d %s", r.Code, strings.TrimSpace(string(r.Body)))
}

// Do sends method url with body (JSON unless contentType says otherwise) and
// headers (pairs of name, value) and reads the whole answer.
func Do(ctx context.Context, hc *http.Client, method, url, contentType, body string, headers ...string) (Response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Response{}, err
	}
	if body != "" {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	r := Response{Code: resp.StatusCode, Body: data}
	var probe struct{ Kind string }
	if json.Unmarshal(data, &probe) == nil && probe.Kind == "Status" {
		var st metav1.Status
		if json.Unmarshal(data, &st) == nil {
			r.Status = &st
		}
	}
	return r, nil
}

// WaitGone waits (up to timeout) until get returns NotFound.
func WaitGone(ctx context.Context, timeout time.Duration, get func(context.Context) error) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = get(ctx)
		return apierrors.IsNotFound(last), nil
	})
	if err != nil {
		return fmt.Errorf("still there after %s (last: %v)", timeout, last)
	}
	return nil
}

// KubectlResult is what one kubectl run printed and how it exited.
type KubectlResult struct {
	Stdout, Stderr string
	// ExitCode is kubectl's exit status; -1 when it did not run or was
	// killed (Err says why).
	ExitCode int
	Err      error
}

// String is the exit code and both outputs, for messages.
func (r KubectlResult) String() string {
	return fmt.Sprintf("exit %d (%v)\nstdout:\n%s\nstderr:\n%s", r.ExitCode, r.Err, r.Stdout, r.Stderr)
}

// RunKubectl runs kubectl as user (within KubectlTimeout) with stdin (none
// when empty) and returns its outputs and exit code; a non-zero exit is not
// an error here, the caller checks ExitCode.
func (c *Cluster) RunKubectl(ctx context.Context, user, stdin string, args ...string) KubectlResult {
	ctx, cancel := context.WithTimeout(ctx, KubectlTimeout)
	defer cancel()
	cmd := c.KubectlCmd(ctx, user, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := KubectlResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		r.ExitCode = exit.ExitCode()
	default:
		r.ExitCode = -1
	}
	return r
}

// ParseTable splits what kubectl get prints as a table into rows of cells
// keyed by column header, using the header's column offsets (so empty cells
// stay empty), and returns the headers in order.
func ParseTable(out string) (headers []string, rows []map[string]string) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return nil, nil
	}
	header := lines[0]
	var starts []int
	for i := 0; i < len(header); i++ {
		if header[i] != ' ' && (i == 0 || (header[i-1] == ' ' && (i < 2 || header[i-2] == ' '))) {
			starts = append(starts, i)
		}
	}
	cell := func(line string, k int) string {
		from := starts[k]
		if from >= len(line) {
			return ""
		}
		to := len(line)
		if k+1 < len(starts) && starts[k+1] < to {
			to = starts[k+1]
		}
		return strings.TrimSpace(line[from:to])
	}
	for k := range starts {
		headers = append(headers, cell(header, k))
	}
	for _, l := range lines[1:] {
		row := map[string]string{}
		for k, h := range headers {
			row[h] = cell(l, k)
		}
		rows = append(rows, row)
	}
	return headers, rows
}
