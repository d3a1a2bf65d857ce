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
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
	"github.com/mpijob/mpijob-apiserver/pkg/embeddedetcd"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

const namespace = "backup"

// run runs the mpijob-apiserver command line in-process, as the binary would.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := server.NewCommand(context.Background(), &out)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.Execute()
	t.Logf("mpijob-apiserver %s:\n%s(err: %v)", strings.Join(args, " "), out.String(), err)
	return out.String(), err
}

// job is a valid MPIJob whose spec differs with i, so equal specs mean
// the object is this one.
func job(name string, i int) *v1alpha2.MPIJob {
	launcher := harness.ReplicaSpec(nil)
	launcher.Template.Spec.Containers[0].Args = []string{"mpirun", name}
	return &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"i": fmt.Sprint(i)}},
		Spec: v1alpha2.MPIJobSpec{
			SlotsPerWorker: ptr.To(int32(i%4 + 1)),
			MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
				v1alpha2.MPIReplicaTypeLauncher: launcher,
				v1alpha2.MPIReplicaTypeWorker:   harness.ReplicaSpec(ptr.To(int32(i%7 + 1))),
			},
		},
	}
}

// writerLog records what the writers sent and what the server acknowledged.
type writerLog struct {
	mu        sync.Mutex
	attempted map[string]bool
	acked     map[string]*v1alpha2.MPIJob // the created object the server returned
	errs      []error
}

func (l *writerLog) ackedNames() map[string]*v1alpha2.MPIJob {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := make(map[string]*v1alpha2.MPIJob, len(l.acked))
	for k, v := range l.acked {
		c[k] = v
	}
	return c
}

func writer(ctx context.Context, c clientset.Interface, id int, l *writerLog, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; ctx.Err() == nil; i++ {
		name := fmt.Sprintf("load-%d-%d", id, i)
		l.mu.Lock()
		l.attempted[name] = true
		l.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		got, err := c.KubeflowV1alpha2().MPIJobs(namespace).Create(rctx, job(name, i), metav1.CreateOptions{})
		cancel()
		l.mu.Lock()
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s: %w", name, err))
		} else {
			l.acked[name] = got
		}
		l.mu.Unlock()
	}
}

// TestSaveUnderWriteLoadAndRestore saves a snapshot while four writers create
// MPIJobs, restores it into a new data dir and starts a server there: every
// object acknowledged before the save started is there, with its uid and
// spec; objects acknowledged later may be; deleted ones and anything else
// are not.
func TestSaveUnderWriteLoadAndRestore(t *testing.T) {
	s := inprocess.Start(t)
	ctx := context.Background()
	jobs := s.Client.KubeflowV1alpha2().MPIJobs(namespace)

	// Objects created, half of them deleted, before the load.
	kept := map[string]*v1alpha2.MPIJob{}
	deleted := map[string]bool{}
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("pre-%d", i)
		got, err := jobs.Create(ctx, job(name, i), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := jobs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			deleted[name] = true
		} else {
			kept[name] = got
		}
	}

	log := &writerLog{attempted: map[string]bool{}, acked: map[string]*v1alpha2.MPIJob{}}
	wctx, stopWriters := context.WithCancel(ctx)
	defer stopWriters()
	var wg sync.WaitGroup
	for id := 0; id < 4; id++ {
		wg.Add(1)
		go writer(wctx, s.Client, id, log, &wg)
	}
	// Let the load build up.
	for deadline := time.Now().Add(60 * time.Second); len(log.ackedNames()) < 600; {
		if time.Now().After(deadline) {
			t.Fatalf("the writers got only %d creates acknowledged in 60s", len(log.ackedNames()))
		}
		time.Sleep(20 * time.Millisecond)
	}

	file := filepath.Join(t.TempDir(), "backup.db")
	before := log.ackedNames() // acknowledged before the save started
	saveStart := time.Now()
	out, err := run(t, "snapshot", "save", "--data-dir", s.DataDir, file)
	saveTime := time.Since(saveStart)
	if err != nil {
		t.Fatalf("snapshot save: %v", err)
	}
	if !strings.Contains(out, "revision ") || !strings.Contains(out, " keys, ") {
		t.Errorf("save printed no revision or key count: %q", out)
	}
	// Keep writing for a moment after the snapshot, then stop.
	afterSave := len(log.ackedNames())
	for deadline := time.Now().Add(10 * time.Second); len(log.ackedNames()) < afterSave+50 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	stopWriters()
	wg.Wait()
	all := log.ackedNames()
	for _, err := range log.errs {
		t.Errorf("create failed under load: %v", err)
	}
	s.Stop()
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("save left other files beside the snapshot: %v", entries)
	}

	dir := filepath.Join(inprocess.NewDataDir(t), "restored")
	restoreStart := time.Now()
	if _, err := run(t, "snapshot", "restore", file, "--data-dir", dir); err != nil {
		t.Fatalf("snapshot restore: %v", err)
	}
	restoreTime := time.Since(restoreStart)

	s2 := inprocess.StartOn(t, dir)
	list, err := s2.Client.KubeflowV1alpha2().MPIJobs("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	restored := map[string]*v1alpha2.MPIJob{}
	for i := range list.Items {
		o := &list.Items[i]
		restored[o.Namespace+"/"+o.Name] = o
	}
	want := func(name string, w *v1alpha2.MPIJob, must bool) {
		g, ok := restored[namespace+"/"+name]
		if !ok {
			if must {
				t.Errorf("%s was acknowledged before the snapshot but is missing after restore", name)
			}
			return
		}
		if g.UID != w.UID {
			t.Errorf("%s: uid %s after restore, %s before", name, g.UID, w.UID)
		}
		if d := cmp.Diff(w.Spec, g.Spec); d != "" {
			t.Errorf("%s: spec differs after restore (-before +after):\n%s", name, d)
		}
	}
	for name, w := range kept {
		want(name, w, true)
	}
	for name, w := range before {
		want(name, w, true)
	}
	afterPresent := 0
	for key := range restored {
		name := strings.TrimPrefix(key, namespace+"/")
		switch {
		case key == name:
			t.Errorf("%s: unexpected object in another namespace", key)
		case deleted[name]:
			t.Errorf("%s was deleted before the snapshot but is present after restore", name)
		case kept[name] != nil || before[name] != nil:
		case all[name] != nil:
			afterPresent++
			want(name, all[name], false)
		case log.attempted[name]:
			// Sent but never acknowledged (the load's end): may be present.
		default:
			t.Errorf("%s is present after restore but was never created", name)
		}
	}
	if len(restored) < len(kept)+len(before) {
		t.Errorf("restored %d objects, want at least %d", len(restored), len(kept)+len(before))
	}

	// The restored server takes writes.
	if _, err := s2.Client.KubeflowV1alpha2().MPIJobs(namespace).Create(ctx, job("after-restore", 1), metav1.CreateOptions{}); err != nil {
		t.Errorf("create on the restored server: %v", err)
	}
	fi, _ := os.Stat(file)
	t.Logf("objects acknowledged before save: %d (+%d kept before the load); in the snapshot: %d, of them %d acknowledged "+
		"after the save started; acknowledged in all: %d; snapshot %d bytes; save %s, restore %s",
		len(before), len(kept), len(restored), afterPresent, len(all)+len(kept), fi.Size(),
		saveTime.Round(time.Millisecond), restoreTime.Round(time.Millisecond))
}

// TestRefusals: restore never writes into a used or locked data dir, nor from
// a damaged file; save fails cleanly on a path it cannot write or without a
// server.
func TestRefusals(t *testing.T) {
	s := inprocess.Start(t)
	ctx := context.Background()
	if _, err := s.Client.KubeflowV1alpha2().MPIJobs(namespace).Create(ctx, job("one", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	file := filepath.Join(tmp, "backup.db")
	if _, err := run(t, "snapshot", "save", "--data-dir", s.DataDir, file); err != nil {
		t.Fatalf("snapshot save: %v", err)
	}
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	listing := func(dir string) []string {
		var names []string
		_ = filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
			names = append(names, p)
			return nil
		})
		sort.Strings(names)
		return names
	}
	expectRefused := func(t *testing.T, wantMsg string, args ...string) {
		t.Helper()
		_, err := run(t, args...)
		if err == nil {
			t.Fatalf("%v succeeded, want an error with %q", args, wantMsg)
		}
		if !strings.Contains(err.Error(), wantMsg) {
			t.Fatalf("%v: error %q, want it to say %q", args, err, wantMsg)
		}
	}

	t.Run("restore into a non-empty dir", func(t *testing.T) {
		dir := inprocess.NewDataDir(t)
		if err := os.WriteFile(datadir.New(dir).AdminTokenFile(), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := listing(dir)
		expectRefused(t, "is not empty ([admin-token.csv]); restore never overwrites data",
			"snapshot", "restore", file, "--data-dir", dir)
		if d := cmp.Diff(before, listing(dir)); d != "" {
			t.Errorf("restore changed the dir:\n%s", d)
		}
	})
	t.Run("restore into a dir with etcd data", func(t *testing.T) {
		dir := inprocess.NewDataDir(t)
		if err := os.MkdirAll(filepath.Join(dir, "etcd", "member"), 0o700); err != nil {
			t.Fatal(err)
		}
		before := listing(dir)
		expectRefused(t, "already holds etcd data", "snapshot", "restore", file, "--data-dir", dir)
		if d := cmp.Diff(before, listing(dir)); d != "" {
			t.Errorf("restore changed the dir:\n%s", d)
		}
	})
	t.Run("restore into a locked dir", func(t *testing.T) {
		dir := inprocess.NewDataDir(t)
		lock, err := embeddedetcd.Lock(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := lock.Unlock(); err != nil {
				t.Errorf("releasing the lock: %v", err)
			}
		}()
		expectRefused(t, "a running server holds it", "snapshot", "restore", file, "--data-dir", dir)
		if _, err := os.Stat(filepath.Join(dir, "etcd")); !os.IsNotExist(err) {
			t.Errorf("restore wrote etcd data into a locked dir (stat: %v)", err)
		}
	})
	t.Run("restore into the running server's dir", func(t *testing.T) {
		expectRefused(t, "a running server holds it", "snapshot", "restore", file, "--data-dir", s.DataDir)
	})
	t.Run("restore a corrupted file", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.db")
		b := bytes.Clone(good)
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(bad, b, 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(inprocess.NewDataDir(t), "new")
		expectRefused(t, "is corrupted", "snapshot", "restore", bad, "--data-dir", dir)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("restore of a corrupted file created %s (stat: %v)", dir, err)
		}
	})
	t.Run("restore a truncated file", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "short.db")
		if err := os.WriteFile(bad, good[:len(good)-1000], 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(inprocess.NewDataDir(t), "new")
		expectRefused(t, "not an etcd snapshot with its integrity hash", "snapshot", "restore", bad, "--data-dir", dir)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("restore of a truncated file created %s (stat: %v)", dir, err)
		}
	})
	t.Run("save to an unwritable path", func(t *testing.T) {
		// A path under a regular file: unwritable even for root.
		blocker := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(blocker, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		expectRefused(t, "saving a snapshot to "+filepath.Join(blocker, "backup.db"),
			"snapshot", "save", "--data-dir", s.DataDir, filepath.Join(blocker, "backup.db"))
	})
	t.Run("save over an existing snapshot keeps it whole on failure", func(t *testing.T) {
		// No server on this data dir: the old file must stay as it was.
		expectRefused(t, "no server with an embedded etcd runs on data dir",
			"snapshot", "save", "--data-dir", inprocess.NewDataDir(t), file)
		b, err := os.ReadFile(file)
		if err != nil || !bytes.Equal(b, good) {
			t.Errorf("a failed save changed %s (err %v)", file, err)
		}
		if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
			t.Errorf("a failed save left files beside the snapshot: %v", entries)
		}
	})
	t.Run("restore needs --data-dir", func(t *testing.T) {
		expectRefused(t, `required flag(s) "data-dir" not set`, "snapshot", "restore", file)
	})
}
