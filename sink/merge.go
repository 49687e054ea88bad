package sink

import (
	"cmp"
	"slices"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// pointKey identifies a point the way Qdrant does: a number, or a UUID in
// any spelling Qdrant accepts (hyphenated, simple, braced, urn:, any case).
// A string id that is not a UUID keys by its raw text; Qdrant rejects it,
// and bisection isolates it.
type pointKey struct {
	kind uint8 // keyNum, keyUUID or keyRaw
	num  uint64
	uuid uuid.UUID
	raw  string
}

const (
	keyNum uint8 = iota + 1
	keyUUID
	keyRaw
)

// keyOf returns the merge key of a point id; false when the id has no value.
func keyOf(id *qdrant.PointId) (pointKey, bool) {
	switch v := id.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return pointKey{kind: keyNum, num: v.Num}, true
	case *qdrant.PointId_Uuid:
		if u, err := uuid.Parse(v.Uuid); err == nil {
			return pointKey{kind: keyUUID, uuid: u}, true
		}
		return pointKey{kind: keyRaw, raw: v.Uuid}, true
	}
	return pointKey{}, false
}

// group is every op of one Write on one point id, in Kafka order: sorted by
// Offset, ties broken by position in the input. The last element is the op
// that decides the point's final state (last offset wins); the earlier ones
// are superseded by it. If the last one is rejected, the one before it
// decides instead, and so on: a point ends as Kafka order says it would
// without the rejected ops.
type group struct {
	ops []int // indexes into the Write's ops
}

// winner is the index of the op that currently decides the point.
func (g *group) winner() int { return g.ops[len(g.ops)-1] }

// merge groups ops by point id. Groups come in the order of their current
// winner's position in ops, so requests and bisection are deterministic.
// invalid lists the ops that cannot be sent at all (no record, no id, no
// known operation, or with fenced set an offset fencing cannot store); they
// are rejected as ClassValidate by the caller.
//
// It allocates O(1) times for a batch without repeated ids: single-op
// groups share one backing array (capacity-limited, so a second op on an
// id copies out instead of overwriting a neighbour).
func merge(ops []Op, fenced bool) (groups []group, invalid []int) {
	byKey := make(map[pointKey]int, len(ops))
	groups = make([]group, 0, len(ops))
	backing := make([]int, len(ops))
	for i := range ops {
		r := ops[i].Record
		if r == nil || (r.Op != schemas.OpUpsert && r.Op != schemas.OpDelete) || (fenced && !fenceable(ops[i].Offset)) {
			invalid = append(invalid, i)
			continue
		}
		k, ok := keyOf(r.ID)
		if !ok {
			invalid = append(invalid, i)
			continue
		}
		if gi, seen := byKey[k]; seen {
			groups[gi].ops = append(groups[gi].ops, i)
			continue
		}
		backing[i] = i
		byKey[k] = len(groups)
		groups = append(groups, group{ops: backing[i : i+1 : i+1]})
	}
	repeated := false
	for gi := range groups {
		if g := &groups[gi]; len(g.ops) > 1 {
			repeated = true
			// Stable: equal offsets keep input order, so the later op wins.
			slices.SortStableFunc(g.ops, func(a, b int) int { return cmp.Compare(ops[a].Offset, ops[b].Offset) })
		}
	}
	if repeated {
		sortByWinner(groups)
	}
	return groups, invalid
}

// sortByWinner orders groups by their current winner's input position.
func sortByWinner(groups []group) {
	slices.SortFunc(groups, func(a, b group) int { return cmp.Compare(a.winner(), b.winner()) })
}
