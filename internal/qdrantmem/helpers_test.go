package qdrantmem

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// env is a started server and a real go-client connected to it.
type env struct {
	s    *Server
	c    *qdrant.Client
	addr string
}

// newEnv starts a Server on 127.0.0.1:0 and connects qdrant.NewClient to it.
func newEnv(t testing.TB, opts ...Option) *env {
	t.Helper()
	return newEnvKey(t, "", opts...)
}

// newEnvKey is newEnv with the client sending apiKey.
func newEnvKey(t testing.TB, apiKey string, opts ...Option) *env {
	t.Helper()
	s := New(opts...)
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	c := dial(t, addr, apiKey)
	t.Cleanup(func() {
		_ = c.Close()
		s.Stop()
	})
	return &env{s: s, c: c, addr: addr}
}

func dial(t testing.TB, addr, apiKey string) *qdrant.Client {
	t.Helper()
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portStr)
	c, err := qdrant.NewClient(&qdrant.Config{
		Host: host, Port: port, APIKey: apiKey,
		SkipCompatibilityCheck: true, PoolSize: 1, KeepAliveTime: -1,
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantStatus asserts err carries exactly code and msg.
func wantStatus(t testing.TB, err error, code codes.Code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v %q", code, msg)
	}
	st, ok := status.FromError(unwrapQdrant(err))
	if !ok {
		t.Fatalf("error %v is not a gRPC status", err)
	}
	if st.Code() != code || st.Message() != msg {
		t.Fatalf("got %v %q\nwant %v %q", st.Code(), st.Message(), code, msg)
	}
}

// unwrapQdrant strips the go-client's QdrantError wrapper.
func unwrapQdrant(err error) error {
	var qe *qdrant.QdrantError
	if errors.As(err, &qe) {
		return qe.Unwrap()
	}
	return err
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// createDense creates a collection with one unnamed dense vector.
func (e *env) createDense(t testing.TB, name string, dim uint64, d qdrant.Distance) {
	t.Helper()
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: d}),
	}))
}

// createNamed creates a collection with named dense vectors and sparse vectors.
func (e *env) createNamed(t testing.TB, name string, dense map[string]uint64, sparse ...string) {
	t.Helper()
	m := map[string]*qdrant.VectorParams{}
	for n, dim := range dense {
		m[n] = &qdrant.VectorParams{Size: dim, Distance: qdrant.Distance_Dot}
	}
	req := &qdrant.CreateCollection{CollectionName: name, VectorsConfig: qdrant.NewVectorsConfigMap(m)}
	if len(sparse) > 0 {
		sm := map[string]*qdrant.SparseVectorParams{}
		for _, n := range sparse {
			sm[n] = &qdrant.SparseVectorParams{}
		}
		req.SparseVectorsConfig = qdrant.NewSparseVectorsConfig(sm)
	}
	mustOK(t, e.c.CreateCollection(ctxT(t), req))
}

func (e *env) upsert(t testing.TB, coll string, pts ...*qdrant.PointStruct) {
	t.Helper()
	_, err := e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: coll, Wait: qdrant.PtrOf(true), Points: pts})
	mustOK(t, err)
}

func (e *env) count(t testing.TB, coll string, f *qdrant.Filter) uint64 {
	t.Helper()
	n, err := e.c.Count(ctxT(t), &qdrant.CountPoints{CollectionName: coll, Filter: f, Exact: qdrant.PtrOf(true)})
	mustOK(t, err)
	return n
}

func pt(id uint64, v []float32, payload map[string]any) *qdrant.PointStruct {
	return &qdrant.PointStruct{Id: qdrant.NewIDNum(id), Vectors: qdrant.NewVectorsDense(v), Payload: qdrant.NewValueMap(payload)}
}

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// protoDiff returns "" when want and got are equal protobuf messages, else
// both in text form.
func protoDiff(want, got proto.Message) string {
	if proto.Equal(want, got) {
		return ""
	}
	opts := prototext.MarshalOptions{Multiline: true}
	return "want:\n" + opts.Format(want) + "\ngot:\n" + opts.Format(got)
}

func statusOf(err error) (codes.Code, string) {
	st, ok := status.FromError(unwrapQdrant(err))
	if !ok {
		return codes.Unknown, err.Error()
	}
	return st.Code(), st.Message()
}
