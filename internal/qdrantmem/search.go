package qdrantmem

import (
	"math"
	"sort"

	"github.com/qdrant/go-client/qdrant"
)

// knnQuery is an exact nearest-neighbour query against one dense vector name.
type knnQuery struct {
	using     string
	vector    []float32
	filter    *filter
	limit     int
	offset    int
	threshold *float32
	payload   payloadSelector
	vectors   vectorSelector
}

type scored struct {
	p     *point
	score float32
}

// score computes the similarity Qdrant reports for distance d between a
// query (already preprocessed) and a stored vector: the dot product for
// Cosine (both sides normalised) and Dot, the Euclidean distance for Euclid
// and the L1 distance for Manhattan (the metrics' postprocess turns Qdrant's
// negated internal scores back into distances, lib/segment/src/spaces).
func score(d qdrant.Distance, q, v []float32) float32 {
	switch d {
	case qdrant.Distance_Euclid:
		var s float64
		for i := range q {
			x := float64(q[i]) - float64(v[i])
			s += x * x
		}
		return float32(math.Sqrt(s))
	case qdrant.Distance_Manhattan:
		var s float64
		for i := range q {
			s += math.Abs(float64(q[i]) - float64(v[i]))
		}
		return float32(s)
	default:
		var s float64
		for i := range q {
			s += float64(q[i]) * float64(v[i])
		}
		return float32(s)
	}
}

// smallerIsBetter reports whether lower scores rank first for d.
func smallerIsBetter(d qdrant.Distance) bool {
	return d == qdrant.Distance_Euclid || d == qdrant.Distance_Manhattan
}

// checkQueryVector validates a dense query against the collection the way
// check_query_vectors does (lib/segment/src/common/mod.rs): the name must
// exist, a sparse name rejects a dense query, and the dimension must match.
func (c *collection) checkQueryVector(using string, q []float32) (*denseSpec, *apiError) {
	d, ok := c.schema.dense[using]
	if !ok {
		if _, sparse := c.schema.sparse[using]; sparse {
			return nil, errWrongSparse()
		}
		return nil, errVectorNameNotExists(using)
	}
	if d.multi {
		return nil, unsupported("multi-vector (MaxSim) search is not supported")
	}
	if len(q) != d.size {
		return nil, errWrongDim(d.size, len(q))
	}
	return d, nil
}

// search runs q exhaustively and returns the ranked page. Ties rank by id.
func (c *collection) search(q knnQuery) ([]*qdrant.ScoredPoint, *apiError) {
	d, err := c.checkQueryVector(q.using, q.vector)
	if err != nil {
		return nil, err
	}
	query := q.vector
	if d.distance == qdrant.Distance_Cosine {
		query = normalized(query)
	}
	asc := smallerIsBetter(d.distance)
	hits := make([]scored, 0, len(c.points))
	for _, k := range c.keys() {
		p := c.points[k]
		v, ok := p.vector(q.using)
		if !ok || v.kind != vecDense || !q.filter.matches(p) {
			continue
		}
		s := score(d.distance, query, v.dense)
		if q.threshold != nil && ((asc && s > *q.threshold) || (!asc && s < *q.threshold)) {
			continue
		}
		hits = append(hits, scored{p: p, score: s})
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if asc {
			return hits[i].score < hits[j].score
		}
		return hits[i].score > hits[j].score
	})
	return c.page(hits, q), nil
}

func (c *collection) page(hits []scored, q knnQuery) []*qdrant.ScoredPoint {
	if q.offset >= len(hits) {
		return []*qdrant.ScoredPoint{}
	}
	hits = hits[q.offset:]
	if len(hits) > q.limit {
		hits = hits[:q.limit]
	}
	out := make([]*qdrant.ScoredPoint, len(hits))
	for i, h := range hits {
		out[i] = &qdrant.ScoredPoint{
			Id:      h.p.key.proto(),
			Payload: q.payload.apply(h.p.payload),
			Score:   h.score,
			Vectors: c.outputVectors(h.p, q.vectors),
		}
	}
	return out
}

// scrollAll returns the filtered points in id order with score 0, as Qdrant
// answers a query without a `query` (it scrolls).
func (c *collection) scrollAll(q knnQuery) []*qdrant.ScoredPoint {
	hits := make([]scored, 0, len(c.points))
	for _, k := range c.keys() {
		if p := c.points[k]; q.filter.matches(p) {
			hits = append(hits, scored{p: p})
		}
	}
	return c.page(hits, q)
}
