package sink

import (
	"maps"
	"math"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// OffsetKey is the payload key that holds a point's source Kafka offset
// when fencing is on.
const OffsetKey = "_kq_offset"

// buildRequest turns the ops at batch into one UpdateBatch request with
// wait=true and returns it with the number of upserts in it.
//
// Without fencing the request has at most two operations: one upsert of
// every upserted point and one delete of every deleted id (the ids are
// distinct after merging, so their order does not matter).
//
// With fencing every op needs its own condition, so each upsert is its own
// operation with update_filter "_kq_offset <= offset OR _kq_offset is
// empty" (new points are inserted regardless), and each delete is a
// delete-by-filter "has_id AND (_kq_offset <= offset OR is empty)".
func (w *Writer) buildRequest(collection string, ops []Op, batch []int) (*qdrant.UpdateBatchPoints, int) {
	wait := true
	req := &qdrant.UpdateBatchPoints{CollectionName: collection, Wait: &wait}
	if secs := uint64(math.Ceil(w.timeout.Seconds())); secs > 0 {
		// Qdrant gives up server-side when we do.
		req.Timeout = &secs
	}
	upserts := 0
	if w.fencing {
		req.Operations = make([]*qdrant.PointsUpdateOperation, 0, len(batch))
		for _, i := range batch {
			r, off := ops[i].Record, ops[i].Offset
			if r.Op == schemas.OpUpsert {
				upserts++
				payload := make(map[string]*qdrant.Value, len(r.Payload)+1)
				maps.Copy(payload, r.Payload)
				payload[OffsetKey] = qdrant.NewValueInt(off)
				filter := fenceFilter(off)
				req.Operations = append(req.Operations, qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{
					Points:       []*qdrant.PointStruct{{Id: r.ID, Vectors: r.Vectors, Payload: payload}},
					UpdateFilter: filter,
				}))
				continue
			}
			filter := fenceFilter(off)
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
			p.Id, p.Vectors, p.Payload = r.ID, r.Vectors, r.Payload
			points = append(points, p)
			continue
		}
		deletes = append(deletes, r.ID)
	}
	if len(points) > 0 {
		req.Operations = append(req.Operations, qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: points}))
	}
	if len(deletes) > 0 {
		req.Operations = append(req.Operations, qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{
			Points: qdrant.NewPointsSelectorIDs(deletes),
		}))
	}
	return req, len(points)
}

// fenceFilter matches points whose stored offset is at most off, or that
// carry no offset (written before fencing was turned on).
func fenceFilter(off int64) *qdrant.Filter {
	lte := float64(off)
	return &qdrant.Filter{Should: []*qdrant.Condition{
		qdrant.NewRange(OffsetKey, &qdrant.Range{Lte: &lte}),
		qdrant.NewIsEmpty(OffsetKey),
	}}
}
