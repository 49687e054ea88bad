package sink

import (
	"slices"
	"testing"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func TestMerge(t *testing.T) {
	const u = "550e8400-e29b-41d4-a716-446655440000"
	uuidRec := func(op schemas.Op, id string) *schemas.Record { return &schemas.Record{Op: op, ID: qdrant.NewID(id)} }
	tests := []struct {
		name    string
		ops     []Op
		groups  [][]int // each group's ops, deciding op last
		invalid []int
	}{
		{"distinct ids stay apart", []Op{{Record: upsertRec(1, 4), Offset: 1}, {Record: upsertRec(2, 4), Offset: 2}},
			[][]int{{0}, {1}}, nil},
		{"upsert delete upsert ends with the last upsert", []Op{
			{Record: upsertRec(1, 4), Offset: 10}, {Record: deleteRec(1), Offset: 11}, {Record: upsertRec(1, 4), Offset: 12}},
			[][]int{{0, 1, 2}}, nil},
		{"upsert then delete ends deleted", []Op{{Record: upsertRec(1, 4), Offset: 10}, {Record: deleteRec(1), Offset: 11}},
			[][]int{{0, 1}}, nil},
		{"higher offset wins over input order", []Op{{Record: upsertRec(1, 4), Offset: 20}, {Record: deleteRec(1), Offset: 5}},
			[][]int{{1, 0}}, nil},
		{"equal offsets: the later op wins", []Op{{Record: deleteRec(1), Offset: 5}, {Record: upsertRec(1, 4), Offset: 5}},
			[][]int{{0, 1}}, nil},
		{"uuid spellings are one point", []Op{
			{Record: uuidRec(schemas.OpUpsert, u), Offset: 1},
			{Record: uuidRec(schemas.OpDelete, "550E8400E29B41D4A716446655440000"), Offset: 2},
			{Record: uuidRec(schemas.OpUpsert, "urn:uuid:"+u), Offset: 3}},
			[][]int{{0, 1, 2}}, nil},
		{"number and uuid never collide", []Op{{Record: upsertRec(1, 4), Offset: 1}, {Record: uuidRec(schemas.OpUpsert, "00000000-0000-0000-0000-000000000001"), Offset: 2}},
			[][]int{{0}, {1}}, nil},
		{"non-uuid strings key by text", []Op{{Record: uuidRec(schemas.OpUpsert, "abc"), Offset: 1}, {Record: uuidRec(schemas.OpDelete, "abc"), Offset: 2}, {Record: uuidRec(schemas.OpUpsert, "ABC"), Offset: 3}},
			[][]int{{0, 1}, {2}}, nil},
		{"groups ordered by their deciding op", []Op{{Record: upsertRec(1, 4), Offset: 1}, {Record: upsertRec(2, 4), Offset: 2}, {Record: upsertRec(1, 4), Offset: 3}},
			[][]int{{1}, {0, 2}}, nil},
		{"unsendable ops are invalid", []Op{
			{Record: nil}, {Record: &schemas.Record{Op: schemas.OpUpsert}}, {Record: &schemas.Record{Op: 0, ID: qdrant.NewIDNum(1)}},
			{Record: &schemas.Record{Op: schemas.OpDelete, ID: &qdrant.PointId{}}}, {Record: deleteRec(3), Offset: 1}},
			[][]int{{4}}, []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, invalid := merge(tt.ops, false)
			var got [][]int
			for _, g := range groups {
				got = append(got, g.ops)
			}
			if !slices.EqualFunc(got, tt.groups, slices.Equal) {
				t.Fatalf("groups = %v, want %v", got, tt.groups)
			}
			if !slices.Equal(invalid, tt.invalid) {
				t.Fatalf("invalid = %v, want %v", invalid, tt.invalid)
			}
		})
	}
}
