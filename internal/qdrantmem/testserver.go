package qdrantmem

import (
	"net"
	"strconv"
	"testing"

	"github.com/qdrant/go-client/qdrant"
)

// TestServer is a Server started for one test (like net/http/httptest):
// gRPC and REST on free loopback ports and a go-client connected to it,
// all stopped when the test ends.
type TestServer struct {
	*Server
	// GRPC is the gRPC host:port; REST the REST base URL (http://...).
	GRPC, REST string
	// Client is a go-client for GRPC (one connection, no keepalive
	// pings, no version check) that sends the WithAPIKey key.
	Client *qdrant.Client
}

// NewTestServer starts a Server with opts for t.
func NewTestServer(t testing.TB, opts ...Option) *TestServer {
	t.Helper()
	s := New(opts...)
	grpcAddr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	rest, err := s.StartREST("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(grpcAddr)
	port, _ := strconv.Atoi(portStr)
	qc, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: port, APIKey: s.opts.apiKey, SkipCompatibilityCheck: true, PoolSize: 1, KeepAliveTime: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = qc.Close() })
	return &TestServer{Server: s, GRPC: grpcAddr, REST: "http://" + rest, Client: qc}
}
