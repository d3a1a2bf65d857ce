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
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
)

const adminUser = "admin"

// ensureAdminToken returns the path of the data dir's token file, creating it
// with a fresh random token on first start. The admin is in system:masters,
// as kubeadm's admin is, so the max-in-flight limits never lock it out.
func ensureAdminToken(dataDir string) (path, token string, err error) {
	path = datadir.New(dataDir).AdminTokenFile()
	data, err := os.ReadFile(path)
	if err == nil {
		token, _, _ = strings.Cut(strings.TrimSpace(string(data)), ",")
		if token == "" {
			return "", "", fmt.Errorf("%s holds no token; delete it to have a new one generated", path)
		}
		return path, token, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	line := fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", token, adminUser, adminUser)
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		return "", "", fmt.Errorf("writing the admin token: %w", err)
	}
	return path, token, nil
}

// writeAdminKubeconfig writes the data dir's admin kubeconfig for the admin token,
// trusting the serving certificate, with the default namespace. It is
// rewritten on every start so it always names the current address.
func writeAdminKubeconfig(dataDir, host string, port int, caFile, token string) (string, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return "", fmt.Errorf("reading the serving certificate for the kubeconfig: %w", err)
	}
	const name = "mpijob-apiserver"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   "https://" + net.JoinHostPort(host, strconv.Itoa(port)),
		CertificateAuthorityData: ca,
	}
	cfg.AuthInfos[adminUser] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: adminUser, Namespace: "default"}
	cfg.CurrentContext = name
	path := datadir.New(dataDir).AdminKubeconfig()
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return "", err
	}
	// Written to a temporary file and renamed over the old one, so that a
	// reader (or a crash mid-write) never sees a half-written kubeconfig.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// kubeconfigHost is the address clients should dial: a wildcard bind address
// is reachable on loopback.
func kubeconfigHost(bind net.IP) string {
	if bind == nil || bind.IsUnspecified() {
		if bind != nil && bind.To4() == nil {
			return "::1"
		}
		return "127.0.0.1"
	}
	return bind.String()
}
