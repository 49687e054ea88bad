package qdrantmem

import (
	"maps"
	"math"
	"slices"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// The indexing model of a collection stands in for Qdrant's optimizers
// (lib/shard/src/optimizers/, lib/collection/src/update_handler.rs). A
// collection's vectors are either in the appendable segment or in
// optimized (non-appendable) segments built with some HNSW configuration
// per dense vector. One optimization runs at a time:
//
//   - "config mismatch" (ConfigMismatchOptimizer::has_config_mismatch):
//     optimized segments whose HNSW config differs from the target in a
//     way HnswConfig::mismatch_requires_rebuild counts (m, ef_construct,
//     full_scan_threshold, payload_m, on_disk, inline_storage) are rebuilt,
//     every one of them: changing m means a long yellow phase, also when m
//     becomes 0 (segments are still converted, only without the main
//     graph);
//   - "indexing" (IndexingOptimizer::is_optimization_required): the
//     appendable segment is optimized once the storage of some dense
//     vector reaches indexing_threshold KB. indexing_threshold 0 means
//     usize::MAX (get_indexing_threshold_kb, lib/shard/src/optimizers/
//     config.rs): nothing more is indexed, and segments already optimized
//     keep their index.
//
// An optimization processes WithIndexingRate vectors per second of the
// injected clock. The target configuration of a dense vector is the
// collection's hnsw_config merged with the vector's own hnsw_config
// (build_segment_optimizer_config, lib/collection/src/optimizers_builder.rs).
//
// Settings updates are asynchronous, as in Qdrant: UpdateCollection stores
// the new configuration (GetCollectionInfo shows it at once) and
// recreate_optimizers_background (lib/collection/src/collection/
// collection_ops.rs) applies it later — after WithOptimizerRecreateDelay,
// and never before an optimization in flight finished
// (LocalShard::on_optimizer_config_update waits for it).
//
// indexed_vectors_count follows SegmentInfo::num_indexed_vectors
// (lib/segment/src/segment/read_view/info.rs): it sums the indexed vectors
// of optimized segments only, dense and sparse; a dense vector built with
// m = 0 has no main graph and counts only when linked by payload_m
// graphs, which this model (no payload indexes) never builds. Small
// appendable segments never count.
//
// Status (LocalShard::local_shard_status, lib/collection/src/shards/
// local_shard/mod.rs): yellow while an optimization runs, grey when one is
// due but the optimizers were not triggered since a restart, red while an
// optimizer error is injected (SetOptimizerError), green otherwise.
//
// Between two changes the state is a pure function of the clock: every
// observation and every change first advances the model to now.
type indexState struct {
	opt      uint64 // vectors (of all names) in optimized segments
	built    segCfg // the config the optimized segments were built with
	job      *optJob
	jobDue   bool // an optimization is due but the optimizers were not triggered
	stopped  bool // not triggered since a restart: nothing progresses
	target   segCfg
	thrKB    uint64      // the optimizers' indexing_threshold (0: never index)
	next     *pendingCfg // a configuration waiting to be applied
	at       time.Time   // the model's time
	seq      uint64
	complete []completedBuild
	// updateQueue and optimizerErr are injected (HoldUpdateQueue,
	// SetOptimizerError).
	updateQueue  uint64
	optimizerErr string
}

// segCfg is the effective HNSW config per dense vector name.
type segCfg map[string]hnswConfig

func (a segCfg) needsRebuild(b segCfg) bool {
	for name, h := range a {
		if o, ok := b[name]; ok && h.requiresRebuild(o) {
			return true
		}
	}
	return false
}

type pendingCfg struct {
	target segCfg
	thrKB  uint64
	at     time.Time
}

// optJob is one optimization in flight.
type optJob struct {
	kind        string // Qdrant's optimizer name: "indexing" or "config mismatch"
	seq         uint64
	start, from time.Time
	base, total uint64 // vectors processed at from; vectors to process
	cfg         segCfg // what the job builds
}

// completedBuild is one finished optimization, for GET .../optimizations?with=completed.
type completedBuild struct {
	kind       string
	seq        uint64
	start, end time.Time
	vectors    uint64
	points     int
}

// maxCompletedBuilds bounds the history kept per collection.
const maxCompletedBuilds = 16

// targetCfg is the configuration the collection's settings ask for.
func (c *collection) targetCfg() segCfg {
	out := make(segCfg, len(c.schema.dense))
	for name, d := range c.schema.dense {
		h := c.hnsw
		h.apply(d.params.GetHnswConfig())
		out[name] = h
	}
	return out
}

// indexingThreshold is the optimizers' threshold in KB; 0 never indexes.
func (c *collection) indexingThreshold() uint64 { return c.optimizers.indexingThresholdKB() }

// done is how many vectors j processed by now.
func (j *optJob) done(now time.Time, rate float64) uint64 {
	if rate <= 0 {
		return j.total
	}
	v := j.base
	if el := now.Sub(j.from).Seconds(); el > 0 {
		add := el * rate
		if add >= float64(math.MaxUint64-v) {
			return j.total
		}
		v += uint64(add)
	}
	return min(v, j.total)
}

// end is when j finishes.
func (j *optJob) end(rate float64) time.Time {
	if rate <= 0 || j.base >= j.total {
		return j.from
	}
	return j.from.Add(time.Duration(float64(j.total-j.base) / rate * float64(time.Second)))
}

// advance brings the model to now: jobs finish, pending configurations are
// applied, the next job starts — in time order.
func (c *collection) advance(now time.Time, rate float64) {
	ix := &c.idx
	if ix.target == nil {
		c.initIndexing(ix.at)
	}
	for {
		running := ix.job != nil && !ix.stopped
		var jobEnd time.Time
		if running {
			jobEnd = ix.job.end(rate)
		}
		switch {
		case running && !jobEnd.After(now):
			c.finishJob(jobEnd)
		case !running && ix.next != nil && !ix.next.at.After(now):
			c.applyNext(ix.next.at)
		default:
			ix.at = now
			return
		}
	}
}

// applyNext gives the optimizers the pending configuration at t.
func (c *collection) applyNext(t time.Time) {
	ix := &c.idx
	ix.target, ix.thrKB, ix.next = ix.next.target, ix.next.thrKB, nil
	c.schedule(t)
}

// finishJob completes the job at t; the optimizers are recreated now if
// a recreation waited for it, then the next job starts.
func (c *collection) finishJob(t time.Time) {
	ix := &c.idx
	j := ix.job
	if j.kind == "indexing" {
		ix.opt = min(ix.opt+j.total, c.totalVectors)
	}
	ix.built = j.cfg
	ix.complete = append(ix.complete, completedBuild{kind: j.kind, seq: j.seq, start: j.start, end: t, vectors: j.total, points: len(c.points)})
	if n := len(ix.complete); n > maxCompletedBuilds {
		ix.complete = ix.complete[n-maxCompletedBuilds:]
	}
	ix.job = nil
	if ix.next != nil && !ix.next.at.After(t) {
		c.applyNext(t)
		return
	}
	c.schedule(t)
}

// schedule starts the next due optimization at t (or marks it due while
// the optimizers are stopped).
func (c *collection) schedule(t time.Time) {
	ix := &c.idx
	ix.opt = min(ix.opt, c.totalVectors)
	if ix.job != nil {
		return
	}
	var j *optJob
	switch {
	case ix.opt > 0 && ix.built != nil && ix.built.needsRebuild(ix.target):
		j = &optJob{kind: "config mismatch", total: ix.opt}
	case c.appendableTooBig():
		j = &optJob{kind: "indexing", total: c.totalVectors - ix.opt}
	}
	ix.jobDue = j != nil && ix.stopped
	if j == nil || ix.stopped {
		return
	}
	ix.seq++
	j.seq, j.start, j.from, j.cfg = ix.seq, t, t, maps.Clone(ix.target)
	ix.job = j
}

// appendableTooBig is IndexingOptimizer::is_optimization_required for the
// appendable segment: the storage of some dense vector reaches the
// threshold. The appendable share of every vector name is assumed equal.
func (c *collection) appendableTooBig() bool {
	ix := &c.idx
	total := c.totalVectors
	if ix.thrKB == 0 || total == 0 || ix.opt >= total {
		return false
	}
	threshold := float64(ix.thrKB) * 1024
	share := float64(total-ix.opt) / float64(total)
	for name, elems := range c.elements {
		d, ok := c.schema.dense[name]
		if !ok {
			continue
		}
		if float64(elems)*float64(d.elemSize)*share >= threshold {
			return true
		}
	}
	return false
}

// indexedIn is how many of n optimized vectors (of all names) built with
// cfg are indexed: sparse vectors, and dense vectors with m > 0.
func (c *collection) indexedIn(n uint64, cfg segCfg) uint64 {
	if n == 0 || c.totalVectors == 0 {
		return 0
	}
	var counted uint64
	for name, k := range c.counts {
		if _, sparse := c.schema.sparse[name]; sparse {
			counted += k
		} else if h, ok := cfg[name]; ok && h.m > 0 {
			counted += k
		}
	}
	return uint64(float64(n) * float64(counted) / float64(c.totalVectors))
}

// projected returns the model advanced to now without changing c, so
// readers (holding the server's read lock) never write.
func (c *collection) projected(now time.Time, rate float64) *collection {
	cc := *c
	cc.idx.complete = slices.Clone(c.idx.complete)
	if j := c.idx.job; j != nil {
		jc := *j
		cc.idx.job = &jc
	}
	if n := c.idx.next; n != nil {
		nc := *n
		cc.idx.next = &nc
	}
	cc.advance(now, rate)
	return &cc
}

// indexStatus is the collection status and indexed vector count at now.
func (c *collection) indexStatus(now time.Time, rate float64) (qdrant.CollectionStatus, uint64) {
	c = c.projected(now, rate)
	ix := &c.idx
	indexed := c.indexedIn(ix.opt, ix.built)
	if j := ix.job; j != nil {
		d := j.done(now, rate)
		if ix.stopped {
			d = j.base
		}
		switch j.kind {
		case "indexing":
			indexed += c.indexedIn(d, j.cfg)
		default:
			indexed = c.indexedIn(ix.opt-min(d, ix.opt), ix.built) + c.indexedIn(min(d, ix.opt), j.cfg)
		}
	}
	switch {
	case ix.optimizerErr != "":
		return qdrant.CollectionStatus_Red, indexed
	case ix.job != nil && ix.stopped, ix.jobDue:
		return qdrant.CollectionStatus_Grey, indexed
	case ix.job != nil:
		return qdrant.CollectionStatus_Yellow, indexed
	}
	return qdrant.CollectionStatus_Green, indexed
}

// changed brings the model to now before a change of points or settings.
func (c *collection) changed(now time.Time, rate float64) {
	c.advance(now, rate)
	if j := c.idx.job; j != nil && !c.idx.stopped {
		j.base, j.from = j.done(now, rate), now
	}
}

// pointsWritten records a write at now: it triggers the optimizers.
func (c *collection) pointsWritten(now time.Time) {
	c.trigger(now)
	if j := c.idx.job; j != nil && j.kind == "indexing" {
		// Deleted points leave the segment being optimized.
		j.total = min(j.total, c.totalVectors-min(c.idx.opt, c.totalVectors))
		j.base = min(j.base, j.total)
	}
	c.schedule(now)
}

// settingsUpdated records an UpdateCollection at now: the optimizers get
// the new settings after recreateDelay, once the optimization in flight
// finished; the update triggers them.
func (c *collection) settingsUpdated(now time.Time, recreateDelay time.Duration) {
	c.trigger(now)
	c.idx.next = &pendingCfg{target: c.targetCfg(), thrKB: c.indexingThreshold(), at: now.Add(recreateDelay)}
	c.schedule(now)
}

// trigger restarts stopped optimizers at now.
func (c *collection) trigger(now time.Time) {
	ix := &c.idx
	if ix.stopped {
		ix.stopped = false
		if ix.job != nil {
			ix.job.from = now
		}
	}
}

// initIndexing sets the optimizers of a new collection (created at t),
// before its first observation or change.
func (c *collection) initIndexing(t time.Time) {
	c.idx.target, c.idx.thrKB = c.targetCfg(), c.indexingThreshold()
	c.idx.built = maps.Clone(c.idx.target)
	c.schedule(t)
}

// SimulateRestart models a Qdrant restart: points and configs survive, an
// optimization in progress stops where it is, and the optimizers are not
// triggered until the next write or collection update, so such a
// collection reports grey ("optimizations are possible but not
// triggered"), as Qdrant does to avoid crash loops
// (LocalShard::local_shard_status).
func (s *Server) SimulateRestart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.clock.Now()
	for _, c := range s.collections {
		c.changed(now, s.opts.indexingRate)
		if c.idx.next != nil {
			c.idx.target, c.idx.thrKB, c.idx.next = c.idx.next.target, c.idx.next.thrKB, nil
		}
		c.idx.stopped = true
		c.schedule(now)
	}
}

// HoldUpdateQueue makes collection report n operations waiting in its
// update queue (CollectionInfo.update_queue.length), as a backlog of
// acknowledged, not yet applied updates (wait=false) does in Qdrant; 0
// drains it. It reports whether the collection exists.
func (s *Server) HoldUpdateQueue(collection string, n uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.collections[collection]
	if ok {
		c.idx.updateQueue = n
	}
	return ok
}

// SetOptimizerError makes collection red with optimizer_status error msg,
// as a failed optimization or a failed optimizer recreation does in
// Qdrant (SegmentHolder::report_optimizer_error); "" clears it, as a
// successful recreation does. It reports whether the collection exists.
func (s *Server) SetOptimizerError(collection, msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.collections[collection]
	if ok {
		c.idx.optimizerErr = msg
	}
	return ok
}

// optimizerStatusJSON is OptimizersStatus as REST serializes it.
func (ix *indexState) optimizerStatusJSON() any {
	if ix.optimizerErr != "" {
		return map[string]string{"error": ix.optimizerErr}
	}
	return "ok"
}
