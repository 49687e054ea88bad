package qdrantmem

import (
	"math"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

func named(m map[string]*qdrant.Vector) *qdrant.Vectors { return qdrant.NewVectorsMap(m) }

// validationCase is one bad upsert. msgUpsert is what the Upsert RPC
// answers, msgBatch what UpdateBatch answers for the same points (they
// differ where Upsert's gRPC request validation catches what UpdateBatch
// only catches in do_upsert_points).
type validationCase struct {
	name       string
	collection string
	points     []*qdrant.PointStruct
	code       codes.Code
	msgUpsert  string
	msgBatch   string
}

func validationCases() []validationCase {
	good := pt(100, []float32{1, 2, 3, 4}, nil)
	sparse := func(idx []uint32, vals []float32) *qdrant.Vector { return qdrant.NewVectorSparse(idx, vals) }
	return []validationCase{
		{name: "unnamed wrong dimension", collection: "u",
			points: []*qdrant.PointStruct{good, pt(1, []float32{1, 2, 3}, nil)},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Vector dimension error: expected dim: 4, got 3"},
		{name: "named wrong dimension", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"a": qdrant.NewVector(1, 2, 3)})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Vector dimension error: expected dim: 4, got 3 for vector 'a'"},
		{name: "multi row wrong dimension", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"m": qdrant.NewVectorMulti([][]float32{{1, 2, 3}, {4, 5, 6}})})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Vector dimension error: expected dim: 2, got 3 for vector 'm'"},
		{name: "unknown vector name", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"x": qdrant.NewVector(1, 2, 3, 4)})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Not existing vector name error: x"},
		{name: "unnamed vector for a named config", collection: "n",
			points: []*qdrant.PointStruct{pt(1, []float32{1, 2, 3, 4}, nil)},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Not existing vector name error: "},
		{name: "named vector for an unnamed config", collection: "u",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"a": qdrant.NewVector(1, 2, 3, 4)})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Not existing vector name error: a"},
		{name: "sparse vector for a dense name", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"a": sparse([]uint32{1}, []float32{1})})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Conversion between sparse and regular vectors failed"},
		{name: "dense vector for a sparse name", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"s": qdrant.NewVector(1, 2)})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Conversion between sparse and regular vectors failed"},
		{name: "multi vector for a sparse name", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"s": qdrant.NewVectorMulti([][]float32{{1, 2}})})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Conversion between multi and regular vectors failed"},
		{name: "multi vector for a plain dense name", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"a": qdrant.NewVectorMulti([][]float32{{1, 2, 3, 4}})})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: Conversion between multi and regular vectors failed"},
		{name: "sparse indices and values differ in length", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"s": sparse([]uint32{1, 2}, []float32{1})})}},
			code:   codes.InvalidArgument,
			// tests/basic_sparse_grpc_test.sh and tests/openapi/test_sparse_vector_validations.py, v1.18.3.
			msgUpsert: "Validation error in body: [points[0].vectors.vectors_options.vectors.[].values: Validation error: must be the same length as indices [{}]]",
			msgBatch:  "Wrong input: points[0].vector.?.values: Validation error: must be the same length as indices [{}]"},
		{name: "sparse duplicate indices", collection: "n",
			points:    []*qdrant.PointStruct{good, {Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"s": sparse([]uint32{3, 3}, []float32{1, 2})})}},
			code:      codes.InvalidArgument,
			msgUpsert: "Validation error in body: [points[1].vectors.vectors_options.vectors.[].indices: Validation error: must be unique [{}]]",
			msgBatch:  "Wrong input: points[1].vector.?.indices: Validation error: must be unique [{}]"},
		{name: "unnamed sparse vector", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsSparse([]uint32{1}, []float32{1})}},
			code:   codes.InvalidArgument, msgUpsert: "Sparse vector must be named"},
		{name: "inconsistent multi vector", collection: "n",
			points:    []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"m": qdrant.NewVectorMulti([][]float32{{1, 2}, {1}})})}},
			code:      codes.InvalidArgument,
			msgUpsert: "Validation error in body: [points[0].vectors.vectors_options.vectors.[].data: all vectors must have the same dimension, found vector with dimension 1]",
			msgBatch:  `Wrong input: points[0].vector.?.data: Validation error: inconsistent_multi_vector [{"message": String("all vectors must have the same dimension, found vector with dimension 1")}]`},
		{name: "empty dense vector", collection: "u",
			points: []*qdrant.PointStruct{pt(1, []float32{}, nil)},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: points[0].vector.vector: dense vector must not be empty"},
		{name: "two empty dense vectors come out concatenated", collection: "u",
			points: []*qdrant.PointStruct{pt(1, nil, nil), good, pt(3, nil, nil)},
			code:   codes.InvalidArgument,
			msgUpsert: "Wrong input: points[0].vector.vector: dense vector must not be empty" +
				"points[2].vector.vector: dense vector must not be empty"},
		{name: "empty named dense vector", collection: "n",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"a": qdrant.NewVectorDense(nil)})}},
			code:   codes.InvalidArgument, msgUpsert: "Wrong input: points[0].vector.?.vector: dense vector must not be empty"},
		{name: "no vectors", collection: "u",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1)}},
			code:   codes.InvalidArgument, msgUpsert: "Expected some vectors"},
		{name: "no vectors option", collection: "u",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: &qdrant.Vectors{}}},
			code:   codes.InvalidArgument, msgUpsert: "No Vector Provided"},
		{name: "no id", collection: "u",
			points: []*qdrant.PointStruct{{Vectors: qdrant.NewVectors(1, 2, 3, 4)}},
			code:   codes.InvalidArgument, msgUpsert: "Empty ID is not allowed"},
		{name: "bad uuid", collection: "u",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDUUID("nope"), Vectors: qdrant.NewVectors(1, 2, 3, 4)}},
			code:   codes.InvalidArgument, msgUpsert: "Unable to parse UUID: nope"},
		{name: "bad legacy vectors_count", collection: "n",
			points:    []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"m": {Data: []float32{1, 2, 3}, VectorsCount: qdrant.PtrOf(uint32(2))}})}},
			code:      codes.InvalidArgument,
			msgUpsert: "Unable to convert to multi-dense vector: Validation failed: Data length is not divisible by vectors count. Data length: 3, vectors count: 2"},
		{name: "NaN in payload", collection: "u",
			points: []*qdrant.PointStruct{pt(1, []float32{1, 2, 3, 4}, map[string]any{"x": map[string]any{"y": []any{1, math.NaN()}}})},
			code:   codes.InvalidArgument, msgUpsert: "cannot convert to json number"},
		{name: "payload is checked before vectors", collection: "u",
			points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Payload: qdrant.NewValueMap(map[string]any{"x": math.Inf(1)})}},
			code:   codes.InvalidArgument, msgUpsert: "cannot convert to json number"},
		{name: "unknown collection", collection: "zz",
			points: []*qdrant.PointStruct{good},
			code:   codes.NotFound, msgUpsert: "Not found: Collection `zz` doesn't exist!"},
	}
}

func newValidationEnv(t *testing.T) *env {
	e := newEnv(t)
	e.createDense(t, "u", 4, qdrant.Distance_Dot)
	mv := &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim}
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName: "n",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"a": {Size: 4, Distance: qdrant.Distance_Dot},
			"m": {Size: 2, Distance: qdrant.Distance_Dot, MultivectorConfig: mv},
		}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}}),
	}))
	return e
}

func TestUpsertValidation(t *testing.T) {
	e := newValidationEnv(t)
	for _, tc := range validationCases() {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: tc.collection, Wait: qdrant.PtrOf(true), Points: tc.points})
			wantStatus(t, err, tc.code, tc.msgUpsert)
			for _, c := range []string{"u", "n"} {
				if n := e.count(t, c, nil); n != 0 {
					t.Fatalf("collection %s has %d points after a rejected upsert, want 0", c, n)
				}
			}
		})
	}
}

func TestUpdateBatchValidation(t *testing.T) {
	e := newValidationEnv(t)
	for _, tc := range validationCases() {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msgBatch
			if msg == "" {
				msg = tc.msgUpsert
			}
			_, err := e.c.UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{
				CollectionName: tc.collection, Wait: qdrant.PtrOf(true),
				Operations: []*qdrant.PointsUpdateOperation{qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: tc.points})},
			})
			wantStatus(t, err, tc.code, msg)
			for _, c := range []string{"u", "n"} {
				if n := e.count(t, c, nil); n != 0 {
					t.Fatalf("collection %s has %d points after a rejected batch, want 0", c, n)
				}
			}
		})
	}
}

// TestSegmentErrorWithoutWait: Qdrant reports segment-level errors only with
// wait=true; without wait it acknowledges and logs. Dimension errors are
// checked before the WAL and reported either way.
func TestSegmentErrorWithoutWait(t *testing.T) {
	e := newValidationEnv(t)
	ctx := ctxT(t)
	res, err := e.c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "n", Wait: qdrant.PtrOf(false),
		Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: named(map[string]*qdrant.Vector{"x": qdrant.NewVector(1)})}}})
	mustOK(t, err)
	if res.GetStatus() != qdrant.UpdateStatus_Acknowledged {
		t.Fatalf("status = %v, want Acknowledged", res.GetStatus())
	}
	if n := e.count(t, "n", nil); n != 0 {
		t.Fatalf("count = %d, want 0", n)
	}
	_, err = e.c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "u", Wait: qdrant.PtrOf(false), Points: []*qdrant.PointStruct{pt(1, []float32{1}, nil)}})
	wantStatus(t, err, codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: 4, got 1")
}
