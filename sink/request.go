package sink

import (
	"math"
	"slices"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// OffsetKey is the payload key that holds a point's fence value when
// fencing is on: epoch·2^43 + Kafka offset (fenceValue).
const OffsetKey = "_kq_offset"

// Fence values put the epoch above the offset in one integer, so one range
// condition orders (epoch, offset) pairs. Qdrant compares ranges as doubles
// (Range.lte is a double), exact up to 2^53: the epoch gets the top 10 of
// those 53 bits, the offset the other 43 (8.8·10^12 offsets per partition).
// Epoch 0 stores the bare offset, as fencing did before epochs existed.
const (
	fenceOffsetBits = 43
	// MaxFencingEpoch is the largest WriterConfig.FencingEpoch.
	MaxFencingEpoch = 1<<(53-fenceOffsetBits) - 1
	maxFencedOffset = 1<<fenceOffsetBits - 1
)

// fenceValue is what fencing stores in OffsetKey for a write of offset in
// epoch.
func fenceValue(epoch, offset int64) int64 { return epoch<<fenceOffsetBits | offset }

// fenceable reports whether fencing can store offset.
func fenceable(offset int64) bool { return offset >= 0 && offset <= maxFencedOffset }

// limits shape one request.
type limits struct {
	// upsertPoints bounds the points of one upsert operation (strict
	// mode's upsert_max_batchsize); 0: unbounded.
	upsertPoints int
	// timeoutSecs is the request's timeout; 0: none is sent.
	timeoutSecs uint64
}

// limitsFor combines the writer's call timeout (Qdrant gives up server-side
// when we do), the collection's strict mode and the limits learned from
// Qdrant's refusals (learned overrides a config that does not show them).
func (w *Writer) limitsFor(s *collectionSchema, learned strictLimits) limits {
	l := limits{timeoutSecs: uint64(math.Ceil(w.timeout.Seconds()))}
	for _, sl := range [2]strictLimits{s.strict, learned} {
		if n := sl.upsertPoints; n > 0 && n < math.MaxInt32 && (l.upsertPoints == 0 || int(n) < l.upsertPoints) {
			l.upsertPoints = int(n)
		}
		if sl.hasTimeout {
			l.timeoutSecs = min(l.timeoutSecs, sl.timeoutSecs)
		}
	}
	return l
}

// learn records the limit a strict-mode refusal names.
func (sl strictLimits) learn(v Verdict) strictLimits {
	switch v.LimitName {
	case "upsert limit":
		if v.Limit > 0 {
			sl.upsertPoints = v.Limit
		}
	case "timeout":
		sl.timeoutSecs, sl.hasTimeout = v.Limit, true
	}
	return sl
}

// Upper bounds of the bytes protobuf framing adds, varint lengths taken at
// their 5-byte maximum for a 32-bit length.
const (
	// fieldOverhead is the tag and length of a length-delimited field.
	fieldOverhead = 1 + 5
	// opOverhead is an UpdateBatchPoints.operations entry plus the
	// operation's oneof field.
	opOverhead = 2 * fieldOverhead
	// offsetEntrySize bounds the payload map entry OffsetKey → integer:
	// entry field, key field, value field, Value.integer_value (tag and a
	// 10-byte varint).
	offsetEntrySize = fieldOverhead + (1 + 1 + len(OffsetKey)) + fieldOverhead + 1 + 10
)

// appendOffsetEntry appends the PointStruct.payload entry OffsetKey →
// integer v, in wire form (at most offsetEntrySize bytes), to b.
func appendOffsetEntry(b []byte, v int64) []byte {
	value := 1 + protowire.SizeVarint(uint64(v)) // Value.integer_value
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(1+protowire.SizeBytes(len(OffsetKey))+1+protowire.SizeBytes(value)))
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, OffsetKey)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(value))
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// fenceFilterSize is the encoded size of fenceFilter, whatever the value:
// its range bound is a fixed 8-byte double.
var fenceFilterSize = sizeFilter(fenceFilter(0))

// requestOverhead bounds what an UpdateBatchPoints holds besides its
// operations: collection_name, wait and timeout.
func requestOverhead(collection string) int {
	return 1 + protowire.SizeVarint(uint64(len(collection))) + len(collection) + 2 + 1 + 10
}

// opSize bounds the bytes the op at i adds to a request: with fencing its
// own operation; without, its PointStruct in the shared upsert operation or
// its id in the shared delete operation (the operations' own framing is
// counted by cut).
func (w *Writer) opSize(op *Op) int {
	r := op.Record
	if r.Op == schemas.OpUpsert {
		n := fieldOverhead + sizePointParts(r.ID, r.Vectors, nil) + len(r.Payload)
		if w.fencing {
			// The op, its PointStructList, the point with OffsetKey added,
			// the update_filter.
			n += opOverhead + offsetEntrySize + fieldOverhead + fenceFilterSize
		}
		return n
	}
	n := fieldOverhead + sizePointID(r.ID)
	if w.fencing {
		// The op, DeletePoints.points, the selector's filter, the filter
		// with its must: has_id condition (condition, has_id, the id).
		n += opOverhead + 2*fieldOverhead + fenceFilterSize + 2*fieldOverhead
	}
	return n
}

// cut splits batch into parts whose requests stay within w.maxBytes; a part
// of one op may exceed it. It returns nil when the whole batch fits one
// request (the common case, which allocates nothing).
//
// The size of each op is an upper bound computed with the encoder's own
// size functions: one size pass over every point (the encoder itself
// writes back to front without one).
func (w *Writer) cut(collection string, ops []Op, batch []int, lim limits) [][]int {
	budget := w.maxBytes - requestOverhead(collection)
	var parts [][]int
	start, used, upserts, deletes := 0, 0, 0, 0
	for k, i := range batch {
		base := w.opSize(&ops[i])
		upsert := ops[i].Record.Op == schemas.OpUpsert
		// framing is what the op adds to the shared operations it joins.
		framing := func() int {
			switch {
			case w.fencing:
				return 0
			case upsert && (upserts == 0 || (lim.upsertPoints > 0 && upserts%lim.upsertPoints == 0)):
				return opOverhead // a new upsert operation
			case !upsert && deletes == 0:
				return opOverhead + 2*fieldOverhead // the delete operation, its selector and id list
			}
			return 0
		}
		n := base + framing()
		if k > start && used+n > budget {
			parts = append(parts, batch[start:k:k])
			start, used, upserts, deletes = k, 0, 0, 0
			n = base + framing()
		}
		used += n
		if upsert {
			upserts++
		} else {
			deletes++
		}
	}
	if parts == nil {
		return nil
	}
	return append(parts, batch[start:])
}

// buildRequest turns the ops at batch into one UpdateBatch request with
// wait=true and returns it with the number of upserts in it.
//
// Without fencing the request holds the upserts in operations of at most
// lim.upsertPoints points (Qdrant checks strict mode's upsert_max_batchsize
// per operation) and one delete of every deleted id (the ids are distinct
// after merging, so their order does not matter).
//
// With fencing every op needs its own condition, so each upsert is its own
// operation with update_filter "_kq_offset <= value OR _kq_offset is
// empty" (new points are inserted regardless), and each delete is a
// delete-by-filter "has_id AND (_kq_offset <= value OR is empty)".
func (w *Writer) buildRequest(collection string, ops []Op, batch []int, lim limits) (*qdrant.UpdateBatchPoints, int) {
	wait := true
	req := &qdrant.UpdateBatchPoints{CollectionName: collection, Wait: &wait}
	if secs := lim.timeoutSecs; secs > 0 {
		// Qdrant gives up server-side when we do.
		req.Timeout = &secs
	}
	upserts := 0
	if w.fencing {
		req.Operations = make([]*qdrant.PointsUpdateOperation, 0, len(batch))
		for _, i := range batch {
			r := ops[i].Record
			v := fenceValue(w.epoch, ops[i].Offset)
			if r.Op == schemas.OpUpsert {
				upserts++
				p := &qdrant.PointStruct{Id: r.ID, Vectors: r.Vectors}
				// The payload's entries, then OffsetKey's: it wins over a
				// payload key of that name.
				p.ProtoReflect().SetUnknown(appendOffsetEntry(slices.Clip(r.Payload), v))
				req.Operations = append(req.Operations, qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{
					Points:       []*qdrant.PointStruct{p},
					UpdateFilter: fenceFilter(v),
				}))
				continue
			}
			filter := fenceFilter(v)
			filter.Must = []*qdrant.Condition{qdrant.NewHasID(r.ID)}
			req.Operations = append(req.Operations, qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{
				Points: qdrant.NewPointsSelectorFilter(filter),
			}))
		}
		return req, upserts
	}
	var points []*qdrant.PointStruct
	var slab []qdrant.PointStruct // one allocation for every PointStruct
	var deletes []*qdrant.PointId
	for _, i := range batch {
		r := ops[i].Record
		if r.Op == schemas.OpUpsert {
			if points == nil {
				points = make([]*qdrant.PointStruct, 0, len(batch))
				slab = make([]qdrant.PointStruct, len(batch))
			}
			p := &slab[len(points)]
			p.Id, p.Vectors = r.ID, r.Vectors
			if r.Payload != nil {
				// Entries of PointStruct.payload: Qdrant reads them where
				// they are, after the fields the encoder writes first.
				p.ProtoReflect().SetUnknown(r.Payload)
			}
			points = append(points, p)
			continue
		}
		deletes = append(deletes, r.ID)
	}
	for len(points) > 0 {
		n := len(points)
		if lim.upsertPoints > 0 {
			n = min(n, lim.upsertPoints)
		}
		req.Operations = append(req.Operations, qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: points[:n:n]}))
		upserts += n
		points = points[n:]
	}
	if len(deletes) > 0 {
		req.Operations = append(req.Operations, qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{
			Points: qdrant.NewPointsSelectorIDs(deletes),
		}))
	}
	return req, upserts
}

// fenceFilter matches points whose stored fence value is at most v, or that
// carry none (written before fencing was turned on).
func fenceFilter(v int64) *qdrant.Filter {
	lte := float64(v)
	return &qdrant.Filter{Should: []*qdrant.Condition{
		qdrant.NewRange(OffsetKey, &qdrant.Range{Lte: &lte}),
		qdrant.NewIsEmpty(OffsetKey),
	}}
}
