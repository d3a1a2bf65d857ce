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

package server

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestValidateRefusesWhatStandaloneCannotDo(t *testing.T) {
	cases := map[string]struct {
		change func(*Options)
		want   string
	}{
		"unknown mode":        {func(o *Options) { o.Mode = "cluster" }, `--mode must be "standalone"`},
		"priority, fairness":  {func(o *Options) { o.Features.EnablePriorityAndFairness = true }, "--enable-priority-and-fairness"},
		"delegated authn":     {func(o *Options) { o.Authentication.Delegating.RemoteKubeConfigFile = "x" }, "--authentication-kubeconfig"},
		"small etcd requests": {func(o *Options) { o.EmbeddedEtcd.MaxRequestBytes = 1 << 20 }, "--embedded-etcd-max-request-bytes"},
		"empty data dir":      {func(o *Options) { o.DataDir = "" }, "--data-dir"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := completedOptions(t)
			tc.change(o)
			err := o.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	if err := completedOptions(t).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

// completedOptions are the defaults after Complete, which Validate expects.
func completedOptions(t *testing.T) *Options {
	t.Helper()
	o := NewOptions(io.Discard)
	o.DataDir = t.TempDir()
	if err := o.Complete(); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestStandaloneAuthorizer(t *testing.T) {
	authenticated := &user.DefaultInfo{Name: "alice", Groups: []string{user.AllAuthenticated}}
	anonymous := &user.DefaultInfo{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}}
	cases := []struct {
		name  string
		attrs authorizer.AttributesRecord
		allow bool
	}{
		{"user writes mpijobs", authorizer.AttributesRecord{User: authenticated, Verb: "create", ResourceRequest: true, APIGroup: "kubeflow.org", Resource: "mpijobs"}, true},
		{"user reads metrics", authorizer.AttributesRecord{User: authenticated, Verb: "get", Path: "/metrics"}, true},
		{"anonymous readyz", authorizer.AttributesRecord{User: anonymous, Verb: "get", Path: "/readyz"}, true},
		{"anonymous version", authorizer.AttributesRecord{User: anonymous, Verb: "get", Path: "/version"}, true},
		{"anonymous metrics", authorizer.AttributesRecord{User: anonymous, Verb: "get", Path: "/metrics"}, false},
		{"anonymous list", authorizer.AttributesRecord{User: anonymous, Verb: "list", ResourceRequest: true, Resource: "mpijobs"}, false},
		{"anonymous post to livez", authorizer.AttributesRecord{User: anonymous, Verb: "post", Path: "/livez"}, false},
	}
	for _, tc := range cases {
		decision, _, _ := standaloneAuthorizer.Authorize(context.Background(), tc.attrs)
		if got := decision == authorizer.DecisionAllow; got != tc.allow {
			t.Errorf("%s: allowed = %v, want %v", tc.name, got, tc.allow)
		}
	}
}

func TestAdminTokenIsMadeOnceThenReused(t *testing.T) {
	dir := t.TempDir()
	path, token, err := ensureAdminToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 40 {
		t.Fatalf("token %q is too short to be a random 32-byte secret", token)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode = %v (err %v), want 0600", fi.Mode().Perm(), err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), token+",admin,admin,\"system:masters\"") {
		t.Fatalf("token file %q is not in kube-apiserver's CSV format", data)
	}
	_, again, err := ensureAdminToken(dir)
	if err != nil || again != token {
		t.Fatalf("second start got token %q (err %v), want the first one", again, err)
	}
}

func TestModeDefaults(t *testing.T) {
	cases := []struct {
		args    []string
		wantAPF bool
		wantErr string
	}{
		{args: nil, wantAPF: false},
		{args: []string{"--mode=aggregated", "--etcd-servers=https://127.0.0.1:2379"}, wantAPF: true},
		{args: []string{"--mode=aggregated", "--etcd-servers=https://127.0.0.1:2379", "--enable-priority-and-fairness=false"}, wantAPF: false},
		{args: []string{"--mode=aggregated"}, wantErr: "--mode=aggregated needs --etcd-servers"},
		{args: []string{"--kubeconfig=/x"}, wantErr: "--kubeconfig needs a Kubernetes cluster"},
		{args: []string{"--enable-admission-plugins=NamespaceLifecycle"}, wantErr: "--enable-admission-plugins needs a Kubernetes cluster"},
		{args: []string{"--mode=cluster"}, wantErr: `--mode must be "standalone" or "aggregated"`},
		{args: []string{"--encoded-list-cache-size=0"}, wantAPF: false},
		{args: []string{"--encoded-list-cache-size=-1"}, wantErr: "--encoded-list-cache-size must be 0 (off) or more MiB, got -1"},
		{args: []string{"--secure-port=0"}, wantErr: "--secure-port must be a port number, not 0"},
	}
	for _, tc := range cases {
		o := NewOptions(io.Discard)
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		o.AddFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		o.DataDir = t.TempDir()
		if err := o.Complete(); err != nil {
			t.Fatalf("%v: Complete: %v", tc.args, err)
		}
		err := o.Validate()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: Validate() = %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: Validate() = %v", tc.args, err)
		}
		if o.Features.EnablePriorityAndFairness != tc.wantAPF {
			t.Errorf("%v: API Priority and Fairness = %v, want %v", tc.args, o.Features.EnablePriorityAndFairness, tc.wantAPF)
		}
	}
}
