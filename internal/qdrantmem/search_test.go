package qdrantmem

import (
	"fmt"
	"math"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

type hit struct {
	id    string
	score float32
}

func hitsOf(pts []*qdrant.ScoredPoint) []hit {
	out := make([]hit, len(pts))
	for i, p := range pts {
		out[i] = hit{idString(p.GetId()), p.GetScore()}
	}
	return out
}

func sameHits(got, want []hit) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].id != want[i].id || math.Abs(float64(got[i].score-want[i].score)) > 1e-5 {
			return false
		}
	}
	return true
}

// TestSearchDistances checks exact kNN order and scores for each distance.
// Points: 1=(1,0) 2=(0,2) 3=(3,3); query (1,1).
func TestSearchDistances(t *testing.T) {
	s2 := float32(math.Sqrt2)
	tests := []struct {
		d    qdrant.Distance
		want []hit
	}{
		// Cosine: vectors normalised; score is the cosine.
		{qdrant.Distance_Cosine, []hit{{"3", 1}, {"1", 1 / s2}, {"2", 1 / s2}}},
		{qdrant.Distance_Dot, []hit{{"3", 6}, {"2", 2}, {"1", 1}}},
		// Euclid and Manhattan: score is the distance, smaller first.
		{qdrant.Distance_Euclid, []hit{{"1", 1}, {"2", s2}, {"3", float32(math.Sqrt(8))}}},
		{qdrant.Distance_Manhattan, []hit{{"1", 1}, {"2", 2}, {"3", 4}}},
	}
	for _, tc := range tests {
		t.Run(tc.d.String(), func(t *testing.T) {
			e := newEnv(t)
			e.createDense(t, "c", 2, tc.d)
			e.upsert(t, "c", pt(1, []float32{1, 0}, nil), pt(2, []float32{0, 2}, nil), pt(3, []float32{3, 3}, nil))
			res, err := e.c.GetPointsClient().Search(ctxT(t), &qdrant.SearchPoints{CollectionName: "c", Vector: []float32{1, 1}, Limit: 10})
			mustOK(t, err)
			if got := hitsOf(res.GetResult()); !sameHits(got, tc.want) {
				t.Errorf("Search = %v, want %v", got, tc.want)
			}
			q, err := e.c.Query(ctxT(t), &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 1})})
			mustOK(t, err)
			if got := hitsOf(q); !sameHits(got, tc.want) {
				t.Errorf("Query = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSearchOptions(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.createNamed(t, "c", map[string]uint64{"a": 2, "b": 3}, "s")
	for i := uint64(1); i <= 5; i++ {
		e.upsert(t, "c", &qdrant.PointStruct{Id: qdrant.NewIDNum(i),
			Vectors: named(map[string]*qdrant.Vector{"a": qdrant.NewVector(float32(i), 0), "b": qdrant.NewVector(0, 0, float32(10-i))}),
			Payload: qdrant.NewValueMap(map[string]any{"odd": i%2 == 1})})
	}
	tests := []struct {
		name string
		req  *qdrant.QueryPoints
		want string
	}{
		{"using a", &qdrant.QueryPoints{Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryDense([]float32{1, 0})}, "[5 4 3 2 1]"},
		{"using b", &qdrant.QueryPoints{Using: qdrant.PtrOf("b"), Query: qdrant.NewQueryDense([]float32{0, 0, 1})}, "[1 2 3 4 5]"},
		{"limit and offset", &qdrant.QueryPoints{Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryDense([]float32{1, 0}), Limit: qdrant.PtrOf(uint64(2)), Offset: qdrant.PtrOf(uint64(1))}, "[4 3]"},
		{"filter", &qdrant.QueryPoints{Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryDense([]float32{1, 0}), Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchBool("odd", true)}}}, "[5 3 1]"},
		{"score threshold", &qdrant.QueryPoints{Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryDense([]float32{1, 0}), ScoreThreshold: qdrant.PtrOf(float32(3))}, "[5 4 3]"},
		{"by id excludes the example", &qdrant.QueryPoints{Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryID(qdrant.NewIDNum(5)), Limit: qdrant.PtrOf(uint64(2))}, "[4 3]"},
		{"no query scrolls", &qdrant.QueryPoints{Limit: qdrant.PtrOf(uint64(3))}, "[1 2 3]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.CollectionName = "c"
			res, err := e.c.Query(ctx, tc.req)
			mustOK(t, err)
			var got []string
			for _, h := range hitsOf(res) {
				got = append(got, h.id)
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}
	res, err := e.c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryDense([]float32{1, 0}),
		Limit: qdrant.PtrOf(uint64(1)), WithPayload: qdrant.NewWithPayload(true), WithVectors: qdrant.NewWithVectorsInclude("a")})
	mustOK(t, err)
	if res[0].GetPayload()["odd"] == nil || res[0].GetVectors().GetVectors().GetVectors()["a"] == nil {
		t.Errorf("with payload and vector a: %v", res[0])
	}
	res, err = e.c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryDense([]float32{1, 0}), Limit: qdrant.PtrOf(uint64(1))})
	mustOK(t, err)
	if res[0].GetPayload() != nil || res[0].GetVectors() != nil {
		t.Errorf("defaults send payload or vectors: %v", res[0])
	}
}

func TestSearchErrors(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.createNamed(t, "c", map[string]uint64{"a": 2}, "s")
	tests := []struct {
		name string
		req  *qdrant.QueryPoints
		code codes.Code
		msg  string
	}{
		{"wrong dimension", &qdrant.QueryPoints{Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryDense([]float32{1})}, codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: 2, got 1"},
		{"unknown vector", &qdrant.QueryPoints{Using: qdrant.PtrOf("z"), Query: qdrant.NewQueryDense([]float32{1, 2})}, codes.InvalidArgument, "Wrong input: Not existing vector name error: z"},
		{"unnamed on named config", &qdrant.QueryPoints{Query: qdrant.NewQueryDense([]float32{1, 2})}, codes.InvalidArgument, "Wrong input: Not existing vector name error: "},
		{"dense query on sparse name", &qdrant.QueryPoints{Using: qdrant.PtrOf("s"), Query: qdrant.NewQueryDense([]float32{1, 2})}, codes.InvalidArgument, "Wrong input: Conversion between sparse and regular vectors failed"},
		{"missing point", &qdrant.QueryPoints{Using: qdrant.PtrOf("a"), Query: qdrant.NewQueryID(qdrant.NewIDNum(42))}, codes.NotFound, "Not found: No point with id 42 found"},
		{"limit 0", &qdrant.QueryPoints{Query: qdrant.NewQueryDense([]float32{1, 2}), Limit: qdrant.PtrOf(uint64(0))}, codes.InvalidArgument, "Validation error in body: [limit: value 0 invalid, must be 1 or larger]"},
		{"unsupported variant", &qdrant.QueryPoints{Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF)}, codes.Unimplemented, "qdrantmem: query variant *qdrant.Query_Fusion is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.CollectionName = "c"
			_, err := e.c.Query(ctx, tc.req)
			wantStatus(t, err, tc.code, tc.msg)
		})
	}
	_, err := e.c.GetPointsClient().Search(ctx, &qdrant.SearchPoints{CollectionName: "c", VectorName: qdrant.PtrOf("a"), Vector: []float32{1, 2}})
	wantStatus(t, err, codes.InvalidArgument, "Validation error in body: [limit: value 0 invalid, must be 1 or larger]")
	_, err = e.c.GetPointsClient().Search(ctx, &qdrant.SearchPoints{CollectionName: "x", Vector: []float32{1, 2}, Limit: 1})
	wantStatus(t, err, codes.NotFound, "Not found: Collection `x` doesn't exist!")
}
