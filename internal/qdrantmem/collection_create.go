package qdrantmem

import (
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// buildCollection turns a validated CreateCollection into a collection with
// no points: the request's diffs merged over the defaults of Qdrant's
// config/config.yaml, as TableOfContent::create_collection does
// (lib/storage/src/content_manager/toc/create_collection.rs). Create and
// snapshot recovery (which creates a missing collection from the
// snapshot's config, lib/storage/src/content_manager/snapshots/recover.rs)
// share it. It takes no lock.
func (s *Server) buildCollection(req *qdrant.CreateCollection) (*collection, *apiError) {
	schema, err := newVectorsSchema(req.GetVectorsConfig(), req.GetSparseVectorsConfig())
	if err != nil {
		return nil, err
	}
	c := newCollection(req.GetCollectionName(), s.opts.clock.Now())
	c.schema = schema
	c.hnsw.apply(req.GetHnswConfig())
	if err := c.optimizers.apply(req.GetOptimizersConfig()); err != nil {
		return nil, err
	}
	c.wal.apply(req.GetWalConfig())
	if req.ShardNumber != nil {
		c.params.shardNumber = *req.ShardNumber
	}
	if req.ReplicationFactor != nil {
		c.params.replicationFactor = *req.ReplicationFactor
	}
	if req.WriteConsistencyFactor != nil {
		c.params.writeConsistencyFactor = *req.WriteConsistencyFactor
	}
	if req.OnDiskPayload != nil {
		c.params.onDiskPayload = *req.OnDiskPayload
	}
	if req.ShardingMethod != nil {
		m := *req.ShardingMethod
		c.params.shardingMethod = &m
	}
	if q := req.GetQuantizationConfig(); q != nil {
		c.quantization = proto.Clone(q).(*qdrant.QuantizationConfig)
	}
	if sm := req.GetStrictModeConfig(); sm != nil {
		c.strictMode = proto.Clone(sm).(*qdrant.StrictModeConfig)
	}
	c.metadata = cloneValues(req.GetMetadata())
	return c, nil
}
