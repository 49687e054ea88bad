package qdrantmem

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// snapshotPriority is SnapshotPriority (lib/collection/src/operations/snapshot_ops.rs,
// v1.18.3): which data wins where another replica of a recovered shard is
// active on another peer. The default, when a request names none, is
// snapshot (`#[default] Snapshot`; recover.rs calls unwrap_or_default).
type snapshotPriority string

const (
	priorityNoSync   snapshotPriority = "no_sync"
	prioritySnapshot snapshotPriority = "snapshot"
	priorityReplica  snapshotPriority = "replica"
)

func parsePriority(s string) (snapshotPriority, bool) {
	switch p := snapshotPriority(s); p {
	case "":
		return prioritySnapshot, true
	case priorityNoSync, prioritySnapshot, priorityReplica:
		return p, true
	}
	return "", false
}

// recoverFromFile is _do_recover_from_snapshot
// (lib/storage/src/content_manager/snapshots/recover.rs) for a snapshot
// file on this node's disk:
//
//  1. Read the snapshot (a malformed file is a ServiceError).
//  2. Resolve the collection (aliases resolve); create it from the
//     snapshot's configuration and payload indexes when it does not exist.
//  3. Refuse a collection whose vectors config or shard number differs
//     from the snapshot's (BadInput). Sparse vectors are not compared, as
//     in Qdrant.
//  4. For every shard whose data the snapshot holds (the shards the
//     snapshotting peer held locally), make this peer hold the shard: the
//     shard's points become the snapshot's and this peer is added to its
//     replicas. When other peers hold active replicas of the shard, the
//     priority decides: snapshot keeps the snapshot's data and removes
//     replicas beyond replication_factor; replica transfers the other
//     replica's data over the recovered one (the shard ends with what the
//     collection held before, e.g. nothing in a collection the recovery
//     just created); no_sync keeps the snapshot's data and the other
//     replicas. Shards the snapshot does not hold are left alone.
//
// Replicas are placement only: a shard's points are stored once, so the
// divergent replicas no_sync can leave in Qdrant are not modelled.
func (n *node) recoverFromFile(name, path string, priority snapshotPriority) *apiError {
	f, err := os.Open(path)
	if err != nil {
		return ioError(err)
	}
	snap, err := readSnapshot(f)
	_ = f.Close()
	if err != nil {
		return serviceError("Failed to unpack tar archive: %v", err)
	}
	create, aerr := snapshotCreateRequest(name, snap.config)
	if aerr != nil {
		return aerr
	}
	fresh, aerr := n.s.buildCollection(create)
	if aerr != nil {
		return aerr
	}
	fresh.params.readFanOutFactor = snap.config.GetParams().ReadFanOutFactor
	fresh.params.readFanOutDelayMs = snap.config.GetParams().ReadFanOutDelayMs
	// A collection the recovery creates gets the snapshot's payload
	// indexes (registered in consensus by recover.rs); an existing one
	// keeps its own schema.
	for k, t := range snap.index {
		if fresh.payloadIndex == nil {
			fresh.payloadIndex = map[string]*qdrant.FieldType{}
		}
		t := t
		fresh.payloadIndex[k] = &t
	}

	s := n.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, lookupErr := s.resolve(name)
	if lookupErr != nil {
		if _, ok := s.aliases[name]; ok {
			return lookupErr // an alias of a deleted collection
		}
		c = fresh
		s.collections[name] = c
	}
	want := snap.config.GetParams()
	if have := c.schema.vectorsConfigProto(); !proto.Equal(have, want.GetVectorsConfig()) {
		return badInput("Snapshot is not compatible with existing collection: Collection vectors: %s Snapshot Vectors: %s",
			debugVectorsConfig(have), debugVectorsConfig(want.GetVectorsConfig()))
	}
	if c.params.shardNumber != want.GetShardNumber() {
		return badInput("Snapshot is not compatible with existing collection: Collection shard number: %d Snapshot shard number: %d",
			c.params.shardNumber, want.GetShardNumber())
	}

	now := s.opts.clock.Now()
	c.changed(now, s.opts.indexingRate)
	place := s.ownPlacement(c)
	for _, sh := range sortedShardIDs(snap.shards) {
		if sh >= c.params.shardNumber {
			return serviceError("No shard found: %d at %s", sh, name)
		}
		before := c.shardPoints(sh)
		others := slices.DeleteFunc(slices.Clone(place[sh]), func(p uint64) bool { return p == n.id })
		recovered := snap.shards[sh]
		if len(others) > 0 {
			switch priority {
			case priorityReplica:
				// A transfer from another active replica overwrites
				// the recovered data.
				recovered = before
			case prioritySnapshot:
				keep := int(c.params.replicationFactor) - 1
				remove := max(len(others)-keep, 0)
				others = others[remove:]
			}
		}
		for _, p := range before {
			c.remove(p.key)
		}
		for _, p := range recovered {
			c.put(p)
		}
		place[sh] = append([]uint64{n.id}, others...)
	}
	// Qdrant triggers the optimizers of a recovered collection.
	c.pointsWritten(now)
	return nil
}

// snapshotCreateRequest is the CreateCollection that recreates a snapshot's
// collection under name (CreateCollectionOperation::new from the snapshot's
// CollectionConfigInternal).
func snapshotCreateRequest(name string, cfg *qdrant.CollectionConfig) (*qdrant.CreateCollection, *apiError) {
	p := cfg.GetParams()
	if p.GetVectorsConfig() == nil && p.GetSparseVectorsConfig() == nil {
		return nil, serviceError("Failed to unpack tar archive: snapshot has no vectors config")
	}
	return &qdrant.CreateCollection{
		CollectionName:         name,
		HnswConfig:             cfg.GetHnswConfig(),
		WalConfig:              cfg.GetWalConfig(),
		OptimizersConfig:       cfg.GetOptimizerConfig(),
		ShardNumber:            proto.Uint32(max(p.GetShardNumber(), 1)),
		OnDiskPayload:          proto.Bool(p.GetOnDiskPayload()),
		VectorsConfig:          p.GetVectorsConfig(),
		ReplicationFactor:      p.ReplicationFactor,
		WriteConsistencyFactor: p.WriteConsistencyFactor,
		QuantizationConfig:     cfg.GetQuantizationConfig(),
		ShardingMethod:         p.ShardingMethod,
		SparseVectorsConfig:    p.GetSparseVectorsConfig(),
		StrictModeConfig:       cfg.GetStrictModeConfig(),
		Metadata:               cfg.GetMetadata(),
	}, nil
}

// shardPoints returns the points of shard sh. The caller holds s.mu.
func (c *collection) shardPoints(sh uint32) []*point {
	var out []*point
	for k, p := range c.points {
		if shardOf(k, c.params.shardNumber) == sh {
			out = append(out, p)
		}
	}
	return out
}

func sortedShardIDs(m map[uint32][]*point) []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// debugVectorsConfig renders a vectors config as Rust's Debug of
// VectorsConfig does in the incompatibility error, closely enough to read:
// Single(VectorParams { size: 4, distance: Cosine, ... }) or
// Multiple({"a": VectorParams { ... }}).
func debugVectorsConfig(vc *qdrant.VectorsConfig) string {
	one := func(p *qdrant.VectorParams) string {
		opt := func(set bool, v string) string {
			if !set {
				return "None"
			}
			return "Some(" + v + ")"
		}
		return fmt.Sprintf("VectorParams { size: %d, distance: %s, hnsw_config: %s, quantization_config: %s, on_disk: %s, datatype: %s, multivector_config: %s }",
			p.GetSize(), p.GetDistance(),
			opt(p.HnswConfig != nil, "HnswConfigDiff"),
			opt(p.QuantizationConfig != nil, "QuantizationConfig"),
			opt(p.OnDisk != nil, fmt.Sprint(p.GetOnDisk())),
			opt(p.Datatype != nil, p.GetDatatype().String()),
			opt(p.MultivectorConfig != nil, "MultiVectorConfig { comparator: MaxSim }"))
	}
	switch c := vc.GetConfig().(type) {
	case *qdrant.VectorsConfig_Params:
		return "Single(" + one(c.Params) + ")"
	case *qdrant.VectorsConfig_ParamsMap:
		m := c.ParamsMap.GetMap()
		parts := make([]string, 0, len(m))
		for _, name := range sortedKeys(m) {
			parts = append(parts, fmt.Sprintf("%q: %s", name, one(m[name])))
		}
		return "Multiple({" + strings.Join(parts, ", ") + "})"
	}
	return "Multiple({})"
}
