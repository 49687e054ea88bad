package sink

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// checkWire encodes req with appendUpdateBatch after a non-empty prefix and
// checks the contract: the prefix is kept, the length is proto.Size's and
// the bytes decode into a message proto.Equal to req. It returns the
// encoding without the prefix.
func checkWire(t testing.TB, req *qdrant.UpdateBatchPoints) []byte {
	t.Helper()
	prefix := []byte("prefix")
	out, err := appendUpdateBatch(slices.Clone(prefix), req)
	if err != nil {
		t.Fatalf("appendUpdateBatch: %v", err)
	}
	if !bytes.HasPrefix(out, prefix) {
		t.Fatalf("prefix overwritten: %q", out[:len(prefix)])
	}
	enc := out[len(prefix):]
	if got, want := len(enc), proto.Size(req); got != want {
		t.Fatalf("encoded %d bytes, proto.Size = %d", got, want)
	}
	var back qdrant.UpdateBatchPoints
	if err := proto.Unmarshal(enc, &back); err != nil {
		t.Fatalf("proto.Unmarshal of the encoding: %v", err)
	}
	want := received(req) // unknown fields (records' payloads) read as a server reads them
	if !proto.Equal(want, &back) {
		t.Fatalf("decoded message differs\n got: %v\nwant: %v", &back, req)
	}
	return enc
}

// unknownField is a varint field 999 no message in the request defines.
var unknownField = protowire.AppendVarint(protowire.AppendTag(nil, 999, protowire.VarintType), 42)

func withUnknown[M proto.Message](m M) M {
	m.ProtoReflect().SetUnknown(slices.Clone(unknownField))
	return m
}

func upsertOp(points ...*qdrant.PointStruct) *qdrant.PointsUpdateOperation {
	return qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: points})
}

func batchOf(ops ...*qdrant.PointsUpdateOperation) *qdrant.UpdateBatchPoints {
	return &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: ptr(true), Operations: ops}
}

func pointWith(payload map[string]*qdrant.Value) *qdrant.PointStruct {
	return &qdrant.PointStruct{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsDense([]float32{1, 2}), Payload: payload}
}

// writerRequest is what the writer sends for ops: one upsert and one delete
// per op kind without fencing, one operation per op with it.
func writerRequest(t *testing.T, fencing bool) *qdrant.UpdateBatchPoints {
	t.Helper()
	w := NewWriter(&fakePoints{}, newFakeCollections(), WriterConfig{Fencing: fencing})
	ops := []Op{
		{Record: upsertRec(1, 4), Offset: 7},
		{Record: &schemas.Record{Op: schemas.OpUpsert, ID: qdrant.NewID("0b8e5f3a-6d3c-4d2a-9a71-2f1c7c0e9d11"),
			Vectors: qdrant.NewVectorsDense(vec(3)), Payload: payloadOf(map[string]any{"title": "doc"})}, Offset: 8},
		{Record: deleteRec(2), Offset: 9},
	}
	req, _ := w.buildRequest("movies", ops, []int{0, 1, 2}, w.limitsFor(&collectionSchema{}, strictLimits{}))
	return req
}

// Named cases: the writer's own requests, every message and oneof case it
// builds, edge values, and messages it does not build today. Where no map
// has two entries the bytes must be exactly protobuf-go's.
func TestAppendUpdateBatch(t *testing.T) {
	negZero := math.Copysign(0, -1)
	tests := []struct {
		name string
		req  *qdrant.UpdateBatchPoints
		// multiKeyMap: a map with several entries, so the entry order
		// (and thus the bytes) may differ from protobuf-go's.
		multiKeyMap bool
	}{
		{name: "nil request", req: nil},
		{name: "empty request", req: &qdrant.UpdateBatchPoints{}},
		{name: "writer plain", req: writerRequest(t, false)},
		{name: "writer fencing", req: writerRequest(t, true), multiKeyMap: true},
		{name: "envelope fields", req: &qdrant.UpdateBatchPoints{
			CollectionName: "колекція", Wait: ptr(false), Timeout: ptr(uint64(0)),
			Ordering: &qdrant.WriteOrdering{Type: qdrant.WriteOrderingType_Strong},
		}},
		{name: "max timeout and empty ordering", req: &qdrant.UpdateBatchPoints{Timeout: ptr(uint64(math.MaxUint64)), Ordering: &qdrant.WriteOrdering{}}},
		{name: "negative enum", req: &qdrant.UpdateBatchPoints{Ordering: &qdrant.WriteOrdering{Type: -1}}},
		{name: "nil operation and empty oneof", req: batchOf(nil, &qdrant.PointsUpdateOperation{})},
		{name: "upsert with nil list and nil point", req: batchOf(qdrant.NewPointsUpdateUpsert(nil), upsertOp(nil))},
		{name: "point ids", req: batchOf(upsertOp(
			&qdrant.PointStruct{Id: qdrant.NewIDNum(0)},
			&qdrant.PointStruct{Id: qdrant.NewIDNum(math.MaxUint64)},
			&qdrant.PointStruct{Id: qdrant.NewID("")},
			&qdrant.PointStruct{Id: qdrant.NewID("5c56c793-69f3-4fbf-87e6-c4bf54c28c26")},
			&qdrant.PointStruct{Id: &qdrant.PointId{}},
		))},
		{name: "dense vector edge values", req: batchOf(upsertOp(&qdrant.PointStruct{Vectors: qdrant.NewVectorsDense([]float32{
			0, float32(negZero), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(1)), float32(math.Inf(-1)),
		})}))},
		{name: "empty and nil vectors", req: batchOf(upsertOp(
			&qdrant.PointStruct{Vectors: qdrant.NewVectorsDense(nil)},
			&qdrant.PointStruct{Vectors: qdrant.NewVectorsDense([]float32{})},
			&qdrant.PointStruct{Vectors: &qdrant.Vectors{}},
			&qdrant.PointStruct{Vectors: &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{}}},
			&qdrant.PointStruct{Vectors: &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Vector: &qdrant.Vector_Dense{}}}}},
		))},
		{name: "sparse vector", req: batchOf(upsertOp(&qdrant.PointStruct{
			Vectors: qdrant.NewVectorsSparse([]uint32{0, 127, 128, 16384, math.MaxUint32}, []float32{1, -2, 3, 0, 5}),
		}))},
		{name: "multi dense vector", req: batchOf(upsertOp(&qdrant.PointStruct{
			Vectors: &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Vector: &qdrant.Vector_MultiDense{
				MultiDense: &qdrant.MultiDenseVector{Vectors: []*qdrant.DenseVector{{Data: []float32{1, 2}}, nil, {}, {Data: []float32{3}}}},
			}}}},
		}))},
		{name: "deprecated vector fields", req: batchOf(upsertOp(&qdrant.PointStruct{
			Vectors: &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{
				Data: []float32{1, 2, 3}, Indices: &qdrant.SparseIndices{Data: []uint32{300, 1}}, VectorsCount: ptr(uint32(0)),
			}}},
		}, &qdrant.PointStruct{
			Vectors: &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Indices: &qdrant.SparseIndices{}, VectorsCount: ptr(uint32(math.MaxUint32))}}},
		}))},
		{name: "named vectors", req: batchOf(upsertOp(&qdrant.PointStruct{
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				"image": qdrant.NewVectorDense([]float32{1, 2}), "text": qdrant.NewVectorSparse([]uint32{1}, []float32{0.5}),
				"": nil, "multi": qdrant.NewVectorMulti([][]float32{{1}, {2}}),
			}),
		})), multiKeyMap: true},
		{name: "named vector nil", req: batchOf(upsertOp(&qdrant.PointStruct{Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"v": nil})}))},
		{name: "payload values", req: batchOf(upsertOp(
			pointWith(map[string]*qdrant.Value{"null": qdrant.NewValueNull()}),
			pointWith(map[string]*qdrant.Value{"zero double": qdrant.NewValueDouble(0)}),
			pointWith(map[string]*qdrant.Value{"neg zero": qdrant.NewValueDouble(negZero)}),
			pointWith(map[string]*qdrant.Value{"inf": qdrant.NewValueDouble(math.Inf(-1))}),
			pointWith(map[string]*qdrant.Value{"zero int": qdrant.NewValueInt(0)}),
			pointWith(map[string]*qdrant.Value{"neg int": qdrant.NewValueInt(-1)}),
			pointWith(map[string]*qdrant.Value{"min int": qdrant.NewValueInt(math.MinInt64)}),
			pointWith(map[string]*qdrant.Value{"max int": qdrant.NewValueInt(math.MaxInt64)}),
			pointWith(map[string]*qdrant.Value{"": qdrant.NewValueString("")}),
			pointWith(map[string]*qdrant.Value{"ключ 🦀": qdrant.NewValueString("значение\x00日本語")}),
			pointWith(map[string]*qdrant.Value{"false": qdrant.NewValueBool(false)}),
			pointWith(map[string]*qdrant.Value{"nil value": nil}),
			pointWith(map[string]*qdrant.Value{"empty value": {}}),
			pointWith(map[string]*qdrant.Value{"nil struct": {Kind: &qdrant.Value_StructValue{}}}),
			pointWith(map[string]*qdrant.Value{"nil list": {Kind: &qdrant.Value_ListValue{}}}),
			pointWith(map[string]*qdrant.Value{"long": qdrant.NewValueString(strings.Repeat("x", 300))}),
			pointWith(map[string]*qdrant.Value{"nested": qdrant.NewValueStruct(&qdrant.Struct{Fields: map[string]*qdrant.Value{
				"list": qdrant.NewValueList(&qdrant.ListValue{Values: []*qdrant.Value{
					qdrant.NewValueInt(1), nil, qdrant.NewValueString("b"), qdrant.NewValueList(&qdrant.ListValue{}),
				}}),
			}})}),
			pointWith(map[string]*qdrant.Value{}),
		))},
		{name: "payload of several keys", req: batchOf(upsertOp(pointWith(qdrant.NewValueMap(map[string]any{
			"title": "doc 1", "year": int64(1971), "tags": []any{"a", "b"}, "meta": map[string]any{"x": 1.5, "y": nil},
		})))), multiKeyMap: true},
		{name: "delete by ids", req: batchOf(qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{
			Points: qdrant.NewPointsSelectorIDs([]*qdrant.PointId{qdrant.NewIDNum(1), nil, qdrant.NewID("u")}),
		}))},
		{name: "delete with empty selectors", req: batchOf(
			qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{}),
			qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: &qdrant.PointsSelector{}}),
			qdrant.NewPointsUpdateDeletePoints(nil),
		)},
		{name: "deprecated delete and clear", req: batchOf(
			&qdrant.PointsUpdateOperation{Operation: &qdrant.PointsUpdateOperation_DeleteDeprecated{DeleteDeprecated: qdrant.NewPointsSelector(qdrant.NewIDNum(3))}},
			&qdrant.PointsUpdateOperation{Operation: &qdrant.PointsUpdateOperation_ClearPayloadDeprecated{ClearPayloadDeprecated: qdrant.NewPointsSelectorFilter(&qdrant.Filter{})}},
		)},
		{name: "shard keys and update mode", req: batchOf(
			qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{
				Points:           []*qdrant.PointStruct{pointWith(nil)},
				ShardKeySelector: &qdrant.ShardKeySelector{ShardKeys: []*qdrant.ShardKey{qdrant.NewShardKey("eu"), qdrant.NewShardKeyNum(0), nil, {}}, Fallback: qdrant.NewShardKeyNum(7)},
				UpdateMode:       qdrant.UpdateMode_InsertOnly.Enum(),
			}),
			qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{UpdateMode: qdrant.UpdateMode_Upsert.Enum(), ShardKeySelector: &qdrant.ShardKeySelector{}}),
			qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{
				Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1)), ShardKeySelector: &qdrant.ShardKeySelector{Fallback: qdrant.NewShardKey("")},
			}),
		)},
		{name: "every condition", req: batchOf(qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{
			Points: []*qdrant.PointStruct{pointWith(nil)},
			UpdateFilter: &qdrant.Filter{
				Should: []*qdrant.Condition{
					qdrant.NewRange("r", &qdrant.Range{Lt: ptr(1.5), Gt: ptr(negZero), Gte: ptr(0.0), Lte: ptr(math.Inf(1))}),
					qdrant.NewIsEmpty("e"), qdrant.NewIsNull(""), qdrant.NewHasID(qdrant.NewIDNum(1), qdrant.NewID("u")),
					nil, {},
				},
				Must: []*qdrant.Condition{
					qdrant.NewFilterAsCondition(&qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewHasVector("v")}}),
					qdrant.NewNestedFilter("n", &qdrant.Filter{}), {ConditionOneOf: &qdrant.Condition_Nested{Nested: &qdrant.NestedCondition{}}},
					{ConditionOneOf: &qdrant.Condition_Field{Field: &qdrant.FieldCondition{Key: "k", IsEmpty: ptr(false), IsNull: ptr(true), Range: &qdrant.Range{}}}},
					{ConditionOneOf: &qdrant.Condition_Field{}}, {ConditionOneOf: &qdrant.Condition_IsEmpty{}}, {ConditionOneOf: &qdrant.Condition_IsNull{}},
					{ConditionOneOf: &qdrant.Condition_HasId{}}, {ConditionOneOf: &qdrant.Condition_Filter{}}, {ConditionOneOf: &qdrant.Condition_HasVector{}},
				},
				MinShould: &qdrant.MinShould{Conditions: []*qdrant.Condition{qdrant.NewIsEmpty("m")}, MinCount: 300},
			},
		}))},
		{name: "empty filter and min_should", req: batchOf(qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{
			UpdateFilter: &qdrant.Filter{MinShould: &qdrant.MinShould{}},
		}))},
		{name: "unknown fields everywhere", req: withUnknown(batchOf(
			withUnknown(qdrant.NewPointsUpdateUpsert(withUnknown(&qdrant.PointsUpdateOperation_PointStructList{
				Points: []*qdrant.PointStruct{withUnknown(&qdrant.PointStruct{
					Id:      withUnknown(qdrant.NewIDNum(1)),
					Vectors: withUnknown(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: withUnknown(qdrant.NewVectorDense([]float32{1}))}}),
					Payload: map[string]*qdrant.Value{"k": withUnknown(qdrant.NewValueStruct(withUnknown(&qdrant.Struct{})))},
				})},
				UpdateFilter: withUnknown(&qdrant.Filter{Must: []*qdrant.Condition{withUnknown(qdrant.NewRange("r", withUnknown(&qdrant.Range{Lte: ptr(1.0)})))}}),
			}))),
			withUnknown(qdrant.NewPointsUpdateDeletePoints(withUnknown(&qdrant.PointsUpdateOperation_DeletePoints{
				Points: withUnknown(qdrant.NewPointsSelectorIDs([]*qdrant.PointId{withUnknown(qdrant.NewIDNum(2))})),
			}))),
		))},
		// Messages the writer does not send today.
		{name: "set payload", req: batchOf(qdrant.NewPointsUpdateSetPayload(&qdrant.PointsUpdateOperation_SetPayload{
			Payload: map[string]*qdrant.Value{"a": qdrant.NewValueInt(1)}, PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1)),
		}), upsertOp(pointWith(nil)))},
		{name: "match, range and datetime conditions", req: batchOf(qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{
			Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{
				qdrant.NewMatchKeyword("city", "Köln"), qdrant.NewRange("r", &qdrant.Range{Lte: ptr(2.0)}),
				qdrant.NewDatetimeRange("d", &qdrant.DatetimeRange{}),
			}}),
		}))},
		{name: "document vector", req: batchOf(upsertOp(&qdrant.PointStruct{Id: qdrant.NewIDNum(1),
			Vectors: qdrant.NewVectorsDocument(&qdrant.Document{Text: "hello", Model: "m"}),
			Payload: map[string]*qdrant.Value{"p": qdrant.NewValueBool(true)},
		}))},
		{name: "nil document", req: batchOf(upsertOp(&qdrant.PointStruct{
			Vectors: &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Vector: &qdrant.Vector_Document{}}}},
		}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := checkWire(t, tt.req)
			if tt.multiKeyMap {
				return
			}
			want, err := proto.Marshal(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, want) {
				t.Fatalf("bytes differ from proto.Marshal\n got %x\nwant %x", enc, want)
			}
		})
	}
}

// Strings that are not valid UTF-8 are refused, as proto.Marshal refuses
// them, and dst comes back unchanged.
func TestAppendUpdateBatchInvalidUTF8(t *testing.T) {
	const bad = "a\xffb"
	tests := []struct {
		name  string
		req   *qdrant.UpdateBatchPoints
		field string // named in the error
	}{
		{"collection name", &qdrant.UpdateBatchPoints{CollectionName: bad}, "collection_name"},
		{"payload key", batchOf(upsertOp(pointWith(map[string]*qdrant.Value{bad: nil}))), "PointStruct.payload"},
		{"string value", batchOf(upsertOp(pointWith(map[string]*qdrant.Value{"k": qdrant.NewValueString(bad)}))), "Value.string_value"},
		{"struct key", batchOf(upsertOp(pointWith(map[string]*qdrant.Value{"k": qdrant.NewValueStruct(&qdrant.Struct{Fields: map[string]*qdrant.Value{bad: nil}})}))), "Struct.fields"},
		{"uuid", batchOf(upsertOp(&qdrant.PointStruct{Id: qdrant.NewID(bad)})), "PointId.uuid"},
		{"vector name", batchOf(upsertOp(&qdrant.PointStruct{Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{bad: nil})})), "NamedVectors.vectors"},
		{"shard key", batchOf(qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{ShardKeySelector: &qdrant.ShardKeySelector{Fallback: qdrant.NewShardKey(bad)}})), "ShardKey.keyword"},
		{"condition key", batchOf(qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewIsEmpty(bad)}})})), "IsEmptyCondition.key"},
		{"set payload key", batchOf(qdrant.NewPointsUpdateSetPayload(&qdrant.PointsUpdateOperation_SetPayload{Key: ptr(bad)})), "SetPayload.key"},
		{"match keyword", batchOf(qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchKeywords("k", "ok", bad)}})})), "RepeatedStrings.strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := proto.Marshal(tt.req); err == nil {
				t.Fatal("proto.Marshal accepted the request")
			}
			dst := []byte("dst")
			out, err := appendUpdateBatch(dst, tt.req)
			if err == nil {
				t.Fatal("appendUpdateBatch accepted the request")
			}
			if !errors.Is(err, errInvalidUTF8) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want errInvalidUTF8 naming %s", err, tt.field)
			}
			if string(out) != "dst" {
				t.Fatalf("dst = %q after an error", out)
			}
		})
	}
}

// Property: random requests of the shapes the writer builds (and some it
// does not) round-trip and have proto.Size's length.
func TestAppendUpdateBatchRandom(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	for seed := range uint64(n) {
		g := newReqGen(seed)
		req := g.request()
		t.Run("", func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("seed %d", seed)
				}
			}()
			checkWire(t, req)
		})
	}
}

// reqGen builds random UpdateBatchPoints: every vector kind, nested
// payloads, unicode and empty keys, nil and empty messages, extreme
// numbers, unknown fields, fencing-style filters and a few messages the
// writer does not send today.
type reqGen struct {
	r     *rand.Rand
	depth int
}

func newReqGen(seed uint64) *reqGen { return &reqGen{r: rand.New(rand.NewPCG(seed, 0x5eed))} }

func (g *reqGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *reqGen) str() string {
	parts := []string{"", "a", "title", "year", "日本語", "ключ", "🦀", "\x00", "_kq_offset", "a.b[]", strings.Repeat("long", 40)}
	if g.chance(0.2) {
		b := make([]rune, g.r.IntN(8))
		for i := range b {
			b[i] = rune(g.r.IntN(0x10FFFF))
			if b[i] >= 0xD800 && b[i] <= 0xDFFF { // surrogates are not valid in UTF-8
				b[i] = 'x'
			}
		}
		return string(b)
	}
	return parts[g.r.IntN(len(parts))]
}

func (g *reqGen) u64() uint64 {
	switch g.r.IntN(5) {
	case 0:
		return 0
	case 1:
		return math.MaxUint64
	case 2:
		return uint64(g.r.IntN(300))
	}
	return g.r.Uint64() >> g.r.IntN(64)
}

func (g *reqGen) f64() float64 {
	switch g.r.IntN(8) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return math.Inf(1 - 2*g.r.IntN(2))
	case 3:
		return math.MaxFloat64
	case 4:
		return -math.SmallestNonzeroFloat64
	}
	return g.r.NormFloat64() * 1e6
}

func (g *reqGen) floats() []float32 {
	if g.chance(0.1) {
		return nil
	}
	v := make([]float32, g.r.IntN(20))
	for i := range v {
		v[i] = float32(g.f64())
	}
	return v
}

func (g *reqGen) uint32s() []uint32 {
	v := make([]uint32, g.r.IntN(10))
	for i := range v {
		v[i] = uint32(g.u64())
	}
	return v
}

// unknown gives m unknown fields now and then.
func unknownSometimes[M proto.Message](g *reqGen, m M) M {
	if g.chance(0.05) {
		b := protowire.AppendTag(nil, protowire.Number(1000+g.r.IntN(100)), protowire.BytesType)
		m.ProtoReflect().SetUnknown(protowire.AppendString(b, g.str()))
	}
	return m
}

func (g *reqGen) request() *qdrant.UpdateBatchPoints {
	req := &qdrant.UpdateBatchPoints{CollectionName: g.str()}
	if g.chance(0.7) {
		req.Wait = ptr(g.chance(0.5))
	}
	if g.chance(0.3) {
		req.Ordering = unknownSometimes(g, &qdrant.WriteOrdering{Type: qdrant.WriteOrderingType(g.r.IntN(4) - 1)})
	}
	if g.chance(0.5) {
		req.Timeout = ptr(g.u64())
	}
	for range g.r.IntN(5) {
		req.Operations = append(req.Operations, g.operation())
	}
	return unknownSometimes(g, req)
}

func (g *reqGen) operation() *qdrant.PointsUpdateOperation {
	var op *qdrant.PointsUpdateOperation
	switch g.r.IntN(10) {
	case 0:
		return nil
	case 1:
		op = &qdrant.PointsUpdateOperation{}
	case 2:
		op = qdrant.NewPointsUpdateDeletePoints(unknownSometimes(g, &qdrant.PointsUpdateOperation_DeletePoints{
			Points: g.selector(), ShardKeySelector: g.shardKeys(),
		}))
	case 3:
		op = &qdrant.PointsUpdateOperation{Operation: &qdrant.PointsUpdateOperation_DeleteDeprecated{DeleteDeprecated: g.selector()}}
	case 4:
		// Not the writer's.
		op = qdrant.NewPointsUpdateSetPayload(&qdrant.PointsUpdateOperation_SetPayload{Payload: g.payload(), PointsSelector: g.selector()})
	default:
		l := &qdrant.PointsUpdateOperation_PointStructList{ShardKeySelector: g.shardKeys()}
		for range g.r.IntN(6) {
			l.Points = append(l.Points, g.point())
		}
		if g.chance(0.4) {
			l.UpdateFilter = g.filter()
		}
		if g.chance(0.2) {
			l.UpdateMode = qdrant.UpdateMode(g.r.IntN(3)).Enum()
		}
		op = qdrant.NewPointsUpdateUpsert(unknownSometimes(g, l))
	}
	return unknownSometimes(g, op)
}

func (g *reqGen) selector() *qdrant.PointsSelector {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return &qdrant.PointsSelector{}
	case 2:
		return qdrant.NewPointsSelectorFilter(g.filter())
	}
	ids := make([]*qdrant.PointId, g.r.IntN(5))
	for i := range ids {
		ids[i] = g.id()
	}
	return unknownSometimes(g, qdrant.NewPointsSelectorIDs(ids))
}

func (g *reqGen) shardKeys() *qdrant.ShardKeySelector {
	if g.chance(0.8) {
		return nil
	}
	key := func() *qdrant.ShardKey {
		switch g.r.IntN(4) {
		case 0:
			return nil
		case 1:
			return &qdrant.ShardKey{}
		case 2:
			return qdrant.NewShardKeyNum(g.u64())
		}
		return unknownSometimes(g, qdrant.NewShardKey(g.str()))
	}
	s := &qdrant.ShardKeySelector{}
	for range g.r.IntN(3) {
		s.ShardKeys = append(s.ShardKeys, key())
	}
	if g.chance(0.5) {
		s.Fallback = key()
	}
	return s
}

func (g *reqGen) id() *qdrant.PointId {
	switch g.r.IntN(6) {
	case 0:
		return nil
	case 1:
		return &qdrant.PointId{}
	case 2:
		return qdrant.NewID("5c56c793-69f3-4fbf-87e6-c4bf54c28c26")
	case 3:
		return qdrant.NewID(g.str())
	}
	return unknownSometimes(g, qdrant.NewIDNum(g.u64()))
}

func (g *reqGen) point() *qdrant.PointStruct {
	if g.chance(0.05) {
		return nil
	}
	p := &qdrant.PointStruct{Payload: g.payload()}
	if g.chance(0.9) {
		p.Id = g.id()
	}
	if g.chance(0.9) {
		p.Vectors = g.vectors()
	}
	return unknownSometimes(g, p)
}

func (g *reqGen) vectors() *qdrant.Vectors {
	switch g.r.IntN(6) {
	case 0:
		return &qdrant.Vectors{}
	case 1:
		named := map[string]*qdrant.Vector{}
		for range g.r.IntN(4) {
			named[g.str()] = g.vector()
		}
		if g.chance(0.2) {
			return qdrant.NewVectorsMap(nil)
		}
		return unknownSometimes(g, qdrant.NewVectorsMap(named))
	}
	return unknownSometimes(g, &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: g.vector()}})
}

func (g *reqGen) vector() *qdrant.Vector {
	var v *qdrant.Vector
	switch g.r.IntN(9) {
	case 0:
		return nil
	case 1:
		v = &qdrant.Vector{}
	case 2:
		v = qdrant.NewVectorSparse(g.uint32s(), g.floats())
	case 3:
		rows := make([][]float32, g.r.IntN(4))
		for i := range rows {
			rows[i] = g.floats()
		}
		v = qdrant.NewVectorMulti(rows)
	case 4:
		// Deprecated fields.
		v = &qdrant.Vector{Data: g.floats()}
		if g.chance(0.5) {
			v.Indices = unknownSometimes(g, &qdrant.SparseIndices{Data: g.uint32s()})
		}
		if g.chance(0.5) {
			v.VectorsCount = ptr(uint32(g.u64()))
		}
	case 5:
		// Not the writer's.
		v = qdrant.NewVectorDocument(&qdrant.Document{Text: g.str(), Options: g.payload()})
	default:
		v = qdrant.NewVectorDense(g.floats())
	}
	return unknownSometimes(g, v)
}

func (g *reqGen) payload() map[string]*qdrant.Value {
	if g.chance(0.2) {
		return nil
	}
	p := map[string]*qdrant.Value{}
	for range g.r.IntN(5) {
		p[g.str()] = g.value()
	}
	return p
}

func (g *reqGen) value() *qdrant.Value {
	g.depth++
	defer func() { g.depth-- }()
	n := 10
	if g.depth > 3 {
		n = 8 // no more nesting
	}
	var v *qdrant.Value
	switch g.r.IntN(n) {
	case 0:
		return nil
	case 1:
		v = &qdrant.Value{}
	case 2:
		v = qdrant.NewValueNull()
	case 3:
		v = qdrant.NewValueDouble(g.f64())
	case 4:
		v = qdrant.NewValueInt(int64(g.u64()))
	case 5:
		v = qdrant.NewValueString(g.str())
	case 6:
		v = qdrant.NewValueBool(g.chance(0.5))
	case 7:
		v = &qdrant.Value{Kind: &qdrant.Value_NullValue{NullValue: qdrant.NullValue(g.r.IntN(3) - 1)}}
	case 8:
		v = qdrant.NewValueStruct(unknownSometimes(g, &qdrant.Struct{Fields: g.payload()}))
	case 9:
		l := &qdrant.ListValue{}
		for range g.r.IntN(4) {
			l.Values = append(l.Values, g.value())
		}
		v = qdrant.NewValueList(unknownSometimes(g, l))
	}
	return unknownSometimes(g, v)
}

func (g *reqGen) filter() *qdrant.Filter {
	g.depth++
	defer func() { g.depth-- }()
	if g.chance(0.3) {
		// What fencing sends.
		f := fenceFilter(int64(g.u64()))
		if g.chance(0.5) {
			f.Must = []*qdrant.Condition{qdrant.NewHasID(g.id())}
		}
		return f
	}
	conds := func() []*qdrant.Condition {
		var cs []*qdrant.Condition
		for range g.r.IntN(3) {
			cs = append(cs, g.condition())
		}
		return cs
	}
	f := &qdrant.Filter{Should: conds(), Must: conds(), MustNot: conds()}
	if g.chance(0.2) {
		f.MinShould = unknownSometimes(g, &qdrant.MinShould{Conditions: conds(), MinCount: g.u64()})
	}
	return unknownSometimes(g, f)
}

func (g *reqGen) condition() *qdrant.Condition {
	n := 11
	if g.depth > 3 {
		n = 9 // no more nesting
	}
	var c *qdrant.Condition
	switch g.r.IntN(n) {
	case 0:
		return nil
	case 1:
		c = &qdrant.Condition{}
	case 2:
		r := &qdrant.Range{}
		for _, f := range []**float64{&r.Lt, &r.Gt, &r.Gte, &r.Lte} {
			if g.chance(0.5) {
				*f = ptr(g.f64())
			}
		}
		c = qdrant.NewRange(g.str(), unknownSometimes(g, r))
	case 3:
		fc := &qdrant.FieldCondition{Key: g.str()}
		if g.chance(0.5) {
			fc.IsEmpty = ptr(g.chance(0.5))
		}
		if g.chance(0.5) {
			fc.IsNull = ptr(g.chance(0.5))
		}
		c = &qdrant.Condition{ConditionOneOf: &qdrant.Condition_Field{Field: unknownSometimes(g, fc)}}
	case 4:
		c = qdrant.NewIsEmpty(g.str())
	case 5:
		c = qdrant.NewIsNull(g.str())
	case 6:
		c = qdrant.NewHasID(g.id(), g.id())
	case 7:
		c = qdrant.NewHasVector(g.str())
	case 8:
		// Not the writer's.
		c = qdrant.NewMatchInt(g.str(), int64(g.u64()))
	case 9:
		c = qdrant.NewFilterAsCondition(g.filter())
	case 10:
		c = qdrant.NewNestedFilter(g.str(), g.filter())
	}
	return unknownSometimes(g, c)
}
