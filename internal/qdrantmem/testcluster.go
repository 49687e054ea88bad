package qdrantmem

import (
	"net"
	"strconv"
	"testing"

	"github.com/qdrant/go-client/qdrant"
)

// TestCluster is a Cluster started for one test: every node's gRPC and
// REST on free loopback ports, and a go-client connected to node 0, all
// stopped when the test ends.
type TestCluster struct {
	*Cluster
	// GRPC and REST hold each node's address (host:port) and base URL.
	GRPC, REST []string
	// Client is a go-client for node 0.
	Client *qdrant.Client
}

// NewTestCluster starts a cluster of size nodes with opts for t.
func NewTestCluster(t testing.TB, size int, opts ...Option) *TestCluster {
	t.Helper()
	cl := NewCluster(size, opts...)
	t.Cleanup(cl.Stop)
	tc := &TestCluster{Cluster: cl}
	for _, nd := range cl.Nodes {
		g, err := nd.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r, err := nd.StartREST("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tc.GRPC = append(tc.GRPC, g)
		tc.REST = append(tc.REST, "http://"+r)
	}
	host, portStr, _ := net.SplitHostPort(tc.GRPC[0])
	port, _ := strconv.Atoi(portStr)
	qc, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: port, APIKey: cl.opts.apiKey, SkipCompatibilityCheck: true, PoolSize: 1, KeepAliveTime: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = qc.Close() })
	tc.Client = qc
	return tc
}
