package control

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// The Qdrant of the control plane's end-to-end tests: a real one when
// KQ_E2E_QDRANT_GRPC names it (as for the e2e suite, e2e/internal/harness:
// KQ_E2E_QDRANT_REST, default http://<grpc host>:6333; KQ_E2E_QDRANT_API_KEY;
// KQ_E2E_QDRANT_TLS=1), else the in-memory one. On a real Qdrant the
// collections are named after the test run and deleted at the end, and
// nothing can slow its indexing down: the tests hold long commands with
// their own handlers instead (gate), and check Qdrant's calls only when
// they are counted (env.qs != nil).
type e2eQdrant struct {
	qc     *qdrant.Client
	rest   string // base URL
	apiKey string
}

// realQdrant connects to the Qdrant of KQ_E2E_QDRANT_GRPC; ok is false
// when it is not set.
func realQdrant(t *testing.T) (q e2eQdrant, ok bool) {
	t.Helper()
	grpcAddr := os.Getenv("KQ_E2E_QDRANT_GRPC")
	if grpcAddr == "" {
		return q, false
	}
	tls := os.Getenv("KQ_E2E_QDRANT_TLS") == "1"
	host, portStr, err := net.SplitHostPort(grpcAddr)
	if err != nil {
		t.Fatalf("KQ_E2E_QDRANT_GRPC=%q: %v", grpcAddr, err)
	}
	port, _ := strconv.Atoi(portStr)
	q.rest = os.Getenv("KQ_E2E_QDRANT_REST")
	if q.rest == "" {
		scheme := "http"
		if tls {
			scheme = "https"
		}
		q.rest = scheme + "://" + net.JoinHostPort(host, "6333")
	}
	q.apiKey = os.Getenv("KQ_E2E_QDRANT_API_KEY")
	q.qc, err = qdrant.NewClient(&qdrant.Config{Host: host, Port: port, APIKey: q.apiKey, UseTLS: tls})
	if err != nil {
		t.Fatalf("connecting to Qdrant at %s: %v", grpcAddr, err)
	}
	t.Cleanup(func() { _ = q.qc.Close() })
	return q, true
}

// useRealQdrant points e at the real Qdrant of the run, if there is one:
// its client, REST URL and API key replace the in-memory server's, and
// collections get the prefix (the run's name) and are deleted at cleanup.
func (e *env) useRealQdrant(prefix string) {
	e.t.Helper()
	q, ok := realQdrant(e.t)
	if !ok {
		return
	}
	e.qs, e.qc, e.rest = nil, q.qc, strings.TrimPrefix(strings.TrimPrefix(q.rest, "http://"), "https://")
	e.cfg.Qdrant.REST, e.cfg.Qdrant.APIKey = q.rest, config.Secret(q.apiKey)
	e.prefix = prefix + "-"
}

// coll is the name of the test's collection name on this run's Qdrant.
func (e *env) coll(name string) string { return e.prefix + name }

// waitGreen waits (up to 2 minutes) until the real Qdrant's collection
// is green: its indexing is done.
func (e *env) waitGreen(name string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 2*time.Minute)
	defer cancel()
	for {
		info, err := e.qc.GetCollectionInfo(ctx, name)
		if err == nil && info.GetStatus() == qdrant.CollectionStatus_Green {
			return
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("collection %s not green within 2 minutes: %v %v", name, info.GetStatus(), err)
		case <-time.After(100 * time.Millisecond): // polling Qdrant, bounded by ctx
		}
	}
}

// gate is a command handler (the tests register it for backup) that runs
// until the test opens it: a long command whatever the Qdrant, since a
// real one indexes a test collection in moments.
type gate struct {
	open chan struct{}
	runs atomic.Int32
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) Validate(schemas.Command) error { return nil }

func (g *gate) Run(ctx context.Context, _ schemas.Command, rep job.Reporter) (any, error) {
	g.runs.Add(1)
	rep.Progress(schemas.Progress{Detail: "waiting for the test to open the gate"})
	select {
	case <-g.open:
		return map[string]string{"gate": "opened"}, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// withGate registers g as the backup handler.
func withGate(g *gate) func(*RunnerConfig) {
	return func(c *RunnerConfig) { c.Handlers = map[schemas.CommandType]job.Handler{schemas.CommandBackup: g} }
}
