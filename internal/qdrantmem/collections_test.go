package qdrantmem

import (
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestCollectionInfoDefaults checks Get fills config exactly as Qdrant
// v1.18.3 does for a collection created with defaults.
func TestCollectionInfoDefaults(t *testing.T) {
	e := newEnv(t, WithCPUs(8))
	e.createDense(t, "c", 4, qdrant.Distance_Cosine)
	e.upsert(t, "c", pt(1, []float32{1, 0, 0, 0}, nil), pt(2, []float32{0, 1, 0, 0}, nil))
	got, err := e.c.GetCollectionInfo(ctxT(t), "c")
	mustOK(t, err)
	want := &qdrant.CollectionInfo{
		Status:          qdrant.CollectionStatus_Green,
		OptimizerStatus: &qdrant.OptimizerStatus{Ok: true},
		SegmentsCount:   4,
		Config: &qdrant.CollectionConfig{
			Params: &qdrant.CollectionParams{
				ShardNumber:            1,
				OnDiskPayload:          true,
				VectorsConfig:          qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
				ReplicationFactor:      proto.Uint32(1),
				WriteConsistencyFactor: proto.Uint32(1),
			},
			HnswConfig: &qdrant.HnswConfigDiff{
				M: proto.Uint64(16), EfConstruct: proto.Uint64(100), FullScanThreshold: proto.Uint64(10000),
				MaxIndexingThreads: proto.Uint64(0), OnDisk: proto.Bool(false),
			},
			OptimizerConfig: &qdrant.OptimizersConfigDiff{
				DeletedThreshold: proto.Float64(0.2), VacuumMinVectorNumber: proto.Uint64(1000),
				DefaultSegmentNumber: proto.Uint64(0), IndexingThreshold: proto.Uint64(10000),
				FlushIntervalSec:       proto.Uint64(5),
				MaxOptimizationThreads: qdrant.NewMaxOptimizationThreadsSetting(qdrant.MaxOptimizationThreads_Auto),
			},
			WalConfig: &qdrant.WalConfigDiff{WalCapacityMb: proto.Uint64(32), WalSegmentsAhead: proto.Uint64(0), WalRetainClosed: proto.Uint64(1)},
			Metadata:  map[string]*qdrant.Value{},
		},
		PayloadSchema:       map[string]*qdrant.PayloadSchemaInfo{},
		PointsCount:         proto.Uint64(2),
		IndexedVectorsCount: proto.Uint64(0),
		UpdateQueue:         &qdrant.UpdateQueueInfo{},
	}
	if d := protoDiff(want, got); d != "" {
		t.Fatalf("collection info (-want +got):\n%s", d)
	}
}

func TestCreateCollectionConfigs(t *testing.T) {
	mv := &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim}
	tests := []struct {
		name       string
		req        *qdrant.CreateCollection
		wantParams *qdrant.CollectionParams
		wantHNSW   *qdrant.HnswConfigDiff
		wantOpt    *qdrant.OptimizersConfigDiff
		wantSegs   uint64
	}{
		{
			name: "named dense and sparse, custom hnsw and optimizers",
			req: &qdrant.CreateCollection{
				VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
					"img": {Size: 8, Distance: qdrant.Distance_Euclid},
					"txt": {Size: 3, Distance: qdrant.Distance_Manhattan, MultivectorConfig: mv},
				}),
				SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"bm25": {Modifier: qdrant.Modifier_Idf.Enum()}}),
				HnswConfig:          &qdrant.HnswConfigDiff{M: proto.Uint64(0), PayloadM: proto.Uint64(8)},
				OptimizersConfig: &qdrant.OptimizersConfigDiff{
					IndexingThreshold: proto.Uint64(0), DefaultSegmentNumber: proto.Uint64(3),
					MaxOptimizationThreads: qdrant.NewMaxOptimizationThreads(2),
				},
				ShardNumber:   proto.Uint32(2),
				OnDiskPayload: proto.Bool(false),
			},
			wantParams: &qdrant.CollectionParams{
				ShardNumber: 2,
				VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
					"img": {Size: 8, Distance: qdrant.Distance_Euclid},
					"txt": {Size: 3, Distance: qdrant.Distance_Manhattan, MultivectorConfig: mv},
				}),
				ReplicationFactor:      proto.Uint32(1),
				WriteConsistencyFactor: proto.Uint32(1),
				SparseVectorsConfig:    qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"bm25": {Modifier: qdrant.Modifier_Idf.Enum()}}),
			},
			wantHNSW: &qdrant.HnswConfigDiff{
				M: proto.Uint64(0), EfConstruct: proto.Uint64(100), FullScanThreshold: proto.Uint64(10000),
				MaxIndexingThreads: proto.Uint64(0), OnDisk: proto.Bool(false), PayloadM: proto.Uint64(8),
			},
			wantOpt: &qdrant.OptimizersConfigDiff{
				DeletedThreshold: proto.Float64(0.2), VacuumMinVectorNumber: proto.Uint64(1000),
				DefaultSegmentNumber: proto.Uint64(3), IndexingThreshold: proto.Uint64(0),
				FlushIntervalSec: proto.Uint64(5), DeprecatedMaxOptimizationThreads: proto.Uint64(2),
				MaxOptimizationThreads: qdrant.NewMaxOptimizationThreads(2),
			},
			wantSegs: 3,
		},
		{
			name: "sparse only",
			req: &qdrant.CreateCollection{
				SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}}),
			},
			wantParams: &qdrant.CollectionParams{
				ShardNumber: 1, OnDiskPayload: true,
				VectorsConfig:          qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{}),
				ReplicationFactor:      proto.Uint32(1),
				WriteConsistencyFactor: proto.Uint32(1),
				SparseVectorsConfig:    qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}}),
			},
			wantSegs: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, WithCPUs(2))
			tc.req.CollectionName = "c"
			mustOK(t, e.c.CreateCollection(ctxT(t), tc.req))
			info, err := e.c.GetCollectionInfo(ctxT(t), "c")
			mustOK(t, err)
			if d := protoDiff(tc.wantParams, info.GetConfig().GetParams()); d != "" {
				t.Errorf("params (-want +got):\n%s", d)
			}
			if tc.wantHNSW != nil {
				if d := protoDiff(tc.wantHNSW, info.GetConfig().GetHnswConfig()); d != "" {
					t.Errorf("hnsw (-want +got):\n%s", d)
				}
			}
			if tc.wantOpt != nil {
				if d := protoDiff(tc.wantOpt, info.GetConfig().GetOptimizerConfig()); d != "" {
					t.Errorf("optimizers (-want +got):\n%s", d)
				}
			}
			if got := info.GetSegmentsCount(); got != tc.wantSegs {
				t.Errorf("segments_count = %d, want %d", got, tc.wantSegs)
			}
		})
	}
}

func TestCreateCollectionErrors(t *testing.T) {
	dense := func(size uint64) *qdrant.VectorsConfig {
		return qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: size, Distance: qdrant.Distance_Dot})
	}
	tests := []struct {
		name string
		req  *qdrant.CreateCollection
		code codes.Code
		msg  string
	}{
		{"exists", &qdrant.CreateCollection{CollectionName: "taken", VectorsConfig: dense(4)},
			codes.AlreadyExists, "Wrong input: Collection `taken` already exists!"},
		{"alias with that name", &qdrant.CreateCollection{CollectionName: "al", VectorsConfig: dense(4)},
			codes.InvalidArgument, "Wrong input: Can't create collection with name al. Alias with the same name already exists"},
		{"empty name", &qdrant.CreateCollection{CollectionName: "", VectorsConfig: dense(4)},
			codes.InvalidArgument, `Validation error in body: [collection_name: value "" invalid, must be from 1 to 255 characters]`},
		{"bad char", &qdrant.CreateCollection{CollectionName: "a:b", VectorsConfig: dense(4)},
			codes.InvalidArgument, `Validation error in body: [collection_name: collection name cannot contain ":" char]`},
		{"size 0", &qdrant.CreateCollection{CollectionName: "z", VectorsConfig: dense(0)},
			codes.InvalidArgument, "Validation error in body: [vectors_config.config.size: value 0 invalid, must be from 1 to 65536]"},
		{"named size too big", &qdrant.CreateCollection{CollectionName: "z", VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{"v": {Size: 70000, Distance: qdrant.Distance_Dot}})},
			codes.InvalidArgument, "Validation error in body: [vectors_config.config.map.[].size: value 70000 invalid, must be from 1 to 65536]"},
		{"unknown distance", &qdrant.CreateCollection{CollectionName: "z", VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4})},
			codes.InvalidArgument, "Malformed distance parameter: UnknownDistance"},
		{"ef_construct too small", &qdrant.CreateCollection{CollectionName: "z", VectorsConfig: dense(4), HnswConfig: &qdrant.HnswConfigDiff{EfConstruct: proto.Uint64(2)}},
			codes.InvalidArgument, "Validation error in body: [hnsw_config.ef_construct: value 2 invalid, must be 4 or larger]"},
		{"dense and sparse share a name", &qdrant.CreateCollection{CollectionName: "z",
			VectorsConfig:       qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{"v": {Size: 4, Distance: qdrant.Distance_Dot}}),
			SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"v": {}})},
			codes.InvalidArgument, "Wrong input: Dense and sparse vector names must be unique - duplicate found with 'v'"},
	}
	e := newEnv(t)
	e.createDense(t, "taken", 4, qdrant.Distance_Dot)
	mustOK(t, e.c.CreateAlias(ctxT(t), "al", "taken"))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.c.CreateCollection(ctxT(t), tc.req), tc.code, tc.msg)
		})
	}
}

func TestCollectionLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	for _, n := range []string{"b", "a", "c"} {
		e.createDense(t, n, 2, qdrant.Distance_Dot)
	}
	names, err := e.c.ListCollections(ctx)
	mustOK(t, err)
	if got := strings.Join(names, ","); got != "a,b,c" {
		t.Fatalf("ListCollections = %s, want a,b,c (sorted, as Qdrant's BTreeMap)", got)
	}
	for _, tc := range []struct {
		name string
		want bool
	}{{"a", true}, {"nope", false}} {
		ok, err := e.c.CollectionExists(ctx, tc.name)
		mustOK(t, err)
		if ok != tc.want {
			t.Errorf("CollectionExists(%s) = %v, want %v", tc.name, ok, tc.want)
		}
	}
	// Delete answers result=true for an existing collection and false (no
	// error) for a missing one; the go-client turns neither into an error.
	resp, err := e.c.GetCollectionsClient().Delete(ctx, &qdrant.DeleteCollection{CollectionName: "a"})
	mustOK(t, err)
	if !resp.GetResult() {
		t.Fatal("Delete(a).result = false, want true")
	}
	resp, err = e.c.GetCollectionsClient().Delete(ctx, &qdrant.DeleteCollection{CollectionName: "a"})
	mustOK(t, err)
	if resp.GetResult() {
		t.Fatal("second Delete(a).result = true, want false")
	}
	_, err = e.c.GetCollectionInfo(ctx, "a")
	wantStatus(t, err, codes.NotFound, "Not found: Collection `a` doesn't exist!")
}

func TestUpdateCollection(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.createNamed(t, "c", map[string]uint64{"v": 2}, "s")
	mustOK(t, e.c.UpdateCollection(ctx, &qdrant.UpdateCollection{
		CollectionName:   "c",
		HnswConfig:       &qdrant.HnswConfigDiff{M: proto.Uint64(32), OnDisk: proto.Bool(true)},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: proto.Uint64(20000)},
		Params:           &qdrant.CollectionParamsDiff{ReplicationFactor: proto.Uint32(2)},
		VectorsConfig: qdrant.NewVectorsConfigDiffMap(map[string]*qdrant.VectorParamsDiff{
			"v": {OnDisk: proto.Bool(true), HnswConfig: &qdrant.HnswConfigDiff{M: proto.Uint64(0)}},
		}),
		Metadata: qdrant.NewValueMap(map[string]any{"owner": "kq"}),
	}))
	info, err := e.c.GetCollectionInfo(ctx, "c")
	mustOK(t, err)
	cfg := info.GetConfig()
	if cfg.GetHnswConfig().GetM() != 32 || !cfg.GetHnswConfig().GetOnDisk() || cfg.GetHnswConfig().GetEfConstruct() != 100 {
		t.Errorf("hnsw = %v, want m=32 on_disk=true ef_construct=100", cfg.GetHnswConfig())
	}
	if cfg.GetOptimizerConfig().GetIndexingThreshold() != 20000 || cfg.GetOptimizerConfig().GetDeletedThreshold() != 0.2 {
		t.Errorf("optimizers = %v, want indexing_threshold=20000 and the rest unchanged", cfg.GetOptimizerConfig())
	}
	if cfg.GetParams().GetReplicationFactor() != 2 {
		t.Errorf("replication_factor = %d, want 2", cfg.GetParams().GetReplicationFactor())
	}
	v := cfg.GetParams().GetVectorsConfig().GetParamsMap().GetMap()["v"]
	if !v.GetOnDisk() || v.GetHnswConfig().GetM() != 0 || v.GetSize() != 2 {
		t.Errorf("vector v = %v, want on_disk, hnsw m=0, size 2", v)
	}
	if cfg.GetMetadata()["owner"].GetStringValue() != "kq" {
		t.Errorf("metadata = %v", cfg.GetMetadata())
	}

	for _, tc := range []struct {
		name string
		req  *qdrant.UpdateCollection
		code codes.Code
		msg  string
	}{
		{"missing collection", &qdrant.UpdateCollection{CollectionName: "nope"}, codes.NotFound, "Not found: Collection `nope` doesn't exist!"},
		{"unknown vector", &qdrant.UpdateCollection{CollectionName: "c", VectorsConfig: qdrant.NewVectorsConfigDiffMap(map[string]*qdrant.VectorParamsDiff{"w": {}})},
			codes.InvalidArgument, "Wrong input: Not existing vector name error: w"},
		{"unknown sparse vector", &qdrant.UpdateCollection{CollectionName: "c", SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"x": {}})},
			codes.InvalidArgument, "Wrong input: Not existing vector name error: x"},
		{"bad deleted_threshold", &qdrant.UpdateCollection{CollectionName: "c", OptimizersConfig: &qdrant.OptimizersConfigDiff{DeletedThreshold: proto.Float64(1.5)}},
			codes.InvalidArgument, "Validation error in body: [optimizers_config.deleted_threshold: value 1.5 invalid, must be from 0.0 to 1.0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.c.UpdateCollection(ctx, tc.req), tc.code, tc.msg)
		})
	}
	// A failed update changes nothing.
	info2, err := e.c.GetCollectionInfo(ctx, "c")
	mustOK(t, err)
	if d := protoDiff(info.GetConfig(), info2.GetConfig()); d != "" {
		t.Errorf("config changed by failed updates:\n%s", d)
	}
}
