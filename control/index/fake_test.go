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

// fakeQdrant models one collection whose indexing takes time: after a
// settings change that enables indexing, the collection is yellow and
// indexed vectors grow by rate per second of (synctest) time until all
// points are indexed, then it is green. It implements Collections.
type fakeQdrant struct {
	mu         sync.Mutex
	name       string
	exists     bool
	m, ef, thr *uint64
	points     uint64
	indexed    uint64
	rate       uint64 // vectors per second
	since      time.Time
	grey       bool // pending until an update arrives
	red        string
	fail       []error // returned by the next calls, in order
	updates    []*qdrant.UpdateCollection
	infos      int
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

func (f *fakeQdrant) indexing() bool { return *f.m > 0 && *f.thr > 0 && !f.grey }

// advance moves indexing forward to now.
func (f *fakeQdrant) advance() {
	if !f.indexing() || f.indexed >= f.points {
		f.since = time.Now()
		return
	}
	f.indexed = min(f.points, f.indexed+uint64(time.Since(f.since).Seconds()*float64(f.rate)))
	f.since = time.Now()
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
	case f.indexing() && f.indexed < f.points:
		st = qdrant.CollectionStatus_Yellow
	}
	opt := &qdrant.OptimizerStatus{Ok: f.red == "", Error: f.red}
	return &qdrant.CollectionInfo{
		Status: st, OptimizerStatus: opt, SegmentsCount: 4,
		PointsCount: ptr(f.points), IndexedVectorsCount: ptr(f.indexed),
		Config: &qdrant.CollectionConfig{
			Params:          &qdrant.CollectionParams{},
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
	f.grey = false
	reindex := false
	if h := req.HnswConfig; h != nil {
		if h.M != nil {
			reindex = reindex || *h.M != *f.m
			f.m = ptr(*h.M)
		}
		if h.EfConstruct != nil {
			reindex = reindex || *h.EfConstruct != *f.ef
			f.ef = ptr(*h.EfConstruct)
		}
	}
	if o := req.OptimizersConfig; o != nil && o.IndexingThreshold != nil {
		reindex = reindex || *o.IndexingThreshold != *f.thr
		f.thr = ptr(*o.IndexingThreshold)
	}
	if reindex {
		f.indexed = 0
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
