package qdrantmem

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

func init() { restRouteSets = append(restRouteSets, (*Server).collectionRoutes) }

// Route names of the collection endpoints, for the fault API.
const (
	RouteGetCollection    = "GET /collections/{collection_name}"
	RouteGetOptimizations = "GET /collections/{collection_name}/optimizations"
)

func (s *Server) collectionRoutes() []restRoute {
	return []restRoute{
		{pattern: RouteGetCollection, handler: s.restGetCollection},
		{pattern: RouteGetOptimizations, handler: s.restGetOptimizations},
	}
}

// restGetCollection is get_collection (src/actix/api/collections_api.rs).
func (s *Server) restGetCollection(w http.ResponseWriter, r *http.Request, start time.Time) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.resolve(r.PathValue("collection_name"))
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	writeRESTResult(w, start, s.collectionInfoJSON(c))
}

// The JSON shapes below follow the serde attributes of Qdrant's REST types
// (lib/collection/src/operations/types.rs CollectionInfo and CollectionConfig,
// lib/collection/src/config.rs CollectionParams and WalConfig,
// lib/collection/src/optimizers_builder.rs OptimizersConfig,
// lib/segment/src/types.rs HnswConfig and VectorParams) and
// docs/redoc/master/openapi.json: optional fields marked
// skip_serializing_if are omitted, others are null.

type restCollectionInfo struct {
	Status              string         `json:"status"`
	OptimizerStatus     any            `json:"optimizer_status"` // "ok" or {"error": "..."} (OptimizersStatus)
	IndexedVectorsCount uint64         `json:"indexed_vectors_count"`
	PointsCount         uint64         `json:"points_count"`
	SegmentsCount       uint64         `json:"segments_count"`
	Config              restConfig     `json:"config"`
	PayloadSchema       map[string]any `json:"payload_schema"`
	UpdateQueue         restQueue      `json:"update_queue"`
}

type restQueue struct {
	Length uint64 `json:"length"`
}

type restConfig struct {
	Params             restParams     `json:"params"`
	HnswConfig         restHNSW       `json:"hnsw_config"`
	OptimizerConfig    restOptimizers `json:"optimizer_config"`
	WalConfig          restWAL        `json:"wal_config"`
	QuantizationConfig any            `json:"quantization_config"`
	Metadata           map[string]any `json:"metadata,omitempty"`
}

type restParams struct {
	Vectors                any            `json:"vectors"`
	ShardNumber            uint32         `json:"shard_number"`
	ShardingMethod         *string        `json:"sharding_method,omitempty"`
	ReplicationFactor      uint32         `json:"replication_factor"`
	WriteConsistencyFactor uint32         `json:"write_consistency_factor"`
	ReadFanOutFactor       *uint32        `json:"read_fan_out_factor,omitempty"`
	ReadFanOutDelayMs      *uint64        `json:"read_fan_out_delay_ms,omitempty"`
	OnDiskPayload          bool           `json:"on_disk_payload"`
	SparseVectors          map[string]any `json:"sparse_vectors,omitempty"`
}

type restHNSW struct {
	M                  uint64  `json:"m"`
	EfConstruct        uint64  `json:"ef_construct"`
	FullScanThreshold  uint64  `json:"full_scan_threshold"`
	MaxIndexingThreads uint64  `json:"max_indexing_threads"`
	OnDisk             *bool   `json:"on_disk,omitempty"`
	PayloadM           *uint64 `json:"payload_m,omitempty"`
	InlineStorage      *bool   `json:"inline_storage,omitempty"`
}

type restHNSWDiff struct {
	M                  *uint64 `json:"m,omitempty"`
	EfConstruct        *uint64 `json:"ef_construct,omitempty"`
	FullScanThreshold  *uint64 `json:"full_scan_threshold,omitempty"`
	MaxIndexingThreads *uint64 `json:"max_indexing_threads,omitempty"`
	OnDisk             *bool   `json:"on_disk,omitempty"`
	PayloadM           *uint64 `json:"payload_m,omitempty"`
	InlineStorage      *bool   `json:"inline_storage,omitempty"`
}

type restOptimizers struct {
	DeletedThreshold       float64 `json:"deleted_threshold"`
	VacuumMinVectorNumber  uint64  `json:"vacuum_min_vector_number"`
	DefaultSegmentNumber   uint64  `json:"default_segment_number"`
	MaxSegmentSize         *uint64 `json:"max_segment_size"`
	MemmapThreshold        *uint64 `json:"memmap_threshold"`
	IndexingThreshold      *uint64 `json:"indexing_threshold"`
	FlushIntervalSec       uint64  `json:"flush_interval_sec"`
	MaxOptimizationThreads *uint64 `json:"max_optimization_threads"`
	PreventUnoptimized     *bool   `json:"prevent_unoptimized"`
}

type restWAL struct {
	WalCapacityMB    uint64 `json:"wal_capacity_mb"`
	WalSegmentsAhead uint64 `json:"wal_segments_ahead"`
	WalRetainClosed  uint64 `json:"wal_retain_closed"`
}

type restVectorParams struct {
	Size               uint64        `json:"size"`
	Distance           string        `json:"distance"`
	HnswConfig         *restHNSWDiff `json:"hnsw_config,omitempty"`
	QuantizationConfig any           `json:"quantization_config,omitempty"`
	OnDisk             *bool         `json:"on_disk,omitempty"`
	Datatype           *string       `json:"datatype,omitempty"`
	MultivectorConfig  any           `json:"multivector_config,omitempty"`
}

func (s *Server) collectionInfoJSON(c *collection) restCollectionInfo {
	st, indexed := c.indexStatus(s.opts.clock.Now(), s.opts.indexingRate)
	info := restCollectionInfo{
		Status:              strings.ToLower(st.String()),
		OptimizerStatus:     c.idx.optimizerStatusJSON(),
		IndexedVectorsCount: indexed,
		PointsCount:         uint64(len(c.points)),
		SegmentsCount:       c.segmentsCount(s.opts.cpus),
		PayloadSchema:       map[string]any{},
		UpdateQueue:         restQueue{Length: c.idx.updateQueue},
		Config: restConfig{
			Params: restParams{
				Vectors:                vectorsJSON(c.schema),
				ShardNumber:            c.params.shardNumber,
				ReplicationFactor:      c.params.replicationFactor,
				WriteConsistencyFactor: c.params.writeConsistencyFactor,
				ReadFanOutFactor:       c.params.readFanOutFactor,
				ReadFanOutDelayMs:      c.params.readFanOutDelayMs,
				OnDiskPayload:          c.params.onDiskPayload,
			},
			HnswConfig: restHNSW{
				M: c.hnsw.m, EfConstruct: c.hnsw.efConstruct, FullScanThreshold: c.hnsw.fullScanThreshold,
				MaxIndexingThreads: c.hnsw.maxIndexingThreads, OnDisk: c.hnsw.onDisk, PayloadM: c.hnsw.payloadM,
				InlineStorage: c.hnsw.inlineStorage,
			},
			OptimizerConfig: restOptimizers{
				DeletedThreshold: c.optimizers.deletedThreshold, VacuumMinVectorNumber: c.optimizers.vacuumMinVectorNumber,
				DefaultSegmentNumber: c.optimizers.defaultSegmentNumber, MaxSegmentSize: c.optimizers.maxSegmentSize,
				MemmapThreshold: c.optimizers.memmapThreshold, IndexingThreshold: c.optimizers.indexingThreshold,
				FlushIntervalSec: c.optimizers.flushIntervalSec, MaxOptimizationThreads: c.optimizers.maxOptimizationThreads,
				PreventUnoptimized: c.optimizers.preventUnoptimized,
			},
			WalConfig:          restWAL{c.wal.capacityMB, c.wal.segmentsAhead, c.wal.retainClosed},
			QuantizationConfig: quantizationJSON(c.quantization),
		},
	}
	if m := c.params.shardingMethod; m != nil {
		name := strings.ToLower(m.String())
		info.Config.Params.ShardingMethod = &name
	}
	if len(c.schema.sparse) > 0 {
		info.Config.Params.SparseVectors = map[string]any{}
		for name, p := range c.schema.sparse {
			info.Config.Params.SparseVectors[name] = sparseParamsJSON(p)
		}
	}
	if c.metadata != nil {
		info.Config.Metadata = map[string]any{}
		for k, v := range c.metadata {
			info.Config.Metadata[k] = valueJSON(v)
		}
	}
	return info
}

func vectorsJSON(s vectorsSchema) any {
	if s.single {
		return vectorParamsJSON(s.dense[""].params)
	}
	m := make(map[string]restVectorParams, len(s.dense))
	for name, d := range s.dense {
		m[name] = vectorParamsJSON(d.params)
	}
	return m
}

// distanceJSON is segment::types::Distance as serialised: "Cosine", "Euclid", "Dot", "Manhattan".
func distanceJSON(d qdrant.Distance) string { return d.String() }

func vectorParamsJSON(p *qdrant.VectorParams) restVectorParams {
	out := restVectorParams{Size: p.GetSize(), Distance: distanceJSON(p.GetDistance()), OnDisk: p.OnDisk}
	if h := p.GetHnswConfig(); h != nil {
		out.HnswConfig = &restHNSWDiff{h.M, h.EfConstruct, h.FullScanThreshold, h.MaxIndexingThreads, h.OnDisk, h.PayloadM, h.InlineStorage}
	}
	if q := p.GetQuantizationConfig(); q != nil {
		out.QuantizationConfig = quantizationJSON(q)
	}
	if p.Datatype != nil && *p.Datatype != qdrant.Datatype_Default {
		dt := strings.ToLower(p.Datatype.String())
		out.Datatype = &dt
	}
	if mv := p.GetMultivectorConfig(); mv != nil {
		out.MultivectorConfig = map[string]string{"comparator": "max_sim"}
	}
	return out
}

func sparseParamsJSON(p *qdrant.SparseVectorParams) map[string]any {
	out := map[string]any{}
	if idx := p.GetIndex(); idx != nil {
		m := map[string]any{}
		if idx.FullScanThreshold != nil {
			m["full_scan_threshold"] = *idx.FullScanThreshold
		}
		if idx.OnDisk != nil {
			m["on_disk"] = *idx.OnDisk
		}
		if idx.Datatype != nil {
			m["datatype"] = strings.ToLower(idx.Datatype.String())
		}
		out["index"] = m
	}
	if p.Modifier != nil && *p.Modifier != qdrant.Modifier_None {
		out["modifier"] = strings.ToLower(p.Modifier.String())
	}
	return out
}

// quantizationJSON renders the common quantization configs; others are null.
func quantizationJSON(q *qdrant.QuantizationConfig) any {
	switch v := q.GetQuantization().(type) {
	case *qdrant.QuantizationConfig_Scalar:
		m := map[string]any{"type": "int8"}
		if v.Scalar.Quantile != nil {
			m["quantile"] = *v.Scalar.Quantile
		}
		if v.Scalar.AlwaysRam != nil {
			m["always_ram"] = *v.Scalar.AlwaysRam
		}
		return map[string]any{"scalar": m}
	case *qdrant.QuantizationConfig_Binary:
		m := map[string]any{}
		if v.Binary.AlwaysRam != nil {
			m["always_ram"] = *v.Binary.AlwaysRam
		}
		return map[string]any{"binary": m}
	case *qdrant.QuantizationConfig_Product:
		m := map[string]any{"compression": strings.ToLower(v.Product.GetCompression().String())}
		if v.Product.AlwaysRam != nil {
			m["always_ram"] = *v.Product.AlwaysRam
		}
		return map[string]any{"product": m}
	}
	return nil
}

// valueJSON converts a payload value to plain JSON; integers stay integers.
func valueJSON(v *qdrant.Value) any {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_BoolValue:
		return k.BoolValue
	case *qdrant.Value_IntegerValue:
		return k.IntegerValue
	case *qdrant.Value_DoubleValue:
		return k.DoubleValue
	case *qdrant.Value_StringValue:
		return k.StringValue
	case *qdrant.Value_ListValue:
		out := make([]any, len(k.ListValue.GetValues()))
		for i, e := range k.ListValue.GetValues() {
			out[i] = valueJSON(e)
		}
		return out
	case *qdrant.Value_StructValue:
		out := make(map[string]any, len(k.StructValue.GetFields()))
		for name, e := range k.StructValue.GetFields() {
			out[name] = valueJSON(e)
		}
		return out
	default:
		return nil
	}
}

// restGetOptimizations is get_optimizations (src/actix/api/collections_api.rs),
// answering OptimizationsResponse (lib/shard/src/operations/optimization.rs)
// from the indexing model: a running build is one "indexing" optimization
// whose progress tree is "Segment Optimizing" > "vector_index" with done and
// total vectors; a grey collection has it queued instead.
func (s *Server) restGetOptimizations(w http.ResponseWriter, r *http.Request, start time.Time) {
	opts, err := parseOptimizationsQuery(r)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.resolve(r.PathValue("collection_name"))
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	writeRESTResult(w, start, s.optimizationsJSON(c, opts))
}

type optimizationsOptions struct {
	queued, idle   bool
	completed      bool
	completedLimit int
}

// parseOptimizationsQuery is `impl TryFrom<&OptimizationsParam>`
// (src/actix/api/collections_api.rs); completed_limit defaults to 16.
func parseOptimizationsQuery(r *http.Request) (optimizationsOptions, *apiError) {
	o := optimizationsOptions{completedLimit: 16}
	q := r.URL.Query()
	if v := q.Get("completed_limit"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return o, badInput("Query deserialize error: invalid digit found in string")
		}
		o.completedLimit = int(min(n, 1<<31))
	}
	for _, f := range strings.Split(q.Get("with"), ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "queued":
			o.queued = true
		case "completed":
			o.completed = true
		case "idle_segments":
			o.idle = true
		default:
			return o, badInput("Unknown field in 'with' parameter: %s", f)
		}
	}
	return o, nil
}
