package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// createStrict creates collection name (dim 4) with strict mode sm.
func (m *memQdrant) createStrict(t testing.TB, name string, sm *qdrant.StrictModeConfig) {
	t.Helper()
	sm.Enabled = proto.Bool(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.client.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName:   name,
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
		StrictModeConfig: sm,
	}); err != nil {
		t.Fatal(err)
	}
}

func (m *memQdrant) setStrict(t testing.TB, name string, sm *qdrant.StrictModeConfig) {
	t.Helper()
	if err := m.client.UpdateCollection(context.Background(), &qdrant.UpdateCollection{CollectionName: name, StrictModeConfig: sm}); err != nil {
		t.Fatal(err)
	}
}

func (m *memQdrant) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	return (&testWriter{reg: m.reg}).metric(t, name, labels)
}

// writeAsync runs Write in the background; the channel gets its result.
func writeAsync(ctx context.Context, w *Writer, coll string, ops []Op) <-chan error {
	done := make(chan error, 1)
	go func() {
		rejected, err := w.Write(ctx, coll, ops)
		if err == nil && len(rejected) != 0 {
			err = fmt.Errorf("%d rejected, first: %v", len(rejected), rejected[0].Err)
		}
		done <- err
	}()
	return done
}

// Issue 7 item 5: strict mode's upsert_max_batchsize is read from the
// collection config and batches are cut to it up front. Before, the writer
// found the limit by bisection: 3,000 records and a limit of 10 took
// hundreds of calls.
func TestIntegrationStrictUpsertLimitCutUpFront(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.createStrict(t, "c", &qdrant.StrictModeConfig{UpsertMaxBatchsize: proto.Uint64(10)})
	ctx := context.Background()
	if err := m.w.Check(ctx, "c", upsertRec(1, 4)); err != nil { // the connector checks first
		t.Fatal(err)
	}
	rejected, err := m.w.Write(ctx, "c", upserts(3000))
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %d rejected, %v", len(rejected), err)
	}
	if n := len(m.points(t, "c")); n != 3000 {
		t.Fatalf("%d points, want 3000", n)
	}
	if n := m.srv.CallCount(qdrantmem.MethodUpdateBatch); n != 1 {
		t.Fatalf("%d UpdateBatch calls for 3,000 records with a limit of 10, want 1 (300 upsert operations of 10)", n)
	}
}

// A limit lowered after the writer cached the config: the rejection names
// the limit, the writer re-reads the config and re-cuts; nothing is
// rejected and no bisection happens.
func TestIntegrationStrictUpsertLimitLoweredLater(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.createStrict(t, "c", &qdrant.StrictModeConfig{})
	ctx := context.Background()
	if err := m.w.Check(ctx, "c", upsertRec(1, 4)); err != nil {
		t.Fatal(err)
	}
	m.setStrict(t, "c", &qdrant.StrictModeConfig{UpsertMaxBatchsize: proto.Uint64(7)})
	rejected, err := m.w.Write(ctx, "c", upserts(100))
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %d rejected, %v", len(rejected), err)
	}
	if n := len(m.points(t, "c")); n != 100 {
		t.Fatalf("%d points, want 100", n)
	}
	if n := m.srv.CallCount(qdrantmem.MethodUpdateBatch); n != 2 {
		t.Fatalf("%d UpdateBatch calls, want 2 (one refused, one re-cut)", n)
	}
}

// Strict mode's max_timeout below qdrant.timeout: every request would be
// refused ("Limit exceeded 5 > 2 for \"timeout\""), and before, every
// record was dead-lettered for it. The request timeout is capped instead.
func TestIntegrationStrictMaxTimeoutCapsRequestTimeout(t *testing.T) {
	m := startMem(t, WriterConfig{Timeout: 5 * time.Second})
	m.createStrict(t, "c", &qdrant.StrictModeConfig{MaxTimeout: proto.Uint32(2)})
	ctx := context.Background()
	if err := m.w.Check(ctx, "c", upsertRec(1, 4)); err != nil {
		t.Fatal(err)
	}
	ops := upserts(20)
	ops = append(ops, Op{Record: deleteRec(3), Offset: 100})
	rejected, err := m.w.Write(ctx, "c", ops)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %d rejected (%v), %v", len(rejected), firstErr(rejected), err)
	}
	if n := m.srv.CallCount(qdrantmem.MethodUpdateBatch); n != 1 {
		t.Fatalf("%d UpdateBatch calls, want 1", n)
	}
}

// Issue 7 item 5: a rejection that holds for every record of the
// collection (here max_points_count reached) is an outage, not bad data:
// the writer retries (logging ERROR, counting retries{class=strict_mode})
// and rejects nothing; once the operator raises the limit the same Write
// completes. Before, every record was dead-lettered as qdrant_rejected.
func TestIntegrationCollectionWideRejectionPauses(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.createStrict(t, "c", &qdrant.StrictModeConfig{MaxPointsCount: proto.Uint64(5)})
	ctx := context.Background()
	if rejected, err := m.w.Write(ctx, "c", upserts(5)); err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	more := make([]Op, 20)
	for i := range more {
		more[i] = Op{Record: upsertRec(uint64(100+i), 4), Offset: int64(100 + i)}
	}
	calls := m.srv.CallCount(qdrantmem.MethodUpdateBatch)
	done := writeAsync(ctx, m.w, "c", more)
	waitFor(t, "3 refused attempts", func() bool { return m.srv.CallCount(qdrantmem.MethodUpdateBatch) >= calls+3 })
	select {
	case err := <-done:
		t.Fatalf("Write returned (%v) while the collection is full", err)
	default:
	}
	if n := m.metric(t, "kafka_qdrant_retries_total", map[string]string{"class": "strict_mode"}); n < 2 {
		t.Fatalf("retries_total{class=strict_mode} = %v, want >= 2", n)
	}
	if n := m.logs.levels()[slog.LevelError]; n < 2 {
		t.Fatalf("%d ERROR logs, want one per refused attempt", n)
	}
	m.setStrict(t, "c", &qdrant.StrictModeConfig{MaxPointsCount: proto.Uint64(1000)})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(m.points(t, "c")); n != 25 {
		t.Fatalf("%d points, want 25", n)
	}
	if n := m.metric(t, "kafka_qdrant_records_rejected_total", nil); n != 0 {
		t.Fatalf("records_rejected_total = %v, want 0", n)
	}
}

// Issue 7 item 5: a collection recreated with another config. The records
// are re-checked against the refreshed config before any bisection: those
// that no longer fit come back as validate errors naming the reason, the
// others are written. Before, the batch was bisected into 2n-1 calls.
func TestIntegrationRecreatedCollectionRecheckedBeforeBisecting(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.create(t, "c", 4)
	ctx := context.Background()
	if err := m.w.Check(ctx, "c", upsertRec(1, 4)); err != nil {
		t.Fatal(err)
	}
	if err := m.client.DeleteCollection(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	m.create(t, "c", 8)
	var ops []Op
	for i := range 16 {
		dim := 4
		if i%4 == 0 {
			dim = 8
		}
		ops = append(ops, Op{Record: upsertRec(uint64(i), dim), Offset: int64(i), Ref: i})
	}
	rejected, err := m.w.Write(ctx, "c", ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 12 {
		t.Fatalf("%d rejected, want the 12 records of dim 4", len(rejected))
	}
	for _, r := range rejected {
		if r.Op.Ref%4 == 0 || r.Err.Class != schemas.ClassValidate || r.Err.Stage != schemas.StageWrite ||
			!strings.Contains(r.Err.Error(), "expected dim: 8, got 4") {
			t.Fatalf("rejected ref %d: %s/%s %q", r.Op.Ref, r.Err.Class, r.Err.Stage, r.Err.Error())
		}
	}
	if n := len(m.points(t, "c")); n != 4 {
		t.Fatalf("%d points, want the 4 of dim 8", n)
	}
	if n := m.srv.CallCount(qdrantmem.MethodUpdateBatch); n != 2 {
		t.Fatalf("%d UpdateBatch calls, want 2 (refused, then the records that fit)", n)
	}
}

// What no config check can see (an id Qdrant cannot parse) is still
// isolated by bisection.
func TestIntegrationBisectionIsolatesWhatChecksCannotSee(t *testing.T) {
	m := startMem(t, WriterConfig{})
	m.create(t, "c", 4)
	ops := upserts(32)
	ops[5].Record.ID = qdrant.NewID("not-a-uuid")
	ops[5].Ref = 5
	rejected, err := m.w.Write(context.Background(), "c", ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0].Op.Ref != 5 || rejected[0].Err.Class != schemas.ClassQdrantRejected ||
		!strings.Contains(rejected[0].Err.Error(), "Unable to parse UUID: not-a-uuid") {
		t.Fatalf("rejected %v", rejected)
	}
	if n := len(m.points(t, "c")); n != 31 {
		t.Fatalf("%d points, want 31", n)
	}
}

// startLimited serves qdrantmem behind a gRPC server that refuses
// requests above limit bytes, as a gRPC proxy or gateway with a message
// limit does ("grpc: received message larger than max", ResourceExhausted).
func startLimited(t *testing.T, limit int, wcfg WriterConfig) *memQdrant {
	t.Helper()
	srv := qdrantmem.New()
	g := grpc.NewServer(grpc.MaxRecvMsgSize(limit))
	srv.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	client, err := NewClient(config.Qdrant{GRPC: lis.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	m := &memQdrant{srv: srv, client: client, reg: prometheus.NewRegistry(), logs: &logRecorder{}}
	wcfg.Retry = config.Retry{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	wcfg.Timeout = 5 * time.Second
	wcfg.Registerer, wcfg.Logger = m.reg, slog.New(m.logs)
	m.w = NewWriter(PooledPoints(client), client.GetCollectionsClient(), wcfg)
	return m
}

func bigUpserts(n, dim int) []Op {
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = Op{Record: upsertRec(uint64(i), dim), Offset: int64(i), Ref: i}
	}
	return ops
}

// Issue 7 item 7: a request too large for what is in front of Qdrant is
// split, not retried forever (before: ResourceExhausted was retried until
// the context ended).
func TestIntegrationTooLargeRequestIsSplit(t *testing.T) {
	const limit = 64 << 10
	m := startLimited(t, limit, WriterConfig{})
	m.create(t, "c", 128)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ops := bigUpserts(512, 128) // about 300 KB encoded
	rejected, err := m.w.Write(ctx, "c", ops)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %d rejected, %v", len(rejected), err)
	}
	if n := len(m.points(t, "c")); n != 512 {
		t.Fatalf("%d points, want 512", n)
	}
	if n := m.metric(t, "kafka_qdrant_request_splits_total", nil); n < 1 {
		t.Fatalf("request_splits_total = %v, want >= 1", n)
	}
}

// One record too large for any request is dead-lettered with the reason;
// the others are written.
func TestIntegrationRecordTooLargeForAnyRequest(t *testing.T) {
	const limit = 16 << 10
	m := startLimited(t, limit, WriterConfig{})
	m.create(t, "c", 4)
	ops := upserts(8)
	huge := upsertRec(3, 4)
	huge.Payload = payloadOf(map[string]any{"blob": strings.Repeat("x", 20<<10)})
	ops[3] = Op{Record: huge, Offset: 3, Ref: 3}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rejected, err := m.w.Write(ctx, "c", ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0].Op.Ref != 3 || rejected[0].Err.Class != schemas.ClassQdrantRejected ||
		!strings.Contains(rejected[0].Err.Error(), "too large") {
		t.Fatalf("rejected %v", rejected)
	}
	if n := len(m.points(t, "c")); n != 7 {
		t.Fatalf("%d points, want 7", n)
	}
}

// A proxy answering HTTP 413 reaches grpc-go as Unknown "unexpected HTTP
// status code received from server: 413 (Request Entity Too Large)": the
// batch is split, not retried forever.
func TestWriteProxy413Splits(t *testing.T) {
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, _ int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		if n := countPoints(req); n > 4 {
			return nil, status.Error(codes.Unknown, "unexpected HTTP status code received from server: 413 (Request Entity Too Large); transport: received unexpected content-type \"text/html\"")
		}
		return completed(req), nil
	}}
	tw := newTestWriter(t, fp, newFakeCollections(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rejected, err := tw.Write(ctx, "c", upserts(16))
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	if n := tw.metric(t, "kafka_qdrant_records_upserted_total", nil); n != 16 {
		t.Fatalf("upserted = %v, want 16", n)
	}
}

func countPoints(req *qdrant.UpdateBatchPoints) int {
	n := 0
	for _, op := range req.GetOperations() {
		n += len(op.GetUpsert().GetPoints())
	}
	return n
}

// Issue 7 item 7: a response with fewer results than operations is an
// error, never a success. Before, an empty result list counted as applied.
func TestWriteFewerResultsThanOperations(t *testing.T) {
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, call int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		if call == 1 {
			return &qdrant.UpdateBatchResponse{}, nil
		}
		return completed(req), nil
	}}
	tw := newTestWriter(t, fp, newFakeCollections(), nil)
	ops := upserts(3)
	ops = append(ops, Op{Record: deleteRec(9), Offset: 10})
	rejected, err := tw.Write(context.Background(), "c", ops)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	if n := fp.callCount(); n != 2 {
		t.Fatalf("%d calls, want 2: an empty result must not count as applied", n)
	}
	if n := tw.metric(t, "kafka_qdrant_retries_total", map[string]string{"class": "unknown"}); n != 1 {
		t.Fatalf("retries_total{unknown} = %v, want 1", n)
	}
}

func firstErr(r []Rejected) error {
	if len(r) == 0 {
		return nil
	}
	return errors.New(r[0].Err.Error())
}

// With qdrant.max_request_bytes below the limit in front of Qdrant, no
// request is refused: batches are cut by encoded size up front.
func TestIntegrationMaxRequestBytesCutsUpFront(t *testing.T) {
	const limit = 64 << 10
	m := startLimited(t, limit, WriterConfig{MaxRequestBytes: limit})
	m.create(t, "c", 128)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rejected, err := m.w.Write(ctx, "c", bigUpserts(512, 128))
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %d rejected, %v", len(rejected), err)
	}
	if n := len(m.points(t, "c")); n != 512 {
		t.Fatalf("%d points, want 512", n)
	}
	if n := m.metric(t, "kafka_qdrant_request_splits_total", nil); n != 0 {
		t.Fatalf("request_splits_total = %v, want 0: no request should have been refused", n)
	}
	if n := m.metric(t, "kafka_qdrant_retries_total", map[string]string{"class": "resource_exhausted"}); n != 0 {
		t.Fatalf("retries_total{resource_exhausted} = %v, want 0", n)
	}
}

// cut's estimate is an upper bound: every request it plans (and every
// request buildRequest makes of a part) encodes within max_request_bytes,
// with and without fencing, strict-mode operation limits, mixed upserts and
// deletes, UUID and numeric ids, and payloads of random size.
func TestCutKeepsRequestsWithinMaxBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 200 {
		fencing := round%2 == 1
		maxBytes := 4<<10 + rng.IntN(60<<10)
		w := NewWriter(&fakePoints{}, newFakeCollections(), WriterConfig{Fencing: fencing, MaxRequestBytes: maxBytes, FencingEpoch: rng.IntN(MaxFencingEpoch + 1)})
		n := 1 + rng.IntN(300)
		ops := make([]Op, n)
		batch := make([]int, n)
		for i := range ops {
			batch[i] = i
			off := rng.Int64N(maxFencedOffset)
			if rng.IntN(5) == 0 {
				ops[i] = Op{Record: deleteRec(uint64(i)), Offset: off}
				continue
			}
			r := upsertRec(uint64(i), 1+rng.IntN(64))
			if rng.IntN(3) == 0 {
				r.ID = qdrant.NewID(uuid.NewString())
			}
			r.Payload = payloadOf(map[string]any{"text": strings.Repeat("x", rng.IntN(2000)), "n": rng.Int64()})
			ops[i] = Op{Record: r, Offset: off}
		}
		lim := limits{upsertPoints: rng.IntN(20), timeoutSecs: uint64(rng.IntN(100))}
		parts := w.cut("coll", ops, batch, lim)
		if parts == nil {
			parts = [][]int{batch}
		}
		seen := 0
		for _, p := range parts {
			seen += len(p)
			req, _ := w.buildRequest("coll", ops, p, lim)
			if size := proto.Size(req); size > maxBytes && len(p) > 1 {
				t.Fatalf("round %d (fencing %v): a part of %d ops encodes to %d bytes > %d", round, fencing, len(p), size, maxBytes)
			}
		}
		if seen != n {
			t.Fatalf("round %d: parts hold %d ops, want %d", round, seen, n)
		}
		// Parts are not needlessly small: each but the last would overflow
		// with the next op added.
		for k := 0; k+1 < len(parts); k++ {
			grown := append(append([]int(nil), parts[k]...), parts[k+1][0])
			if w.cut("coll", ops, grown, lim) == nil {
				t.Fatalf("round %d: part %d could have taken one more op", round, k)
			}
		}
	}
}

// The strict-mode limit applies per upsert operation: one request carries
// as many operations as the points need.
func TestBuildRequestCutsUpsertOperations(t *testing.T) {
	w := NewWriter(&fakePoints{}, newFakeCollections(), WriterConfig{})
	ops := upserts(25)
	ops = append(ops, Op{Record: deleteRec(99), Offset: 99})
	batch := make([]int, len(ops))
	for i := range batch {
		batch[i] = i
	}
	req, n := w.buildRequest("c", ops, batch, limits{upsertPoints: 10, timeoutSecs: 3})
	var sizes []int
	for _, op := range req.GetOperations() {
		if up := op.GetUpsert(); up != nil {
			sizes = append(sizes, len(up.GetPoints()))
		}
	}
	if n != 25 || !slices.Equal(sizes, []int{10, 10, 5}) || req.GetOperations()[3].GetDeletePoints() == nil || req.GetTimeout() != 3 {
		t.Fatalf("upserts %d, operation sizes %v, %d operations, timeout %d", n, sizes, len(req.GetOperations()), req.GetTimeout())
	}
	if req, _ := w.buildRequest("c", ops, batch, limits{}); req.Timeout != nil || len(req.GetOperations()) != 2 {
		t.Fatalf("without limits: %d operations, timeout %v; want 2 and none", len(req.GetOperations()), req.Timeout)
	}
}

// The message table: strict-mode refusals are collection-wide and name
// their limit; size refusals split; a bad point stays a reject.
func TestClassifyMessages(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		action    Action
		class     string
		limitName string
		limit     uint64
	}{
		{"upsert limit", status.Error(codes.InvalidArgument, `Bad request: Limit exceeded 3000 > 10 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 10.`),
			ActionRetryCollection, "strict_mode", "upsert limit", 10},
		{"timeout limit", status.Error(codes.InvalidArgument, `Bad request: Limit exceeded 30 > 2 for "timeout". Help: Reduce the "timeout" parameter to or below 2.`),
			ActionRetryCollection, "strict_mode", "timeout", 2},
		{"index required", status.Error(codes.InvalidArgument, `Bad request: Index required but not found for "_kq_offset" of one of the following types: [float, integer]. Help: Create an index for this key or use a different filter.`),
			ActionRetryCollection, "strict_mode", "", 0},
		{"points count", status.Error(codes.InvalidArgument, "Bad request: Max points count limit of 5 reached!"), ActionRetryCollection, "strict_mode", "", 0},
		{"vector storage", status.Error(codes.InvalidArgument, "Bad request: Max vector storage size limit of 1MB reached!"), ActionRetryCollection, "strict_mode", "", 0},
		{"payload storage", status.Error(codes.InvalidArgument, "Bad request: Max payload storage size limit of 1MB reached!"), ActionRetryCollection, "strict_mode", "", 0},
		{"memory", status.Error(codes.InvalidArgument, "Bad request: Resident memory usage is at 91% of total memory, exceeding the configured limit of 90%. Help: Reduce memory usage"), ActionRetryCollection, "strict_mode", "", 0},
		{"disk", status.Error(codes.InvalidArgument, "Bad request: Disk usage is at 95% of total capacity, exceeding the configured limit of 90%. Help: Reduce disk usage"), ActionRetryCollection, "strict_mode", "", 0},
		{"filter conditions", status.Error(codes.InvalidArgument, "Bad request: Filter condition limit reached (3 > 2). Help: Reduce the amount of conditions of your filter."), ActionRetryCollection, "strict_mode", "", 0},
		{"bad point", status.Error(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: 4, got 3"), ActionReject, "invalid_argument", "", 0},
		{"grpc-go server limit", status.Error(codes.ResourceExhausted, "grpc: received message larger than max (70000 vs. 65536)"), ActionSplit, "request_too_large", "", 0},
		{"grpc-go client limit", status.Error(codes.ResourceExhausted, "trying to send message larger than max (300000000 vs. 268435456)"), ActionSplit, "request_too_large", "", 0},
		{"proxy 413", status.Error(codes.Unknown, "unexpected HTTP status code received from server: 413 (Request Entity Too Large)"), ActionSplit, "request_too_large", "", 0},
		{"rate limit stays a retry", status.Error(codes.ResourceExhausted, "Rate limiting exceeded: Write rate limit exceeded"), ActionRetry, "resource_exhausted", "", 0},
		{"strict text on another code", status.Error(codes.Internal, `Limit exceeded 3 > 2 for "upsert limit"`), ActionRetry, "internal", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Classify(tt.err, nil)
			if v.Action != tt.action || v.Class != tt.class || v.LimitName != tt.limitName || v.Limit != tt.limit {
				t.Fatalf("Classify = %v %q limit %q=%d; want %v %q limit %q=%d", v.Action, v.Class, v.LimitName, v.Limit,
					tt.action, tt.class, tt.limitName, tt.limit)
			}
			if v.Reason == "" {
				t.Fatal("no reason")
			}
			if v.Action.Retryable() == (v.Action == ActionReject || v.Action == ActionSplit) {
				t.Fatalf("Retryable() = %v for %v", v.Action.Retryable(), v.Action)
			}
		})
	}
}
