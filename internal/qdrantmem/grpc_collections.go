package qdrantmem

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// collectionsService serves qdrant.Collections.
type collectionsService struct {
	qdrant.UnimplementedCollectionsServer
	s *Server
}

func opResponse(start time.Time, ok bool) *qdrant.CollectionOperationResponse {
	return &qdrant.CollectionOperationResponse{Result: ok, Time: elapsed(start)}
}

func (cs *collectionsService) Get(ctx context.Context, req *qdrant.GetCollectionInfoRequest) (*qdrant.GetCollectionInfoResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodCollectionsGet, func(start time.Time) (*qdrant.GetCollectionInfoResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		return &qdrant.GetCollectionInfoResponse{Result: s.collectionInfo(c), Time: elapsed(start)}, nil
	})
}

func (cs *collectionsService) List(ctx context.Context, _ *qdrant.ListCollectionsRequest) (*qdrant.ListCollectionsResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodCollectionsList, func(start time.Time) (*qdrant.ListCollectionsResponse, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		// Collections live in a BTreeMap (collections_ops.rs): sorted by name.
		out := make([]*qdrant.CollectionDescription, 0, len(s.collections))
		for _, name := range sortedKeys(s.collections) {
			out = append(out, &qdrant.CollectionDescription{Name: name})
		}
		return &qdrant.ListCollectionsResponse{Collections: out, Time: elapsed(start)}, nil
	})
}

func (cs *collectionsService) CollectionExists(ctx context.Context, req *qdrant.CollectionExistsRequest) (*qdrant.CollectionExistsResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodCollectionExists, func(start time.Time) (*qdrant.CollectionExistsResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		_, err := s.resolve(req.GetCollectionName())
		return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: err == nil}, Time: elapsed(start)}, nil
	})
}

// rangeField renders validator's `range` failure as describe_error does.
func rangeField(path string, value any, min, max string) vfield {
	msg := "must be " + min + " or larger"
	if max != "" {
		msg = "must be from " + min + " to " + max
	}
	return vfield{path, fmt.Sprintf("value %v invalid, %s", value, msg)}
}

// validateCreate is the gRPC validation of CreateCollection (lib/api/build.rs).
func validateCreate(req *qdrant.CreateCollection) *apiError {
	if err := validateCollectionName(req.GetCollectionName(), true); err != nil {
		return err
	}
	var fields []vfield
	if h := req.GetHnswConfig(); h != nil && h.EfConstruct != nil && *h.EfConstruct < 4 {
		fields = append(fields, rangeField("hnsw_config.ef_construct", *h.EfConstruct, "4", ""))
	}
	if w := req.GetWalConfig(); w != nil {
		if w.WalCapacityMb != nil && *w.WalCapacityMb < 1 {
			fields = append(fields, rangeField("wal_config.wal_capacity_mb", *w.WalCapacityMb, "1", ""))
		}
		if w.WalRetainClosed != nil && *w.WalRetainClosed < 1 {
			fields = append(fields, rangeField("wal_config.wal_retain_closed", *w.WalRetainClosed, "1", ""))
		}
	}
	fields = append(fields, optimizersFields(req.GetOptimizersConfig(), "optimizers_config")...)
	for _, f := range []struct {
		path string
		v    *uint32
	}{{"shard_number", req.ShardNumber}, {"replication_factor", req.ReplicationFactor}, {"write_consistency_factor", req.WriteConsistencyFactor}} {
		if f.v != nil && *f.v < 1 {
			fields = append(fields, rangeField(f.path, *f.v, "1", ""))
		}
	}
	if len(fields) > 0 {
		return bodyError(fields...)
	}
	return validateVectorsConfig(req.GetVectorsConfig())
}

func optimizersFields(o *qdrant.OptimizersConfigDiff, path string) []vfield {
	if o == nil {
		return nil
	}
	var out []vfield
	if o.DeletedThreshold != nil && (*o.DeletedThreshold < 0 || *o.DeletedThreshold > 1) {
		out = append(out, rangeField(path+".deleted_threshold", *o.DeletedThreshold, "0.0", "1.0"))
	}
	if o.VacuumMinVectorNumber != nil && *o.VacuumMinVectorNumber < 100 {
		out = append(out, rangeField(path+".vacuum_min_vector_number", *o.VacuumMinVectorNumber, "100", ""))
	}
	if o.MaxSegmentSize != nil && *o.MaxSegmentSize < 1 {
		out = append(out, rangeField(path+".max_segment_size", *o.MaxSegmentSize, "1", ""))
	}
	return out
}

// Create creates a collection as TableOfContent::create_collection does
// (lib/storage/src/content_manager/toc/create_collection.rs), merging the
// request's diffs over the defaults of config/config.yaml.
func (cs *collectionsService) Create(ctx context.Context, req *qdrant.CreateCollection) (*qdrant.CollectionOperationResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodCollectionsCreate, func(start time.Time) (*qdrant.CollectionOperationResponse, error) {
		if err := validateCreate(req); err != nil {
			return nil, err
		}
		name := req.GetCollectionName()
		c, err := s.buildCollection(req)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.collections[name]; ok {
			return nil, errCollectionExists(name)
		}
		if _, ok := s.aliases[name]; ok {
			return nil, badInput("Can't create collection with name %s. Alias with the same name already exists", name)
		}
		s.collections[name] = c
		return opResponse(start, true), nil
	})
}

// Update changes a collection's configuration as TableOfContent::update_collection
// does (lib/storage/src/content_manager/toc/collection_meta_ops.rs). Any
// update triggers the optimizers (a grey collection resumes indexing);
// disabling indexing (m = 0 or indexing_threshold = 0) drops the index at
// once; an HNSW change that requires a rebuild, or re-enabling indexing,
// restarts the build from zero.
func (cs *collectionsService) Update(ctx context.Context, req *qdrant.UpdateCollection) (*qdrant.CollectionOperationResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodCollectionsUpdate, func(start time.Time) (*qdrant.CollectionOperationResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		var fields []vfield
		if h := req.GetHnswConfig(); h != nil && h.EfConstruct != nil && *h.EfConstruct < 4 {
			fields = append(fields, rangeField("hnsw_config.ef_construct", *h.EfConstruct, "4", ""))
		}
		fields = append(fields, optimizersFields(req.GetOptimizersConfig(), "optimizers_config")...)
		if len(fields) > 0 {
			return nil, bodyError(fields...)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		// Check everything before changing anything.
		next := *c
		if err := next.optimizers.apply(req.GetOptimizersConfig()); err != nil {
			return nil, err
		}
		next.hnsw.apply(req.GetHnswConfig())
		if p := req.GetParams(); p != nil {
			if p.ReplicationFactor != nil {
				if *p.ReplicationFactor == 0 {
					return nil, invalidArgument("`replication_factor` cannot be 0")
				}
				next.params.replicationFactor = *p.ReplicationFactor
			}
			if p.WriteConsistencyFactor != nil {
				if *p.WriteConsistencyFactor == 0 {
					return nil, invalidArgument("`write_consistency_factor` cannot be 0")
				}
				next.params.writeConsistencyFactor = *p.WriteConsistencyFactor
			}
			if p.OnDiskPayload != nil {
				next.params.onDiskPayload = *p.OnDiskPayload
			}
			if p.ReadFanOutFactor != nil {
				next.params.readFanOutFactor = proto.Uint32(*p.ReadFanOutFactor)
			}
			if p.ReadFanOutDelayMs != nil {
				next.params.readFanOutDelayMs = proto.Uint64(*p.ReadFanOutDelayMs)
			}
		}
		schema, err := updatedSchema(c.schema, req.GetVectorsConfig(), req.GetSparseVectorsConfig())
		if err != nil {
			return nil, err
		}
		next.schema = schema
		if q := req.GetQuantizationConfig(); q != nil {
			if q.GetDisabled() != nil {
				next.quantization = nil
			} else {
				next.quantization = quantizationFromDiff(q)
			}
		}
		if sm := req.GetStrictModeConfig(); sm != nil {
			// update_strict_mode_config (lib/collection/src/collection/
			// collection_ops.rs) merges the diff over the current config.
			merged := &qdrant.StrictModeConfig{}
			if c.strictMode != nil {
				merged = proto.Clone(c.strictMode).(*qdrant.StrictModeConfig)
			}
			proto.Merge(merged, sm)
			next.strictMode = merged
		}
		if md := req.GetMetadata(); len(md) > 0 {
			merged := cloneValues(c.metadata)
			if merged == nil {
				merged = map[string]*qdrant.Value{}
			}
			for k, v := range md {
				merged[k] = proto.Clone(v).(*qdrant.Value)
			}
			next.metadata = merged
		}

		now := s.opts.clock.Now()
		c.changed(now, s.opts.indexingRate)
		idx := c.idx
		*c = next
		c.idx = idx
		c.settingsUpdated(now, s.opts.recreateDelay)
		return opResponse(start, true), nil
	})
}

// updatedSchema applies VectorsConfigDiff and a sparse config update; every
// named vector must exist (VectorsConfigDiff::check_vector_names,
// lib/collection/src/operations/types.rs).
func updatedSchema(old vectorsSchema, diff *qdrant.VectorsConfigDiff, sparse *qdrant.SparseVectorConfig) (vectorsSchema, *apiError) {
	s := old
	s.dense = make(map[string]*denseSpec, len(old.dense))
	for k, v := range old.dense {
		s.dense[k] = v
	}
	s.sparse = make(map[string]*qdrant.SparseVectorParams, len(old.sparse))
	for k, v := range old.sparse {
		s.sparse[k] = v
	}
	apply := func(name string, d *qdrant.VectorParamsDiff) *apiError {
		spec, ok := s.dense[name]
		if !ok {
			return errVectorNameNotExists(name)
		}
		ns := *spec
		ns.params = proto.Clone(spec.params).(*qdrant.VectorParams)
		if d.HnswConfig != nil {
			// VectorParams' own hnsw_config is merged with the diff
			// (CollectionParams::update_vectors_from_diff, lib/collection/src/config.rs).
			ns.params.HnswConfig = mergeHNSWDiff(ns.params.HnswConfig, d.HnswConfig)
		}
		if d.QuantizationConfig != nil {
			if d.QuantizationConfig.GetDisabled() != nil {
				ns.params.QuantizationConfig = nil
			} else {
				ns.params.QuantizationConfig = quantizationFromDiff(d.QuantizationConfig)
			}
		}
		if d.OnDisk != nil {
			ns.params.OnDisk = proto.Bool(*d.OnDisk)
		}
		s.dense[name] = &ns
		return nil
	}
	switch c := diff.GetConfig().(type) {
	case *qdrant.VectorsConfigDiff_Params:
		if err := apply("", c.Params); err != nil {
			return old, err
		}
	case *qdrant.VectorsConfigDiff_ParamsMap:
		for _, name := range sortedKeys(c.ParamsMap.GetMap()) {
			if err := apply(name, c.ParamsMap.GetMap()[name]); err != nil {
				return old, err
			}
		}
	}
	for _, name := range sortedKeys(sparse.GetMap()) {
		if _, ok := s.sparse[name]; !ok {
			return old, errVectorNameNotExists(name)
		}
		s.sparse[name] = proto.Clone(sparse.GetMap()[name]).(*qdrant.SparseVectorParams)
	}
	return s, nil
}

// quantizationFromDiff turns an enabling QuantizationConfigDiff into the
// QuantizationConfig it sets.
func quantizationFromDiff(d *qdrant.QuantizationConfigDiff) *qdrant.QuantizationConfig {
	switch q := d.GetQuantization().(type) {
	case *qdrant.QuantizationConfigDiff_Scalar:
		return qdrant.NewQuantizationScalar(proto.Clone(q.Scalar).(*qdrant.ScalarQuantization))
	case *qdrant.QuantizationConfigDiff_Product:
		return qdrant.NewQuantizationProduct(proto.Clone(q.Product).(*qdrant.ProductQuantization))
	case *qdrant.QuantizationConfigDiff_Binary:
		return qdrant.NewQuantizationBinary(proto.Clone(q.Binary).(*qdrant.BinaryQuantization))
	case *qdrant.QuantizationConfigDiff_Turboquant:
		return qdrant.NewQuantizationTurbo(proto.Clone(q.Turboquant).(*qdrant.TurboQuantization))
	}
	return nil
}

// Delete drops a collection and its aliases. Like TableOfContent::delete_collection
// it answers result=false, not an error, when there is no collection of that
// name (an alias name is not resolved).
func (cs *collectionsService) Delete(ctx context.Context, req *qdrant.DeleteCollection) (*qdrant.CollectionOperationResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodCollectionsDelete, func(start time.Time) (*qdrant.CollectionOperationResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		name := req.GetCollectionName()
		for alias, target := range s.aliases {
			if target == name {
				delete(s.aliases, alias)
			}
		}
		if _, ok := s.collections[name]; !ok {
			return opResponse(start, false), nil
		}
		delete(s.collections, name)
		return opResponse(start, true), nil
	})
}

// UpdateAliases applies the actions in order, as update_aliases does
// (lib/storage/src/content_manager/toc/collection_meta_ops.rs): create checks
// that the collection exists and that no collection has the alias's name
// (an existing alias is re-pointed), delete ignores unknown aliases, rename
// of an unknown alias fails. Actions before a failing one stay applied, as in
// Qdrant, which persists each action as it goes.
func (cs *collectionsService) UpdateAliases(ctx context.Context, req *qdrant.ChangeAliases) (*qdrant.CollectionOperationResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodUpdateAliases, func(start time.Time) (*qdrant.CollectionOperationResponse, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, a := range req.GetActions() {
			switch op := a.GetAction().(type) {
			case *qdrant.AliasOperations_CreateAlias:
				coll, alias := op.CreateAlias.GetCollectionName(), op.CreateAlias.GetAliasName()
				if _, ok := s.collections[coll]; !ok {
					return nil, errCollectionNotFound(coll)
				}
				if _, ok := s.collections[alias]; ok {
					return nil, errCollectionExists(alias)
				}
				s.aliases[alias] = coll
			case *qdrant.AliasOperations_DeleteAlias:
				delete(s.aliases, op.DeleteAlias.GetAliasName())
			case *qdrant.AliasOperations_RenameAlias:
				old, neu := op.RenameAlias.GetOldAliasName(), op.RenameAlias.GetNewAliasName()
				target, ok := s.aliases[old]
				if !ok {
					return nil, errAliasNotFound(old)
				}
				delete(s.aliases, old)
				s.aliases[neu] = target
			default:
				return nil, invalidArgument("Malformed alias operation")
			}
		}
		return opResponse(start, true), nil
	})
}

func (cs *collectionsService) ListCollectionAliases(ctx context.Context, req *qdrant.ListCollectionAliasesRequest) (*qdrant.ListAliasesResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodListCollectionAliases, func(start time.Time) (*qdrant.ListAliasesResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		// No existence check, as do_list_collection_aliases (src/common/collections.rs).
		return &qdrant.ListAliasesResponse{Aliases: s.aliasesOf(req.GetCollectionName()), Time: elapsed(start)}, nil
	})
}

func (cs *collectionsService) ListAliases(ctx context.Context, _ *qdrant.ListAliasesRequest) (*qdrant.ListAliasesResponse, error) {
	s := cs.s
	return handle(s, ctx, MethodListAliases, func(start time.Time) (*qdrant.ListAliasesResponse, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		var out []*qdrant.AliasDescription
		for _, name := range sortedKeys(s.collections) {
			out = append(out, s.aliasesOf(name)...)
		}
		return &qdrant.ListAliasesResponse{Aliases: out, Time: elapsed(start)}, nil
	})
}

// aliasesOf lists the aliases of a collection, sorted by alias name.
func (s *Server) aliasesOf(collection string) []*qdrant.AliasDescription {
	var names []string
	for alias, target := range s.aliases {
		if target == collection {
			names = append(names, alias)
		}
	}
	sort.Strings(names)
	out := make([]*qdrant.AliasDescription, len(names))
	for i, a := range names {
		out[i] = &qdrant.AliasDescription{AliasName: a, CollectionName: collection}
	}
	return out
}

func cloneValues(m map[string]*qdrant.Value) map[string]*qdrant.Value {
	if m == nil {
		return nil
	}
	out := make(map[string]*qdrant.Value, len(m))
	for k, v := range m {
		out[k] = proto.Clone(v).(*qdrant.Value)
	}
	return out
}

// collectionInfo renders c as `impl From<CollectionInfo> for
// grpc::CollectionInfo` does (lib/collection/src/operations/conversions.rs).
// The caller holds s.mu.
func (s *Server) collectionInfo(c *collection) *qdrant.CollectionInfo {
	st, indexed := c.indexStatus(s.opts.clock.Now(), s.opts.indexingRate)
	metadata := cloneValues(c.metadata)
	if metadata == nil {
		metadata = map[string]*qdrant.Value{}
	}
	info := &qdrant.CollectionInfo{
		Status:          st,
		OptimizerStatus: &qdrant.OptimizerStatus{Ok: c.idx.optimizerErr == "", Error: c.idx.optimizerErr},
		SegmentsCount:   c.segmentsCount(s.opts.cpus),
		Config: &qdrant.CollectionConfig{
			Params: &qdrant.CollectionParams{
				ShardNumber:            c.params.shardNumber,
				OnDiskPayload:          c.params.onDiskPayload,
				VectorsConfig:          c.schema.vectorsConfigProto(),
				ReplicationFactor:      proto.Uint32(c.params.replicationFactor),
				WriteConsistencyFactor: proto.Uint32(c.params.writeConsistencyFactor),
				ReadFanOutFactor:       c.params.readFanOutFactor,
				ShardingMethod:         c.params.shardingMethod,
				SparseVectorsConfig:    c.schema.sparseConfigProto(),
				ReadFanOutDelayMs:      c.params.readFanOutDelayMs,
			},
			HnswConfig:      c.hnsw.proto(),
			OptimizerConfig: c.optimizers.proto(),
			WalConfig: &qdrant.WalConfigDiff{
				WalCapacityMb:    proto.Uint64(c.wal.capacityMB),
				WalSegmentsAhead: proto.Uint64(c.wal.segmentsAhead),
				WalRetainClosed:  proto.Uint64(c.wal.retainClosed),
			},
			Metadata: metadata,
		},
		PayloadSchema:       c.payloadSchema(),
		PointsCount:         proto.Uint64(uint64(len(c.points))),
		IndexedVectorsCount: proto.Uint64(indexed),
		UpdateQueue:         &qdrant.UpdateQueueInfo{Length: c.idx.updateQueue},
	}
	if c.quantization != nil {
		info.Config.QuantizationConfig = proto.Clone(c.quantization).(*qdrant.QuantizationConfig)
	}
	if c.strictMode != nil {
		info.Config.StrictModeConfig = proto.Clone(c.strictMode).(*qdrant.StrictModeConfig)
	}
	return info
}
