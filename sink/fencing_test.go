package sink

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func withN(id uint64, n int64) *schemas.Record {
	r := upsertRec(id, 4)
	r.Payload = payloadOf(map[string]any{"n": n})
	return r
}

// Issue 7 item 4: a conditional write that loses its update_filter is
// reported (kafka_qdrant_fenced_writes_total, a WARN naming the
// collection) instead of being counted as upserted or deleted. Before,
// Qdrant's success was taken as applied.
func TestIntegrationFencedWritesAreCounted(t *testing.T) {
	m := startMem(t, WriterConfig{Fencing: true})
	m.create(t, "c", 4)
	ctx := context.Background()
	if rejected, err := m.w.Write(ctx, "c", []Op{{Record: withN(1, 10), Offset: 10}, {Record: withN(2, 10), Offset: 10}}); err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	// An offset regression: older offsets for both points, plus a new one.
	rejected, err := m.w.Write(ctx, "c", []Op{{Record: withN(1, 5), Offset: 5}, {Record: deleteRec(2), Offset: 6}, {Record: withN(3, 7), Offset: 7}})
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	if n := m.metric(t, "kafka_qdrant_fenced_writes_total", nil); n != 2 {
		t.Fatalf("fenced_writes_total = %v, want 2 (the upsert of 1 and the delete of 2)", n)
	}
	if n := m.metric(t, "kafka_qdrant_records_upserted_total", nil); n != 3 {
		t.Fatalf("records_upserted_total = %v, want 3 (2, then only point 3)", n)
	}
	if n := m.metric(t, "kafka_qdrant_records_deleted_total", nil); n != 0 {
		t.Fatalf("records_deleted_total = %v, want 0", n)
	}
	if n := m.logs.levels()[slog.LevelWarn]; n != 1 {
		t.Fatalf("%d WARN logs, want 1 for the batch", n)
	}
	pts := m.points(t, "c")
	if pts["n:1"].GetPayload()["n"].GetIntegerValue() != 10 || pts["n:2"] == nil || pts["n:3"] == nil {
		t.Fatalf("points after the fenced writes: %v", pts)
	}
}

// Issue 7 item 4: strict mode refuses a delete by filter on an unindexed
// key, and fenced deletes filter on _kq_offset. The writer creates the
// integer index; before, every fenced delete was dead-lettered.
func TestIntegrationFencingCreatesOffsetIndexForStrictMode(t *testing.T) {
	m := startMem(t, WriterConfig{Fencing: true})
	m.createStrict(t, "c", &qdrant.StrictModeConfig{UnindexedFilteringUpdate: proto.Bool(false)})
	ctx := context.Background()
	if err := m.w.Check(ctx, "c", upsertRec(1, 4)); err != nil {
		t.Fatal(err)
	}
	if rejected, err := m.w.Write(ctx, "c", []Op{{Record: withN(1, 10), Offset: 10}, {Record: withN(2, 10), Offset: 11}}); err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	rejected, err := m.w.Write(ctx, "c", []Op{{Record: deleteRec(1), Offset: 12}})
	if err != nil || len(rejected) != 0 {
		t.Fatalf("fenced delete: Write = %v, %v", rejected, err)
	}
	if _, ok := m.points(t, "c")["n:1"]; ok {
		t.Fatal("point 1 not deleted")
	}
	info, err := m.client.GetCollectionInfo(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := info.GetPayloadSchema()[OffsetKey].GetDataType(); got != qdrant.PayloadSchemaType_Integer {
		t.Fatalf("payload_schema[%s] = %v, want Integer", OffsetKey, got)
	}
}

// Issue 7 item 4: reprocessing after an offset regression. A topic
// recreated restarts its offsets, so every write loses to the points the
// old topic wrote; with qdrant.fencing_epoch bumped, the new writes win,
// and a late replica still on the old epoch cannot undo them.
func TestIntegrationFencingEpochWins(t *testing.T) {
	m := startMem(t, WriterConfig{Fencing: true})
	m.create(t, "c", 4)
	ctx := context.Background()
	write := func(w *Writer, ops ...Op) {
		t.Helper()
		if rejected, err := w.Write(ctx, "c", ops); err != nil || len(rejected) != 0 {
			t.Fatalf("Write = %v, %v", rejected, err)
		}
	}
	n := func() int64 { return m.points(t, "c")["n:1"].GetPayload()["n"].GetIntegerValue() }
	write(m.w, Op{Record: withN(1, 1000), Offset: 1000})
	// The topic is recreated: offset 3 loses to 1000.
	write(m.w, Op{Record: withN(1, 3), Offset: 3, Partition: 2})
	if got := n(); got != 1000 {
		t.Fatalf("n = %d, want 1000 (fenced)", got)
	}
	bumped := NewWriter(PooledPoints(m.client), m.client.GetCollectionsClient(), WriterConfig{Fencing: true, FencingEpoch: 1, Registerer: m.reg})
	write(bumped, Op{Record: withN(1, 3), Offset: 3})
	if got := n(); got != 3 {
		t.Fatalf("n = %d, want 3: epoch 1 must win over epoch 0", got)
	}
	if got := m.points(t, "c")["n:1"].GetPayload()[OffsetKey].GetIntegerValue(); got != 1<<43|3 {
		t.Fatalf("%s = %d, want 2^43+3", OffsetKey, got)
	}
	// The old epoch, even from a higher offset, loses now.
	write(m.w, Op{Record: withN(1, 2000), Offset: 2000}, Op{Record: deleteRec(1), Offset: 2001})
	if got := n(); got != 3 {
		t.Fatalf("n = %d after a late epoch-0 write, want 3", got)
	}
	// Within the new epoch, offsets order writes again.
	write(bumped, Op{Record: withN(1, 4), Offset: 4})
	if got := n(); got != 4 {
		t.Fatalf("n = %d, want 4", got)
	}
	if got := m.metric(t, "kafka_qdrant_fenced_writes_total", nil); got != 2 {
		// offset 3 at epoch 0; the upsert at 2000 merged away by the delete at 2001, which lost.
		t.Fatalf("fenced_writes_total = %v, want 2", got)
	}
	// The WARN names the partition of the lost write.
	found := false
	for _, r := range m.logs.snapshot() {
		if r.Level != slog.LevelWarn {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "partition" && a.Value.Int64() == 2 {
				found = true
			}
			return true
		})
	}
	if !found {
		t.Fatal("no WARN with partition=2 for the fenced write")
	}
}

// Offsets fencing cannot store are dead-lettered, not written unfenced.
func TestWriteFencingOffsetOutOfRange(t *testing.T) {
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, _ int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		return completed(req), nil
	}, getFn: func(*qdrant.GetPoints) (*qdrant.GetResponse, error) { return &qdrant.GetResponse{}, nil },
		indexFn: func(*qdrant.CreateFieldIndexCollection) error { return nil }}
	tw := newTestWriter(t, fp, newFakeCollections(), func(c *WriterConfig) { c.Fencing = true })
	rejected, err := tw.Write(context.Background(), "c", []Op{{Record: upsertRec(1, 4), Offset: 1 << 43, Ref: 7}})
	if err != nil || len(rejected) != 1 || rejected[0].Op.Ref != 7 || rejected[0].Err.Class != schemas.ClassValidate ||
		!strings.Contains(rejected[0].Err.Error(), "outside what fencing can store") {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	if fp.callCount() != 0 {
		t.Fatalf("%d UpdateBatch calls, want 0", fp.callCount())
	}
}

// Fenced-write WARNs are rate-limited per collection and partition and
// count what they cover.
func TestFencedLogRateLimit(t *testing.T) {
	l := newFencedLog()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		partition int32
		n         int
		at        time.Duration
		want      int
		ok        bool
	}{
		{0, 3, 0, 3, true},
		{0, 2, time.Second, 0, false},
		{1, 1, time.Second, 1, true},
		{0, 4, 5 * time.Second, 0, false},
		{0, 1, fencedLogEvery, 7, true},
	}
	for i, s := range steps {
		got, ok := l.allow("c", s.partition, s.n, t0.Add(s.at))
		if got != s.want || ok != s.ok {
			t.Fatalf("step %d: allow = %d, %v; want %d, %v", i, got, ok, s.want, s.ok)
		}
	}
}

// Issue 7 item 4: the version check. update_filter on upserts arrived in
// Qdrant 1.15.4; an older server would ignore it.
func TestCheckServer(t *testing.T) {
	for _, tc := range []struct {
		version string
		fencing bool
		wantErr string
	}{
		{"1.18.3", true, ""},
		{"1.15.4", true, ""},
		{"1.16.0-dev", true, ""},
		{"v2.0.0", true, ""},
		{"1.15.3", true, "qdrant 1.15.3 ignores update_filter on upserts (added in 1.15.4)"},
		{"1.9.7", true, "ignores update_filter"},
		{"dev", true, "not major.minor.patch"},
		{"1.9.7", false, ""},
	} {
		t.Run(fmt.Sprintf("%s/fencing=%v", tc.version, tc.fencing), func(t *testing.T) {
			srv := qdrantmem.New(qdrantmem.WithVersion(tc.version))
			addr, err := srv.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Stop)
			c, err := NewClient(config.Qdrant{GRPC: addr})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			got, err := CheckServer(context.Background(), c.GetQdrantClient(), WriterConfig{Fencing: tc.fencing})
			if got != tc.version {
				t.Fatalf("version = %q, want %q", got, tc.version)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("CheckServer = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "qdrant.fencing")):
				t.Fatalf("CheckServer = %v, want an error naming qdrant.fencing with %q", err, tc.wantErr)
			}
		})
	}
}

// CheckServer waits for a Qdrant that is not up yet, then checks it.
func TestCheckServerRetriesUntilQdrantAnswers(t *testing.T) {
	srv := qdrantmem.New(qdrantmem.WithVersion("1.15.0"))
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.SetUnavailable(true)
	c, err := NewClient(config.Qdrant{GRPC: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	logs := &logRecorder{}
	done := make(chan error, 1)
	go func() {
		_, err := CheckServer(context.Background(), c.GetQdrantClient(), WriterConfig{Fencing: true, Logger: slog.New(logs),
			Retry: config.Retry{InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
		done <- err
	}()
	waitFor(t, "3 attempts", func() bool { return srv.CallCount(qdrantmem.MethodHealthCheck) >= 3 })
	srv.SetUnavailable(false)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "1.15.0") {
		t.Fatalf("CheckServer = %v, want the refusal of 1.15.0", err)
	}
	if logs.levels()[slog.LevelWarn] < 2 {
		t.Fatalf("log levels %v, want WARNs while waiting", logs.levels())
	}
}
