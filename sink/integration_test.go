package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// memQdrant is an in-memory Qdrant on loopback with a client and a writer
// on it (real clock, millisecond backoff).
type memQdrant struct {
	srv    *qdrantmem.Server
	client *qdrant.Client
	w      *Writer
	reg    *prometheus.Registry
	logs   *logRecorder
}

func startMem(t testing.TB, wcfg WriterConfig, opts ...qdrantmem.Option) *memQdrant {
	t.Helper()
	return startMemWithKey(t, wcfg, "", opts...)
}

func startMemWithKey(t testing.TB, wcfg WriterConfig, clientKey string, opts ...qdrantmem.Option) *memQdrant {
	t.Helper()
	srv := qdrantmem.New(opts...)
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	client, err := NewClient(config.Qdrant{GRPC: addr, APIKey: config.Secret(clientKey)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	m := &memQdrant{srv: srv, client: client, reg: prometheus.NewRegistry(), logs: &logRecorder{}}
	if wcfg.Retry == (config.Retry{}) {
		wcfg.Retry = config.Retry{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	}
	if wcfg.Timeout == 0 {
		wcfg.Timeout = 5 * time.Second
	}
	wcfg.Registerer, wcfg.Logger = m.reg, slog.New(m.logs)
	m.w = NewWriter(PooledPoints(client), client.GetCollectionsClient(), wcfg)
	return m
}

func (m *memQdrant) create(t testing.TB, name string, dim uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.client.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: qdrant.Distance_Cosine}),
	}); err != nil {
		t.Fatalf("creating collection %s: %v", name, err)
	}
}

func (m *memQdrant) points(t *testing.T, collection string) map[string]*qdrant.RetrievedPoint {
	t.Helper()
	pts, err := m.srv.Points(collection)
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

// waitFor polls cond until it holds or 10s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestIntegrationWriteAppliesMergedBatch(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.create(t, "movies", 4)
	var ops []Op
	for i := range 100 {
		ops = append(ops, Op{Record: upsertRec(uint64(i), 4), Offset: int64(i)})
	}
	// Deletes 90..99; 95 is re-upserted after its delete; 0 is deleted then
	// upserted again in one batch.
	for i := 90; i < 100; i++ {
		ops = append(ops, Op{Record: deleteRec(uint64(i)), Offset: int64(100 + i)})
	}
	ops = append(ops, Op{Record: upsertRec(95, 4), Offset: 300}, Op{Record: deleteRec(0), Offset: 301}, Op{Record: upsertRec(0, 4), Offset: 302})
	ctx := context.Background()
	rejected, err := m.w.Write(ctx, "movies", ops)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	pts := m.points(t, "movies")
	if len(pts) != 91 {
		t.Fatalf("%d points, want 91 (0..89 and 95)", len(pts))
	}
	for _, k := range []string{"n:0", "n:89", "n:95"} {
		if pts[k] == nil {
			t.Fatalf("point %s missing", k)
		}
	}
	if pts["n:90"] != nil {
		t.Fatal("point 90 not deleted")
	}
	if got := pts["n:7"].GetPayload()["n"].GetIntegerValue(); got != 7 {
		t.Fatalf("point 7 payload n = %d, want 7", got)
	}
	if n := m.srv.CallCount(qdrantmem.MethodUpdateBatch); n != 1 {
		t.Fatalf("%d UpdateBatch calls, want 1", n)
	}
}

// Points Qdrant rejects (wrong dimension, not caught by Check because the
// caller skipped it) are isolated; the rest are applied.
func TestIntegrationBisectionIsolatesQdrantRejects(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.create(t, "c", 4)
	var ops []Op
	for i := range 64 {
		dim := 4
		if i == 3 || i == 40 {
			dim = 5
		}
		ops = append(ops, Op{Record: upsertRec(uint64(i), dim), Offset: int64(i), Ref: i})
	}
	rejected, err := m.w.Write(context.Background(), "c", ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 2 || rejected[0].Op.Ref != 3 || rejected[1].Op.Ref != 40 {
		t.Fatalf("rejected %v, want refs 3 and 40", rejected)
	}
	// The re-check against the collection's config names them at once.
	for _, r := range rejected {
		if r.Err.Class != schemas.ClassValidate || !strings.Contains(r.Err.Error(), "expected dim: 4, got 5") {
			t.Fatalf("rejection %q (%s), want validate about the dimension", r.Err.Error(), r.Err.Class)
		}
	}
	if n := len(m.points(t, "c")); n != 62 {
		t.Fatalf("%d points, want 62", n)
	}
	if n := m.srv.CallCount(qdrantmem.MethodUpdateBatch); n != 2 {
		t.Fatalf("%d UpdateBatch calls, want 2 (refused, then the 62 that fit)", n)
	}
}

func TestIntegrationRetriesInjectedFailures(t *testing.T) {
	for _, code := range []codes.Code{codes.Unavailable, codes.Internal, codes.ResourceExhausted, codes.FailedPrecondition, codes.Aborted} {
		t.Run(code.String(), func(t *testing.T) {
			m := startMem(t, WriterConfig{})
			m.create(t, "c", 4)
			m.srv.FailNext(qdrantmem.MethodUpdateBatch, 3, code, "injected")
			rejected, err := m.w.Write(context.Background(), "c", upserts(10))
			if err != nil || len(rejected) != 0 {
				t.Fatalf("Write = %v, %v", rejected, err)
			}
			if n := m.srv.CallCount(qdrantmem.MethodUpdateBatch); n != 4 {
				t.Fatalf("%d calls, want 4", n)
			}
			if n := len(m.points(t, "c")); n != 10 {
				t.Fatalf("%d points, want 10", n)
			}
		})
	}
}

// While Qdrant is down the writer keeps retrying; when it is back, the
// same Write call completes.
func TestIntegrationOutageThenRecovery(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.create(t, "c", 4)
	if err := m.w.Check(context.Background(), "c", upsertRec(1, 4)); err != nil { // as the connector does
		t.Fatal(err)
	}
	m.srv.SetUnavailable(true)
	done := make(chan error, 1)
	go func() {
		rejected, err := m.w.Write(context.Background(), "c", upserts(5))
		if err == nil && len(rejected) != 0 {
			err = fmt.Errorf("rejected %v", rejected)
		}
		done <- err
	}()
	waitFor(t, "5 failed attempts", func() bool { return m.srv.CallCount(qdrantmem.MethodUpdateBatch) >= 5 })
	select {
	case err := <-done:
		t.Fatalf("Write returned %v during the outage", err)
	default:
	}
	m.srv.SetUnavailable(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(m.points(t, "c")); n != 5 {
		t.Fatalf("%d points, want 5", n)
	}
}

// A hung call times out after WriterConfig.Timeout and is retried.
func TestIntegrationHungCallTimesOutAndRetries(t *testing.T) {
	m := startMem(t, WriterConfig{Timeout: 50 * time.Millisecond})
	m.create(t, "c", 4)
	m.srv.Hang(qdrantmem.MethodUpdateBatch)
	done := make(chan error, 1)
	go func() {
		_, err := m.w.Write(context.Background(), "c", upserts(3))
		done <- err
	}()
	waitFor(t, "a retry after a timeout", func() bool { return m.srv.CallCount(qdrantmem.MethodUpdateBatch) >= 2 })
	m.srv.Unhang(qdrantmem.MethodUpdateBatch)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(m.points(t, "c")); n != 3 {
		t.Fatalf("%d points, want 3", n)
	}
	mfs, _ := m.reg.Gather()
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "kafka_qdrant_retries_total" {
			for _, mm := range mf.GetMetric() {
				if mm.GetLabel()[0].GetValue() == "deadline_exceeded" && mm.GetCounter().GetValue() >= 1 {
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatal("no retries_total{class=deadline_exceeded}")
	}
}

// Writing to a collection that was deleted rejects every op as
// unknown_collection; Check says the same.
func TestIntegrationDeletedCollection(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.create(t, "c", 4)
	ctx := context.Background()
	if err := m.w.Check(ctx, "c", upsertRec(1, 4)); err != nil {
		t.Fatal(err)
	}
	if err := m.client.DeleteCollection(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	rejected, err := m.w.Write(ctx, "c", upserts(8))
	if err != nil || len(rejected) != 8 {
		t.Fatalf("Write = %d rejected, %v; want 8", len(rejected), err)
	}
	for _, r := range rejected {
		if r.Err.Class != schemas.ClassUnknownCollection {
			t.Fatalf("class %q, want unknown_collection", r.Err.Class)
		}
	}
	if n := m.srv.CallCount(qdrantmem.MethodUpdateBatch); n != 1 {
		t.Fatalf("%d UpdateBatch calls, want 1 (no bisection of a missing collection)", n)
	}
	re, ok := schemas.AsRecordError(m.w.Check(ctx, "c", upsertRec(1, 4)))
	if !ok || re.Class != schemas.ClassUnknownCollection || re.Stage != schemas.StageRoute {
		t.Fatalf("Check = %v, want unknown_collection/route", re)
	}
}

// Check reads the real collection config (named dense, multi and sparse).
func TestIntegrationCheckAgainstServerConfig(t *testing.T) {
	m := startMem(t, WriterConfig{})
	ctx := context.Background()
	if err := m.client.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "mixed",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"img":     {Size: 3, Distance: qdrant.Distance_Dot},
			"colbert": {Size: 2, Distance: qdrant.Distance_Dot, MultivectorConfig: &qdrant.MultiVectorConfig{}},
		}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"text": {}}),
	}); err != nil {
		t.Fatal(err)
	}
	rec := func(v map[string]*qdrant.Vector) *schemas.Record {
		return &schemas.Record{Op: schemas.OpUpsert, ID: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(v)}
	}
	good := rec(map[string]*qdrant.Vector{"img": qdrant.NewVectorDense(vec(3)), "colbert": qdrant.NewVectorMulti([][]float32{vec(2), vec(2)}),
		"text": qdrant.NewVectorSparse([]uint32{1}, []float32{0.5})})
	if err := m.w.Check(ctx, "mixed", good); err != nil {
		t.Fatalf("Check(good) = %v", err)
	}
	// What Check accepts, the server accepts.
	if rejected, err := m.w.Write(ctx, "mixed", []Op{{Record: good, Offset: 1}}); err != nil || len(rejected) != 0 {
		t.Fatalf("Write(good) = %v, %v", rejected, err)
	}
	bad := map[string]*schemas.Record{
		"wrong dim":        rec(map[string]*qdrant.Vector{"img": qdrant.NewVectorDense(vec(4))}),
		"unknown name":     rec(map[string]*qdrant.Vector{"audio": qdrant.NewVectorDense(vec(3))}),
		"dense for sparse": rec(map[string]*qdrant.Vector{"text": qdrant.NewVectorDense(vec(3))}),
		"sparse for dense": rec(map[string]*qdrant.Vector{"img": qdrant.NewVectorSparse([]uint32{1}, []float32{1})}),
		"multi for dense":  rec(map[string]*qdrant.Vector{"img": qdrant.NewVectorMulti([][]float32{vec(3)})}),
	}
	for name, r := range bad {
		t.Run(name, func(t *testing.T) {
			re, ok := schemas.AsRecordError(m.w.Check(ctx, "mixed", r))
			if !ok || re.Class != schemas.ClassValidate {
				t.Fatalf("Check = %v, want validate", re)
			}
			// And the server agrees: the write is rejected.
			rejected, err := m.w.Write(ctx, "mixed", []Op{{Record: r, Offset: 2}})
			if err != nil || len(rejected) != 1 {
				t.Fatalf("server accepted what Check rejected (%q): %v, %v", re.Error(), rejected, err)
			}
		})
	}
	if n := m.srv.CallCount(qdrantmem.MethodCollectionsGet); n > 1+len(bad) {
		t.Fatalf("%d config fetches, want at most %d", n, 1+len(bad))
	}
}

// A wrong API key is retried (and logged at ERROR), never rejected.
func TestIntegrationWrongAPIKeyRetriesWithErrorLog(t *testing.T) {
	m := startMemWithKey(t, WriterConfig{}, "wrong", qdrantmem.WithAPIKey("right"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		rejected, err := m.w.Write(ctx, "c", upserts(2))
		if rejected != nil {
			err = fmt.Errorf("rejected %v", rejected)
		}
		done <- err
	}()
	// The config fetch Write starts with is refused first, and retried.
	waitFor(t, "3 attempts", func() bool { return m.srv.CallCount(qdrantmem.MethodCollectionsGet) >= 3 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Write = %v, want context.Canceled", err)
	}
	if m.logs.levels()[slog.LevelError] < 2 {
		t.Fatalf("log levels %v, want ERROR logs for the bad key", m.logs.levels())
	}
}

func TestIntegrationAPIKey(t *testing.T) {
	m := startMemWithKey(t, WriterConfig{}, "right", qdrantmem.WithAPIKey("right"))
	m.create(t, "c", 4)
	if rejected, err := m.w.Write(context.Background(), "c", upserts(2)); err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
}

// Fencing: a write with an older offset neither overwrites nor deletes a
// point written from a newer one; newer ones do; points written without
// fencing are overwritten.
func TestIntegrationFencing(t *testing.T) {
	m := startMem(t, WriterConfig{Fencing: true})
	m.create(t, "c", 4)
	plain := NewWriter(PooledPoints(m.client), m.client.GetCollectionsClient(), WriterConfig{})
	ctx := context.Background()
	withN := func(id uint64, n int64) *schemas.Record {
		r := upsertRec(id, 4)
		r.Payload = payloadOf(map[string]any{"n": n})
		return r
	}
	write := func(w *Writer, ops ...Op) {
		t.Helper()
		if rejected, err := w.Write(ctx, "c", ops); err != nil || len(rejected) != 0 {
			t.Fatalf("Write = %v, %v", rejected, err)
		}
	}
	payloadN := func(id string) (int64, bool) {
		p := m.points(t, "c")[id]
		if p == nil {
			return 0, false
		}
		return p.GetPayload()["n"].GetIntegerValue(), true
	}
	write(m.w, Op{Record: withN(1, 10), Offset: 10}, Op{Record: withN(2, 10), Offset: 10})
	write(plain, Op{Record: withN(3, 1), Offset: 1})
	if off := m.points(t, "c")["n:1"].GetPayload()[OffsetKey].GetIntegerValue(); off != 10 {
		t.Fatalf("stored %s = %d, want 10", OffsetKey, off)
	}

	// A late replica replays older offsets.
	write(m.w, Op{Record: withN(1, 5), Offset: 5}, Op{Record: deleteRec(2), Offset: 6})
	if n, ok := payloadN("n:1"); !ok || n != 10 {
		t.Fatalf("point 1 n = %d (exists %v), want 10: an older offset overwrote it", n, ok)
	}
	if _, ok := payloadN("n:2"); !ok {
		t.Fatal("point 2 deleted by an older offset")
	}
	// Newer offsets win; the unfenced point 3 is taken over.
	write(m.w, Op{Record: withN(1, 12), Offset: 12}, Op{Record: deleteRec(2), Offset: 13}, Op{Record: withN(3, 14), Offset: 14})
	if n, _ := payloadN("n:1"); n != 12 {
		t.Fatalf("point 1 n = %d, want 12", n)
	}
	if _, ok := payloadN("n:2"); ok {
		t.Fatal("point 2 not deleted by a newer offset")
	}
	if n, _ := payloadN("n:3"); n != 14 {
		t.Fatalf("point 3 n = %d, want 14", n)
	}
	// Same offset again (redelivery) is applied: lte, not lt.
	write(m.w, Op{Record: withN(1, 99), Offset: 12})
	if n, _ := payloadN("n:1"); n != 99 {
		t.Fatalf("point 1 n = %d after redelivery of offset 12, want 99", n)
	}
}

// A record's payload, in wire form, reaches Qdrant as the payload it
// encodes, with and without fencing; fencing's offset wins over a payload
// key of its name.
func TestIntegrationPayload(t *testing.T) {
	payload := map[string]any{"title": "Alien", "year": int64(1979), "tags": []any{"sci-fi", 1.5},
		"crew": map[string]any{"director": "R. Scott"}, "none": nil}
	for _, fencing := range []bool{false, true} {
		t.Run(fmt.Sprintf("fencing=%v", fencing), func(t *testing.T) {
			m := startMem(t, WriterConfig{Fencing: fencing})
			m.create(t, "c", 4)
			rec := upsertRec(1, 4)
			own := maps.Clone(payload)
			own[OffsetKey] = int64(777) // a producer's own
			rec.Payload = payloadOf(own)
			if rejected, err := m.w.Write(context.Background(), "c", []Op{{Record: rec, Offset: 5}}); err != nil || len(rejected) != 0 {
				t.Fatalf("Write = %v, %v", rejected, err)
			}
			got := m.points(t, "c")["n:1"].GetPayload()
			wantOffset := int64(777)
			if fencing {
				wantOffset = 5
			}
			if off := got[OffsetKey].GetIntegerValue(); off != wantOffset {
				t.Errorf("%s = %d, want %d", OffsetKey, off, wantOffset)
			}
			delete(got, OffsetKey)
			if want := qdrant.NewValueMap(payload); !proto.Equal(&qdrant.Struct{Fields: got}, &qdrant.Struct{Fields: want}) {
				t.Errorf("payload stored as %v, want %v", got, want)
			}
		})
	}
}
