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
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// Controllers of kube-controller-manager v1.37.2 that matter to an
// aggregated API.
const (
	// NamespaceController deletes a Terminating namespace's contents,
	// MPIJobs included (through discovery of the aggregated API), then the
	// namespace. Without it a deleted namespace stays Terminating.
	NamespaceController = "namespace-controller"
	// GarbageCollectorController deletes dependents and finishes Foreground
	// and Orphan deletions (finalizers foregroundDeletion and orphan).
	GarbageCollectorController = "garbage-collector-controller"
	// ClusterRoleAggregationController folds ClusterRoles labelled
	// aggregate-to-view/edit/admin into view, edit and admin.
	ClusterRoleAggregationController = "clusterrole-aggregation-controller"
)

// DefaultControllers are the three above.
var DefaultControllers = []string{NamespaceController, GarbageCollectorController, ClusterRoleAggregationController}

// StartControllerManager starts kube-controller-manager v1.37.2 (from
// Binaries.KubeControllerManager) with only the given controllers
// (DefaultControllers when none are given), acting as Admin, on a free
// loopback port, and waits for its /healthz. Cluster.Stop stops it; so does
// StopControllerManager. Start it after the APIService is Available: the
// garbage collector and the namespace controller find aggregated resources
// by discovery, the collector again only every 30 s.
func (c *Cluster) StartControllerManager(ctx context.Context, controllers ...string) error {
	if c.ControllerManager != nil {
		if exited, _ := c.ControllerManager.Exited(); !exited {
			return fmt.Errorf("cluster: kube-controller-manager is running")
		}
	}
	if _, err := os.Stat(c.Bins.KubeControllerManager); err != nil {
		return fmt.Errorf("cluster: %w (run test/aggregated/build.sh)", err)
	}
	if len(controllers) == 0 {
		controllers = DefaultControllers
	}
	port, err := harness.FreePort()
	if err != nil {
		return err
	}
	certDir := filepath.Join(c.Dir, "kube-controller-manager")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	admin := c.Kubeconfig(Admin)
	args := []string{
		"--kubeconfig=" + admin,
		"--authentication-kubeconfig=" + admin,
		"--authorization-kubeconfig=" + admin,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + certDir,
		"--controllers=" + strings.Join(controllers, ","),
		"--leader-elect=false",
		// Every controller acts as Admin: the tests are about MPIJobs, not
		// the controllers' own RBAC.
		"--use-service-account-credentials=false",
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--profiling=false",
		"--v=1",
	}
	p, err := harness.StartProcess("kube-controller-manager", c.Bins.KubeControllerManager,
		filepath.Join(c.Dir, "logs", "kube-controller-manager.log"), args, nil)
	if err != nil {
		return err
	}
	c.ControllerManager = p
	ctx, cancel := context.WithTimeout(ctx, harness.StartTimeout)
	defer cancel()
	// Its serving certificate is self-signed in certDir; /healthz needs no
	// credentials.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}} //nolint:gosec // loopback test process
	defer hc.CloseIdleConnections()
	if err := harness.WaitHTTPOK(ctx, "kube-controller-manager /healthz", p, hc, fmt.Sprintf("https://127.0.0.1:%d/healthz", port), 200*time.Millisecond); err != nil {
		_ = p.Kill()
		return err
	}
	return nil
}

// StopControllerManager stops kube-controller-manager (gracefully) if it runs.
func (c *Cluster) StopControllerManager() error {
	if c.ControllerManager == nil {
		return nil
	}
	return c.ControllerManager.Stop()
}
