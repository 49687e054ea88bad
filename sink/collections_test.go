package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func TestCheck(t *testing.T) {
	multi := &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim}
	cols := newFakeCollections()
	cols.set("named", infoNamed(map[string]*qdrant.VectorParams{
		"img":     {Size: 3, Distance: qdrant.Distance_Dot},
		"colbert": {Size: 2, Distance: qdrant.Distance_Dot, MultivectorConfig: multi},
	}, "text"))
	cols.set("unnamed-multi", &qdrant.CollectionInfo{Config: &qdrant.CollectionConfig{Params: &qdrant.CollectionParams{
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, MultivectorConfig: multi}),
	}}})
	rec := func(v *qdrant.Vectors) *schemas.Record {
		return &schemas.Record{Op: schemas.OpUpsert, ID: qdrant.NewIDNum(1), Vectors: v}
	}
	namedRec := func(m map[string]*qdrant.Vector) *schemas.Record { return rec(qdrant.NewVectorsMap(m)) }
	tests := []struct {
		name       string
		collection string
		rec        *schemas.Record
		class      schemas.ErrorClass // "" = fits
		stage      schemas.Stage
		msg        string
	}{
		{"dense fits", "c", upsertRec(1, 4), "", "", ""},
		{"dense wrong dim", "c", upsertRec(1, 3), schemas.ClassValidate, schemas.StageValidate, "Wrong input: Vector dimension error: expected dim: 4, got 3"},
		{"empty dense", "c", rec(qdrant.NewVectorsDense(nil)), schemas.ClassValidate, schemas.StageValidate, "expected dim: 4, got 0"},
		{"no vectors", "c", rec(nil), schemas.ClassValidate, schemas.StageValidate, "the point has no vector"},
		{"delete needs no vector", "c", deleteRec(1), "", "", ""},
		{"missing collection", "nope", upsertRec(1, 4), schemas.ClassUnknownCollection, schemas.StageRoute, `collection "nope" does not exist`},
		{"delete from missing collection", "nope", deleteRec(1), schemas.ClassUnknownCollection, schemas.StageRoute, "does not exist"},
		{"sparse into dense unnamed", "c", rec(qdrant.NewVectorsSparse([]uint32{1}, []float32{1})), schemas.ClassValidate, schemas.StageValidate, "Conversion between sparse and regular vectors failed"},
		{"multi into dense without multivector config", "c", rec(qdrant.NewVectorsMulti([][]float32{vec(4), vec(4)})), schemas.ClassValidate, schemas.StageValidate, "Conversion between multi and regular vectors failed"},
		{"deprecated flat dense fits", "c", rec(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: vec(4)}}}), "", "", ""},
		{"deprecated flat dense wrong dim", "c", rec(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: vec(5)}}}), schemas.ClassValidate, schemas.StageValidate, "expected dim: 4, got 5"},
		{"deprecated flat sparse into dense", "c", rec(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: []float32{1}, Indices: &qdrant.SparseIndices{Data: []uint32{3}}}}}), schemas.ClassValidate, schemas.StageValidate, "sparse"},
		{"named fits", "named", namedRec(map[string]*qdrant.Vector{
			"img": qdrant.NewVectorDense(vec(3)), "text": qdrant.NewVectorSparse([]uint32{1, 9}, []float32{1, 2}),
			"colbert": qdrant.NewVectorMulti([][]float32{vec(2), vec(2), vec(2)})}), "", "", ""},
		{"named subset fits", "named", namedRec(map[string]*qdrant.Vector{"text": qdrant.NewVectorSparse([]uint32{1}, []float32{1})}), "", "", ""},
		{"named wrong dim", "named", namedRec(map[string]*qdrant.Vector{"img": qdrant.NewVectorDense(vec(4))}), schemas.ClassValidate, schemas.StageValidate, `expected dim: 3, got 4 (vector "img")`},
		{"unknown name", "named", namedRec(map[string]*qdrant.Vector{"audio": qdrant.NewVectorDense(vec(3))}), schemas.ClassValidate, schemas.StageValidate, "Wrong input: Not existing vector name error: audio"},
		{"unknown name reported first in order", "named", namedRec(map[string]*qdrant.Vector{"zz": qdrant.NewVectorDense(vec(3)), "aa": qdrant.NewVectorDense(vec(3)), "img": qdrant.NewVectorDense(vec(3))}), schemas.ClassValidate, schemas.StageValidate, "vector name error: aa"},
		{"unnamed into named", "named", upsertRec(1, 3), schemas.ClassValidate, schemas.StageValidate, `unnamed vector but collection "named" has only named vectors`},
		{"sparse for a dense name", "named", namedRec(map[string]*qdrant.Vector{"img": qdrant.NewVectorSparse([]uint32{1}, []float32{1})}), schemas.ClassValidate, schemas.StageValidate, `Conversion between sparse and regular vectors failed (vector "img")`},
		{"dense for a sparse name", "named", namedRec(map[string]*qdrant.Vector{"text": qdrant.NewVectorDense(vec(3))}), schemas.ClassValidate, schemas.StageValidate, `Conversion between sparse and regular vectors failed (vector "text")`},
		{"multi for a sparse name", "named", namedRec(map[string]*qdrant.Vector{"text": qdrant.NewVectorMulti([][]float32{vec(3)})}), schemas.ClassValidate, schemas.StageValidate, `Conversion between multi and regular vectors failed (vector "text")`},
		{"multi for a dense name without multivector config", "named", namedRec(map[string]*qdrant.Vector{"img": qdrant.NewVectorMulti([][]float32{vec(3)})}), schemas.ClassValidate, schemas.StageValidate, `Conversion between multi and regular vectors failed (vector "img")`},
		{"multi row wrong dim", "named", namedRec(map[string]*qdrant.Vector{"colbert": qdrant.NewVectorMulti([][]float32{vec(2), vec(5)})}), schemas.ClassValidate, schemas.StageValidate, `expected dim: 2, got 5 (vector "colbert")`},
		{"dense into multivector name is one row", "named", namedRec(map[string]*qdrant.Vector{"colbert": qdrant.NewVectorDense(vec(2))}), "", "", ""},
		{"unnamed multi fits", "unnamed-multi", rec(qdrant.NewVectorsMulti([][]float32{vec(2), vec(2)})), "", "", ""},
		{"deprecated flat multi fits", "unnamed-multi", rec(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: vec(6), VectorsCount: ptr(uint32(3))}}}), "", "", ""},
		{"deprecated flat multi uneven", "unnamed-multi", rec(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: vec(5), VectorsCount: ptr(uint32(2))}}}), schemas.ClassValidate, schemas.StageValidate, "expected dim: 2"},
		{"inference vector checked by name only", "named", namedRec(map[string]*qdrant.Vector{"img": qdrant.NewVectorDocument(&qdrant.Document{Text: "hi", Model: "m"})}), "", "", ""},
	}
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tw.Check(context.Background(), tt.collection, tt.rec)
			if tt.class == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			re, ok := schemas.AsRecordError(err)
			if !ok {
				t.Fatalf("Check = %v, want a RecordError", err)
			}
			if re.Class != tt.class || re.Stage != tt.stage || !strings.Contains(re.Error(), tt.msg) {
				t.Fatalf("Check = %s/%s %q; want %s/%s containing %q", re.Class, re.Stage, re.Error(), tt.class, tt.stage, tt.msg)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Passing checks are served from the cache: one fetch per collection.
func TestCheckCachesConfig(t *testing.T) {
	cols := newFakeCollections()
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	for range 100 {
		if err := tw.Check(context.Background(), "c", upsertRec(1, 4)); err != nil {
			t.Fatal(err)
		}
	}
	if cols.callCount() != 1 {
		t.Fatalf("%d fetches, want 1", cols.callCount())
	}
}

// Concurrent checks of an uncached collection share one fetch.
func TestCheckConcurrentShareOneFetch(t *testing.T) {
	cols := newFakeCollections()
	cols.block = make(chan struct{})
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- tw.Check(context.Background(), "c", upsertRec(1, 4)) })
	}
	// Let every goroutine reach the cache before the fetch answers.
	deadline := time.Now().Add(5 * time.Second)
	for cols.callCount() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(cols.block)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if cols.callCount() != 1 {
		t.Fatalf("%d fetches for 20 concurrent checks, want 1", cols.callCount())
	}
}

// A negative verdict from a config older than refreshAfter is confirmed by
// a new fetch; within refreshAfter it is served from the cache, so a flood
// of bad records costs at most one fetch per second.
func TestCheckRefreshesBeforeNegativeVerdict(t *testing.T) {
	cols := newFakeCollections()
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	ctx := context.Background()
	if err := tw.Check(ctx, "c", upsertRec(1, 4)); err != nil {
		t.Fatal(err)
	}
	// The collection is recreated with dim 8.
	cols.set("c", infoDense(8))
	for range 10 {
		if err := tw.Check(ctx, "c", upsertRec(1, 8)); err == nil {
			t.Fatal("dim 8 accepted from a fresh cache of dim 4")
		}
	}
	if cols.callCount() != 1 {
		t.Fatalf("%d fetches within refreshAfter, want 1", cols.callCount())
	}
	tw.clk.advance(refreshAfter + time.Millisecond)
	if err := tw.Check(ctx, "c", upsertRec(1, 8)); err != nil {
		t.Fatalf("after refreshAfter: %v, want the recreated config to be seen", err)
	}
	if cols.callCount() != 2 {
		t.Fatalf("%d fetches, want 2", cols.callCount())
	}
	// Positive verdicts never refetch, however old.
	tw.clk.advance(time.Hour)
	if err := tw.Check(ctx, "c", upsertRec(1, 8)); err != nil || cols.callCount() != 2 {
		t.Fatalf("Check = %v after %d fetches; want nil, 2", err, cols.callCount())
	}
}

// A collection created after it was first seen missing is found once the
// negative entry is older than refreshAfter.
func TestCheckSeesCollectionCreatedLater(t *testing.T) {
	cols := newFakeCollections()
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	ctx := context.Background()
	for range 5 {
		if _, ok := schemas.AsRecordError(tw.Check(ctx, "late", upsertRec(1, 4))); !ok {
			t.Fatal("missing collection not reported")
		}
	}
	if cols.callCount() != 1 {
		t.Fatalf("%d fetches for a missing collection within refreshAfter, want 1", cols.callCount())
	}
	cols.set("late", infoDense(4))
	tw.clk.advance(refreshAfter + time.Millisecond)
	if err := tw.Check(ctx, "late", upsertRec(1, 4)); err != nil {
		t.Fatalf("Check = %v, want the new collection found", err)
	}
}

// A write rejected by Qdrant drops the cached config, so the next check
// sees a recreated collection at once.
func TestWriteRejectionInvalidatesCache(t *testing.T) {
	cols := newFakeCollections()
	fp := &fakePoints{fn: func(context.Context, *qdrant.UpdateBatchPoints, int, *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		return nil, status.Error(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: 8, got 4")
	}}
	tw := newTestWriter(t, fp, cols, nil)
	ctx := context.Background()
	if err := tw.Check(ctx, "c", upsertRec(1, 4)); err != nil {
		t.Fatal(err)
	}
	cols.set("c", infoDense(8))
	if rejected, err := tw.Write(ctx, "c", upserts(1)); err != nil || len(rejected) != 1 {
		t.Fatalf("Write = %v, %v", rejected, err)
	}
	re, ok := schemas.AsRecordError(tw.Check(ctx, "c", upsertRec(1, 4)))
	if !ok || !strings.Contains(re.Error(), "expected dim: 8, got 4") {
		t.Fatalf("Check after rejection = %v, want the new dim 8", re)
	}
}

// Retryable fetch failures are retried until ctx ends; then Check returns
// ctx.Err(), never a RecordError.
func TestCheckRetriesFetchUntilContextEnds(t *testing.T) {
	cols := newFakeCollections()
	cols.fail = func(int) error { return status.Error(codes.Unavailable, "down") }
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tw.clk.onSleep = func(n int) {
		if n == 20 {
			cancel()
		}
	}
	err := tw.Check(ctx, "c", upsertRec(1, 4))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Check = %v, want context.Canceled", err)
	}
	if cols.callCount() != 20 {
		t.Fatalf("%d fetches, want 20", cols.callCount())
	}
	if got := tw.metric(t, "kafka_qdrant_retries_total", map[string]string{"class": "unavailable"}); got != 20 {
		t.Fatalf("retries{unavailable} = %v, want 20", got)
	}
	// A later check, once Qdrant is back, fetches afresh.
	cols.fail = nil
	if err := tw.Check(context.Background(), "c", upsertRec(1, 4)); err != nil {
		t.Fatalf("Check after recovery = %v", err)
	}
}

// Fetch failures that clear up are retried, then the check proceeds.
func TestCheckFetchRecovers(t *testing.T) {
	cols := newFakeCollections()
	cols.fail = func(n int) error {
		if n <= 3 {
			return status.Error(codes.Internal, "Service internal error")
		}
		return nil
	}
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	if err := tw.Check(context.Background(), "c", upsertRec(1, 4)); err != nil {
		t.Fatalf("Check = %v", err)
	}
	if cols.callCount() != 4 || len(tw.clk.slept()) != 3 {
		t.Fatalf("%d fetches and %d sleeps, want 4 and 3", cols.callCount(), len(tw.clk.slept()))
	}
}

// An invalid collection name (InvalidArgument from Qdrant) is an unknown
// collection, not a retry.
func TestCheckInvalidCollectionName(t *testing.T) {
	cols := newFakeCollections()
	cols.fail = func(int) error { return status.Error(codes.InvalidArgument, "Validation error: collection name") }
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	re, ok := schemas.AsRecordError(tw.Check(context.Background(), "bad/name", upsertRec(1, 4)))
	if !ok || re.Class != schemas.ClassUnknownCollection {
		t.Fatalf("Check = %v, want unknown_collection", re)
	}
}

// A check whose fetch was started by a caller that gave up (its ctx
// ended) still gets an answer: it takes over the fetch.
func TestCheckSurvivesAbandonedFetch(t *testing.T) {
	cols := newFakeCollections()
	cols.block = make(chan struct{})
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	ctx1, cancel1 := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- tw.Check(ctx1, "c", upsertRec(1, 4)) }()
	deadline := time.Now().Add(5 * time.Second)
	for cols.callCount() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() { second <- tw.Check(context.Background(), "c", upsertRec(1, 4)) }()
	cancel1()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("first Check = %v, want context.Canceled", err)
	}
	close(cols.block)
	if err := <-second; err != nil {
		t.Fatalf("second Check = %v, want nil", err)
	}
}

func TestCacheEvictsWhenFull(t *testing.T) {
	cols := newFakeCollections()
	tw := newTestWriter(t, &fakePoints{}, cols, nil)
	ctx := context.Background()
	if err := tw.Check(ctx, "c", upsertRec(1, 4)); err != nil {
		t.Fatal(err)
	}
	for i := range maxCachedCollections + 10 {
		_ = tw.Check(ctx, fmt.Sprintf("missing-%d", i), deleteRec(1))
	}
	tw.cols.mu.Lock()
	n := len(tw.cols.entries)
	_, kept := tw.cols.entries["c"]
	tw.cols.mu.Unlock()
	if n > maxCachedCollections {
		t.Fatalf("%d cache entries, bound %d", n, maxCachedCollections)
	}
	if !kept {
		t.Fatal("an existing collection was evicted before missing ones")
	}
}
