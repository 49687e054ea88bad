package index

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// fakeQdrant models one collection whose indexing takes time, the way
// Qdrant behaves (see internal/qdrantmem/indexing.go for the faithful
// model and its sources): a settings change reaches the optimizers after
// lag (asynchronous recreation); then, when indexing is enabled
// (threshold > 0) and something is to be built, the collection is yellow
// and indexed vectors grow by rate per second of (synctest) time until all
// points are indexed; with m = 0 everything is converted but nothing
// counts as indexed. Vectors may have their own m. It implements
// Collections.
type fakeQdrant struct {
	mu          sync.Mutex
	name        string
	exists      bool
	m, ef, thr  *uint64
	vectorM     map[string]*uint64 // named vectors with their own hnsw_config m
	points      uint64
	indexed     uint64
	building    bool
	rate        uint64 // vectors per second
	lag         time.Duration
	applyAt     time.Time // pending settings reach the optimizers then
	since       time.Time
	grey        bool // pending until an update arrives
	red         string
	updateQueue uint64
	fail        []error // returned by the next calls, in order
	updates     []*qdrant.UpdateCollection
	infos       int
}

func newFake(points uint64) *fakeQdrant {
	return &fakeQdrant{name: "movies", exists: true, m: ptr(16), ef: ptr(100), thr: ptr(10000),
		points: points, indexed: points, rate: 1000}
}

func (f *fakeQdrant) popFail() error {
	if len(f.fail) == 0 {
		return nil
	}
	err := f.fail[0]
	f.fail = f.fail[1:]
	return err
}

func (f *fakeQdrant) CollectionExists(_ context.Context, name string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.popFail(); err != nil {
		return false, err
	}
	return f.exists && name == f.name, nil
}

// graphs reports whether the settings build graphs: m > 0, or with
// vectors of their own m, any of those > 0.
func (f *fakeQdrant) graphs() bool {
	if len(f.vectorM) == 0 {
		return *f.m > 0
	}
	for _, m := range f.vectorM {
		if *m > 0 {
			return true
		}
	}
	return false
}

// advance moves indexing forward to now.
func (f *fakeQdrant) advance() {
	now := time.Now()
	if !f.applyAt.IsZero() && !now.Before(f.applyAt) {
		f.applyAt = time.Time{}
		f.since = now
		if *f.thr > 0 {
			f.building, f.indexed = true, 0
		}
	}
	if f.building && !f.grey && f.applyAt.IsZero() {
		done := uint64(now.Sub(f.since).Seconds() * float64(f.rate))
		if done >= f.points {
			f.building = false
			f.indexed = 0
			if f.graphs() {
				f.indexed = f.points
			}
		} else if f.graphs() {
			f.indexed = done
		}
	}
	if f.applyAt.IsZero() && !f.building {
		f.since = now
	}
}

func (f *fakeQdrant) GetCollectionInfo(_ context.Context, name string) (*qdrant.CollectionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.popFail(); err != nil {
		return nil, err
	}
	if !f.exists || name != f.name {
		return nil, status.Error(codes.NotFound, "Not found: Collection `"+name+"` doesn't exist!")
	}
	f.infos++
	f.advance()
	st := qdrant.CollectionStatus_Green
	switch {
	case f.red != "":
		st = qdrant.CollectionStatus_Red
	case f.grey:
		st = qdrant.CollectionStatus_Grey
	case f.building:
		st = qdrant.CollectionStatus_Yellow
	}
	opt := &qdrant.OptimizerStatus{Ok: f.red == "", Error: f.red}
	vc := qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4})
	if len(f.vectorM) > 0 {
		m := map[string]*qdrant.VectorParams{}
		for name, vm := range f.vectorM {
			m[name] = &qdrant.VectorParams{Size: 4, HnswConfig: &qdrant.HnswConfigDiff{M: ptr(*vm)}}
		}
		vc = qdrant.NewVectorsConfigMap(m)
	}
	return &qdrant.CollectionInfo{
		Status: st, OptimizerStatus: opt, SegmentsCount: 4,
		PointsCount: ptr(f.points), IndexedVectorsCount: ptr(f.indexed),
		UpdateQueue: &qdrant.UpdateQueueInfo{Length: f.updateQueue},
		Config: &qdrant.CollectionConfig{
			Params:          &qdrant.CollectionParams{VectorsConfig: vc},
			HnswConfig:      &qdrant.HnswConfigDiff{M: ptr(*f.m), EfConstruct: ptr(*f.ef)},
			OptimizerConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: ptr(*f.thr)},
		},
	}, nil
}

func (f *fakeQdrant) UpdateCollection(_ context.Context, req *qdrant.UpdateCollection) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.popFail(); err != nil {
		return err
	}
	if !f.exists || req.CollectionName != f.name {
		return status.Error(codes.NotFound, "Not found: Collection doesn't exist!")
	}
	f.advance()
	f.updates = append(f.updates, req)
	if f.grey {
		f.grey = false
		f.since = time.Now()
	}
	rebuild := false
	if h := req.HnswConfig; h != nil {
		if h.M != nil {
			rebuild = rebuild || *h.M != *f.m
			f.m = ptr(*h.M)
		}
		if h.EfConstruct != nil {
			rebuild = rebuild || *h.EfConstruct != *f.ef
			f.ef = ptr(*h.EfConstruct)
		}
	}
	for name, d := range req.GetVectorsConfig().GetParamsMap().GetMap() {
		if m := d.GetHnswConfig().M; m != nil {
			rebuild = rebuild || *m != *f.vectorM[name]
			f.vectorM[name] = ptr(*m)
		}
	}
	if o := req.OptimizersConfig; o != nil && o.IndexingThreshold != nil {
		rebuild = rebuild || (*o.IndexingThreshold > 0 && *f.thr == 0 && f.indexed < f.points)
		f.thr = ptr(*o.IndexingThreshold)
	}
	if rebuild {
		f.applyAt = time.Now().Add(f.lag)
		f.advance()
	}
	return nil
}

func (f *fakeQdrant) set(fn func(f *fakeQdrant)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// fakeRecords returns a fixed index_defer result.
type fakeRecords struct {
	result json.RawMessage
	err    error
}

func (r fakeRecords) LastDefer(context.Context, string) (json.RawMessage, bool, error) {
	return r.result, r.result != nil, r.err
}

// recorder is a job.Reporter that keeps every progress and checkpoint.
type recorder struct {
	mu          sync.Mutex
	prev        *schemas.Status
	got         []schemas.Progress
	checkpoints []json.RawMessage // the saved ones, in order; the last is restored
	checks      int               // Owner().Check calls
	notOwner    bool              // Check and Checkpoint fail with job.ErrNotOwner
	// onCheckpoint, when set, runs at each saved checkpoint.
	onCheckpoint func()
}

func (r *recorder) Progress(p schemas.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, p)
}
func (r *recorder) Previous() *schemas.Status { return r.prev }

func (r *recorder) Checkpoint(_ context.Context, v any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.notOwner {
		return job.ErrNotOwner
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	r.checkpoints = append(r.checkpoints, b)
	if r.onCheckpoint != nil {
		r.onCheckpoint()
	}
	return nil
}

func (r *recorder) Restore(v any) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.checkpoints) == 0 {
		return false, nil
	}
	return true, json.Unmarshal(r.checkpoints[len(r.checkpoints)-1], v)
}

func (r *recorder) Owner() job.Token { return recorderToken{r} }

type recorderToken struct{ r *recorder }

func (t recorderToken) Check(context.Context) error {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.r.checks++
	if t.r.notOwner {
		return job.ErrNotOwner
	}
	return nil
}

func (r *recorder) snapshots() []snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []snapshot
	for _, p := range r.got {
		var s snapshot
		if len(p.Data) > 0 && json.Unmarshal(p.Data, &s) == nil {
			out = append(out, s)
		}
	}
	return out
}

// fakeOptimizations returns scripted activity.
type fakeOptimizations struct {
	mu    sync.Mutex
	noAPI bool
	acts  []Activity // consumed one per call; the last one sticks
}

func (o *fakeOptimizations) Optimizations(context.Context, string) (Activity, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.noAPI {
		return Activity{}, ErrNoOptimizationsAPI
	}
	a := o.acts[0]
	if len(o.acts) > 1 {
		o.acts = o.acts[1:]
	}
	return a, nil
}
