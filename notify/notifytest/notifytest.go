// Package notifytest holds in-process receivers for the notify channels, for tests of any
// package: an SMTP server (go-smtp, STARTTLS or implicit TLS, AUTH PLAIN), an SMS gateway of
// the Messages API shape, and a webhook receiver that verifies Standard Webhooks signatures.
// Each records what it receives, can be told to fail the next requests, and is safe for
// concurrent use. The New* constructors use their testing.TB only to fail on setup errors
// and to register cleanup; the Start* functions need no testing.TB at all and can listen on
// an explicit address, so that a sink outlives a server binary a test restarts.
package notifytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"sync"
	"time"
)

// TLSIdentity is a self-signed certificate for 127.0.0.1, ::1 and localhost, and the pool
// that trusts it.
type TLSIdentity struct {
	Certificate tls.Certificate
	// Pool trusts Certificate.
	Pool *x509.CertPool
	// CertPEM is the certificate in PEM, for a process that trusts it through
	// SSL_CERT_FILE.
	CertPEM []byte
}

// NewTLSIdentity generates a fresh ECDSA P-256 self-signed certificate valid for a day.
func NewTLSIdentity() (*TLSIdentity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "notifytest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &TLSIdentity{
		Certificate: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Pool:        pool,
		CertPEM:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}, nil
}

// ClientConfig returns a client configuration that trusts the identity.
func (id *TLSIdentity) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: id.Pool, MinVersion: tls.VersionTLS12}
}

// ServerConfig returns a server configuration that presents the identity.
func (id *TLSIdentity) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{id.Certificate}, MinVersion: tls.VersionTLS12}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// recorder is the part every sink shares: a list of records, a failure knob, and a way to
// wait for records.
type recorder[T any] struct {
	mu       sync.Mutex
	records  []T
	changed  chan struct{}
	failN    int
	failCode int
}

func (r *recorder[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, v)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// takeFailure returns the failure code for this request, or 0, and counts it down.
func (r *recorder[T]) takeFailure() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failN > 0 {
		r.failN--
		return r.failCode
	}
	return 0
}

func (r *recorder[T]) setFailure(n, code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failN, r.failCode = n, code
}

func (r *recorder[T]) snapshot(clone func(T) T) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]T, len(r.records))
	for i, v := range r.records {
		out[i] = clone(v)
	}
	return out
}

// wait returns once at least n records exist, or with ctx's error.
func (r *recorder[T]) wait(ctx context.Context, n int, clone func(T) T) ([]T, error) {
	for {
		r.mu.Lock()
		if len(r.records) >= n {
			r.mu.Unlock()
			return r.snapshot(clone), nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return r.snapshot(clone), ctx.Err()
		}
	}
}
