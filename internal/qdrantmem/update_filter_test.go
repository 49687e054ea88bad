package qdrantmem

import (
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

// TestUpdateFilterFencing is the connector's fencing pattern: each point
// carries its source offset and an upsert only overwrites points whose
// stored offset is lower (conditional_upsert, lib/shard/src/update.rs).
func TestUpdateFilterFencing(t *testing.T) {
	olderThan := func(off float64) *qdrant.Filter {
		return &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("offset", &qdrant.Range{Lt: &off})}}
	}
	p := func(id uint64, off int) *qdrant.PointStruct {
		return pt(id, []float32{1}, map[string]any{"offset": off})
	}
	tests := []struct {
		name   string
		filter *qdrant.Filter
		mode   *qdrant.UpdateMode
		points []*qdrant.PointStruct
		// want: id -> stored offset after the upsert (absent: not stored).
		want map[string]int64
	}{
		{name: "newer offset overwrites, older is skipped, absent inserted",
			filter: olderThan(50), points: []*qdrant.PointStruct{p(1, 50), p(2, 50), p(9, 50)},
			// 1 holds 10 (< 50: updated), 2 holds 70 (not < 50: kept), 9 absent: inserted.
			want: map[string]int64{"n:1": 50, "n:2": 70, "n:3": 20, "n:9": 50}},
		{name: "equal offset is not overwritten", filter: olderThan(10), points: []*qdrant.PointStruct{p(1, 10)},
			want: map[string]int64{"n:1": 10, "n:2": 70, "n:3": 20}},
		{name: "point without the key does not match the filter", filter: olderThan(100),
			points: []*qdrant.PointStruct{p(3, 100), pt(4, []float32{1}, map[string]any{"offset": 100})},
			// 3 holds 20 (< 100: updated); 4 exists without "offset": left alone.
			want: map[string]int64{"n:1": 10, "n:2": 70, "n:3": 100}},
		{name: "insert only", mode: qdrant.UpdateMode_InsertOnly.Enum(), points: []*qdrant.PointStruct{p(1, 99), p(5, 99)},
			want: map[string]int64{"n:1": 10, "n:2": 70, "n:3": 20, "n:5": 99}},
		{name: "update only with filter", filter: olderThan(60), mode: qdrant.UpdateMode_UpdateOnly.Enum(), points: []*qdrant.PointStruct{p(1, 60), p(2, 60), p(6, 60)},
			want: map[string]int64{"n:1": 60, "n:2": 70, "n:3": 20}},
	}
	for _, tc := range tests {
		for _, rpc := range []string{"Upsert", "UpdateBatch"} {
			t.Run(tc.name+"/"+rpc, func(t *testing.T) {
				e := newEnv(t)
				e.createDense(t, "c", 1, qdrant.Distance_Dot)
				e.upsert(t, "c", p(1, 10), p(2, 70), pt(3, []float32{1}, map[string]any{"offset": 20}))
				if tc.name == "point without the key does not match the filter" {
					e.upsert(t, "c", pt(4, []float32{1}, map[string]any{"other": 1}))
				}
				var err error
				if rpc == "Upsert" {
					_, err = e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Points: tc.points, UpdateFilter: tc.filter, UpdateMode: tc.mode})
				} else {
					_, err = e.c.UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Operations: []*qdrant.PointsUpdateOperation{
						qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: tc.points, UpdateFilter: tc.filter, UpdateMode: tc.mode})}})
				}
				mustOK(t, err)
				all, _ := e.s.Points("c")
				got := map[string]int64{}
				for k, rp := range all {
					if v, ok := rp.GetPayload()["offset"]; ok {
						got[k] = v.GetIntegerValue()
					}
				}
				if len(got) != len(tc.want) {
					t.Fatalf("offsets = %v, want %v", got, tc.want)
				}
				for k, v := range tc.want {
					if got[k] != v {
						t.Fatalf("offsets = %v, want %v", got, tc.want)
					}
				}
			})
		}
	}
}

func TestUpdateFilterValidation(t *testing.T) {
	e := newEnv(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	_, err := e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{pt(1, []float32{1}, nil)},
		UpdateFilter: &qdrant.Filter{Must: []*qdrant.Condition{{ConditionOneOf: &qdrant.Condition_Field{Field: &qdrant.FieldCondition{Key: "offset"}}}}}})
	wantStatus(t, err, codes.InvalidArgument, "Validation error in body: [update_filter.must[0].condition_one_of.match: Validation error: At least one field condition must be specified [{}]]")
}
