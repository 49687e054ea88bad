package config

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/testpki"
)

// testPKI is a CA with a server certificate (for "localhost" and
// 127.0.0.1) and a client certificate, generated for one test and written
// as PEM files into a temp dir.
type testPKI struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
	caPool                                               *x509.CertPool
	server                                               tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	ca := testpki.New(t)
	server := ca.Issue(t, "localhost", x509.ExtKeyUsageServerAuth)
	client := ca.Issue(t, "client", x509.ExtKeyUsageClientAuth)
	return testPKI{
		caFile: ca.File, caPool: ca.Pool,
		serverCert: server.CertFile, serverKey: server.KeyFile, server: server.Pair,
		clientCert: client.CertFile, clientKey: client.KeyFile,
	}
}
