package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Etcd is a one-member etcd v3.7.0 on loopback, TLS with client certificates
// on both its client and peer ports.
type Etcd struct {
	*Process
	Name    string
	URL     string // https://127.0.0.1:<client port>
	DataDir string
	// CAFile, CertFile and KeyFile are what a client passes as
	// --etcd-cafile, --etcd-certfile and --etcd-keyfile.
	CAFile, CertFile, KeyFile string
}

// EtcdOptions tune an etcd.
type EtcdOptions struct {
	// MaxRequestBytes is etcd's --max-request-bytes; 0 leaves etcd's default
	// (1.5 MiB), which is what a kubeadm cluster runs with.
	MaxRequestBytes int
}

// StartEtcd starts an etcd called name with its data in dir/<name> and its
// log in dir/<name>.log, and waits until it is healthy.
func StartEtcd(ctx context.Context, bin, dir, name string, pki *PKI, o EtcdOptions) (*Etcd, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	client := fmt.Sprintf("https://127.0.0.1:%d", ports[0])
	peer := fmt.Sprintf("https://127.0.0.1:%d", ports[1])
	e := &Etcd{
		Name: name, URL: client, DataDir: filepath.Join(dir, name),
		CAFile: pki.EtcdCA.CertFile, CertFile: pki.EtcdClient.CertFile, KeyFile: pki.EtcdClient.KeyFile,
	}
	if err := os.MkdirAll(e.DataDir, 0o700); err != nil {
		return nil, err
	}
	args := []string{
		"--name=" + name,
		"--data-dir=" + e.DataDir,
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=" + name + "=" + peer,
		"--initial-cluster-state=new",
		"--cert-file=" + pki.EtcdServer.CertFile,
		"--key-file=" + pki.EtcdServer.KeyFile,
		"--trusted-ca-file=" + pki.EtcdCA.CertFile,
		"--client-cert-auth",
		"--peer-cert-file=" + pki.EtcdServer.CertFile,
		"--peer-key-file=" + pki.EtcdServer.KeyFile,
		"--peer-trusted-ca-file=" + pki.EtcdCA.CertFile,
		"--peer-client-cert-auth",
		// A test cluster: durability across power loss is not a concern.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}
	if o.MaxRequestBytes > 0 {
		args = append(args, "--max-request-bytes="+itoa(o.MaxRequestBytes))
	}
	p, err := startProcess("etcd "+name, bin, filepath.Join(dir, name+".log"), args,
		[]string{"TMPDIR=" + e.DataDir}) // trap 6: temp files in the data dir
	if err != nil {
		return nil, err
	}
	e.Process = p
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := e.waitHealthy(ctx); err != nil {
		_ = p.Kill()
		return nil, err
	}
	return e, nil
}

// Restart starts a stopped etcd again on the same ports and data.
func (e *Etcd) Restart(ctx context.Context, bin string) error {
	if exited, _ := e.Exited(); !exited {
		return fmt.Errorf("cluster: %s is still running", e.Process.Name)
	}
	p, err := startProcess(e.Process.Name, bin, e.LogFile, e.Args, []string{"TMPDIR=" + e.DataDir})
	if err != nil {
		return err
	}
	e.Process = p
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	return e.waitHealthy(ctx)
}

// TLSConfig is a client TLS configuration for this etcd.
func (e *Etcd) TLSConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(e.CertFile, e.KeyFile)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(e.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

func (e *Etcd) waitHealthy(ctx context.Context) error {
	tc, err := e.TLSConfig()
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	return poll(ctx, e.Process.Name+" /health", e.Process, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/health", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var h struct {
			Health string `json:"health"`
		}
		if err := json.Unmarshal(body, &h); err != nil || h.Health != "true" {
			return false, fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return true, nil
	})
}
