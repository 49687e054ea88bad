package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// storeWriter is a writer whose points go to st.
func storeWriter(t *testing.T, st *store) (*testWriter, *fakePoints) {
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, _ int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		return st.apply(req)
	}}
	return newTestWriter(t, fp, newFakeCollections(), nil), fp
}

func upserts(n int) []Op {
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = Op{Record: upsertRec(uint64(i), 4), Offset: int64(100 + i), Ref: 1000 + i}
	}
	return ops
}

// Bisection isolates exactly the bad ops, applies everything else, and
// stays within its call budget, for every batch size 1..17 and several
// placements of 1, 2 and all bad ops.
func TestWriteBisectionIsolatesBadOps(t *testing.T) {
	type placement struct {
		name string
		bad  func(n int) []uint64
	}
	placements := []placement{
		{"none bad", func(int) []uint64 { return nil }},
		{"first bad", func(int) []uint64 { return []uint64{0} }},
		{"last bad", func(n int) []uint64 { return []uint64{uint64(n - 1)} }},
		{"middle bad", func(n int) []uint64 { return []uint64{uint64(n / 2)} }},
		{"two bad apart", func(n int) []uint64 {
			if n < 2 {
				return nil
			}
			return []uint64{0, uint64(n - 1)}
		}},
		{"two bad adjacent", func(n int) []uint64 {
			if n < 2 {
				return nil
			}
			return []uint64{uint64(n/2 - 1), uint64(n / 2)}
		}},
		{"all bad", func(n int) []uint64 {
			bad := make([]uint64, n)
			for i := range bad {
				bad[i] = uint64(i)
			}
			return bad
		}},
	}
	for n := 1; n <= 17; n++ {
		for _, p := range placements {
			t.Run(fmt.Sprintf("n=%d/%s", n, p.name), func(t *testing.T) {
				bad := p.bad(n)
				st := newStore(bad...)
				tw, fp := storeWriter(t, st)
				ops := upserts(n)
				rejected, err := tw.Write(context.Background(), "c", ops)
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				var gotRefs []int
				for _, r := range rejected {
					gotRefs = append(gotRefs, r.Op.Ref)
					if r.Err.Class != schemas.ClassQdrantRejected || r.Err.Stage != schemas.StageWrite {
						t.Fatalf("rejected %d: class %q stage %q", r.Op.Ref, r.Err.Class, r.Err.Stage)
					}
					if !strings.Contains(r.Err.Error(), fmt.Sprintf("bad point %d", r.Op.Ref-1000)) {
						t.Fatalf("rejected %d: message %q lacks Qdrant's reason", r.Op.Ref, r.Err.Error())
					}
				}
				var wantRefs []int
				for _, b := range bad {
					wantRefs = append(wantRefs, 1000+int(b))
				}
				slices.Sort(gotRefs)
				if !slices.Equal(gotRefs, wantRefs) {
					t.Fatalf("rejected refs %v, want %v", gotRefs, wantRefs)
				}
				stored := st.ids()
				for i := range n {
					isBad := slices.Contains(bad, uint64(i))
					if stored[fmt.Sprint(i)] == isBad {
						t.Fatalf("point %d stored=%v, bad=%v", i, stored[fmt.Sprint(i)], isBad)
					}
				}
				if budget := max(2*n-1, 1); fp.callCount() > budget {
					t.Fatalf("%d calls, budget %d", fp.callCount(), budget)
				}
				if len(bad) == 0 && fp.callCount() != 1 {
					t.Fatalf("%d calls for a clean batch, want 1", fp.callCount())
				}
				if got := tw.metric(t, "kafka_qdrant_records_rejected_total", nil); got != float64(len(bad)) {
					t.Fatalf("rejected metric %v, want %d", got, len(bad))
				}
				if got := tw.metric(t, "kafka_qdrant_records_upserted_total", nil); got != float64(n-len(bad)) {
					t.Fatalf("upserted metric %v, want %d", got, n-len(bad))
				}
			})
		}
	}
}

// One bad op among many costs O(log n) calls, not O(n).
func TestWriteBisectionOneBadIsLogarithmic(t *testing.T) {
	st := newStore(300)
	tw, fp := storeWriter(t, st)
	rejected, err := tw.Write(context.Background(), "c", upserts(512))
	if err != nil || len(rejected) != 1 || rejected[0].Op.Ref != 1300 {
		t.Fatalf("Write = %v, %v; want op 300 rejected", rejected, err)
	}
	if fp.callCount() > 2*9+1 {
		t.Fatalf("%d calls to isolate one bad op among 512, want <= 19", fp.callCount())
	}
}

// The request carries wait=true, the collection and a per-call deadline,
// and merges ops so each id appears once.
func TestWriteRequestShape(t *testing.T) {
	var got *qdrant.UpdateBatchPoints
	var deadline time.Duration
	fp := &fakePoints{fn: func(ctx context.Context, req *qdrant.UpdateBatchPoints, _ int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		got = req
		d, ok := ctx.Deadline()
		if !ok {
			t.Error("call without deadline")
		}
		deadline = time.Until(d)
		return completed(req), nil
	}}
	tw := newTestWriter(t, fp, newFakeCollections(), nil)
	ops := []Op{
		{Record: upsertRec(1, 4), Offset: 1},
		{Record: deleteRec(1), Offset: 2},
		{Record: upsertRec(1, 4), Offset: 3}, // decides point 1: upsert
		{Record: upsertRec(2, 4), Offset: 4},
		{Record: deleteRec(2), Offset: 5}, // decides point 2: delete
		{Record: deleteRec(3), Offset: 6},
	}
	if rejected, err := tw.Write(context.Background(), "movies", ops); err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	if got.GetCollectionName() != "movies" || got.Wait == nil || !*got.Wait {
		t.Fatalf("collection %q wait %v; want movies, true", got.GetCollectionName(), got.Wait)
	}
	if got.GetTimeout() != 5 {
		t.Fatalf("server timeout %d, want 5 (seconds, from WriterConfig.Timeout)", got.GetTimeout())
	}
	if deadline <= 0 || deadline > 5*time.Second {
		t.Fatalf("call deadline in %v, want within 5s", deadline)
	}
	if len(got.GetOperations()) != 2 {
		t.Fatalf("%d operations, want 2 (one upsert, one delete)", len(got.GetOperations()))
	}
	var up, del []string
	for _, op := range got.GetOperations() {
		for _, p := range op.GetUpsert().GetPoints() {
			up = append(up, idString(p.GetId()))
			if p.GetPayload()[OffsetKey] != nil {
				t.Fatal("offset in payload without fencing")
			}
		}
		for _, id := range op.GetDeletePoints().GetPoints().GetPoints().GetIds() {
			del = append(del, idString(id))
		}
	}
	if !slices.Equal(up, []string{"1"}) || !slices.Equal(del, []string{"2", "3"}) {
		t.Fatalf("upserts %v deletes %v; want [1] and [2 3]", up, del)
	}
	if got := tw.metric(t, "kafka_qdrant_records_deleted_total", nil); got != 2 {
		t.Fatalf("deleted metric %v, want 2", got)
	}
	if got := tw.metric(t, "kafka_qdrant_batch_records", nil); got != 1 {
		t.Fatalf("batch histogram count %v, want 1", got)
	}
	if got := tw.metric(t, "kafka_qdrant_upsert_duration_seconds", nil); got != 1 {
		t.Fatalf("duration histogram count %v, want 1", got)
	}
}

// A rejected deciding op hands its point to the op before it, so the point
// ends as Kafka order without the bad op says.
func TestWriteRejectedWinnerFallsBackToPredecessor(t *testing.T) {
	st := newStore()
	// Point 7's last upsert is bad (its payload is rejected); the earlier
	// good upsert must be applied instead.
	good := upsertRec(7, 4)
	bad := upsertRec(7, 4)
	bad.Payload = payloadOf(map[string]any{"poison": true})
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, _ int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		for _, op := range req.GetOperations() {
			for _, p := range op.GetUpsert().GetPoints() {
				if p.GetPayload()["poison"] != nil {
					return nil, status.Error(codes.InvalidArgument, "Wrong input: poison")
				}
			}
		}
		return st.apply(req)
	}}
	tw := newTestWriter(t, fp, newFakeCollections(), nil)
	ops := []Op{{Record: good, Offset: 1, Ref: 1}, {Record: bad, Offset: 2, Ref: 2}, {Record: upsertRec(8, 4), Offset: 3, Ref: 3}}
	rejected, err := tw.Write(context.Background(), "c", ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0].Op.Ref != 2 {
		t.Fatalf("rejected %v, want only ref 2", rejected)
	}
	p := st.points["7"]
	if p == nil || p.GetPayload()["poison"] != nil {
		t.Fatalf("point 7 = %v, want the good upsert", p)
	}
	if !st.ids()["8"] {
		t.Fatal("point 8 not applied")
	}
}

// A write to a collection that is gone rejects every op as
// unknown_collection after one UpdateBatch and one config fetch.
func TestWriteUnknownCollection(t *testing.T) {
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, _ int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		return nil, status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", req.GetCollectionName())
	}}
	cols := newFakeCollections()
	tw := newTestWriter(t, fp, cols, nil)
	ops := []Op{{Record: upsertRec(1, 4), Offset: 1, Ref: 1}, {Record: deleteRec(1), Offset: 2, Ref: 2}, {Record: upsertRec(2, 4), Offset: 3, Ref: 3}}
	rejected, err := tw.Write(context.Background(), "gone", ops)
	if err != nil {
		t.Fatal(err)
	}
	var refs []int
	for _, r := range rejected {
		refs = append(refs, r.Op.Ref)
		if r.Err.Class != schemas.ClassUnknownCollection || r.Err.Stage != schemas.StageWrite {
			t.Fatalf("class %q stage %q, want unknown_collection/write", r.Err.Class, r.Err.Stage)
		}
	}
	slices.Sort(refs)
	if !slices.Equal(refs, []int{1, 2, 3}) {
		t.Fatalf("rejected refs %v, want [1 2 3]", refs)
	}
	if fp.callCount() != 1 || cols.callCount() != 1 {
		t.Fatalf("%d UpdateBatch and %d Get calls, want 1 and 1", fp.callCount(), cols.callCount())
	}
}

// NotFound while the collection exists (recreated meanwhile) is retried by
// halves, not dead-lettered.
func TestWriteNotFoundButCollectionExistsBisects(t *testing.T) {
	st := newStore()
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, call int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		if call == 1 {
			return nil, status.Error(codes.NotFound, "Not found: Collection `c` doesn't exist!")
		}
		return st.apply(req)
	}}
	tw := newTestWriter(t, fp, newFakeCollections(), nil)
	rejected, err := tw.Write(context.Background(), "c", upserts(4))
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v; want all applied", rejected, err)
	}
	if len(st.ids()) != 4 {
		t.Fatalf("%d points stored, want 4", len(st.ids()))
	}
}

// Retryable failures are retried with backoff, without end, until the
// context ends; then Write returns ctx.Err() and no rejections.
func TestWriteRetriesUntilContextEnds(t *testing.T) {
	for _, code := range []codes.Code{codes.Unavailable, codes.Internal, codes.DeadlineExceeded, codes.FailedPrecondition, codes.Unauthenticated, codes.Canceled} {
		t.Run(code.String(), func(t *testing.T) {
			fp := &fakePoints{fn: func(context.Context, *qdrant.UpdateBatchPoints, int, *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
				return nil, status.Error(code, "nope")
			}}
			tw := newTestWriter(t, fp, newFakeCollections(), nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tw.clk.onSleep = func(n int) {
				if n == 50 {
					cancel()
				}
			}
			rejected, err := tw.Write(ctx, "c", upserts(3))
			if !errors.Is(err, context.Canceled) || rejected != nil {
				t.Fatalf("Write = %v, %v; want nil, context.Canceled", rejected, err)
			}
			if fp.callCount() != 50 {
				t.Fatalf("%d calls, want 50 (one per sleep until cancel)", fp.callCount())
			}
			sleeps := tw.clk.slept()
			for i := 1; i < len(sleeps); i++ {
				if sleeps[i] < sleeps[i-1] || sleeps[i] > 10*time.Second {
					t.Fatalf("sleep %d = %v after %v: not a capped growing backoff", i, sleeps[i], sleeps[i-1])
				}
			}
			if sleeps[len(sleeps)-1] != 10*time.Second-1 {
				t.Fatalf("last sleep %v, want the 10s cap", sleeps[len(sleeps)-1])
			}
			label := codeRules[code].Class
			if got := tw.metric(t, "kafka_qdrant_retries_total", map[string]string{"class": label}); got != 50 {
				t.Fatalf("retries{class=%s} = %v, want 50", label, got)
			}
		})
	}
}

// Failures a person must fix log at ERROR; transient ones at WARN.
func TestWriteRetryLogLevels(t *testing.T) {
	tests := []struct {
		code  codes.Code
		level slog.Level
	}{
		{codes.Unauthenticated, slog.LevelError},
		{codes.PermissionDenied, slog.LevelError},
		{codes.Unavailable, slog.LevelWarn},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, call int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
				if call <= 2 {
					return nil, status.Error(tt.code, "x")
				}
				return completed(req), nil
			}}
			tw := newTestWriter(t, fp, newFakeCollections(), nil)
			if rejected, err := tw.Write(context.Background(), "c", upserts(1)); err != nil || len(rejected) != 0 {
				t.Fatalf("Write = %v, %v", rejected, err)
			}
			if got := tw.logs.levels(); got[tt.level] != 2 || len(got) != 1 {
				t.Fatalf("log levels %v, want 2 at %v only", got, tt.level)
			}
		})
	}
}

// A retry-after hint (typed go-client error or trailer) sets the wait.
func TestWriteHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		fail func(trailer *metadata.MD) error
		want time.Duration
	}{
		{"go-client typed error", func(*metadata.MD) error {
			return &qdrant.QdrantResourceExhaustedError{Reason: "Rate limiting exceeded", RetryAfterS: 7}
		}, 7 * time.Second},
		{"trailer", func(tr *metadata.MD) error {
			*tr = metadata.Pairs("retry-after", "3")
			return status.Error(codes.ResourceExhausted, "Rate limiting exceeded")
		}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, call int, tr *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
				if call == 1 {
					return nil, tt.fail(tr)
				}
				return completed(req), nil
			}}
			tw := newTestWriter(t, fp, newFakeCollections(), nil)
			if rejected, err := tw.Write(context.Background(), "c", upserts(2)); err != nil || len(rejected) != 0 {
				t.Fatalf("Write = %v, %v", rejected, err)
			}
			if got := tw.clk.slept(); !slices.Equal(got, []time.Duration{tt.want}) {
				t.Fatalf("slept %v, want [%v]", got, tt.want)
			}
			if got := tw.metric(t, "kafka_qdrant_retries_total", map[string]string{"class": "resource_exhausted"}); got != 1 {
				t.Fatalf("retries{resource_exhausted} = %v, want 1", got)
			}
		})
	}
}

// A call that succeeds but reports an operation not Completed is retried.
func TestWriteRetriesUnconfirmedStatus(t *testing.T) {
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, call int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		resp := completed(req)
		if call == 1 {
			resp.Result[0].Status = qdrant.UpdateStatus_WaitTimeout
		}
		return resp, nil
	}}
	tw := newTestWriter(t, fp, newFakeCollections(), nil)
	if rejected, err := tw.Write(context.Background(), "c", upserts(2)); err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	if fp.callCount() != 2 {
		t.Fatalf("%d calls, want 2", fp.callCount())
	}
	if got := tw.metric(t, "kafka_qdrant_retries_total", map[string]string{"class": "deadline_exceeded"}); got != 1 {
		t.Fatalf("retries{deadline_exceeded} = %v, want 1", got)
	}
}

// A context that ends during a call wins over the call's result: the
// caller gets ctx.Err(), never a rejection caused by the cancellation.
func TestWriteContextEndsDuringCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fp := &fakePoints{fn: func(context.Context, *qdrant.UpdateBatchPoints, int, *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		cancel()
		return nil, status.Error(codes.InvalidArgument, "would be a rejection")
	}}
	tw := newTestWriter(t, fp, newFakeCollections(), nil)
	rejected, err := tw.Write(ctx, "c", upserts(4))
	if !errors.Is(err, context.Canceled) || rejected != nil {
		t.Fatalf("Write = %v, %v; want nil, context.Canceled", rejected, err)
	}
	if fp.callCount() != 1 {
		t.Fatalf("%d calls, want 1", fp.callCount())
	}
}

func TestWriteUnsendableOpsRejectedAsValidate(t *testing.T) {
	st := newStore()
	tw, fp := storeWriter(t, st)
	ops := []Op{{Record: nil, Ref: 1}, {Record: &schemas.Record{Op: schemas.OpUpsert}, Ref: 2}, {Record: upsertRec(3, 4), Ref: 3}}
	rejected, err := tw.Write(context.Background(), "c", ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 2 || rejected[0].Op.Ref != 1 || rejected[1].Op.Ref != 2 {
		t.Fatalf("rejected %v, want refs 1 and 2", rejected)
	}
	for _, r := range rejected {
		if r.Err.Class != schemas.ClassValidate || r.Err.Stage != schemas.StageWrite {
			t.Fatalf("class %q stage %q", r.Err.Class, r.Err.Stage)
		}
	}
	if fp.callCount() != 1 || !st.ids()["3"] {
		t.Fatal("the valid op was not applied")
	}
	if rejected, err := tw.Write(context.Background(), "c", nil); err != nil || rejected != nil {
		t.Fatalf("empty Write = %v, %v", rejected, err)
	}
}

// With fencing, each upsert carries its offset and an update_filter, and
// each delete is conditional on the stored offset; the caller's payload is
// not modified.
func TestWriteFencingRequest(t *testing.T) {
	var got *qdrant.UpdateBatchPoints
	var index *qdrant.CreateFieldIndexCollection
	var readBack *qdrant.GetPoints
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, _ int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		got = req
		return completed(req), nil
	}, getFn: func(req *qdrant.GetPoints) (*qdrant.GetResponse, error) {
		readBack = req
		return &qdrant.GetResponse{Result: []*qdrant.RetrievedPoint{
			{Id: qdrant.NewIDNum(1), Payload: map[string]*qdrant.Value{OffsetKey: qdrant.NewValueInt(41)}},
			{Id: qdrant.NewIDNum(2), Payload: map[string]*qdrant.Value{OffsetKey: qdrant.NewValueInt(42)}},
		}}, nil
	}, indexFn: func(req *qdrant.CreateFieldIndexCollection) error {
		index = req
		return nil
	}}
	tw := newTestWriter(t, fp, newFakeCollections(), func(c *WriterConfig) { c.Fencing = true })
	r1 := upsertRec(1, 4)
	before := bytes.Clone(r1.Payload)
	ops := []Op{{Record: r1, Offset: 41}, {Record: upsertRec(2, 4), Offset: 42}, {Record: deleteRec(3), Offset: 43}}
	if rejected, err := tw.Write(context.Background(), "c", ops); err != nil || len(rejected) != 0 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	if !bytes.Equal(before, r1.Payload) {
		t.Fatal("Write modified the record's payload")
	}
	if len(got.GetOperations()) != 3 {
		t.Fatalf("%d operations, want one per op (3)", len(got.GetOperations()))
	}
	for i, off := range []int64{41, 42} {
		up := got.GetOperations()[i].GetUpsert()
		if len(up.GetPoints()) != 1 {
			t.Fatalf("op %d: %d points, want 1", i, len(up.GetPoints()))
		}
		p := up.GetPoints()[0]
		if p.GetPayload()[OffsetKey].GetIntegerValue() != off || p.GetPayload()["n"] == nil {
			t.Fatalf("op %d payload %v, want n and %s=%d", i, p.GetPayload(), OffsetKey, off)
		}
		assertFence(t, up.GetUpdateFilter(), off)
	}
	sel := got.GetOperations()[2].GetDeletePoints().GetPoints().GetFilter()
	if sel == nil || len(sel.GetMust()) != 1 || !slices.EqualFunc(sel.GetMust()[0].GetHasId().GetHasId(), []*qdrant.PointId{qdrant.NewIDNum(3)},
		func(a, b *qdrant.PointId) bool { return a.GetNum() == b.GetNum() }) {
		t.Fatalf("delete selector %v, want has_id 3", sel)
	}
	assertFence(t, sel, 43)
	if index.GetFieldName() != OffsetKey || index.GetFieldType() != qdrant.FieldType_FieldTypeInteger || !index.GetWait() {
		t.Fatalf("CreateFieldIndex %v, want an integer index on %s with wait", index, OffsetKey)
	}
	if len(readBack.GetIds()) != 3 || !slices.Equal(readBack.GetWithPayload().GetInclude().GetFields(), []string{OffsetKey}) ||
		readBack.GetWithVectors().GetEnable() {
		t.Fatalf("read-back %v, want the 3 ids with only %s", readBack, OffsetKey)
	}
	if n := tw.metric(t, "kafka_qdrant_fenced_writes_total", nil); n != 0 {
		t.Fatalf("fenced_writes_total = %v, want 0", n)
	}
}

func assertFence(t *testing.T, f *qdrant.Filter, off int64) {
	t.Helper()
	should := f.GetShould()
	if len(should) != 2 {
		t.Fatalf("fence filter %v, want 2 should conditions", f)
	}
	r := should[0].GetField()
	if r.GetKey() != OffsetKey || r.GetRange().Lte == nil || r.GetRange().GetLte() != float64(off) {
		t.Fatalf("fence range %v, want %s <= %d", r, OffsetKey, off)
	}
	if should[1].GetIsEmpty().GetKey() != OffsetKey {
		t.Fatalf("fence %v lacks is_empty(%s)", should[1], OffsetKey)
	}
}

// Many goroutines may share one writer.
func TestWriteConcurrent(t *testing.T) {
	st := newStore(5, 105, 205, 305)
	tw, _ := storeWriter(t, st)
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			ops := make([]Op, 50)
			for i := range ops {
				ops[i] = Op{Record: upsertRec(uint64(g*100+i), 4), Offset: int64(i), Ref: g*100 + i}
			}
			rejected, err := tw.Write(context.Background(), "c", ops)
			if err == nil && (len(rejected) != 1 || rejected[0].Op.Ref != g*100+5) {
				err = fmt.Errorf("goroutine %d: rejected %v", g, rejected)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(st.ids()); n != 4*49 {
		t.Fatalf("%d points stored, want %d", n, 4*49)
	}
}
