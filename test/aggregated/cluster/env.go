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
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mpijob/mpijob-apiserver/test/harness"
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
	return harness.Poll(ctx, "/openapi/v3 lists "+path, c.APIServer, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		r, err := harness.Send(ctx, hc, harness.Request{URL: c.URL + "/openapi/v3"})
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

// StatusOf is the metav1.Status of an API error (nil when err is not one).
func StatusOf(err error) *metav1.Status {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		st := s.Status()
		return &st
	}
	return nil
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
