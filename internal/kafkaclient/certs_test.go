package kafkaclient

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/testpki"
)

// testCA is a certificate authority generated for one test, with its
// certificate written as a PEM file.
type testCA struct {
	*testpki.CA
	file string
	pool *x509.CertPool
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	ca := testpki.New(t)
	return testCA{CA: ca, file: ca.File, pool: ca.Pool}
}

// issue signs a certificate for 127.0.0.1 and localhost with the given
// usage and returns it with PEM files of the certificate and key.
func (ca testCA) issue(t *testing.T, usage x509.ExtKeyUsage) (pair tls.Certificate, certFile, keyFile string) {
	t.Helper()
	l := ca.Issue(t, "localhost", usage)
	return l.Pair, l.CertFile, l.KeyFile
}
