package qdrantmem

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// pointsService serves qdrant.Points.
type pointsService struct {
	qdrant.UnimplementedPointsServer
	s *Server
}

// Upsert validates and applies one upsert (layers 1-6 of points_validate.go).
func (ps *pointsService) Upsert(ctx context.Context, req *qdrant.UpsertPoints) (*qdrant.PointsOperationResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodUpsert, func(start time.Time) (*qdrant.PointsOperationResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		fields := grpcPointFields(req.GetPoints())
		fields = append(fields, validateFilter(req.GetUpdateFilter(), "update_filter")...)
		if len(fields) > 0 {
			return nil, bodyError(fields...)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		res, err := s.upsert(upsertOp{
			collection:   req.GetCollectionName(),
			points:       req.GetPoints(),
			updateFilter: req.GetUpdateFilter(),
			updateMode:   req.UpdateMode,
			wait:         req.GetWait(),
			timeout:      req.Timeout,
		})
		if err != nil {
			return nil, err
		}
		return &qdrant.PointsOperationResponse{Result: res, Time: elapsed(start)}, nil
	})
}

// Delete removes points by ids or by filter.
func (ps *pointsService) Delete(ctx context.Context, req *qdrant.DeletePoints) (*qdrant.PointsOperationResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodDelete, func(start time.Time) (*qdrant.PointsOperationResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		if f := req.GetPoints().GetFilter(); f != nil {
			if fields := validateFilter(f, "points.points_selector_one_of"); len(fields) > 0 {
				return nil, bodyError(fields...)
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		res, err := s.delete(deleteOp{collection: req.GetCollectionName(), selector: req.GetPoints(), wait: req.GetWait(), timeout: req.Timeout})
		if err != nil {
			return nil, err
		}
		return &qdrant.PointsOperationResponse{Result: res, Time: elapsed(start)}, nil
	})
}

// UpdateBatch applies its operations in order, as update_batch does
// (src/tonic/api/update_common.rs, v1.18.3): each operation is converted,
// validated, checked against strict mode and applied before the next one is
// looked at, and the first failure ends the call with that operation's
// error; the operations before it stay applied. Only collection_name and a
// non-empty operations list are validated up front.
func (ps *pointsService) UpdateBatch(ctx context.Context, req *qdrant.UpdateBatchPoints) (*qdrant.UpdateBatchResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodUpdateBatch, func(start time.Time) (*qdrant.UpdateBatchResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		if len(req.GetOperations()) == 0 {
			return nil, bodyError(vfield{"operations", "value [] invalid, must be at least 1 characters"})
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		results := make([]*qdrant.UpdateResult, 0, len(req.GetOperations()))
		for _, op := range req.GetOperations() {
			res, err := s.batchOp(req.GetCollectionName(), req.GetWait(), req.Timeout, op)
			if err != nil {
				return nil, err
			}
			results = append(results, res)
		}
		return &qdrant.UpdateBatchResponse{Result: results, Time: elapsed(start)}, nil
	})
}

func (s *Server) batchOp(collection string, wait bool, timeout *uint64, op *qdrant.PointsUpdateOperation) (*qdrant.UpdateResult, *apiError) {
	switch o := op.GetOperation().(type) {
	case nil:
		return nil, invalidArgument("Operation is missing")
	case *qdrant.PointsUpdateOperation_Upsert:
		return s.upsert(upsertOp{
			collection:   collection,
			points:       o.Upsert.GetPoints(),
			updateFilter: o.Upsert.GetUpdateFilter(),
			updateMode:   o.Upsert.UpdateMode,
			wait:         wait,
			timeout:      timeout,
		})
	case *qdrant.PointsUpdateOperation_DeletePoints_:
		return s.delete(deleteOp{collection: collection, selector: o.DeletePoints.GetPoints(), wait: wait, timeout: timeout})
	case *qdrant.PointsUpdateOperation_DeleteDeprecated:
		return s.delete(deleteOp{collection: collection, selector: o.DeleteDeprecated, wait: wait, timeout: timeout})
	default:
		return nil, unsupported("UpdateBatch operation %T is not supported", o)
	}
}

// Get returns the points with the given ids that exist, in request order
// without duplicates. with_payload defaults to false (Collection::retrieve,
// lib/collection/src/collection/point_ops.rs).
func (ps *pointsService) Get(ctx context.Context, req *qdrant.GetPoints) (*qdrant.GetResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodGet, func(start time.Time) (*qdrant.GetResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		keys, err := parsePointIDs(req.GetIds())
		if err != nil {
			return nil, err
		}
		sel, err := parsePayloadSelector(req.GetWithPayload(), false)
		if err != nil {
			return nil, err
		}
		vsel := parseVectorSelector(req.GetWithVectors())
		s.mu.RLock()
		defer s.mu.RUnlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		out := make([]*qdrant.RetrievedPoint, 0, len(keys))
		seen := make(map[pointKey]bool, len(keys))
		for _, k := range keys {
			p, ok := c.points[k]
			if !ok || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, &qdrant.RetrievedPoint{Id: k.proto(), Payload: sel.apply(p.payload), Vectors: c.outputVectors(p, vsel)})
		}
		return &qdrant.GetResponse{Result: out, Time: elapsed(start)}, nil
	})
}

// Count counts the points matching the filter; the count is always exact.
func (ps *pointsService) Count(ctx context.Context, req *qdrant.CountPoints) (*qdrant.CountResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodCount, func(start time.Time) (*qdrant.CountResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		if fields := validateFilter(req.GetFilter(), "filter"); len(fields) > 0 {
			return nil, bodyError(fields...)
		}
		f, err := compileFilter(req.GetFilter())
		if err != nil {
			return nil, err
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		var n uint64
		if f == nil {
			n = uint64(len(c.points))
		} else {
			for _, p := range c.points {
				if f.matches(p) {
					n++
				}
			}
		}
		return &qdrant.CountResponse{Result: &qdrant.CountResult{Count: n}, Time: elapsed(start)}, nil
	})
}

// Scroll pages through the points in id order (numeric ids, then UUIDs),
// starting at the first id >= offset; next_page_offset is the id after the
// page. limit defaults to 10 and with_payload to true (ScrollRequestInternal,
// lib/shard/src/scroll.rs).
func (ps *pointsService) Scroll(ctx context.Context, req *qdrant.ScrollPoints) (*qdrant.ScrollResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodScroll, func(start time.Time) (*qdrant.ScrollResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		fields := validateFilter(req.GetFilter(), "filter")
		if req.Limit != nil && *req.Limit < 1 {
			fields = append(fields, rangeField("limit", *req.Limit, "1", ""))
		}
		if len(fields) > 0 {
			return nil, bodyError(fields...)
		}
		if req.GetOrderBy() != nil {
			return nil, unsupported("scroll with order_by is not supported")
		}
		f, err := compileFilter(req.GetFilter())
		if err != nil {
			return nil, err
		}
		var offset *pointKey
		if req.GetOffset() != nil {
			k, err := parsePointID(req.GetOffset())
			if err != nil {
				return nil, err
			}
			offset = &k
		}
		sel, err := parsePayloadSelector(req.GetWithPayload(), true)
		if err != nil {
			return nil, err
		}
		vsel := parseVectorSelector(req.GetWithVectors())
		limit := defaultScrollLimit
		if req.Limit != nil {
			limit = int(*req.Limit)
		}
		s.mu.Lock() // keys() may rebuild the sorted cache
		defer s.mu.Unlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		keys := c.keys()
		i := 0
		if offset != nil {
			i = sort.Search(len(keys), func(j int) bool { return !keys[j].less(*offset) })
		}
		resp := &qdrant.ScrollResponse{Result: []*qdrant.RetrievedPoint{}}
		for ; i < len(keys); i++ {
			p := c.points[keys[i]]
			if !f.matches(p) {
				continue
			}
			if len(resp.Result) == limit {
				resp.NextPageOffset = p.key.proto()
				break
			}
			resp.Result = append(resp.Result, &qdrant.RetrievedPoint{Id: p.key.proto(), Payload: sel.apply(p.payload), Vectors: c.outputVectors(p, vsel)})
		}
		resp.Time = elapsed(start)
		return resp, nil
	})
}

// Search is exact kNN over one dense vector (SearchPoints.vector_name, ""
// for the unnamed vector). Sparse search is not supported.
func (ps *pointsService) Search(ctx context.Context, req *qdrant.SearchPoints) (*qdrant.SearchResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodSearch, func(start time.Time) (*qdrant.SearchResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		fields := validateFilter(req.GetFilter(), "filter")
		if req.GetLimit() < 1 {
			fields = append(fields, rangeField("limit", req.GetLimit(), "1", ""))
		}
		if len(fields) > 0 {
			return nil, bodyError(fields...)
		}
		if req.GetSparseIndices() != nil {
			return nil, unsupported("sparse search is not supported")
		}
		q, err := knnFromRequest(req.GetFilter(), req.GetWithPayload(), req.GetWithVectors())
		if err != nil {
			return nil, err
		}
		q.using, q.vector, q.limit = req.GetVectorName(), req.GetVector(), int(req.GetLimit())
		q.offset, q.threshold = int(req.GetOffset()), req.ScoreThreshold
		s.mu.Lock()
		defer s.mu.Unlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		hits, err := c.search(q)
		if err != nil {
			return nil, err
		}
		return &qdrant.SearchResponse{Result: hits, Time: elapsed(start)}, nil
	})
}

func knnFromRequest(f *qdrant.Filter, wp *qdrant.WithPayloadSelector, wv *qdrant.WithVectorsSelector) (knnQuery, *apiError) {
	cf, err := compileFilter(f)
	if err != nil {
		return knnQuery{}, err
	}
	sel, err := parsePayloadSelector(wp, false)
	if err != nil {
		return knnQuery{}, err
	}
	return knnQuery{filter: cf, payload: sel, vectors: parseVectorSelector(wv)}, nil
}

// Query supports `nearest` with a dense vector or a point id (using that
// point's vector of the same name), and no query at all (points in id order,
// score 0). Prefetch, fusion, recommend and the other variants answer
// Unimplemented.
func (ps *pointsService) Query(ctx context.Context, req *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodQuery, func(start time.Time) (*qdrant.QueryResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		fields := validateFilter(req.GetFilter(), "filter")
		if req.Limit != nil && *req.Limit < 1 {
			fields = append(fields, rangeField("limit", *req.Limit, "1", ""))
		}
		if len(fields) > 0 {
			return nil, bodyError(fields...)
		}
		if len(req.GetPrefetch()) > 0 || req.GetLookupFrom() != nil {
			return nil, unsupported("query prefetch and lookup_from are not supported")
		}
		q, err := knnFromRequest(req.GetFilter(), req.GetWithPayload(), req.GetWithVectors())
		if err != nil {
			return nil, err
		}
		q.using, q.limit, q.offset, q.threshold = req.GetUsing(), defaultSearchLimit, int(req.GetOffset()), req.ScoreThreshold
		if req.Limit != nil {
			q.limit = int(*req.Limit)
		}
		var byID *pointKey
		switch v := req.GetQuery().GetVariant().(type) {
		case nil:
		case *qdrant.Query_Nearest:
			switch in := v.Nearest.GetVariant().(type) {
			case *qdrant.VectorInput_Dense:
				q.vector = in.Dense.GetData()
			case *qdrant.VectorInput_Id:
				k, err := parsePointID(in.Id)
				if err != nil {
					return nil, err
				}
				byID = &k
			default:
				return nil, unsupported("query nearest input %T is not supported", in)
			}
		default:
			return nil, unsupported("query variant %T is not supported", v)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		if req.GetQuery() == nil {
			return &qdrant.QueryResponse{Result: c.scrollAll(q), Time: elapsed(start)}, nil
		}
		if byID != nil {
			p, ok := c.points[*byID]
			if !ok {
				// CollectionError::PointNotFound (lib/collection/src/operations/types.rs).
				return nil, &apiError{kind: kindNotFound, msg: fmt.Sprintf("Not found: No point with id %s found", idText(*byID))}
			}
			v, ok := p.vector(q.using)
			if !ok || v.kind != vecDense {
				return nil, errVectorNameNotExists(q.using)
			}
			q.vector = v.dense
			// Qdrant excludes the example point from the results.
			exclude := *byID
			inner := q.filter
			q.filter = &filter{must: []condition{func(p *point) bool { return p.key != exclude && inner.matches(p) }}}
		}
		hits, err := c.search(q)
		if err != nil {
			return nil, err
		}
		return &qdrant.QueryResponse{Result: hits, Time: elapsed(start)}, nil
	})
}

// idText is how Qdrant displays an ExtendedPointId.
func idText(k pointKey) string {
	if k.isUUID {
		return k.uuid.String()
	}
	return fmt.Sprint(k.num)
}
