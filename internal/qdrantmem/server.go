package qdrantmem

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"
)

// Server is an in-memory Qdrant: the gRPC services Qdrant, Collections and
// Points, and a REST subset. It is safe for concurrent use. The zero value is
// not usable; call New.
type Server struct {
	opts   options
	faults *faults

	mu          sync.RWMutex
	collections map[string]*collection
	aliases     map[string]string // alias -> collection

	// snaps holds the nodes, shard placement and background snapshot
	// operations (snapshots.go, cluster.go).
	snaps *snapshotState

	lifeMu   sync.Mutex
	grpcSrv  *grpc.Server
	httpSrv  *http.Server
	stopped  chan struct{}
	stopOnce sync.Once
}

// New returns a Server with no collections.
func New(opts ...Option) *Server {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{
		opts:        o,
		faults:      newFaults(),
		collections: map[string]*collection{},
		aliases:     map[string]string{},
		stopped:     make(chan struct{}),
	}
	s.snaps = newSnapshotState(s)
	return s
}

// Register registers the Qdrant, Collections, Points and Snapshots services
// on g. Authentication and fault injection run inside the handlers, so they
// apply on a caller-owned grpc.Server too.
func (s *Server) Register(g *grpc.Server) { s.local().register(g) }

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves gRPC in
// the background until Stop. It returns the bound address. Start may be
// called once per Server.
func (s *Server) Start(addr string) (string, error) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.grpcSrv != nil {
		return "", errors.New("starting gRPC: already started")
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("starting gRPC: %w", err)
	}
	g := newGRPCServer()
	s.Register(g)
	s.grpcSrv = g
	go func() { _ = g.Serve(lis) }()
	return lis.Addr().String(), nil
}

func newGRPCServer() *grpc.Server {
	return grpc.NewServer(
		// Qdrant's tonic server does not police client keepalive pings;
		// grpc-go's default (one per 5 min) would drop clients that ping
		// idle connections every 20 s.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		// Qdrant's gRPC services take any size:
		// max_decoding_message_size(usize::MAX) in src/tonic/mod.rs
		// (service.max_request_size_mb bounds REST only). Tests that model
		// a limit in front of Qdrant (a proxy, a gRPC gateway) Register the
		// services on their own grpc.Server with grpc.MaxRecvMsgSize.
		grpc.MaxRecvMsgSize(math.MaxInt),
	)
}

// StartREST listens on addr and serves the REST endpoints in the background
// until Stop. It returns the bound address. StartREST may be called once per
// Server.
func (s *Server) StartREST(addr string) (string, error) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.httpSrv != nil {
		return "", errors.New("starting REST: already started")
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("starting REST: %w", err)
	}
	srv := &http.Server{Handler: s.RESTHandler()}
	s.httpSrv = srv
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), nil
}

// Stop stops both listeners, closes open connections and releases calls
// blocked by Hang or SetLatency (they fail with Unavailable), waits for
// snapshot operations answered with wait=false, and removes a temporary
// snapshots directory. It is safe to call more than once and on a server
// that was never started.
func (s *Server) Stop() {
	s.stopOnce.Do(func() { close(s.stopped) })
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.grpcSrv != nil {
		s.grpcSrv.Stop()
	}
	if s.httpSrv != nil {
		_ = s.httpSrv.Close()
	}
	s.snaps.bg.Wait()
	for _, n := range s.snaps.nodes {
		n.removeOwnDir()
	}
}

// Points returns a copy of every point of collection (or of the collection an
// alias names), keyed "n:<number>" or "u:<uuid>", with payload and all
// vectors. It fails with the NotFound error Qdrant gives for a missing
// collection.
func (s *Server) Points(collection string) (map[string]*qdrant.RetrievedPoint, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.resolve(collection)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*qdrant.RetrievedPoint, len(c.points))
	for k, p := range c.points {
		rp := &qdrant.RetrievedPoint{
			Id:      k.proto(),
			Payload: p.payload,
			Vectors: c.outputVectors(p, allVectors),
		}
		out[k.String()] = proto.Clone(rp).(*qdrant.RetrievedPoint)
	}
	return out, nil
}

// resolve finds a collection by name or alias, as TableOfContent::resolve_name
// (lib/storage/src/content_manager/toc/mod.rs): an alias wins, and the error
// names the resolved collection. Callers hold s.mu.
func (s *Server) resolve(name string) (*collection, *apiError) {
	real := name
	if target, ok := s.aliases[name]; ok {
		real = target
	}
	c, ok := s.collections[real]
	if !ok {
		return nil, errCollectionNotFound(real)
	}
	return c, nil
}
