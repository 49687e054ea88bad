package sink

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// fakeClock is a clock whose sleeps return at once (recording the asked
// duration and advancing now) and whose jitter is chosen by the test.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
	// jitterFn picks the jitter in [0, n); default n-1 (the ceiling).
	jitterFn func(n time.Duration) time.Duration
	// onSleep, when set, runs before each sleep returns (e.g. to cancel).
	onSleep func(n int)
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) clock() clock {
	return clock{
		now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.t
		},
		sleep: func(ctx context.Context, d time.Duration) error {
			f.mu.Lock()
			f.sleeps = append(f.sleeps, d)
			f.t = f.t.Add(d)
			n, hook := len(f.sleeps), f.onSleep
			f.mu.Unlock()
			if hook != nil {
				hook(n)
			}
			return ctx.Err()
		},
		jitter: func(n time.Duration) time.Duration {
			if f.jitterFn != nil {
				return f.jitterFn(n)
			}
			return n - 1
		},
	}
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func (f *fakeClock) slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// fakePoints is a PointsAPI whose behaviour is a function of the request.
// Get and CreateFieldIndex answer Unimplemented unless getFn / indexFn
// are set.
type fakePoints struct {
	mu      sync.Mutex
	fn      func(ctx context.Context, req *qdrant.UpdateBatchPoints, call int, trailer *metadata.MD) (*qdrant.UpdateBatchResponse, error)
	getFn   func(req *qdrant.GetPoints) (*qdrant.GetResponse, error)
	indexFn func(req *qdrant.CreateFieldIndexCollection) error
	calls   []*qdrant.UpdateBatchPoints
}

func (f *fakePoints) Get(_ context.Context, req *qdrant.GetPoints, _ ...grpc.CallOption) (*qdrant.GetResponse, error) {
	if f.getFn == nil {
		return nil, status.Error(codes.Unimplemented, "fakePoints: Get")
	}
	return f.getFn(req)
}

func (f *fakePoints) CreateFieldIndex(_ context.Context, req *qdrant.CreateFieldIndexCollection, _ ...grpc.CallOption) (*qdrant.PointsOperationResponse, error) {
	if f.indexFn == nil {
		return nil, status.Error(codes.Unimplemented, "fakePoints: CreateFieldIndex")
	}
	if err := f.indexFn(req); err != nil {
		return nil, err
	}
	return &qdrant.PointsOperationResponse{Result: &qdrant.UpdateResult{Status: qdrant.UpdateStatus_Completed}}, nil
}

func (f *fakePoints) UpdateBatch(ctx context.Context, req *qdrant.UpdateBatchPoints, opts ...grpc.CallOption) (*qdrant.UpdateBatchResponse, error) {
	var trailer *metadata.MD
	for _, o := range opts {
		if t, ok := o.(grpc.TrailerCallOption); ok {
			trailer = t.TrailerAddr
		}
	}
	req = received(req)
	f.mu.Lock()
	f.calls = append(f.calls, req)
	n := len(f.calls)
	f.mu.Unlock()
	return f.fn(ctx, req, n, trailer)
}

// received is req as a server decodes it: records' payloads, which the
// writer puts in unknown fields, read as payload maps.
func received(req *qdrant.UpdateBatchPoints) *qdrant.UpdateBatchPoints {
	b, err := proto.Marshal(req)
	if err != nil {
		panic(err)
	}
	var out qdrant.UpdateBatchPoints
	if err := proto.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return &out
}

func (f *fakePoints) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// completed is a successful response for req.
func completed(req *qdrant.UpdateBatchPoints) *qdrant.UpdateBatchResponse {
	resp := &qdrant.UpdateBatchResponse{}
	for range req.GetOperations() {
		resp.Result = append(resp.Result, &qdrant.UpdateResult{Status: qdrant.UpdateStatus_Completed})
	}
	return resp
}

// store is a tiny in-memory collection for fakePoints: it applies
// unconditional upserts and deletes by id, and rejects a whole request
// (InvalidArgument, nothing applied) if it upserts an id in bad.
type store struct {
	mu     sync.Mutex
	points map[string]*qdrant.PointStruct
	bad    map[string]bool
}

func newStore(bad ...uint64) *store {
	s := &store{points: map[string]*qdrant.PointStruct{}, bad: map[string]bool{}}
	for _, b := range bad {
		s.bad[idString(qdrant.NewIDNum(b))] = true
	}
	return s
}

func idString(id *qdrant.PointId) string {
	if u := id.GetUuid(); u != "" {
		return u
	}
	return fmt.Sprint(id.GetNum())
}

func (s *store) apply(req *qdrant.UpdateBatchPoints) (*qdrant.UpdateBatchResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range req.GetOperations() {
		for _, p := range op.GetUpsert().GetPoints() {
			if s.bad[idString(p.GetId())] {
				return nil, status.Errorf(codes.InvalidArgument, "Wrong input: bad point %s", idString(p.GetId()))
			}
		}
	}
	for _, op := range req.GetOperations() {
		for _, p := range op.GetUpsert().GetPoints() {
			s.points[idString(p.GetId())] = p
		}
		for _, id := range op.GetDeletePoints().GetPoints().GetPoints().GetIds() {
			delete(s.points, idString(id))
		}
	}
	return completed(req), nil
}

func (s *store) ids() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for k := range s.points {
		out[k] = true
	}
	return out
}

// fakeCollections is a CollectionsAPI serving fixed collection infos.
type fakeCollections struct {
	mu    sync.Mutex
	infos map[string]*qdrant.CollectionInfo
	calls int
	// fail, when set, decides the error of a call (nil: serve infos).
	fail func(call int) error
	// block, when set, is waited on before answering (concurrency tests).
	block chan struct{}
}

func (f *fakeCollections) Get(ctx context.Context, in *qdrant.GetCollectionInfoRequest, _ ...grpc.CallOption) (*qdrant.GetCollectionInfoResponse, error) {
	f.mu.Lock()
	f.calls++
	n, fail, block := f.calls, f.fail, f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	if fail != nil {
		if err := fail(n); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	info, ok := f.infos[in.GetCollectionName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", in.GetCollectionName())
	}
	return &qdrant.GetCollectionInfoResponse{Result: info}, nil
}

func (f *fakeCollections) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeCollections) set(name string, info *qdrant.CollectionInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if info == nil {
		delete(f.infos, name)
		return
	}
	f.infos[name] = info
}

// infoDense is a collection with one unnamed dense vector of dim.
func infoDense(dim uint64) *qdrant.CollectionInfo {
	return &qdrant.CollectionInfo{Config: &qdrant.CollectionConfig{Params: &qdrant.CollectionParams{
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: qdrant.Distance_Cosine}),
	}}}
}

// infoNamed is a collection with named dense vectors and sparse vectors.
func infoNamed(dense map[string]*qdrant.VectorParams, sparse ...string) *qdrant.CollectionInfo {
	sp := map[string]*qdrant.SparseVectorParams{}
	for _, s := range sparse {
		sp[s] = &qdrant.SparseVectorParams{}
	}
	return &qdrant.CollectionInfo{Config: &qdrant.CollectionConfig{Params: &qdrant.CollectionParams{
		VectorsConfig:       qdrant.NewVectorsConfigMap(dense),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(sp),
	}}}
}

func newFakeCollections() *fakeCollections {
	return &fakeCollections{infos: map[string]*qdrant.CollectionInfo{"c": infoDense(4)}}
}

// vec returns a dense vector of dim values.
func vec(dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(i) / 10
	}
	return v
}

func upsertRec(id uint64, dim int) *schemas.Record {
	return &schemas.Record{Op: schemas.OpUpsert, ID: qdrant.NewIDNum(id), Vectors: qdrant.NewVectorsDense(vec(dim)),
		Payload: payloadOf(map[string]any{"n": int64(id)})}
}

// payloadOf is m as a Record's payload.
func payloadOf(m map[string]any) []byte {
	b, err := schemas.EncodePayload(qdrant.NewValueMap(m))
	if err != nil {
		panic(err)
	}
	return b
}

// payloadMap reads a Record's payload back.
func payloadMap(t testing.TB, r *schemas.Record) map[string]*qdrant.Value {
	t.Helper()
	m, err := r.PayloadMap()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func deleteRec(id uint64) *schemas.Record {
	return &schemas.Record{Op: schemas.OpDelete, ID: qdrant.NewIDNum(id)}
}

// testWriter is a Writer on fakes with a fake clock and a private registry.
type testWriter struct {
	*Writer
	clk  *fakeClock
	reg  *prometheus.Registry
	logs *logRecorder
}

func newTestWriter(t *testing.T, points PointsAPI, cols CollectionsAPI, mod func(*WriterConfig)) *testWriter {
	t.Helper()
	reg := prometheus.NewRegistry()
	logs := &logRecorder{}
	cfg := WriterConfig{
		Retry:      config.Retry{InitialBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second},
		Timeout:    5 * time.Second,
		Logger:     slog.New(logs),
		Registerer: reg,
	}
	if mod != nil {
		mod(&cfg)
	}
	w := NewWriter(points, cols, cfg)
	fc := newFakeClock()
	w.clk = fc.clock()
	return &testWriter{Writer: w, clk: fc, reg: reg, logs: logs}
}

// metric returns the value of a counter (or a histogram's sample count)
// named name whose labels include want.
func (tw *testWriter) metric(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := tw.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range want {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// logRecorder is a slog.Handler that keeps records.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r)
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) snapshot() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]slog.Record(nil), l.records...)
}

func (l *logRecorder) levels() map[slog.Level]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[slog.Level]int{}
	for _, r := range l.records {
		out[r.Level]++
	}
	return out
}
