package qdrantmem

import (
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

// TestFilters checks the condition semantics of Qdrant's query_checker.rs
// and condition_checker.rs through Count.
func TestFilters(t *testing.T) {
	e := newEnv(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	e.upsert(t, "c",
		pt(1, []float32{1}, map[string]any{"city": "Berlin", "n": 1, "tags": []any{"a", "b"}, "meta": map[string]any{"lang": "de"}}),
		pt(2, []float32{1}, map[string]any{"city": "London", "n": 2.5, "tags": []any{}, "nul": nil}),
		pt(3, []float32{1}, map[string]any{"city": []any{"Berlin", "Paris"}, "n": 10, "people": []any{map[string]any{"name": "ann", "age": 30}, map[string]any{"name": "bob", "age": 5}}}),
		pt(4, []float32{1}, nil),
	)
	r := func(gte, lt *float64) *qdrant.Range { return &qdrant.Range{Gte: gte, Lt: lt} }
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		f    *qdrant.Filter
		want uint64
	}{
		{"keyword, arrays match any element", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("city", "Berlin")}}, 2},
		{"keywords any", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchKeywords("city", "London", "Paris")}}, 2},
		{"except keywords: absent key does not match", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchExcept("city", "Berlin")}}, 2},
		{"integer match ignores doubles", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchInt("n", 1)}}, 1},
		{"range over ints and doubles", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("n", r(f(2), f(11)))}}, 2},
		{"range on absent key", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("zzz", r(f(0), nil))}}, 0},
		{"nested key path", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("meta.lang", "de")}}, 1},
		{"array wildcard path", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("people[].name", "bob")}}, 1},
		{"nested condition: same object", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewNestedFilter("people", &qdrant.Filter{Must: []*qdrant.Condition{
			qdrant.NewMatch("name", "bob"), qdrant.NewRange("age", r(f(18), nil))}})}}, 0},
		{"is_empty: absent, empty array", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewIsEmpty("tags")}}, 3},
		{"is_null", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewIsNull("nul")}}, 1},
		{"should", &qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatch("city", "London"), qdrant.NewHasID(qdrant.NewIDNum(4))}}, 2},
		{"must_not", &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewMatch("city", "Berlin")}}, 2},
		{"min_should", &qdrant.Filter{MinShould: &qdrant.MinShould{MinCount: 2, Conditions: []*qdrant.Condition{
			qdrant.NewMatch("city", "Berlin"), qdrant.NewMatch("city", "Paris"), qdrant.NewMatchInt("n", 1)}}}, 2},
		{"nested filter condition", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewFilterAsCondition(&qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatchInt("n", 1), qdrant.NewMatchInt("n", 10)}})}}, 2},
		{"has_vector", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewHasVector("")}}, 4},
		{"empty condition is dropped", &qdrant.Filter{Must: []*qdrant.Condition{{}}}, 4},
		{"text", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchText("city", "ond")}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.count(t, "c", tc.f); got != tc.want {
				t.Errorf("count = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	e := newEnv(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	tests := []struct {
		name string
		f    *qdrant.Filter
		code codes.Code
		msg  string
	}{
		{"field condition without a check", &qdrant.Filter{Must: []*qdrant.Condition{{ConditionOneOf: &qdrant.Condition_Field{Field: &qdrant.FieldCondition{Key: "a"}}}}},
			codes.InvalidArgument, "Validation error in body: [filter.must[0].condition_one_of.match: Validation error: At least one field condition must be specified [{}]]"},
		{"bad json path", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("a..b", "x")}},
			codes.InvalidArgument, "Invalid json path: 'a..b'"},
		{"bad has_id", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewHasID(qdrant.NewIDUUID("x"))}},
			codes.InvalidArgument, "Unable to parse UUID: x"},
		{"geo", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewGeoRadius("loc", 1, 2, 3)}},
			codes.Unimplemented, "qdrantmem: geo conditions are not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.Count(ctxT(t), &qdrant.CountPoints{CollectionName: "c", Filter: tc.f})
			wantStatus(t, err, tc.code, tc.msg)
		})
	}
}
