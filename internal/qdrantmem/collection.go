package qdrantmem

import (
	"sort"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// point is one stored point. Its vectors and payload are immutable once
// stored: an upsert replaces the whole point, so responses and Points() may
// share the slices and *qdrant.Value trees with the store.
type point struct {
	key     pointKey
	vecs    []namedVec
	payload map[string]*qdrant.Value
}

func (p *point) vector(name string) (vec, bool) {
	for _, nv := range p.vecs {
		if nv.name == name {
			return nv.v, true
		}
	}
	return vec{}, false
}

// collection is one collection: its effective configuration, its points
// and its indexing state. All access is under Server.mu.
type collection struct {
	name       string
	schema     vectorsSchema
	hnsw       hnswConfig
	optimizers optimizersConfig
	wal        walConfig
	params     collectionParams
	// Stored and echoed, not interpreted.
	quantization *qdrant.QuantizationConfig
	strictMode   *qdrant.StrictModeConfig
	metadata     map[string]*qdrant.Value
	// payloadIndex holds the payload indexes by key (payload_index.go).
	payloadIndex map[string]*qdrant.FieldType

	points map[pointKey]*point
	// sorted caches the keys in id order; nil when stale.
	sorted []pointKey
	// opNum is the next operation id (Qdrant's WAL op_num).
	opNum uint64

	// totalVectors counts the stored vectors of all names; counts per
	// name; elements counts the float elements per dense name (for the
	// indexing threshold).
	totalVectors uint64
	counts       map[string]uint64
	elements     map[string]uint64

	idx indexState
}

func newCollection(name string, now time.Time) *collection {
	c := &collection{
		name:       name,
		hnsw:       defaultHNSW(),
		optimizers: defaultOptimizers(),
		wal:        walConfig{capacityMB: defaultWALCapacityMB, retainClosed: defaultWALRetainClosed},
		params:     collectionParams{shardNumber: 1, replicationFactor: 1, writeConsistencyFactor: 1, onDiskPayload: true},
		points:     map[pointKey]*point{},
		counts:     map[string]uint64{},
		elements:   map[string]uint64{},
	}
	c.idx.at = now
	return c
}

// put stores p, replacing any point with the same id, and keeps the counters.
func (c *collection) put(p *point) {
	if old, ok := c.points[p.key]; ok {
		c.account(old, -1)
	} else {
		c.sorted = nil
	}
	c.points[p.key] = p
	c.account(p, 1)
}

// remove deletes the point with key k; it reports whether it existed.
func (c *collection) remove(k pointKey) bool {
	old, ok := c.points[k]
	if !ok {
		return false
	}
	c.account(old, -1)
	delete(c.points, k)
	c.sorted = nil
	return true
}

func (c *collection) account(p *point, sign int64) {
	for _, nv := range p.vecs {
		c.totalVectors = uint64(int64(c.totalVectors) + sign)
		c.counts[nv.name] = uint64(int64(c.counts[nv.name]) + sign)
		if n := nv.v.elements(); n > 0 {
			c.elements[nv.name] = uint64(int64(c.elements[nv.name]) + sign*int64(n))
		}
	}
}

// keys returns all point keys in Qdrant's id order.
func (c *collection) keys() []pointKey {
	if c.sorted == nil {
		ks := make([]pointKey, 0, len(c.points))
		for k := range c.points {
			ks = append(ks, k)
		}
		sort.Slice(ks, func(i, j int) bool { return ks[i].less(ks[j]) })
		c.sorted = ks
	}
	return c.sorted
}

// segmentsCount is the number of segments a fresh Qdrant shard creates:
// get_number_segments (lib/shard/src/optimizers/config.rs) — the configured
// default_segment_number, or clamp(cpus/2, 2, 8) when it is 0.
func (c *collection) segmentsCount(cpus int) uint64 {
	if n := c.optimizers.defaultSegmentNumber; n > 0 {
		return n
	}
	return uint64(min(max(cpus/2, 2), 8))
}
