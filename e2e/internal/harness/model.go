package harness

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Point is one point's content as the suite compares it: its dense vector
// and its payload (integers as int64, other numbers as float64).
type Point struct {
	Vector  []float32
	Payload map[string]any
}

// ID is a point id as a producer writes it: an unsigned integer or a
// string (a UUID or any other text). The record key of a point is its id's
// text, so every record of one point lands in one partition.
type ID struct {
	num   uint64
	str   string
	isStr bool
}

// NumID returns a numeric id (JSON number in the value).
func NumID(n uint64) ID { return ID{num: n} }

// StrID returns a string id (JSON string in the value): a UUID is that
// point id, any other text maps to a UUIDv5 (schemas.PointID).
func StrID(s string) ID { return ID{str: s, isStr: true} }

// String is the id's text, used as the record key.
func (id ID) String() string {
	if id.isStr {
		return id.str
	}
	return strconv.FormatUint(id.num, 10)
}

// PointKey is the PointKey of the Qdrant point id the connector derives
// from this id, by the one derivation of the data contract.
func (id ID) PointKey() string { return PointKey(schemas.PointID(id.String())) }

func (id ID) jsonValue() any {
	if id.isStr {
		return id.str
	}
	return id.num
}

// Record is one Kafka record to produce. A nil Value is a tombstone.
type Record struct {
	Key     []byte
	Value   []byte
	Headers []kgo.RecordHeader
}

// Model is the expected final content of one collection: the last write
// per id, in the order records were added (which must be the order they
// are produced in, per key). Not safe for concurrent use.
type Model struct {
	points map[string]Point
}

// NewModel returns an empty model.
func NewModel() *Model { return &Model{points: make(map[string]Point)} }

// Upsert records an upsert of id and returns the record that asks for it:
// key = id, value = {"id", "vector", "payload"}.
func (m *Model) Upsert(id ID, vector []float32, payload map[string]any) Record {
	value, err := json.Marshal(map[string]any{"id": id.jsonValue(), "vector": vector, "payload": payload})
	if err != nil {
		panic(fmt.Sprintf("encoding record: %v", err)) // only plain values are passed
	}
	m.points[id.PointKey()] = Point{Vector: vector, Payload: normalizePayload(payload)}
	return Record{Key: []byte(id.String()), Value: value}
}

// Delete records a delete of id and returns its tombstone (key = id).
func (m *Model) Delete(id ID) Record {
	delete(m.points, id.PointKey())
	return Record{Key: []byte(id.String())}
}

// UpsertKeyed records an upsert whose value has no id field: the record
// key is the id.
func (m *Model) UpsertKeyed(id ID, vector []float32, payload map[string]any) Record {
	value, err := json.Marshal(map[string]any{"vector": vector, "payload": payload})
	if err != nil {
		panic(fmt.Sprintf("encoding record: %v", err))
	}
	m.points[id.PointKey()] = Point{Vector: vector, Payload: normalizePayload(payload)}
	return Record{Key: []byte(id.String()), Value: value}
}

// Len is the number of points the collection should hold.
func (m *Model) Len() int { return len(m.points) }

// Points returns a copy of the expected content.
func (m *Model) Points() map[string]Point {
	out := make(map[string]Point, len(m.points))
	for k, v := range m.points {
		out[k] = v
	}
	return out
}

// Diff compares the expected content with got and returns one line per
// difference (at most limit lines, then a count), empty when equal. Vectors
// are compared by direction (collections use cosine distance, which Qdrant
// normalizes), payloads exactly.
func Diff(want, got map[string]Point, limit int) []string {
	var missing, extra, wrong []string
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		if why := pointDiff(w, g); why != "" {
			wrong = append(wrong, k+": "+why)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(wrong)
	var out []string
	add := func(kind string, items []string) {
		if len(items) == 0 {
			return
		}
		shown := items
		if len(shown) > limit {
			shown = shown[:limit]
		}
		out = append(out, fmt.Sprintf("%d %s: %s", len(items), kind, strings.Join(shown, "; ")))
	}
	add("missing", missing)
	add("unexpected", extra)
	add("different", wrong)
	return out
}

func pointDiff(want, got Point) string {
	if !sameDirection(want.Vector, got.Vector) {
		return fmt.Sprintf("vector %v, want direction of %v", got.Vector, want.Vector)
	}
	if !reflect.DeepEqual(want.Payload, got.Payload) {
		return fmt.Sprintf("payload %v, want %v", got.Payload, want.Payload)
	}
	return ""
}

func sameDirection(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	na, nb := norm(a), norm(b)
	if na == 0 || nb == 0 {
		return na == nb
	}
	for i := range a {
		if math.Abs(float64(a[i])/na-float64(b[i])/nb) > 1e-4 {
			return false
		}
	}
	return true
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// normalizePayload converts a payload built in Go to the shape ReadPoints
// returns: Go integers become int64, float32 float64, nested maps and
// slices recursively. A float with an integral value becomes int64 too:
// JSON encodes 1.0 as 1, and the record format keeps integers integers.
func normalizePayload(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint32:
		return int64(x)
	case float32:
		return normalizeValue(float64(x))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case map[string]any:
		return normalizePayload(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	}
	return v
}
