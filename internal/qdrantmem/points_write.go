package qdrantmem

import (
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// upsertOp is one upsert: the Upsert RPC or an upsert of UpdateBatch.
type upsertOp struct {
	collection   string
	points       []*qdrant.PointStruct
	updateFilter *qdrant.Filter
	updateMode   *qdrant.UpdateMode
	wait         bool
	timeout      *uint64 // the request's timeout in seconds, for strict mode
}

// deleteOp is one delete: the Delete RPC or a delete of UpdateBatch.
type deleteOp struct {
	collection string
	selector   *qdrant.PointsSelector
	wait       bool
	timeout    *uint64
}

// result is the UpdateResult of an applied operation. Qdrant numbers
// operations per shard (its WAL op_num); wait=true answers Completed,
// wait=false Acknowledged.
func (c *collection) result(wait bool) *qdrant.UpdateResult {
	st := qdrant.UpdateStatus_Acknowledged
	if wait {
		st = qdrant.UpdateStatus_Completed
	}
	r := &qdrant.UpdateResult{OperationId: proto.Uint64(c.opNum), Status: st}
	c.opNum++
	return r
}

// upsert runs layers 2 to 6 of points_validate.go, with strict mode
// (strict.go) between the collection lookup and the dimension check as in
// do_upsert_points (src/common/update.rs), and applies op. The caller holds
// s.mu for writing and has run layer 1 where it applies.
func (s *Server) upsert(op upsertOp) (*qdrant.UpdateResult, *apiError) {
	points, err := convertPoints(op.points)
	if err != nil {
		return nil, err
	}
	var cond *filter
	if op.updateFilter != nil {
		if cond, err = compileFilter(op.updateFilter); err != nil {
			return nil, err
		}
	}
	if err := restPointErrors(points); err != nil {
		return nil, err
	}
	c, err := s.resolve(op.collection)
	if err != nil {
		return nil, err
	}
	if err := c.checkStrictUpsert(len(points), op.timeout); err != nil {
		return nil, err
	}
	if err := c.checkDims(points); err != nil {
		return nil, err
	}
	now := s.opts.clock.Now()
	if err := c.checkSegment(points); err != nil {
		if op.wait {
			return nil, err
		}
		// Without wait Qdrant acknowledges once the operation is in the
		// WAL; the segment error only shows in its log.
		return c.result(false), nil
	}
	c.changed(now, s.opts.indexingRate)
	c.applyUpsert(points, op.updateFilter != nil, cond, op.updateMode)
	c.pointsWritten(now)
	return c.result(op.wait), nil
}

// applyUpsert stores points as conditional_upsert / upsert_points do
// (lib/shard/src/update.rs): a later point with the same id wins; with an
// update_filter, existing points that do not match it are left alone and
// absent points are inserted; InsertOnly skips existing points; UpdateOnly
// skips absent points and existing ones that do not match the filter. The
// filter sees the collection as it was before the operation.
func (c *collection) applyUpsert(points []inPoint, hasFilter bool, cond *filter, mode *qdrant.UpdateMode) {
	m := qdrant.UpdateMode_Upsert
	if mode != nil {
		m = *mode
	}
	// Storing in request order makes the last point of an id win. The skip
	// decisions are taken on the state before the operation.
	var skip map[pointKey]bool
	if hasFilter || m != qdrant.UpdateMode_Upsert {
		skip = make(map[pointKey]bool, len(points))
		for _, p := range points {
			old, exists := c.points[p.key]
			switch m {
			case qdrant.UpdateMode_InsertOnly:
				skip[p.key] = exists
			case qdrant.UpdateMode_UpdateOnly:
				skip[p.key] = !exists || !cond.matches(old)
			default:
				skip[p.key] = exists && !cond.matches(old)
			}
		}
	}
	for _, p := range points {
		if skip[p.key] {
			continue
		}
		c.put(&point{key: p.key, vecs: c.storedVectors(p.vecs), payload: p.payload})
	}
}

// storedVectors prepares vectors for storage: Cosine vectors are normalised
// (as Qdrant stores them), and a dense vector for a multivector name becomes
// a one-row multivector. It reuses pv.vecs, which the caller owns.
func (c *collection) storedVectors(pv pointVectors) []namedVec {
	out := pv.vecs
	for i, nv := range pv.vecs {
		v := nv.v
		if d, ok := c.schema.dense[nv.name]; ok {
			if d.multi && v.kind == vecDense {
				v = vec{kind: vecMulti, multi: [][]float32{v.dense}}
			}
			if d.distance == qdrant.Distance_Cosine {
				switch v.kind {
				case vecDense:
					v.dense = normalized(v.dense)
				case vecMulti:
					rows := make([][]float32, len(v.multi))
					for j, r := range v.multi {
						rows[j] = normalized(r)
					}
					v.multi = rows
				}
			}
		}
		out[i] = namedVec{name: nv.name, v: v}
	}
	return out
}

// parseSelector converts a PointsSelector as try_points_selector_from_grpc
// does (lib/collection/src/operations/conversions.rs).
func parseSelector(sel *qdrant.PointsSelector) ([]pointKey, *filter, *apiError) {
	switch o := sel.GetPointsSelectorOneOf().(type) {
	case *qdrant.PointsSelector_Points:
		keys, err := parsePointIDs(o.Points.GetIds())
		return keys, nil, err
	case *qdrant.PointsSelector_Filter:
		f, err := compileFilter(o.Filter)
		if err != nil {
			return nil, nil, err
		}
		if f == nil {
			f = &filter{}
		}
		return nil, f, nil
	default:
		return nil, nil, invalidArgument("Malformed PointsSelector type")
	}
}

// delete applies op (delete_points / delete_points_by_filter,
// lib/shard/src/update.rs) after strict mode (do_delete_points,
// src/common/update.rs). Missing ids are ignored. The caller holds s.mu for
// writing.
func (s *Server) delete(op deleteOp) (*qdrant.UpdateResult, *apiError) {
	if op.selector == nil {
		return nil, invalidArgument("PointSelector is missing")
	}
	keys, f, err := parseSelector(op.selector)
	if err != nil {
		return nil, err
	}
	c, err := s.resolve(op.collection)
	if err != nil {
		return nil, err
	}
	if err := c.checkStrictDelete(op.selector, op.timeout); err != nil {
		return nil, err
	}
	now := s.opts.clock.Now()
	c.changed(now, s.opts.indexingRate)
	if f != nil {
		for _, k := range append([]pointKey(nil), c.keys()...) {
			if f.matches(c.points[k]) {
				c.remove(k)
			}
		}
	}
	for _, k := range keys {
		c.remove(k)
	}
	c.pointsWritten(now)
	return c.result(op.wait), nil
}
