package sink

import (
	"slices"

	"github.com/qdrant/go-client/qdrant"
)

// Points, vectors and payload values of the hand-written UpdateBatchPoints
// encoder (see wire.go and the conventions in wire_request.go).
//
// Covered: PointStruct, PointId, Vectors, NamedVectors, Vector with its
// deprecated data/indices/vectors_count fields and the dense, sparse and
// multi_dense cases, DenseVector, SparseVector, MultiDenseVector,
// SparseIndices, Value (every kind), Struct, ListValue. Vectors for cloud
// inference (document, image, object) go to protobuf-go whole.

func sizePointStruct(m *qdrant.PointStruct) int {
	if m == nil {
		return 0
	}
	return len(unkPointStruct.of(m)) + sizePointParts(m.Id, m.Vectors, m.Payload)
}

// sizePointParts is the size of a PointStruct with these fields and no
// unknown fields, without building one (the writer sizes its points before
// it builds the request).
func sizePointParts(id *qdrant.PointId, vectors *qdrant.Vectors, payload map[string]*qdrant.Value) int {
	n := 0
	if id != nil {
		n += sizeLen(1, sizePointID(id))
	}
	n += sizePayload(payload)
	if vectors != nil {
		n += sizeLen(1, sizeVectors(vectors))
	}
	return n
}

func (w *revBuf) pointStruct(m *qdrant.PointStruct) {
	if m == nil {
		return
	}
	w.raw(unkPointStruct.of(m))
	if m.Vectors != nil {
		end := w.i
		w.vectors(m.Vectors)
		w.tagLen(wireTag(4, wireBytes), end)
	}
	w.payload(wireTag(3, wireBytes), m.Payload, "PointStruct.payload")
	if m.Id != nil {
		end := w.i
		w.pointID(m.Id)
		w.tagLen(wireTag(1, wireBytes), end)
	}
}

func sizePointID(m *qdrant.PointId) int {
	if m == nil {
		return 0
	}
	n := len(unkPointID.of(m))
	switch id := m.PointIdOptions.(type) {
	case nil:
	case *qdrant.PointId_Num:
		n += sizeVarintField(id.Num)
	case *qdrant.PointId_Uuid:
		n += sizeLen(1, len(id.Uuid))
	default:
		return sizeFallback(m)
	}
	return n
}

func (w *revBuf) pointID(m *qdrant.PointId) {
	if m == nil {
		return
	}
	start := w.i
	w.raw(unkPointID.of(m))
	switch id := m.PointIdOptions.(type) {
	case nil:
	case *qdrant.PointId_Num:
		w.uvarintField(wireTag(1, wireVarint), id.Num)
	case *qdrant.PointId_Uuid:
		w.str(wireTag(2, wireBytes), id.Uuid, "PointId.uuid")
	default:
		// Not covered: protobuf-go writes the whole message instead.
		w.i = start
		w.fallback(m)
	}
}

// sizePayload is the size of a map<string, Value> field with a one-byte
// tag: PointStruct.payload, Struct.fields. Each entry is a message with the
// key (field 1) and the value (field 2), both always present.
func sizePayload(p map[string]*qdrant.Value) int {
	n := 0
	for k, v := range p {
		n += sizeLen(1, sizeLen(1, len(k))+sizeLen(1, sizeValue(v)))
	}
	return n
}

// payload writes a map<string, Value> field. field names it in errors.
func (w *revBuf) payload(tag uint64, p map[string]*qdrant.Value, field string) {
	for k, v := range p {
		end := w.i
		w.value(v)
		w.tagLen(wireTag(2, wireBytes), end)
		w.str(wireTag(1, wireBytes), k, field)
		w.tagLen(tag, end)
	}
}

func sizeValue(m *qdrant.Value) int {
	if m == nil {
		return 0
	}
	n := len(unkValue.of(m))
	switch v := m.Kind.(type) {
	case nil:
	case *qdrant.Value_NullValue:
		n += sizeVarintField(uint64(v.NullValue))
	case *qdrant.Value_DoubleValue:
		n += 9
	case *qdrant.Value_IntegerValue:
		n += sizeVarintField(uint64(v.IntegerValue))
	case *qdrant.Value_StringValue:
		n += sizeLen(1, len(v.StringValue))
	case *qdrant.Value_BoolValue:
		n += 2
	case *qdrant.Value_StructValue:
		n += sizeLen(1, sizeStruct(v.StructValue))
	case *qdrant.Value_ListValue:
		n += sizeLen(1, sizeListValue(v.ListValue))
	default:
		return sizeFallback(m)
	}
	return n
}

func (w *revBuf) value(m *qdrant.Value) {
	if m == nil {
		return
	}
	start := w.i
	w.raw(unkValue.of(m))
	switch v := m.Kind.(type) {
	case nil:
	case *qdrant.Value_NullValue:
		w.uvarintField(wireTag(1, wireVarint), uint64(v.NullValue))
	case *qdrant.Value_DoubleValue:
		w.doubleField(wireTag(2, wireFixed64), v.DoubleValue)
	case *qdrant.Value_IntegerValue:
		w.uvarintField(wireTag(3, wireVarint), uint64(v.IntegerValue))
	case *qdrant.Value_StringValue:
		w.str(wireTag(4, wireBytes), v.StringValue, "Value.string_value")
	case *qdrant.Value_BoolValue:
		w.boolField(wireTag(5, wireVarint), v.BoolValue)
	case *qdrant.Value_StructValue:
		end := w.i
		w.structValue(v.StructValue)
		w.tagLen(wireTag(6, wireBytes), end)
	case *qdrant.Value_ListValue:
		end := w.i
		w.listValue(v.ListValue)
		w.tagLen(wireTag(7, wireBytes), end)
	default:
		// Not covered: protobuf-go writes the whole message instead.
		w.i = start
		w.fallback(m)
	}
}

func sizeStruct(m *qdrant.Struct) int {
	if m == nil {
		return 0
	}
	return len(unkStruct.of(m)) + sizePayload(m.Fields)
}

func (w *revBuf) structValue(m *qdrant.Struct) {
	if m == nil {
		return
	}
	w.raw(unkStruct.of(m))
	w.payload(wireTag(1, wireBytes), m.Fields, "Struct.fields")
}

func sizeListValue(m *qdrant.ListValue) int {
	if m == nil {
		return 0
	}
	n := len(unkListValue.of(m))
	for _, v := range m.Values {
		n += sizeLen(1, sizeValue(v))
	}
	return n
}

func (w *revBuf) listValue(m *qdrant.ListValue) {
	if m == nil {
		return
	}
	w.raw(unkListValue.of(m))
	for _, v := range slices.Backward(m.Values) {
		end := w.i
		w.value(v)
		w.tagLen(wireTag(1, wireBytes), end)
	}
}

func sizeVectors(m *qdrant.Vectors) int {
	if m == nil {
		return 0
	}
	n := len(unkVectors.of(m))
	switch v := m.VectorsOptions.(type) {
	case nil:
	case *qdrant.Vectors_Vector:
		n += sizeLen(1, sizeVector(v.Vector))
	case *qdrant.Vectors_Vectors:
		n += sizeLen(1, sizeNamedVectors(v.Vectors))
	default:
		return sizeFallback(m)
	}
	return n
}

func (w *revBuf) vectors(m *qdrant.Vectors) {
	if m == nil {
		return
	}
	start := w.i
	w.raw(unkVectors.of(m))
	end := w.i
	switch v := m.VectorsOptions.(type) {
	case nil:
	case *qdrant.Vectors_Vector:
		w.vector(v.Vector)
		w.tagLen(wireTag(1, wireBytes), end)
	case *qdrant.Vectors_Vectors:
		w.namedVectors(v.Vectors)
		w.tagLen(wireTag(2, wireBytes), end)
	default:
		// Not covered: protobuf-go writes the whole message instead.
		w.i = start
		w.fallback(m)
	}
}

func sizeNamedVectors(m *qdrant.NamedVectors) int {
	if m == nil {
		return 0
	}
	n := len(unkNamedVectors.of(m))
	for k, v := range m.Vectors {
		n += sizeLen(1, sizeLen(1, len(k))+sizeLen(1, sizeVector(v)))
	}
	return n
}

func (w *revBuf) namedVectors(m *qdrant.NamedVectors) {
	if m == nil {
		return
	}
	w.raw(unkNamedVectors.of(m))
	for k, v := range m.Vectors {
		end := w.i
		w.vector(v)
		w.tagLen(wireTag(2, wireBytes), end)
		w.str(wireTag(1, wireBytes), k, "NamedVectors.vectors")
		w.tagLen(wireTag(1, wireBytes), end)
	}
}

func sizeVector(m *qdrant.Vector) int {
	if m == nil {
		return 0
	}
	n := len(unkVector.of(m)) + sizePackedFloats(m.Data)
	if m.Indices != nil {
		n += sizeLen(1, sizeSparseIndices(m.Indices))
	}
	if m.VectorsCount != nil {
		n += sizeVarintField(uint64(*m.VectorsCount))
	}
	// Fields 101-103 have two-byte tags.
	switch v := m.Vector.(type) {
	case nil:
	case *qdrant.Vector_Dense:
		n += sizeLen(2, sizeDenseVector(v.Dense))
	case *qdrant.Vector_Sparse:
		n += sizeLen(2, sizeSparseVector(v.Sparse))
	case *qdrant.Vector_MultiDense:
		n += sizeLen(2, sizeMultiDenseVector(v.MultiDense))
	default:
		return sizeFallback(m)
	}
	return n
}

func (w *revBuf) vector(m *qdrant.Vector) {
	if m == nil {
		return
	}
	start := w.i
	w.raw(unkVector.of(m))
	end := w.i
	switch v := m.Vector.(type) {
	case nil:
	case *qdrant.Vector_Dense:
		w.denseVector(v.Dense)
		w.tagLen(wireTag(101, wireBytes), end)
	case *qdrant.Vector_Sparse:
		w.sparseVector(v.Sparse)
		w.tagLen(wireTag(102, wireBytes), end)
	case *qdrant.Vector_MultiDense:
		w.multiDenseVector(v.MultiDense)
		w.tagLen(wireTag(103, wireBytes), end)
	default:
		// Not covered: protobuf-go writes the whole message instead.
		w.i = start
		w.fallback(m)
		return
	}
	if m.VectorsCount != nil {
		w.uvarintField(wireTag(3, wireVarint), uint64(*m.VectorsCount))
	}
	if m.Indices != nil {
		end := w.i
		w.sparseIndices(m.Indices)
		w.tagLen(wireTag(2, wireBytes), end)
	}
	w.packedFloats(wireTag(1, wireBytes), m.Data)
}

func sizeDenseVector(m *qdrant.DenseVector) int {
	if m == nil {
		return 0
	}
	return len(unkDenseVector.of(m)) + sizePackedFloats(m.Data)
}

func (w *revBuf) denseVector(m *qdrant.DenseVector) {
	if m == nil {
		return
	}
	w.raw(unkDenseVector.of(m))
	w.packedFloats(wireTag(1, wireBytes), m.Data)
}

func sizeSparseVector(m *qdrant.SparseVector) int {
	if m == nil {
		return 0
	}
	return len(unkSparseVector.of(m)) + sizePackedFloats(m.Values) + sizePackedUint32s(m.Indices)
}

func (w *revBuf) sparseVector(m *qdrant.SparseVector) {
	if m == nil {
		return
	}
	w.raw(unkSparseVector.of(m))
	w.packedUint32s(wireTag(2, wireBytes), m.Indices)
	w.packedFloats(wireTag(1, wireBytes), m.Values)
}

func sizeMultiDenseVector(m *qdrant.MultiDenseVector) int {
	if m == nil {
		return 0
	}
	n := len(unkMultiDense.of(m))
	for _, v := range m.Vectors {
		n += sizeLen(1, sizeDenseVector(v))
	}
	return n
}

func (w *revBuf) multiDenseVector(m *qdrant.MultiDenseVector) {
	if m == nil {
		return
	}
	w.raw(unkMultiDense.of(m))
	for _, v := range slices.Backward(m.Vectors) {
		end := w.i
		w.denseVector(v)
		w.tagLen(wireTag(1, wireBytes), end)
	}
}

func sizeSparseIndices(m *qdrant.SparseIndices) int {
	if m == nil {
		return 0
	}
	return len(unkSparseIndices.of(m)) + sizePackedUint32s(m.Data)
}

func (w *revBuf) sparseIndices(m *qdrant.SparseIndices) {
	if m == nil {
		return
	}
	w.raw(unkSparseIndices.of(m))
	w.packedUint32s(wireTag(1, wireBytes), m.Data)
}
