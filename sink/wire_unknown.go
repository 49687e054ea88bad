package sink

import (
	"reflect"
	"unsafe"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// Unknown fields (fields a decoder did not know, kept by protobuf-go and
// written back by proto.Marshal) must be written back by the hand-written
// encoder too. The API to read them, m.ProtoReflect().GetUnknown(), costs
// about 13ns a message, a quarter of the encoder's time on the writer's
// requests; every generated message keeps them in a []byte field named
// unknownFields, which protobuf-go itself reads at an offset it finds by
// reflection. unknownFields[T] does the same: it finds the offset once, at
// init, checks the field's name and type as protobuf-go does, and reads
// the field directly. Where the check fails (a protoc-gen-go that lays out
// messages differently) it uses GetUnknown. TestUnknownFieldsMatchAPI
// compares both for every message the encoder covers.

// unknownFields reads the unknown fields of messages of type T.
type unknownFields[T any] struct {
	off    uintptr
	direct bool
}

func newUnknownFields[T any]() unknownFields[T] {
	f, ok := reflect.TypeFor[T]().FieldByName("unknownFields")
	if !ok || f.Type != reflect.TypeFor[[]byte]() || len(f.Index) != 1 {
		return unknownFields[T]{}
	}
	return unknownFields[T]{off: f.Offset, direct: true}
}

// of returns m's unknown fields; m is not nil.
func (u unknownFields[T]) of(m *T) []byte {
	if !u.direct {
		return any(m).(proto.Message).ProtoReflect().GetUnknown()
	}
	return *(*[]byte)(unsafe.Add(unsafe.Pointer(m), u.off))
}

// One per covered message.
var (
	unkUpdateBatch      = newUnknownFields[qdrant.UpdateBatchPoints]()
	unkWriteOrdering    = newUnknownFields[qdrant.WriteOrdering]()
	unkOperation        = newUnknownFields[qdrant.PointsUpdateOperation]()
	unkPointStructList  = newUnknownFields[qdrant.PointsUpdateOperation_PointStructList]()
	unkDeletePoints     = newUnknownFields[qdrant.PointsUpdateOperation_DeletePoints]()
	unkPointsSelector   = newUnknownFields[qdrant.PointsSelector]()
	unkPointsIDsList    = newUnknownFields[qdrant.PointsIdsList]()
	unkShardKeySelector = newUnknownFields[qdrant.ShardKeySelector]()
	unkShardKey         = newUnknownFields[qdrant.ShardKey]()
	unkFilter           = newUnknownFields[qdrant.Filter]()
	unkMinShould        = newUnknownFields[qdrant.MinShould]()
	unkCondition        = newUnknownFields[qdrant.Condition]()
	unkFieldCondition   = newUnknownFields[qdrant.FieldCondition]()
	unkRange            = newUnknownFields[qdrant.Range]()
	unkIsEmpty          = newUnknownFields[qdrant.IsEmptyCondition]()
	unkIsNull           = newUnknownFields[qdrant.IsNullCondition]()
	unkHasID            = newUnknownFields[qdrant.HasIdCondition]()
	unkNested           = newUnknownFields[qdrant.NestedCondition]()
	unkHasVector        = newUnknownFields[qdrant.HasVectorCondition]()
	unkPointStruct      = newUnknownFields[qdrant.PointStruct]()
	unkPointID          = newUnknownFields[qdrant.PointId]()
	unkValue            = newUnknownFields[qdrant.Value]()
	unkStruct           = newUnknownFields[qdrant.Struct]()
	unkListValue        = newUnknownFields[qdrant.ListValue]()
	unkVectors          = newUnknownFields[qdrant.Vectors]()
	unkNamedVectors     = newUnknownFields[qdrant.NamedVectors]()
	unkVector           = newUnknownFields[qdrant.Vector]()
	unkDenseVector      = newUnknownFields[qdrant.DenseVector]()
	unkSparseVector     = newUnknownFields[qdrant.SparseVector]()
	unkMultiDense       = newUnknownFields[qdrant.MultiDenseVector]()
	unkSparseIndices    = newUnknownFields[qdrant.SparseIndices]()
)
