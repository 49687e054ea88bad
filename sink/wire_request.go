package sink

import (
	"slices"

	"github.com/qdrant/go-client/qdrant"
)

// The request envelope, operations, selectors and filters of the
// hand-written UpdateBatchPoints encoder (see wire.go). For each message,
// sizeX returns the encoded size of its body and revBuf.x writes the body;
// a nil message has an empty body (protobuf-go encodes a nil element of a
// repeated field, map value or oneof case as an empty message, and so do
// these).
//
// Covered: UpdateBatchPoints (every field), WriteOrdering, the operations
// upsert (PointStructList, every field), delete_points (every field),
// delete_deprecated and clear_payload_deprecated, PointsSelector, ShardKey
// and ShardKeySelector, Filter, MinShould, every Condition case, and
// FieldCondition with key, range, is_empty and is_null. Anything else goes
// to protobuf-go whole: the other operations (set/overwrite/delete/clear
// payload, update/delete vectors) and FieldConditions with a match, geo,
// values_count or datetime_range condition.

func sizeUpdateBatch(m *qdrant.UpdateBatchPoints) int {
	if m == nil {
		return 0
	}
	n := len(unkUpdateBatch.of(m))
	if m.CollectionName != "" {
		n += sizeLen(1, len(m.CollectionName))
	}
	if m.Wait != nil {
		n += 2
	}
	for _, op := range m.Operations {
		n += sizeLen(1, sizeOperation(op))
	}
	if m.Ordering != nil {
		n += sizeLen(1, sizeWriteOrdering(m.Ordering))
	}
	if m.Timeout != nil {
		n += sizeVarintField(*m.Timeout)
	}
	return n
}

func (w *revBuf) updateBatch(m *qdrant.UpdateBatchPoints) {
	if m == nil {
		return
	}
	w.raw(unkUpdateBatch.of(m))
	if m.Timeout != nil {
		w.uvarintField(wireTag(5, wireVarint), *m.Timeout)
	}
	if m.Ordering != nil {
		end := w.i
		w.writeOrdering(m.Ordering)
		w.tagLen(wireTag(4, wireBytes), end)
	}
	for _, op := range slices.Backward(m.Operations) {
		end := w.i
		w.operation(op)
		w.tagLen(wireTag(3, wireBytes), end)
	}
	if m.Wait != nil {
		w.boolField(wireTag(2, wireVarint), *m.Wait)
	}
	if m.CollectionName != "" {
		w.str(wireTag(1, wireBytes), m.CollectionName, "UpdateBatchPoints.collection_name")
	}
}

func sizeWriteOrdering(m *qdrant.WriteOrdering) int {
	if m == nil {
		return 0
	}
	n := len(unkWriteOrdering.of(m))
	if m.Type != 0 {
		n += sizeVarintField(uint64(m.Type))
	}
	return n
}

func (w *revBuf) writeOrdering(m *qdrant.WriteOrdering) {
	if m == nil {
		return
	}
	w.raw(unkWriteOrdering.of(m))
	if m.Type != 0 {
		// Enums are int32; a negative one is sign-extended to 10 bytes.
		w.uvarintField(wireTag(1, wireVarint), uint64(m.Type))
	}
}

func sizeOperation(m *qdrant.PointsUpdateOperation) int {
	if m == nil {
		return 0
	}
	n := len(unkOperation.of(m))
	switch op := m.Operation.(type) {
	case nil:
	case *qdrant.PointsUpdateOperation_Upsert:
		n += sizeLen(1, sizePointStructList(op.Upsert))
	case *qdrant.PointsUpdateOperation_DeleteDeprecated:
		n += sizeLen(1, sizePointsSelector(op.DeleteDeprecated))
	case *qdrant.PointsUpdateOperation_ClearPayloadDeprecated:
		n += sizeLen(1, sizePointsSelector(op.ClearPayloadDeprecated))
	case *qdrant.PointsUpdateOperation_DeletePoints_:
		n += sizeLen(1, sizeDeletePoints(op.DeletePoints))
	default:
		return sizeFallback(m)
	}
	return n
}

func (w *revBuf) operation(m *qdrant.PointsUpdateOperation) {
	if m == nil {
		return
	}
	start := w.i
	w.raw(unkOperation.of(m))
	end := w.i
	switch op := m.Operation.(type) {
	case nil:
	case *qdrant.PointsUpdateOperation_Upsert:
		w.pointStructList(op.Upsert)
		w.tagLen(wireTag(1, wireBytes), end)
	case *qdrant.PointsUpdateOperation_DeleteDeprecated:
		w.pointsSelector(op.DeleteDeprecated)
		w.tagLen(wireTag(2, wireBytes), end)
	case *qdrant.PointsUpdateOperation_ClearPayloadDeprecated:
		w.pointsSelector(op.ClearPayloadDeprecated)
		w.tagLen(wireTag(6, wireBytes), end)
	case *qdrant.PointsUpdateOperation_DeletePoints_:
		w.deletePoints(op.DeletePoints)
		w.tagLen(wireTag(9, wireBytes), end)
	default:
		// Not covered: protobuf-go writes the whole message instead.
		w.i = start
		w.fallback(m)
	}
}

func sizePointStructList(m *qdrant.PointsUpdateOperation_PointStructList) int {
	if m == nil {
		return 0
	}
	n := len(unkPointStructList.of(m))
	for _, p := range m.Points {
		n += sizeLen(1, sizePointStruct(p))
	}
	if m.ShardKeySelector != nil {
		n += sizeLen(1, sizeShardKeySelector(m.ShardKeySelector))
	}
	if m.UpdateFilter != nil {
		n += sizeLen(1, sizeFilter(m.UpdateFilter))
	}
	if m.UpdateMode != nil {
		n += sizeVarintField(uint64(*m.UpdateMode))
	}
	return n
}

func (w *revBuf) pointStructList(m *qdrant.PointsUpdateOperation_PointStructList) {
	if m == nil {
		return
	}
	w.raw(unkPointStructList.of(m))
	if m.UpdateMode != nil {
		w.uvarintField(wireTag(4, wireVarint), uint64(*m.UpdateMode))
	}
	if m.UpdateFilter != nil {
		end := w.i
		w.filter(m.UpdateFilter)
		w.tagLen(wireTag(3, wireBytes), end)
	}
	if m.ShardKeySelector != nil {
		end := w.i
		w.shardKeySelector(m.ShardKeySelector)
		w.tagLen(wireTag(2, wireBytes), end)
	}
	for _, p := range slices.Backward(m.Points) {
		end := w.i
		w.pointStruct(p)
		w.tagLen(wireTag(1, wireBytes), end)
	}
}

func sizeDeletePoints(m *qdrant.PointsUpdateOperation_DeletePoints) int {
	if m == nil {
		return 0
	}
	n := len(unkDeletePoints.of(m))
	if m.Points != nil {
		n += sizeLen(1, sizePointsSelector(m.Points))
	}
	if m.ShardKeySelector != nil {
		n += sizeLen(1, sizeShardKeySelector(m.ShardKeySelector))
	}
	return n
}

func (w *revBuf) deletePoints(m *qdrant.PointsUpdateOperation_DeletePoints) {
	if m == nil {
		return
	}
	w.raw(unkDeletePoints.of(m))
	if m.ShardKeySelector != nil {
		end := w.i
		w.shardKeySelector(m.ShardKeySelector)
		w.tagLen(wireTag(2, wireBytes), end)
	}
	if m.Points != nil {
		end := w.i
		w.pointsSelector(m.Points)
		w.tagLen(wireTag(1, wireBytes), end)
	}
}

func sizePointsSelector(m *qdrant.PointsSelector) int {
	if m == nil {
		return 0
	}
	n := len(unkPointsSelector.of(m))
	switch s := m.PointsSelectorOneOf.(type) {
	case nil:
	case *qdrant.PointsSelector_Points:
		n += sizeLen(1, sizePointsIDsList(s.Points))
	case *qdrant.PointsSelector_Filter:
		n += sizeLen(1, sizeFilter(s.Filter))
	default:
		return sizeFallback(m)
	}
	return n
}

func (w *revBuf) pointsSelector(m *qdrant.PointsSelector) {
	if m == nil {
		return
	}
	start := w.i
	w.raw(unkPointsSelector.of(m))
	end := w.i
	switch s := m.PointsSelectorOneOf.(type) {
	case nil:
	case *qdrant.PointsSelector_Points:
		w.pointsIDsList(s.Points)
		w.tagLen(wireTag(1, wireBytes), end)
	case *qdrant.PointsSelector_Filter:
		w.filter(s.Filter)
		w.tagLen(wireTag(2, wireBytes), end)
	default:
		// Not covered: protobuf-go writes the whole message instead.
		w.i = start
		w.fallback(m)
	}
}

func sizePointsIDsList(m *qdrant.PointsIdsList) int {
	if m == nil {
		return 0
	}
	n := len(unkPointsIDsList.of(m))
	for _, id := range m.Ids {
		n += sizeLen(1, sizePointID(id))
	}
	return n
}

func (w *revBuf) pointsIDsList(m *qdrant.PointsIdsList) {
	if m == nil {
		return
	}
	w.raw(unkPointsIDsList.of(m))
	w.pointIDs(wireTag(1, wireBytes), m.Ids)
}

// pointIDs writes a repeated PointId field.
func (w *revBuf) pointIDs(tag uint64, ids []*qdrant.PointId) {
	for _, id := range slices.Backward(ids) {
		end := w.i
		w.pointID(id)
		w.tagLen(tag, end)
	}
}

func sizeShardKeySelector(m *qdrant.ShardKeySelector) int {
	if m == nil {
		return 0
	}
	n := len(unkShardKeySelector.of(m))
	for _, k := range m.ShardKeys {
		n += sizeLen(1, sizeShardKey(k))
	}
	if m.Fallback != nil {
		n += sizeLen(1, sizeShardKey(m.Fallback))
	}
	return n
}

func (w *revBuf) shardKeySelector(m *qdrant.ShardKeySelector) {
	if m == nil {
		return
	}
	w.raw(unkShardKeySelector.of(m))
	if m.Fallback != nil {
		end := w.i
		w.shardKey(m.Fallback)
		w.tagLen(wireTag(2, wireBytes), end)
	}
	for _, k := range slices.Backward(m.ShardKeys) {
		end := w.i
		w.shardKey(k)
		w.tagLen(wireTag(1, wireBytes), end)
	}
}

func sizeShardKey(m *qdrant.ShardKey) int {
	if m == nil {
		return 0
	}
	n := len(unkShardKey.of(m))
	switch k := m.Key.(type) {
	case nil:
	case *qdrant.ShardKey_Keyword:
		n += sizeLen(1, len(k.Keyword))
	case *qdrant.ShardKey_Number:
		n += sizeVarintField(k.Number)
	default:
		return sizeFallback(m)
	}
	return n
}

func (w *revBuf) shardKey(m *qdrant.ShardKey) {
	if m == nil {
		return
	}
	start := w.i
	w.raw(unkShardKey.of(m))
	switch k := m.Key.(type) {
	case nil:
	case *qdrant.ShardKey_Keyword:
		w.str(wireTag(1, wireBytes), k.Keyword, "ShardKey.keyword")
	case *qdrant.ShardKey_Number:
		w.uvarintField(wireTag(2, wireVarint), k.Number)
	default:
		// Not covered: protobuf-go writes the whole message instead.
		w.i = start
		w.fallback(m)
	}
}

func sizeFilter(m *qdrant.Filter) int {
	if m == nil {
		return 0
	}
	n := len(unkFilter.of(m)) + sizeConditions(m.Should) + sizeConditions(m.Must) + sizeConditions(m.MustNot)
	if m.MinShould != nil {
		n += sizeLen(1, sizeMinShould(m.MinShould))
	}
	return n
}

func (w *revBuf) filter(m *qdrant.Filter) {
	if m == nil {
		return
	}
	w.raw(unkFilter.of(m))
	if m.MinShould != nil {
		end := w.i
		w.minShould(m.MinShould)
		w.tagLen(wireTag(4, wireBytes), end)
	}
	w.conditions(wireTag(3, wireBytes), m.MustNot)
	w.conditions(wireTag(2, wireBytes), m.Must)
	w.conditions(wireTag(1, wireBytes), m.Should)
}

// sizeConditions is the size of a repeated Condition field (one-byte tag).
func sizeConditions(cs []*qdrant.Condition) int {
	n := 0
	for _, c := range cs {
		n += sizeLen(1, sizeCondition(c))
	}
	return n
}

// conditions writes a repeated Condition field.
func (w *revBuf) conditions(tag uint64, cs []*qdrant.Condition) {
	for _, c := range slices.Backward(cs) {
		end := w.i
		w.condition(c)
		w.tagLen(tag, end)
	}
}

func sizeMinShould(m *qdrant.MinShould) int {
	if m == nil {
		return 0
	}
	n := len(unkMinShould.of(m)) + sizeConditions(m.Conditions)
	if m.MinCount != 0 {
		n += sizeVarintField(m.MinCount)
	}
	return n
}

func (w *revBuf) minShould(m *qdrant.MinShould) {
	if m == nil {
		return
	}
	w.raw(unkMinShould.of(m))
	if m.MinCount != 0 {
		w.uvarintField(wireTag(2, wireVarint), m.MinCount)
	}
	w.conditions(wireTag(1, wireBytes), m.Conditions)
}

func sizeCondition(m *qdrant.Condition) int {
	if m == nil {
		return 0
	}
	n := len(unkCondition.of(m))
	switch c := m.ConditionOneOf.(type) {
	case nil:
	case *qdrant.Condition_Field:
		n += sizeLen(1, sizeFieldCondition(c.Field))
	case *qdrant.Condition_IsEmpty:
		n += sizeLen(1, sizeIsEmpty(c.IsEmpty))
	case *qdrant.Condition_HasId:
		n += sizeLen(1, sizeHasID(c.HasId))
	case *qdrant.Condition_Filter:
		n += sizeLen(1, sizeFilter(c.Filter))
	case *qdrant.Condition_IsNull:
		n += sizeLen(1, sizeIsNull(c.IsNull))
	case *qdrant.Condition_Nested:
		n += sizeLen(1, sizeNested(c.Nested))
	case *qdrant.Condition_HasVector:
		n += sizeLen(1, sizeHasVector(c.HasVector))
	default:
		return sizeFallback(m)
	}
	return n
}

func (w *revBuf) condition(m *qdrant.Condition) {
	if m == nil {
		return
	}
	start := w.i
	w.raw(unkCondition.of(m))
	end := w.i
	switch c := m.ConditionOneOf.(type) {
	case nil:
	case *qdrant.Condition_Field:
		w.fieldCondition(c.Field)
		w.tagLen(wireTag(1, wireBytes), end)
	case *qdrant.Condition_IsEmpty:
		w.isEmpty(c.IsEmpty)
		w.tagLen(wireTag(2, wireBytes), end)
	case *qdrant.Condition_HasId:
		w.hasID(c.HasId)
		w.tagLen(wireTag(3, wireBytes), end)
	case *qdrant.Condition_Filter:
		w.filter(c.Filter)
		w.tagLen(wireTag(4, wireBytes), end)
	case *qdrant.Condition_IsNull:
		w.isNull(c.IsNull)
		w.tagLen(wireTag(5, wireBytes), end)
	case *qdrant.Condition_Nested:
		w.nested(c.Nested)
		w.tagLen(wireTag(6, wireBytes), end)
	case *qdrant.Condition_HasVector:
		w.hasVector(c.HasVector)
		w.tagLen(wireTag(7, wireBytes), end)
	default:
		// Not covered: protobuf-go writes the whole message instead.
		w.i = start
		w.fallback(m)
	}
}

func sizeIsEmpty(m *qdrant.IsEmptyCondition) int {
	if m == nil {
		return 0
	}
	return sizeKeyOnly(m.Key, unkIsEmpty.of(m))
}

func (w *revBuf) isEmpty(m *qdrant.IsEmptyCondition) {
	if m != nil {
		w.keyOnly(m.Key, unkIsEmpty.of(m), "IsEmptyCondition.key")
	}
}

func sizeIsNull(m *qdrant.IsNullCondition) int {
	if m == nil {
		return 0
	}
	return sizeKeyOnly(m.Key, unkIsNull.of(m))
}

func (w *revBuf) isNull(m *qdrant.IsNullCondition) {
	if m != nil {
		w.keyOnly(m.Key, unkIsNull.of(m), "IsNullCondition.key")
	}
}

func sizeHasVector(m *qdrant.HasVectorCondition) int {
	if m == nil {
		return 0
	}
	return sizeKeyOnly(m.HasVector, unkHasVector.of(m))
}

func (w *revBuf) hasVector(m *qdrant.HasVectorCondition) {
	if m != nil {
		w.keyOnly(m.HasVector, unkHasVector.of(m), "HasVectorCondition.has_vector")
	}
}

// sizeKeyOnly is the size of a message whose only field is string field 1.
func sizeKeyOnly(key string, unk []byte) int {
	n := len(unk)
	if key != "" {
		n += sizeLen(1, len(key))
	}
	return n
}

// keyOnly writes a message whose only field is string field 1.
func (w *revBuf) keyOnly(key string, unk []byte, field string) {
	w.raw(unk)
	if key != "" {
		w.str(wireTag(1, wireBytes), key, field)
	}
}

func sizeHasID(m *qdrant.HasIdCondition) int {
	if m == nil {
		return 0
	}
	n := len(unkHasID.of(m))
	for _, id := range m.HasId {
		n += sizeLen(1, sizePointID(id))
	}
	return n
}

func (w *revBuf) hasID(m *qdrant.HasIdCondition) {
	if m == nil {
		return
	}
	w.raw(unkHasID.of(m))
	w.pointIDs(wireTag(1, wireBytes), m.HasId)
}

func sizeNested(m *qdrant.NestedCondition) int {
	if m == nil {
		return 0
	}
	n := len(unkNested.of(m))
	if m.Key != "" {
		n += sizeLen(1, len(m.Key))
	}
	if m.Filter != nil {
		n += sizeLen(1, sizeFilter(m.Filter))
	}
	return n
}

func (w *revBuf) nested(m *qdrant.NestedCondition) {
	if m == nil {
		return
	}
	w.raw(unkNested.of(m))
	if m.Filter != nil {
		end := w.i
		w.filter(m.Filter)
		w.tagLen(wireTag(2, wireBytes), end)
	}
	if m.Key != "" {
		w.str(wireTag(1, wireBytes), m.Key, "NestedCondition.key")
	}
}

// coveredFieldCondition reports whether m uses only key, range, is_empty
// and is_null (fencing uses key and range).
func coveredFieldCondition(m *qdrant.FieldCondition) bool {
	return m.Match == nil && m.GeoBoundingBox == nil && m.GeoRadius == nil &&
		m.ValuesCount == nil && m.GeoPolygon == nil && m.DatetimeRange == nil
}

func sizeFieldCondition(m *qdrant.FieldCondition) int {
	if m == nil {
		return 0
	}
	if !coveredFieldCondition(m) {
		return sizeFallback(m)
	}
	n := len(unkFieldCondition.of(m))
	if m.Key != "" {
		n += sizeLen(1, len(m.Key))
	}
	if m.Range != nil {
		n += sizeLen(1, sizeRange(m.Range))
	}
	if m.IsEmpty != nil {
		n += 2
	}
	if m.IsNull != nil {
		n += 2
	}
	return n
}

func (w *revBuf) fieldCondition(m *qdrant.FieldCondition) {
	if m == nil {
		return
	}
	if !coveredFieldCondition(m) {
		w.fallback(m)
		return
	}
	w.raw(unkFieldCondition.of(m))
	if m.IsNull != nil {
		w.boolField(wireTag(10, wireVarint), *m.IsNull)
	}
	if m.IsEmpty != nil {
		w.boolField(wireTag(9, wireVarint), *m.IsEmpty)
	}
	if m.Range != nil {
		end := w.i
		w.rangeCond(m.Range)
		w.tagLen(wireTag(3, wireBytes), end)
	}
	if m.Key != "" {
		w.str(wireTag(1, wireBytes), m.Key, "FieldCondition.key")
	}
}

func sizeRange(m *qdrant.Range) int {
	if m == nil {
		return 0
	}
	n := len(unkRange.of(m))
	for _, f := range [...]*float64{m.Lt, m.Gt, m.Gte, m.Lte} {
		if f != nil {
			n += 9
		}
	}
	return n
}

func (w *revBuf) rangeCond(m *qdrant.Range) {
	if m == nil {
		return
	}
	w.raw(unkRange.of(m))
	if m.Lte != nil {
		w.doubleField(wireTag(4, wireFixed64), *m.Lte)
	}
	if m.Gte != nil {
		w.doubleField(wireTag(3, wireFixed64), *m.Gte)
	}
	if m.Gt != nil {
		w.doubleField(wireTag(2, wireFixed64), *m.Gt)
	}
	if m.Lt != nil {
		w.doubleField(wireTag(1, wireFixed64), *m.Lt)
	}
}
