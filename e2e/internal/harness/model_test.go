package harness

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func TestDiff(t *testing.T) {
	base := map[string]Point{
		"1": {Vector: []float32{1, 2, 3, 4}, Payload: map[string]any{"n": int64(1)}},
		"2": {Vector: []float32{0, 1, 0, 0}, Payload: map[string]any{}},
	}
	tests := []struct {
		name string
		got  map[string]Point
		want []string // substrings, one per diff line; none: equal
	}{
		{"equal", base, nil},
		{"same direction, other length (cosine normalizes)", map[string]Point{
			"1": {Vector: []float32{0.5, 1, 1.5, 2}, Payload: map[string]any{"n": int64(1)}},
			"2": base["2"],
		}, nil},
		{"missing point", map[string]Point{"1": base["1"]}, []string{"1 missing: 2"}},
		{"unexpected point", map[string]Point{"1": base["1"], "2": base["2"], "3": base["2"]}, []string{"1 unexpected: 3"}},
		{"other vector", map[string]Point{
			"1": {Vector: []float32{4, 3, 2, 1}, Payload: map[string]any{"n": int64(1)}},
			"2": base["2"],
		}, []string{"1 different: 1: vector"}},
		{"other payload value type", map[string]Point{
			"1": {Vector: base["1"].Vector, Payload: map[string]any{"n": float64(1)}},
			"2": base["2"],
		}, []string{"1 different: 1: payload"}},
		{"wrong dimension", map[string]Point{
			"1": {Vector: []float32{1, 2, 3}, Payload: map[string]any{"n": int64(1)}},
			"2": base["2"],
		}, []string{"1 different: 1: vector"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff(base, tc.got, 5)
			if len(got) != len(tc.want) {
				t.Fatalf("Diff = %q, want %d lines like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestDiffLimitsExamples(t *testing.T) {
	want := map[string]Point{}
	for _, k := range []string{"a", "b", "c", "d"} {
		want[k] = Point{Vector: []float32{1}}
	}
	got := Diff(want, map[string]Point{}, 2)
	if len(got) != 1 || got[0] != "4 missing: a; b" {
		t.Errorf("Diff = %q, want the count and the first two ids", got)
	}
}

func TestNormalizePayload(t *testing.T) {
	in := map[string]any{
		"int": 3, "int64": int64(4), "whole float": 5.0, "fraction": 0.25, "f32": float32(1.5),
		"s": "x", "b": true, "nil": nil,
		"nested": map[string]any{"list": []any{1, 2.5, "y"}},
	}
	want := map[string]any{
		"int": int64(3), "int64": int64(4), "whole float": int64(5), "fraction": 0.25, "f32": 1.5,
		"s": "x", "b": true, "nil": nil,
		"nested": map[string]any{"list": []any{int64(1), 2.5, "y"}},
	}
	if got := normalizePayload(in); !reflect.DeepEqual(got, want) {
		t.Errorf("normalizePayload:\n got %#v\nwant %#v", got, want)
	}
}

func TestIDPointKey(t *testing.T) {
	tests := []struct {
		name string
		id   ID
		key  string // record key
		want string // canonical point id
	}{
		{"number", NumID(42), "42", "42"},
		{"digits as a string are the number", StrID("42"), "42", "42"},
		{"UUID", StrID("0a1b2c3d-0000-4000-8000-000000000001"), "0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000001"},
		{"upper-case UUID is canonicalized", StrID("0A1B2C3D-0000-4000-8000-000000000001"), "0A1B2C3D-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000001"},
		{"other text is a UUIDv5", StrID("doc-1"), "doc-1", uuid.NewSHA1(schemas.PointIDNamespace, []byte("doc-1")).String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.String(); got != tc.key {
				t.Errorf("String() = %q, want %q", got, tc.key)
			}
			if got := tc.id.PointKey(); got != tc.want {
				t.Errorf("PointKey() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModel(t *testing.T) {
	m := NewModel()
	r1 := m.Upsert(NumID(1), []float32{1, 0}, map[string]any{"v": 1})
	m.Upsert(NumID(1), []float32{0, 1}, map[string]any{"v": 2})
	m.Upsert(StrID("doc"), []float32{1, 1}, nil)
	del := m.Delete(StrID("doc"))
	keyed := m.UpsertKeyed(NumID(7), []float32{1, 2}, map[string]any{})

	var v map[string]any
	if err := json.Unmarshal(r1.Value, &v); err != nil {
		t.Fatal(err)
	}
	if string(r1.Key) != "1" || v["id"] != float64(1) || v["vector"] == nil || v["payload"] == nil {
		t.Errorf("upsert record: key %q value %s", r1.Key, r1.Value)
	}
	if string(del.Key) != "doc" || del.Value != nil {
		t.Errorf("delete record: key %q value %q, want a tombstone keyed doc", del.Key, del.Value)
	}
	if strings.Contains(string(keyed.Value), `"id"`) || string(keyed.Key) != "7" {
		t.Errorf("keyed upsert: key %q value %s, want the id only in the key", keyed.Key, keyed.Value)
	}
	want := map[string]Point{
		"1": {Vector: []float32{0, 1}, Payload: map[string]any{"v": int64(2)}},
		"7": {Vector: []float32{1, 2}, Payload: map[string]any{}},
	}
	if d := Diff(want, m.Points(), 5); len(d) > 0 || m.Len() != 2 {
		t.Errorf("model content: %v (len %d)", d, m.Len())
	}
}
