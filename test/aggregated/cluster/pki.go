package cluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a throw-away certificate authority whose certificate is in CertFile.
type CA struct {
	Name     string
	Cert     *x509.Certificate
	CertPEM  []byte
	CertFile string
	key      crypto.Signer
	dir      string
}

// KeyPair names a certificate and its key on disk.
type KeyPair struct {
	CertFile string
	KeyFile  string
}

// NewCA makes a CA called name and writes its certificate to dir/<name>.crt
// (and its key to dir/<name>.key, for tools that want to sign with it).
func NewCA(dir, name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &CA{Name: name, Cert: cert, key: key, dir: dir, CertFile: filepath.Join(dir, name+".crt")}
	ca.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(ca.CertFile, ca.CertPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeKey(filepath.Join(dir, name+".key"), key); err != nil {
		return nil, err
	}
	return ca, nil
}

// CertSpec describes a certificate to issue.
type CertSpec struct {
	CommonName    string
	Organizations []string // groups, for a client certificate
	DNSNames      []string
	IPs           []net.IP
	Client        bool // ExtKeyUsageClientAuth
	Server        bool // ExtKeyUsageServerAuth
}

// Issue signs a certificate for spec and writes dir/<file>.crt and
// dir/<file>.key.
func (ca *CA) Issue(file string, spec CertSpec) (KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return KeyPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: spec.CommonName, Organization: spec.Organizations},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		DNSNames:     spec.DNSNames,
		IPAddresses:  spec.IPs,
	}
	if spec.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	if spec.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if len(tmpl.ExtKeyUsage) == 0 {
		return KeyPair{}, errors.New("cluster: a certificate must be for a client, a server or both")
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return KeyPair{}, err
	}
	kp := KeyPair{CertFile: filepath.Join(ca.dir, file+".crt"), KeyFile: filepath.Join(ca.dir, file+".key")}
	if err := os.WriteFile(kp.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return KeyPair{}, err
	}
	return kp, writeKey(kp.KeyFile, key)
}

// PKI is everything kube-apiserver and its etcd need, in one directory.
type PKI struct {
	Dir string

	// ClusterCA signs kube-apiserver's serving certificate and the client
	// certificates kube-apiserver accepts (--client-ca-file).
	ClusterCA *CA
	// Serving is kube-apiserver's serving certificate: 127.0.0.1, localhost,
	// kubernetes, kubernetes.default(.svc(.cluster.local)).
	Serving KeyPair
	// Admin is a client certificate in system:masters.
	Admin KeyPair
	// FrontProxyCA signs the front-proxy client certificate
	// (--requestheader-client-ca-file).
	FrontProxyCA *CA
	// FrontProxyClient is the certificate (CN front-proxy-client) kube-apiserver
	// presents when it proxies to an aggregated server (--proxy-client-*).
	FrontProxyClient KeyPair
	// ServiceAccountKey / ServiceAccountPub sign and verify service account
	// tokens (RSA, PEM).
	ServiceAccountKey string
	ServiceAccountPub string
	// EtcdCA signs the etcd members' serving/peer certificates and the clients'
	// certificates; every etcd here requires client certificates.
	EtcdCA     *CA
	EtcdServer KeyPair // serving and peer, 127.0.0.1 and localhost
	EtcdClient KeyPair // for kube-apiserver and mpijob-apiserver
}

// FrontProxyClientCN is the front-proxy client certificate's CN, the one
// name in --requestheader-allowed-names.
const FrontProxyClientCN = "front-proxy-client"

// NewPKI makes a PKI in dir.
func NewPKI(dir string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &PKI{Dir: dir}
	var err error
	loopback := []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
	if p.ClusterCA, err = NewCA(dir, "cluster-ca"); err != nil {
		return nil, err
	}
	if p.Serving, err = p.ClusterCA.Issue("kube-apiserver", CertSpec{
		CommonName: "kube-apiserver",
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPs:    append(loopback, net.ParseIP(ServiceIP)),
		Server: true,
	}); err != nil {
		return nil, err
	}
	if p.Admin, err = p.ClusterCA.Issue("admin", CertSpec{
		CommonName: "admin", Organizations: []string{"system:masters"}, Client: true,
	}); err != nil {
		return nil, err
	}
	if p.FrontProxyCA, err = NewCA(dir, "front-proxy-ca"); err != nil {
		return nil, err
	}
	if p.FrontProxyClient, err = p.FrontProxyCA.Issue("front-proxy-client", CertSpec{
		CommonName: FrontProxyClientCN, Client: true,
	}); err != nil {
		return nil, err
	}
	if p.EtcdCA, err = NewCA(dir, "etcd-ca"); err != nil {
		return nil, err
	}
	if p.EtcdServer, err = p.EtcdCA.Issue("etcd-server", CertSpec{
		CommonName: "etcd", DNSNames: []string{"localhost"}, IPs: loopback, Server: true, Client: true,
	}); err != nil {
		return nil, err
	}
	if p.EtcdClient, err = p.EtcdCA.Issue("etcd-client", CertSpec{CommonName: "etcd-client", Client: true}); err != nil {
		return nil, err
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p.ServiceAccountKey = filepath.Join(dir, "sa.key")
	p.ServiceAccountPub = filepath.Join(dir, "sa.pub")
	if err := writeKey(p.ServiceAccountKey, rsaKey); err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(rsaKey.Public())
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.ServiceAccountPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

func writeKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(fmt.Sprintf("cluster: random serial: %v", err))
	}
	return n.Add(n, big.NewInt(1))
}
