package qdrantmem

import (
	"fmt"
	"sort"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// Defaults of a collection's effective configuration: Qdrant's shipped
// config/config.yaml (storage.optimizers, storage.hnsw_index, storage.wal,
// storage.on_disk_payload) and lib/collection/src/config.rs, v1.18.3.
const (
	defaultHNSWM                 = 16
	defaultHNSWEfConstruct       = 100
	defaultHNSWFullScanThreshold = 10000
	defaultIndexingThresholdKB   = 10000 // DEFAULT_INDEXING_THRESHOLD_KB, lib/shard/src/optimizers/config.rs
	defaultDeletedThreshold      = 0.2
	defaultVacuumMinVectorNumber = 1000
	defaultFlushIntervalSec      = 5
	defaultWALCapacityMB         = 32
	defaultWALRetainClosed       = 1
	maxVectorSize                = 65536 // VectorParams.size range, lib/api/build.rs
	defaultScrollLimit           = 10    // ScrollRequestInternal::default_limit
	defaultSearchLimit           = 10    // QueryPoints default limit
	elementSizeFloat32           = 4
)

// hnswConfig is the effective HnswConfig of a collection.
type hnswConfig struct {
	m, efConstruct, fullScanThreshold, maxIndexingThreads uint64
	onDisk                                                *bool
	payloadM                                              *uint64
	inlineStorage                                         *bool
}

func defaultHNSW() hnswConfig {
	f := false
	return hnswConfig{m: defaultHNSWM, efConstruct: defaultHNSWEfConstruct, fullScanThreshold: defaultHNSWFullScanThreshold, onDisk: &f}
}

// apply merges a diff as HnswConfig::update does: set fields replace.
func (h *hnswConfig) apply(d *qdrant.HnswConfigDiff) {
	if d == nil {
		return
	}
	if d.M != nil {
		h.m = *d.M
	}
	if d.EfConstruct != nil {
		h.efConstruct = *d.EfConstruct
	}
	if d.FullScanThreshold != nil {
		h.fullScanThreshold = *d.FullScanThreshold
	}
	if d.MaxIndexingThreads != nil {
		h.maxIndexingThreads = *d.MaxIndexingThreads
	}
	if d.OnDisk != nil {
		h.onDisk = proto.Bool(*d.OnDisk)
	}
	if d.PayloadM != nil {
		h.payloadM = proto.Uint64(*d.PayloadM)
	}
	if d.InlineStorage != nil {
		h.inlineStorage = proto.Bool(*d.InlineStorage)
	}
}

// mergeHNSWDiff is HnswConfigDiff::update: the fields set in d replace
// those of old (nil: a copy of d).
func mergeHNSWDiff(old, d *qdrant.HnswConfigDiff) *qdrant.HnswConfigDiff {
	out := &qdrant.HnswConfigDiff{}
	if old != nil {
		out = proto.Clone(old).(*qdrant.HnswConfigDiff)
	}
	proto.Merge(out, d)
	return out
}

// requiresRebuild is HnswConfig::mismatch_requires_rebuild (lib/segment/src/types.rs).
func (h hnswConfig) requiresRebuild(o hnswConfig) bool {
	return h.m != o.m || h.efConstruct != o.efConstruct || h.fullScanThreshold != o.fullScanThreshold ||
		!eqPtr(h.payloadM, o.payloadM) || !eqPtr(h.onDisk, o.onDisk) || !eqPtr(h.inlineStorage, o.inlineStorage)
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func (h hnswConfig) proto() *qdrant.HnswConfigDiff {
	return &qdrant.HnswConfigDiff{
		M:                  proto.Uint64(h.m),
		EfConstruct:        proto.Uint64(h.efConstruct),
		FullScanThreshold:  proto.Uint64(h.fullScanThreshold),
		MaxIndexingThreads: proto.Uint64(h.maxIndexingThreads),
		OnDisk:             h.onDisk,
		PayloadM:           h.payloadM,
		InlineStorage:      h.inlineStorage,
	}
}

// optimizersConfig is the effective OptimizersConfig of a collection
// (lib/collection/src/optimizers_builder.rs).
type optimizersConfig struct {
	deletedThreshold       float64
	vacuumMinVectorNumber  uint64
	defaultSegmentNumber   uint64
	maxSegmentSize         *uint64
	memmapThreshold        *uint64
	indexingThreshold      *uint64
	flushIntervalSec       uint64
	maxOptimizationThreads *uint64
	preventUnoptimized     *bool
}

func defaultOptimizers() optimizersConfig {
	return optimizersConfig{
		deletedThreshold:      defaultDeletedThreshold,
		vacuumMinVectorNumber: defaultVacuumMinVectorNumber,
		indexingThreshold:     proto.Uint64(defaultIndexingThresholdKB),
		flushIntervalSec:      defaultFlushIntervalSec,
	}
}

func (o *optimizersConfig) apply(d *qdrant.OptimizersConfigDiff) *apiError {
	if d == nil {
		return nil
	}
	if d.DeletedThreshold != nil {
		o.deletedThreshold = *d.DeletedThreshold
	}
	if d.VacuumMinVectorNumber != nil {
		o.vacuumMinVectorNumber = *d.VacuumMinVectorNumber
	}
	if d.DefaultSegmentNumber != nil {
		o.defaultSegmentNumber = *d.DefaultSegmentNumber
	}
	if d.MaxSegmentSize != nil {
		o.maxSegmentSize = proto.Uint64(*d.MaxSegmentSize)
	}
	if d.MemmapThreshold != nil {
		o.memmapThreshold = proto.Uint64(*d.MemmapThreshold)
	}
	if d.IndexingThreshold != nil {
		o.indexingThreshold = proto.Uint64(*d.IndexingThreshold)
	}
	if d.FlushIntervalSec != nil {
		o.flushIntervalSec = *d.FlushIntervalSec
	}
	// The deprecated field wins, as in `impl TryFrom<OptimizersConfigDiff>`
	// (lib/collection/src/operations/conversions.rs).
	switch {
	case d.DeprecatedMaxOptimizationThreads != nil:
		o.maxOptimizationThreads = proto.Uint64(*d.DeprecatedMaxOptimizationThreads)
	case d.MaxOptimizationThreads != nil:
		switch v := d.MaxOptimizationThreads.GetVariant().(type) {
		case *qdrant.MaxOptimizationThreads_Value:
			o.maxOptimizationThreads = proto.Uint64(v.Value)
		case *qdrant.MaxOptimizationThreads_Setting_:
			o.maxOptimizationThreads = nil
		default:
			return invalidArgument("Malformed MaxOptimizationThreads")
		}
	}
	if d.PreventUnoptimized != nil {
		o.preventUnoptimized = proto.Bool(*d.PreventUnoptimized)
	}
	return nil
}

// indexingThresholdKB is get_indexing_threshold_kb: None is the default,
// Some(0) disables indexing (reported here as 0).
func (o optimizersConfig) indexingThresholdKB() uint64 {
	if o.indexingThreshold == nil {
		return defaultIndexingThresholdKB
	}
	return *o.indexingThreshold
}

// proto renders the config as `impl From<CollectionInfo> for grpc::CollectionInfo`
// does (lib/collection/src/operations/conversions.rs).
func (o optimizersConfig) proto() *qdrant.OptimizersConfigDiff {
	d := &qdrant.OptimizersConfigDiff{
		DeletedThreshold:                 proto.Float64(o.deletedThreshold),
		VacuumMinVectorNumber:            proto.Uint64(o.vacuumMinVectorNumber),
		DefaultSegmentNumber:             proto.Uint64(o.defaultSegmentNumber),
		MaxSegmentSize:                   o.maxSegmentSize,
		MemmapThreshold:                  o.memmapThreshold,
		IndexingThreshold:                o.indexingThreshold,
		FlushIntervalSec:                 proto.Uint64(o.flushIntervalSec),
		DeprecatedMaxOptimizationThreads: o.maxOptimizationThreads,
		PreventUnoptimized:               o.preventUnoptimized,
	}
	if o.maxOptimizationThreads == nil {
		d.MaxOptimizationThreads = qdrant.NewMaxOptimizationThreadsSetting(qdrant.MaxOptimizationThreads_Auto)
	} else {
		d.MaxOptimizationThreads = qdrant.NewMaxOptimizationThreads(*o.maxOptimizationThreads)
	}
	return d
}

// walConfig is the effective WalConfig (lib/collection/src/config.rs).
type walConfig struct{ capacityMB, segmentsAhead, retainClosed uint64 }

func (w *walConfig) apply(d *qdrant.WalConfigDiff) {
	if d == nil {
		return
	}
	if d.WalCapacityMb != nil {
		w.capacityMB = *d.WalCapacityMb
	}
	if d.WalSegmentsAhead != nil {
		w.segmentsAhead = *d.WalSegmentsAhead
	}
	if d.WalRetainClosed != nil {
		w.retainClosed = *d.WalRetainClosed
	}
}

// denseSpec is one configured dense (or multi-dense) vector.
type denseSpec struct {
	size     int
	distance qdrant.Distance
	multi    bool
	elemSize int
	params   *qdrant.VectorParams // as created, echoed by Get
}

// vectorsSchema is the vector layout of a collection.
type vectorsSchema struct {
	// single is true for an unnamed vector (VectorsConfig::Single); its
	// name is "" (DEFAULT_VECTOR_NAME).
	single bool
	dense  map[string]*denseSpec
	sparse map[string]*qdrant.SparseVectorParams
	// denseNames is the sorted list of dense names.
	denseNames []string
}

// datatypeSize is the bytes per element of a vector storage datatype.
func datatypeSize(dt *qdrant.Datatype) int {
	if dt == nil {
		return elementSizeFloat32
	}
	switch *dt {
	case qdrant.Datatype_Uint8:
		return 1
	case qdrant.Datatype_Float16:
		return 2
	default:
		return elementSizeFloat32
	}
}

// newDenseSpec converts VectorParams as `impl TryFrom<grpc::VectorParams>`
// does (lib/collection/src/operations/conversions.rs). Size was checked by
// validateVectorsConfig.
func newDenseSpec(p *qdrant.VectorParams) (*denseSpec, *apiError) {
	switch p.GetDistance() {
	case qdrant.Distance_Cosine, qdrant.Distance_Euclid, qdrant.Distance_Dot, qdrant.Distance_Manhattan:
	case qdrant.Distance_UnknownDistance:
		return nil, invalidArgument("Malformed distance parameter: UnknownDistance")
	default:
		return nil, invalidArgument("Malformed distance parameter, unexpected value: %d", int32(p.GetDistance()))
	}
	return &denseSpec{
		size:     int(p.GetSize()),
		distance: p.GetDistance(),
		multi:    p.MultivectorConfig != nil,
		elemSize: datatypeSize(p.Datatype),
		params:   proto.Clone(p).(*qdrant.VectorParams),
	}, nil
}

// validateVectorsConfig is the gRPC validation of CreateCollection.vectors_config:
// VectorParams.size must be in [1, 65536] (lib/api/build.rs); a map reports
// its first bad entry under "[]" (ValidateExt for HashMap, lib/api/src/grpc/validate.rs).
func validateVectorsConfig(vc *qdrant.VectorsConfig) *apiError {
	sizeErr := func(path string, size uint64) *apiError {
		return bodyError(vfield{path, fmt.Sprintf("value %d invalid, must be from 1 to %d", size, maxVectorSize)})
	}
	switch c := vc.GetConfig().(type) {
	case *qdrant.VectorsConfig_Params:
		if s := c.Params.GetSize(); s < 1 || s > maxVectorSize {
			return sizeErr("vectors_config.config.size", s)
		}
	case *qdrant.VectorsConfig_ParamsMap:
		for _, name := range sortedKeys(c.ParamsMap.GetMap()) {
			if s := c.ParamsMap.GetMap()[name].GetSize(); s < 1 || s > maxVectorSize {
				return sizeErr("vectors_config.config.map.[].size", s)
			}
		}
	}
	return nil
}

func newVectorsSchema(vc *qdrant.VectorsConfig, sc *qdrant.SparseVectorConfig) (vectorsSchema, *apiError) {
	s := vectorsSchema{dense: map[string]*denseSpec{}, sparse: map[string]*qdrant.SparseVectorParams{}}
	switch c := vc.GetConfig().(type) {
	case *qdrant.VectorsConfig_Params:
		d, err := newDenseSpec(c.Params)
		if err != nil {
			return s, err
		}
		s.single = true
		s.dense[""] = d
	case *qdrant.VectorsConfig_ParamsMap:
		for name, p := range c.ParamsMap.GetMap() {
			d, err := newDenseSpec(p)
			if err != nil {
				return s, err
			}
			s.dense[name] = d
		}
	}
	for name, p := range sc.GetMap() {
		// Dense and sparse names share one namespace
		// (lib/storage/src/content_manager/collection_meta_ops.rs).
		if _, dup := s.dense[name]; dup {
			return s, badInput("Dense and sparse vector names must be unique - duplicate found with '%s'", name)
		}
		s.sparse[name] = proto.Clone(p).(*qdrant.SparseVectorParams)
	}
	s.denseNames = sortedKeys(s.dense)
	return s, nil
}

func (s vectorsSchema) vectorsConfigProto() *qdrant.VectorsConfig {
	if s.single {
		return qdrant.NewVectorsConfig(proto.Clone(s.dense[""].params).(*qdrant.VectorParams))
	}
	m := make(map[string]*qdrant.VectorParams, len(s.dense))
	for name, d := range s.dense {
		m[name] = proto.Clone(d.params).(*qdrant.VectorParams)
	}
	return qdrant.NewVectorsConfigMap(m)
}

func (s vectorsSchema) sparseConfigProto() *qdrant.SparseVectorConfig {
	if len(s.sparse) == 0 {
		return nil
	}
	m := make(map[string]*qdrant.SparseVectorParams, len(s.sparse))
	for name, p := range s.sparse {
		m[name] = proto.Clone(p).(*qdrant.SparseVectorParams)
	}
	return &qdrant.SparseVectorConfig{Map: m}
}

// collectionParams is the effective CollectionParams (lib/collection/src/config.rs).
type collectionParams struct {
	shardNumber            uint32
	replicationFactor      uint32
	writeConsistencyFactor uint32
	onDiskPayload          bool
	readFanOutFactor       *uint32
	readFanOutDelayMs      *uint64
	shardingMethod         *qdrant.ShardingMethod
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
