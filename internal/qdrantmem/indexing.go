package qdrantmem

import (
	"math"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// indexState is the indexing model of one collection. Between two changes
// (a write, a config update, a simulated restart) the indexed vector count is
// a pure function of the clock:
//
//	indexed(t) = min(total, base + rate * (t - from))   while a build runs and is triggered
//	indexed(t) = min(total, base)                         otherwise
//
// Every change first rebases (base = indexed(now), from = now), then applies
// itself, then settles (starts a build if the unindexed vectors exceed the
// indexing threshold). Status is yellow while a triggered build has not
// reached total, grey while an untriggered one has not, green otherwise.
type indexState struct {
	base      uint64
	from      time.Time
	building  bool
	triggered bool

	buildSeq   uint64
	buildStart time.Time
	completed  []completedBuild
}

// completedBuild is one finished index build, for GET .../optimizations?with=completed.
type completedBuild struct {
	seq        uint64
	start, end time.Time
	vectors    uint64
	points     int
}

// maxCompletedBuilds bounds the history kept per collection.
const maxCompletedBuilds = 16

// indexingEnabled: Qdrant builds no HNSW index with hnsw_config.m = 0 or
// optimizers_config.indexing_threshold = 0 ("To disable vector indexing, set
// to `0`", OptimizersConfig docs in docs/redoc/master/openapi.json).
func (c *collection) indexingEnabled() bool {
	return c.hnsw.m > 0 && c.optimizers.indexingThresholdKB() != 0
}

func (c *collection) indexedAt(now time.Time, rate float64) uint64 {
	total := c.totalVectors
	v := c.idx.base
	if c.idx.building && c.idx.triggered {
		if rate <= 0 {
			v = total
		} else if el := now.Sub(c.idx.from).Seconds(); el > 0 {
			add := el * rate
			if add >= float64(math.MaxUint64-v) {
				v = total
			} else {
				v += uint64(add)
			}
		}
	}
	return min(v, total)
}

// needsBuild mirrors IndexingOptimizer::is_optimization_required
// (lib/shard/src/optimizers/indexing_optimizer.rs): a build is due when the
// unindexed storage of some dense vector reaches indexing_threshold KB. The
// model keeps one unindexed "segment" per collection and assumes the
// unindexed share is the same for every vector name.
func (c *collection) needsBuild(indexed uint64) bool {
	total := c.totalVectors
	if !c.indexingEnabled() || total == 0 || indexed >= total {
		return false
	}
	threshold := float64(c.optimizers.indexingThresholdKB()) * 1024
	share := float64(total-indexed) / float64(total)
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

// indexStatus is the collection status and indexed vector count at now.
func (c *collection) indexStatus(now time.Time, rate float64) (qdrant.CollectionStatus, uint64) {
	indexed := c.indexedAt(now, rate)
	if c.idx.building && indexed < c.totalVectors {
		if !c.idx.triggered {
			return qdrant.CollectionStatus_Grey, indexed
		}
		return qdrant.CollectionStatus_Yellow, indexed
	}
	return qdrant.CollectionStatus_Green, indexed
}

// rebase freezes the model at now before a change.
func (c *collection) rebase(now time.Time, rate float64) {
	indexed := c.indexedAt(now, rate)
	if c.idx.building && indexed >= c.totalVectors {
		end := now
		if rate > 0 && c.idx.triggered && c.totalVectors > c.idx.base {
			secs := float64(c.totalVectors-c.idx.base) / rate
			if e := c.idx.from.Add(time.Duration(secs * float64(time.Second))); e.Before(now) {
				end = e
			}
		}
		c.idx.completed = append(c.idx.completed, completedBuild{seq: c.idx.buildSeq, start: c.idx.buildStart, end: end, vectors: c.totalVectors, points: len(c.points)})
		if n := len(c.idx.completed); n > maxCompletedBuilds {
			c.idx.completed = c.idx.completed[n-maxCompletedBuilds:]
		}
		c.idx.building = false
	}
	c.idx.base = indexed
	c.idx.from = now
}

// settle starts a build if one is due after a change, and marks the
// optimizers triggered when trigger is set (every write and every collection
// update triggers them in Qdrant; a restart does not).
func (c *collection) settle(now time.Time, trigger bool) {
	if trigger {
		c.idx.triggered = true
	}
	if !c.indexingEnabled() {
		c.idx.base = 0
		c.idx.building = false
		return
	}
	c.idx.base = min(c.idx.base, c.totalVectors)
	if !c.idx.building && c.needsBuild(c.idx.base) {
		c.idx.building = true
		c.idx.buildSeq++
		c.idx.buildStart = now
	}
}

// dropIndex forgets the built index (indexing disabled, or an HNSW change
// that requires a rebuild).
func (c *collection) dropIndex() {
	c.idx.base = 0
	c.idx.building = false
}

// SimulateRestart models a Qdrant restart: points and configs survive, and
// an index build in progress stops where it is; such a collection reports
// grey ("optimizations are possible but not triggered") until the next write
// or collection update triggers the optimizers again, as Qdrant does to avoid
// crash loops (LocalShard::local_shard_status, lib/collection/src/shards/local_shard/mod.rs).
func (s *Server) SimulateRestart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.clock.Now()
	for _, c := range s.collections {
		c.rebase(now, s.opts.indexingRate)
		c.idx.triggered = false
		c.settle(now, false)
	}
}
