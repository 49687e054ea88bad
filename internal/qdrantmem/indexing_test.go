package qdrantmem

import (
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// The indexing tests use 256-dim float32 vectors (1 KiB each), an
// indexing_threshold of 4 KB (so 4 unindexed vectors start a build) and a
// rate of 10 vectors per second on a fake clock.
const idxDim = 256

type idxEnv struct {
	*env
	clk *fakeClock
}

func newIdxEnv(t *testing.T, hnswM uint64, thresholdKB uint64, opts ...Option) *idxEnv {
	clk := newFakeClock()
	e := newEnv(t, append([]Option{WithClock(clk), WithIndexingRate(10)}, opts...)...)
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName:   "c",
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: idxDim, Distance: qdrant.Distance_Dot}),
		HnswConfig:       &qdrant.HnswConfigDiff{M: proto.Uint64(hnswM)},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: proto.Uint64(thresholdKB)},
	}))
	return &idxEnv{env: e, clk: clk}
}

// add upserts n new points with ids from first.
func (e *idxEnv) add(t *testing.T, first, n uint64) {
	t.Helper()
	pts := make([]*qdrant.PointStruct, n)
	for i := range pts {
		pts[i] = pt(first+uint64(i), make([]float32, idxDim), nil)
	}
	e.upsert(t, "c", pts...)
}

// state is what GetCollectionInfo reports about indexing.
type state struct {
	status  qdrant.CollectionStatus
	indexed uint64
	points  uint64
}

func (e *idxEnv) state(t *testing.T) state {
	t.Helper()
	info, err := e.c.GetCollectionInfo(ctxT(t), "c")
	mustOK(t, err)
	if !info.GetOptimizerStatus().GetOk() {
		t.Fatalf("optimizer status = %v", info.GetOptimizerStatus())
	}
	return state{info.GetStatus(), info.GetIndexedVectorsCount(), info.GetPointsCount()}
}

func (e *idxEnv) update(t *testing.T, req *qdrant.UpdateCollection) {
	t.Helper()
	req.CollectionName = "c"
	mustOK(t, e.c.UpdateCollection(ctxT(t), req))
}

var (
	green  = qdrant.CollectionStatus_Green
	yellow = qdrant.CollectionStatus_Yellow
	grey   = qdrant.CollectionStatus_Grey
)

// step is one action and the state expected right after it.
type step struct {
	do   func(t *testing.T, e *idxEnv)
	want state
}

func advance(d time.Duration) func(*testing.T, *idxEnv) {
	return func(_ *testing.T, e *idxEnv) { e.clk.Advance(d) }
}

func add(first, n uint64) func(*testing.T, *idxEnv) {
	return func(t *testing.T, e *idxEnv) { e.add(t, first, n) }
}

func setM(m uint64) func(*testing.T, *idxEnv) {
	return func(t *testing.T, e *idxEnv) {
		e.update(t, &qdrant.UpdateCollection{HnswConfig: &qdrant.HnswConfigDiff{M: proto.Uint64(m)}})
	}
}

func setThreshold(kb uint64) func(*testing.T, *idxEnv) {
	return func(t *testing.T, e *idxEnv) {
		e.update(t, &qdrant.UpdateCollection{OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: proto.Uint64(kb)}})
	}
}

func TestIndexingModel(t *testing.T) {
	tests := []struct {
		name      string
		m, thrKB  uint64
		steps     []step
		extraOpts []Option
	}{
		{name: "below threshold stays plain", m: 16, thrKB: 4, steps: []step{
			{add(1, 3), state{green, 0, 3}},
			{advance(time.Hour), state{green, 0, 3}},
		}},
		{name: "build climbs at the rate, then green", m: 16, thrKB: 4, steps: []step{
			{add(1, 20), state{yellow, 0, 20}},
			{advance(500 * time.Millisecond), state{yellow, 5, 20}},
			{advance(time.Second), state{yellow, 15, 20}},
			{advance(500 * time.Millisecond), state{green, 20, 20}},
			// Writes during and after: a few new vectors stay unindexed and green,
			// as a small appendable segment does in Qdrant.
			{add(21, 2), state{green, 20, 22}},
			// Crossing the threshold again starts the next build from there.
			{add(23, 2), state{yellow, 20, 24}},
			{advance(400 * time.Millisecond), state{green, 24, 24}},
		}},
		{name: "writes during a build extend it", m: 16, thrKB: 4, steps: []step{
			{add(1, 10), state{yellow, 0, 10}},
			{advance(500 * time.Millisecond), state{yellow, 5, 10}},
			{add(11, 10), state{yellow, 5, 20}},
			{advance(time.Second), state{yellow, 15, 20}},
			{advance(time.Second), state{green, 20, 20}},
		}},
		{name: "deletes shrink the total", m: 16, thrKB: 4, steps: []step{
			{add(1, 10), state{yellow, 0, 10}},
			{func(t *testing.T, e *idxEnv) {
				_, err := e.c.Delete(ctxT(t), &qdrant.DeletePoints{CollectionName: "c", Wait: qdrant.PtrOf(true),
					Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewHasID(qdrant.NewIDNum(1), qdrant.NewIDNum(2))}})})
				mustOK(t, err)
			}, state{yellow, 0, 8}},
			{advance(800 * time.Millisecond), state{green, 8, 8}},
		}},
		// With m=0 segments are still optimized (yellow), only without
		// the main graph: nothing counts as indexed.
		{name: "m=0 converts segments without a graph", m: 0, thrKB: 4, steps: []step{
			{add(1, 50), state{yellow, 0, 50}},
			{advance(5 * time.Second), state{green, 0, 50}},
			{advance(time.Hour), state{green, 0, 50}},
		}},
		{name: "indexing_threshold=0 builds nothing", m: 16, thrKB: 0, steps: []step{
			{add(1, 50), state{green, 0, 50}},
			{advance(time.Hour), state{green, 0, 50}},
		}},
		{name: "re-enabling with m rebuilds every optimized segment", m: 0, thrKB: 4, steps: []step{
			{add(1, 20), state{yellow, 0, 20}},
			{advance(time.Hour), state{green, 0, 20}},
			{setM(16), state{yellow, 0, 20}},
			{advance(time.Second), state{yellow, 10, 20}},
			{advance(time.Second), state{green, 20, 20}},
		}},
		{name: "re-enabling with indexing_threshold", m: 16, thrKB: 0, steps: []step{
			{add(1, 20), state{green, 0, 20}},
			{setThreshold(4), state{yellow, 0, 20}},
			{advance(2 * time.Second), state{green, 20, 20}},
		}},
		// The recreation waits for the optimization in flight, then the
		// m=0 rebuild replaces the graphs segment by segment.
		{name: "m=0 mid-build: the build finishes, then every segment is rebuilt", m: 16, thrKB: 4, steps: []step{
			{add(1, 20), state{yellow, 0, 20}},
			{advance(time.Second), state{yellow, 10, 20}},
			{setM(0), state{yellow, 10, 20}},
			{advance(time.Second), state{yellow, 20, 20}},
			{advance(time.Second), state{yellow, 10, 20}},
			{advance(time.Second), state{green, 0, 20}},
			{advance(time.Hour), state{green, 0, 20}},
		}},
		{name: "indexing_threshold=0 keeps what is indexed and indexes nothing more", m: 16, thrKB: 4, steps: []step{
			{add(1, 20), state{yellow, 0, 20}},
			{advance(2 * time.Second), state{green, 20, 20}},
			{setThreshold(0), state{green, 20, 20}},
			{add(21, 20), state{green, 20, 40}},
			{advance(time.Hour), state{green, 20, 40}},
			{setThreshold(4), state{yellow, 20, 40}},
			{advance(2 * time.Second), state{green, 40, 40}},
		}},
		{name: "settings reach the optimizers asynchronously", m: 16, thrKB: 4,
			extraOpts: []Option{WithOptimizerRecreateDelay(500 * time.Millisecond)}, steps: []step{
				{add(1, 10), state{yellow, 0, 10}},
				{advance(time.Second), state{green, 10, 10}},
				{setM(0), state{green, 10, 10}},
				{advance(400 * time.Millisecond), state{green, 10, 10}},
				{advance(100 * time.Millisecond), state{yellow, 10, 10}},
				{advance(500 * time.Millisecond), state{yellow, 5, 10}},
				{advance(500 * time.Millisecond), state{green, 0, 10}},
			}},
		{name: "hnsw change that needs a rebuild restarts it", m: 16, thrKB: 4, steps: []step{
			{add(1, 10), state{yellow, 0, 10}},
			{advance(time.Second), state{green, 10, 10}},
			// The old segments stay indexed until they are replaced.
			{func(t *testing.T, e *idxEnv) {
				e.update(t, &qdrant.UpdateCollection{HnswConfig: &qdrant.HnswConfigDiff{EfConstruct: proto.Uint64(200)}})
			}, state{yellow, 10, 10}},
			{advance(time.Second), state{green, 10, 10}},
		}},
		{name: "hnsw change without a rebuild keeps the index", m: 16, thrKB: 4, steps: []step{
			{add(1, 10), state{yellow, 0, 10}},
			{advance(time.Second), state{green, 10, 10}},
			{func(t *testing.T, e *idxEnv) {
				e.update(t, &qdrant.UpdateCollection{HnswConfig: &qdrant.HnswConfigDiff{MaxIndexingThreads: proto.Uint64(2)}})
			}, state{green, 10, 10}},
		}},
		{name: "restart mid-build is grey until triggered", m: 16, thrKB: 4, steps: []step{
			{add(1, 20), state{yellow, 0, 20}},
			{advance(time.Second), state{yellow, 10, 20}},
			{func(_ *testing.T, e *idxEnv) { e.s.SimulateRestart() }, state{grey, 10, 20}},
			{advance(time.Hour), state{grey, 10, 20}},
			// An empty collection update triggers the optimizers.
			{func(t *testing.T, e *idxEnv) {
				e.update(t, &qdrant.UpdateCollection{OptimizersConfig: &qdrant.OptimizersConfigDiff{}})
			}, state{yellow, 10, 20}},
			{advance(time.Second), state{green, 20, 20}},
		}},
		{name: "a write also triggers after a restart", m: 16, thrKB: 4, steps: []step{
			{add(1, 20), state{yellow, 0, 20}},
			{func(_ *testing.T, e *idxEnv) { e.s.SimulateRestart() }, state{grey, 0, 20}},
			{add(21, 1), state{yellow, 0, 21}},
		}},
		{name: "restart of a green collection stays green", m: 16, thrKB: 4, steps: []step{
			{add(1, 4), state{yellow, 0, 4}},
			{advance(time.Second), state{green, 4, 4}},
			{func(_ *testing.T, e *idxEnv) { e.s.SimulateRestart() }, state{green, 4, 4}},
		}},
		{name: "rate 0 builds instantly", m: 16, thrKB: 4, extraOpts: []Option{WithIndexingRate(0)}, steps: []step{
			{add(1, 20), state{green, 20, 20}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newIdxEnv(t, tc.m, tc.thrKB, tc.extraOpts...)
			for i, s := range tc.steps {
				s.do(t, e)
				if got := e.state(t); got != s.want {
					t.Fatalf("step %d: state = %+v, want %+v", i, got, s.want)
				}
			}
		})
	}
}

// TestIndexingThresholdIsKilobytes: the threshold counts vector storage
// bytes, so uint8 vectors need four times as many points as float32 ones.
func TestIndexingThresholdIsKilobytes(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, WithClock(clk), WithIndexingRate(10))
	for _, dt := range []qdrant.Datatype{qdrant.Datatype_Float32, qdrant.Datatype_Uint8} {
		mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
			CollectionName:   dt.String(),
			VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: idxDim, Distance: qdrant.Distance_Dot, Datatype: dt.Enum()}),
			OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: proto.Uint64(4)},
		}))
		for i := uint64(1); i <= 4; i++ {
			e.upsert(t, dt.String(), pt(i, make([]float32, idxDim), nil))
		}
	}
	for dt, want := range map[string]qdrant.CollectionStatus{"Float32": yellow, "Uint8": green} {
		info, err := e.c.GetCollectionInfo(ctxT(t), dt)
		mustOK(t, err)
		if info.GetStatus() != want {
			t.Errorf("%s: status = %v, want %v", dt, info.GetStatus(), want)
		}
	}
}

// A vector's own hnsw_config overrides the collection's: setting the
// collection's m to 0 rebuilds the segments, but the vector "own" keeps
// its graph (m=32). Sparse vectors of optimized segments count as indexed
// whatever m is; vectors of the appendable segment never count.
func TestIndexingPerVectorConfigAndSparse(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, WithClock(clk), WithIndexingRate(10))
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName: "c",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"own":    {Size: idxDim, Distance: qdrant.Distance_Dot, HnswConfig: &qdrant.HnswConfigDiff{M: proto.Uint64(32)}},
			"shared": {Size: idxDim, Distance: qdrant.Distance_Dot},
		}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"sp": {}}),
		OptimizersConfig:    &qdrant.OptimizersConfigDiff{IndexingThreshold: proto.Uint64(4)},
	}))
	for i := uint64(1); i <= 10; i++ {
		_, err := e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointStruct{{
			Id: qdrant.NewIDNum(i),
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				"own": qdrant.NewVectorDense(make([]float32, idxDim)), "shared": qdrant.NewVectorDense(make([]float32, idxDim)),
				"sp": qdrant.NewVectorSparse([]uint32{1}, []float32{1}),
			}),
		}}})
		mustOK(t, err)
	}
	check := func(step string, want qdrant.CollectionStatus, indexed uint64) {
		t.Helper()
		info, err := e.c.GetCollectionInfo(ctxT(t), "c")
		mustOK(t, err)
		if info.GetStatus() != want || info.GetIndexedVectorsCount() != indexed {
			t.Fatalf("%s: %v with %d indexed, want %v with %d", step, info.GetStatus(), info.GetIndexedVectorsCount(), want, indexed)
		}
	}
	check("loaded", yellow, 0)
	clk.Advance(3 * time.Second) // 30 vectors at 10/s
	check("optimized", green, 30)
	mustOK(t, e.c.UpdateCollection(ctxT(t), &qdrant.UpdateCollection{CollectionName: "c", HnswConfig: &qdrant.HnswConfigDiff{M: proto.Uint64(0)}}))
	check("collection m=0", yellow, 30)
	clk.Advance(3 * time.Second)
	check("rebuilt", green, 20) // own (m=32) and sp; shared has no graph
	// Deferring "own" too takes a vector-level update, merged into its
	// hnsw_config.
	mustOK(t, e.c.UpdateCollection(ctxT(t), &qdrant.UpdateCollection{CollectionName: "c",
		VectorsConfig: qdrant.NewVectorsConfigDiffMap(map[string]*qdrant.VectorParamsDiff{"own": {HnswConfig: &qdrant.HnswConfigDiff{M: proto.Uint64(0)}}})}))
	clk.Advance(3 * time.Second)
	check("own m=0", green, 10)
	info, err := e.c.GetCollectionInfo(ctxT(t), "c")
	mustOK(t, err)
	if h := info.GetConfig().GetParams().GetVectorsConfig().GetParamsMap().GetMap()["own"].GetHnswConfig(); h.GetM() != 0 {
		t.Fatalf("own hnsw_config = %v, want m=0", h)
	}
}

// An optimizer error makes the collection red until cleared; a held update
// queue shows in update_queue.length.
func TestOptimizerErrorAndUpdateQueue(t *testing.T) {
	e := newIdxEnv(t, 16, 4)
	if !e.s.SetOptimizerError("c", "Failed to recreate optimizers: boom") || !e.s.HoldUpdateQueue("c", 3) {
		t.Fatal("collection c not found")
	}
	info, err := e.c.GetCollectionInfo(ctxT(t), "c")
	mustOK(t, err)
	if info.GetStatus() != qdrant.CollectionStatus_Red || info.GetOptimizerStatus().GetOk() ||
		info.GetOptimizerStatus().GetError() != "Failed to recreate optimizers: boom" || info.GetUpdateQueue().GetLength() != 3 {
		t.Fatalf("info %v %v %v", info.GetStatus(), info.GetOptimizerStatus(), info.GetUpdateQueue())
	}
	e.s.SetOptimizerError("c", "")
	e.s.HoldUpdateQueue("c", 0)
	if got := e.state(t); got.status != green {
		t.Fatalf("after clearing: %+v", got)
	}
}
