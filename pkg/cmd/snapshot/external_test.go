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

package snapshot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestSaveExternalEtcdOverTLS saves an external etcd that demands client
// certificates through --etcd-servers and the TLS flags; a dead endpoint
// listed first is skipped, and without a client certificate the save fails.
func TestSaveExternalEtcdOverTLS(t *testing.T) {
	pki, err := harness.NewEtcdPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	etcd := harness.StartEtcdForTest(t, harness.EtcdOptions{TLS: pki})
	endpoint := etcd.URL
	c := harness.EtcdClientForTest(t, etcd)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 50; i++ {
		if _, err := c.Put(ctx, fmt.Sprintf("/registry/k%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Delete(ctx, "/registry/k0"); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(t.TempDir(), "external.db")
	dead := "https://127.0.0.1:" + strconv.Itoa(harness.FreePortForTest(t))
	out, err := run(t, "snapshot", "save", "--etcd-servers", dead+","+endpoint, "--dial-timeout", "2s",
		"--etcd-cafile", pki.CA.CertFile, "--etcd-certfile", pki.Client.CertFile, "--etcd-keyfile", pki.Client.KeyFile, file)
	if err != nil {
		t.Fatalf("snapshot save: %v", err)
	}
	if !strings.Contains(out, " 49 keys, ") {
		t.Errorf("save should report the 49 live keys: %q", out)
	}

	_, err = run(t, "snapshot", "save", "--etcd-servers", endpoint, "--dial-timeout", "2s",
		"--etcd-cafile", pki.CA.CertFile, filepath.Join(t.TempDir(), "nocert.db"))
	if err == nil || !strings.Contains(err.Error(), "saving a snapshot to") {
		t.Errorf("save without a client certificate: err %v, want a clean failure", err)
	}
	_, err = run(t, "snapshot", "save", "--etcd-servers", endpoint, "--data-dir", "x", file)
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("save with --data-dir and --etcd-servers: err %v, want a refusal", err)
	}
}

// TestRestoreBumpRevision: after --bump-revision, a client holding a
// resourceVersion the old server gave after the snapshot gets 410 Gone, not
// a wait for a revision the restored etcd may never reach.
func TestRestoreBumpRevision(t *testing.T) {
	s := inprocess.Start(t)
	ctx := context.Background()
	jobs := s.Client.KubeflowV1alpha2().MPIJobs(namespace)
	if _, err := jobs.Create(ctx, job("kept", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "backup.db")
	if _, err := run(t, "snapshot", "save", "--data-dir", s.DataDir, file); err != nil {
		t.Fatal(err)
	}
	later, err := jobs.Create(ctx, job("later", 2), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()

	dir := filepath.Join(inprocess.NewDataDir(t), "restored")
	const bump = 1000000
	if _, err := run(t, "snapshot", "restore", file, "--data-dir", dir, "--bump-revision", strconv.Itoa(bump)); err != nil {
		t.Fatal(err)
	}
	s2 := inprocess.StartOn(t, dir)
	jobs2 := s2.Client.KubeflowV1alpha2().MPIJobs(namespace)
	list, err := jobs2.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "kept" {
		t.Fatalf("restored objects = %v, want only kept", list.Items)
	}
	if rv, _ := strconv.ParseInt(list.ResourceVersion, 10, 64); rv < bump {
		t.Errorf("list resourceVersion %s after --bump-revision %d", list.ResourceVersion, bump)
	}

	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	w, err := jobs2.Watch(wctx, metav1.ListOptions{ResourceVersion: later.ResourceVersion})
	if err != nil {
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Fatalf("watch from the old server's resourceVersion %s: %v, want 410 Gone", later.ResourceVersion, err)
		}
		return
	}
	defer w.Stop()
	select {
	case ev, ok := <-w.ResultChan():
		st, isStatus := ev.Object.(*metav1.Status)
		if !ok || ev.Type != watch.Error || !isStatus || st.Code != 410 {
			t.Errorf("watch from the old server's resourceVersion %s: first event %v %#v, want a 410 Gone error", later.ResourceVersion, ev.Type, ev.Object)
		}
	case <-wctx.Done():
		t.Errorf("watch from the old server's resourceVersion %s: no event in 20s, want 410 Gone", later.ResourceVersion)
	}
}
