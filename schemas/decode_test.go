package schemas

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// v5 is the UUIDv5 PointID must derive for s.
func v5(s string) *qdrant.PointId {
	return qdrant.NewIDUUID(uuid.NewSHA1(PointIDNamespace, []byte(s)).String())
}

func dense(v ...float32) *qdrant.Vectors { return qdrant.NewVectorsDense(v) }

// fieldsOf builds a payload map from alternating keys and values.
func fieldsOf(kv ...any) map[string]*qdrant.Value {
	m := make(map[string]*qdrant.Value, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(*qdrant.Value)
	}
	return m
}

// payload is the Record.Payload of fieldsOf(kv...).
func payload(kv ...any) []byte { return encoded(fieldsOf(kv...)) }

// encoded is m as a Record.Payload.
func encoded(m map[string]*qdrant.Value) []byte {
	b, err := EncodePayload(m)
	if err != nil {
		panic(err)
	}
	return b
}

func object(kv ...any) *qdrant.Value { return qdrant.NewValueFromFields(fieldsOf(kv...)) }

// equalRecord reports how got differs from want, or "".
func equalRecord(got, want Record) string {
	var diffs []string
	if got.Op != want.Op {
		diffs = append(diffs, "Op "+got.Op.String()+" want "+want.Op.String())
	}
	if !proto.Equal(got.ID, want.ID) {
		diffs = append(diffs, "ID "+got.ID.String()+" want "+want.ID.String())
	}
	if got.Collection != want.Collection {
		diffs = append(diffs, "Collection "+got.Collection+" want "+want.Collection)
	}
	if !proto.Equal(got.Vectors, want.Vectors) {
		diffs = append(diffs, "Vectors "+got.Vectors.String()+" want "+want.Vectors.String())
	}
	// proto.Equal on a Struct compares the maps key by key, and treats a
	// nil map as an empty one; payloads must match in nil-ness too.
	gp, gerr := got.PayloadMap()
	wp, werr := want.PayloadMap()
	if gerr != nil || werr != nil {
		diffs = append(diffs, fmt.Sprintf("Payload does not unmarshal: %v, want %v", gerr, werr))
	}
	if (gp == nil) != (wp == nil) || !proto.Equal(&qdrant.Struct{Fields: gp}, &qdrant.Struct{Fields: wp}) {
		diffs = append(diffs, "Payload "+(&qdrant.Struct{Fields: gp}).String()+
			" want "+(&qdrant.Struct{Fields: wp}).String())
	}
	return strings.Join(diffs, "; ")
}

func TestDecodeAccepts(t *testing.T) {
	allow := DecoderConfig{AllowCollectionOverride: true}
	long := strings.Repeat("k", MaxIDBytes)
	cases := []struct {
		name       string
		cfg        DecoderConfig
		key, value string
		nilValue   bool
		want       Record
	}{
		{
			name:  "design example with routing",
			cfg:   allow,
			value: `{"id": 42, "vector": [0.1, 0.2, 0.3], "payload": {"title": "Alien", "year": 1979}, "collection_name": "movies"}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Collection: "movies",
				Vectors: dense(0.1, 0.2, 0.3),
				Payload: payload("title", qdrant.NewValueString("Alien"), "year", qdrant.NewValueInt(1979))},
		},
		{
			name:  "collection_name ignored when overrides are off",
			value: `{"id": 42, "vector": [1], "collection_name": "movies"}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "bad collection_name not checked when overrides are off",
			value: `{"id": 42, "vector": [1], "collection_name": 7}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "collection_name null is absent",
			cfg:   allow,
			value: `{"id": 42, "vector": [1], "collection_name": null}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "id zero",
			value: `{"id": 0, "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(0), Vectors: dense(1)},
		},
		{
			name:  "id max uint64",
			value: `{"id": 18446744073709551615, "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(math.MaxUint64), Vectors: dense(1)},
		},
		{
			name:  "id uppercase UUID becomes lowercase canonical",
			value: `{"id": "6F1C1B2E-4A8D-4C1E-9B6E-2F0D3C4B5A69", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"), Vectors: dense(1)},
		},
		{
			name:  "id braced UUID",
			value: `{"id": "{6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69}", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"), Vectors: dense(1)},
		},
		{
			name:  "id urn UUID",
			value: `{"id": "urn:uuid:6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"), Vectors: dense(1)},
		},
		{
			name:  "id 32 hex digits is a UUID",
			value: `{"id": "6f1c1b2e4a8d4c1e9b6e2f0d3c4b5a69", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"), Vectors: dense(1)},
		},
		{
			name:  "id other string is UUIDv5",
			value: `{"id": "user-1", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: v5("user-1"), Vectors: dense(1)},
		},
		{
			name:  "id escaped string is unescaped before hashing",
			value: `{"id": "caf\u00e9 \ud83d\ude00", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: v5("café 😀"), Vectors: dense(1)},
		},
		{
			name:  "id string of digits is a number",
			value: `{"id": "42", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "id string of digits with leading zeros is the same number",
			value: `{"id": "0042", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "id string of digits above uint64 is UUIDv5",
			value: `{"id": "18446744073709551616", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: v5("18446744073709551616"), Vectors: dense(1)},
		},
		{
			name:  "id string of MaxIDBytes bytes",
			value: `{"id": "` + long + `", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: v5(long), Vectors: dense(1)},
		},
		{
			name:  "id from numeric key",
			key:   "7",
			value: `{"vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(7), Vectors: dense(1)},
		},
		{
			name:  "id from UUID key",
			key:   "6F1C1B2E-4A8D-4C1E-9B6E-2F0D3C4B5A69",
			value: `{"vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"), Vectors: dense(1)},
		},
		{
			name:  "id from string key",
			key:   "doc/2026/11",
			value: `{"vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: v5("doc/2026/11"), Vectors: dense(1)},
		},
		{
			name:  "id null uses the key",
			key:   "9",
			value: `{"id": null, "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(9), Vectors: dense(1)},
		},
		{
			name:  "id in value wins over key",
			key:   "9",
			value: `{"id": 10, "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(10), Vectors: dense(1)},
		},
		{
			name:     "tombstone with numeric key",
			key:      "42",
			nilValue: true,
			want:     Record{Op: OpDelete, ID: qdrant.NewIDNum(42)},
		},
		{
			name:     "tombstone with string key",
			key:      "user-1",
			nilValue: true,
			want:     Record{Op: OpDelete, ID: v5("user-1")},
		},
		{
			name:  "unnamed multi-vector",
			value: `{"id": 1, "vector": [[1, 2], [3, 4], [5, 6]]}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(1),
				Vectors: qdrant.NewVectorsMulti([][]float32{{1, 2}, {3, 4}, {5, 6}})},
		},
		{
			name: "named dense, multi and sparse",
			value: `{"id": 1, "vector": {
				"image": [0.5, -0.25],
				"colbert": [[1, 2], [3, 4]],
				"text": {"indices": [3, 1, 200], "values": [0.1, 0.2, 0.3]}}}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(1),
				Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
					"image":   qdrant.NewVectorDense([]float32{0.5, -0.25}),
					"colbert": qdrant.NewVectorMulti([][]float32{{1, 2}, {3, 4}}),
					"text":    qdrant.NewVectorSparse([]uint32{3, 1, 200}, []float32{0.1, 0.2, 0.3}),
				})},
		},
		{
			name:  "sparse with values before indices",
			value: `{"id": 1, "vector": {"s": {"values": [2.5], "indices": [4294967295]}}}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(1),
				Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
					"s": qdrant.NewVectorSparse([]uint32{math.MaxUint32}, []float32{2.5}),
				})},
		},
		{
			name:  "empty sparse vector",
			value: `{"id": 1, "vector": {"s": {"indices": [], "values": []}}}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(1),
				Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
					"s": qdrant.NewVectorSparse([]uint32{}, []float32{}),
				})},
		},
		{
			name: "payload of every JSON type",
			value: `{"id": 1, "vector": [1], "payload": {
				"s": "caf\u00e9\n\"q\"", "i": -42, "big": 9223372036854775807, "small": -9223372036854775808,
				"f": 2.5, "one": 1.0, "exp": 1e2, "t": true, "no": false, "n": null,
				"list": [1, "a", [], {}], "obj": {"nested": {"deep": [null]}}, "empty": {}}}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(1), Vectors: dense(1),
				Payload: payload(
					"s", qdrant.NewValueString("café\n\"q\""),
					"i", qdrant.NewValueInt(-42),
					"big", qdrant.NewValueInt(math.MaxInt64),
					"small", qdrant.NewValueInt(math.MinInt64),
					"f", qdrant.NewValueDouble(2.5),
					"one", qdrant.NewValueDouble(1),
					"exp", qdrant.NewValueDouble(100),
					"t", qdrant.NewValueBool(true),
					"no", qdrant.NewValueBool(false),
					"n", qdrant.NewValueNull(),
					"list", qdrant.NewValueFromList(qdrant.NewValueInt(1), qdrant.NewValueString("a"),
						qdrant.NewValueFromList(), object()),
					"obj", object("nested", object("deep", qdrant.NewValueFromList(qdrant.NewValueNull()))),
					"empty", object(),
				)},
		},
		{
			name:  "payload null is absent",
			value: `{"id": 1, "vector": [1], "payload": null}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(1), Vectors: dense(1)},
		},
		{
			name:  "empty payload is nil",
			value: `{"id": 1, "vector": [1], "payload": {}}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(1), Vectors: dense(1)},
		},
		{
			name:  "duplicate fields: last wins, earlier bad ones are ignored",
			cfg:   allow,
			value: `{"id": -1, "vector": [], "payload": 5, "collection_name": "", "id": 2, "vector": [3], "payload": {"a": 1, "a": 2}, "collection_name": "c"}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(2), Collection: "c", Vectors: dense(3),
				Payload: payload("a", qdrant.NewValueInt(2))},
		},
		{
			name:  "duplicate named vectors: last wins",
			value: `{"id": 1, "vector": {"a": [1], "a": [2, 3]}}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(1),
				Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVectorDense([]float32{2, 3})})},
		},
		{
			name:  "unknown fields are ignored",
			value: `{"ts": "2026-11-21", "id": 1, "meta": {"a": [1, {"b": null}]}, "vector": [1], "extra": -1.5e3}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(1), Vectors: dense(1)},
		},
		{
			name:  "escaped field names match",
			value: `{"\u0069d": 5, "vec\u0074or": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(5), Vectors: dense(1)},
		},
		{
			name:  "whitespace everywhere",
			value: " \t\r\n{ \"id\" : 5 , \"vector\" : [ 1 , 2 ] , \"payload\" : { \"a\" : [ ] } } \n",
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(5), Vectors: dense(1, 2),
				Payload: payload("a", qdrant.NewValueFromList())},
		},
		{
			name: "custom field names",
			cfg: DecoderConfig{IDField: "pk", VectorField: "embedding", PayloadField: "meta",
				CollectionField: "target", AllowCollectionOverride: true},
			value: `{"pk": 3, "embedding": [1], "meta": {"x": 1}, "target": "t", "id": "ignored", "vector": "ignored"}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(3), Collection: "t", Vectors: dense(1),
				Payload: payload("x", qdrant.NewValueInt(1))},
		},
		{
			name:  "float edge values",
			value: `{"id": 1, "vector": [-0.0, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, 1.17549435e-38, 1e-50, 0.1, 16777217]}`,
			want: Record{Op: OpUpsert, ID: qdrant.NewIDNum(1),
				Vectors: dense(float32(math.Copysign(0, -1)), math.MaxFloat32, -math.MaxFloat32,
					math.SmallestNonzeroFloat32, 0x1p-126, 0, 0.1, 16777216)},
		},
		// Delete records.
		{
			name:  "delete record",
			value: `{"id": 42, "delete": true}`,
			want:  Record{Op: OpDelete, ID: qdrant.NewIDNum(42)},
		},
		{
			name:  "delete record routed",
			cfg:   allow,
			value: `{"id": "sku-1", "delete": true, "collection_name": "products"}`,
			want:  Record{Op: OpDelete, ID: v5("sku-1"), Collection: "products"},
		},
		{
			name:  "delete record ignores vector and payload, even bad ones",
			value: `{"id": 42, "vector": "garbage", "payload": [1], "delete": true}`,
			want:  Record{Op: OpDelete, ID: qdrant.NewIDNum(42)},
		},
		{
			name:  "delete record without id deletes the key's point",
			key:   "movie-42",
			value: `{"delete": true}`,
			want:  Record{Op: OpDelete, ID: v5("movie-42")},
		},
		{
			name:  "delete false is an upsert",
			value: `{"id": 42, "vector": [1], "delete": false}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "delete null is an upsert",
			value: `{"id": 42, "vector": [1], "delete": null}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "last delete field wins",
			value: `{"id": 42, "delete": true, "vector": [1], "delete": false}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "renamed delete field",
			cfg:   DecoderConfig{DeleteField: "__deleted"},
			value: `{"id": 42, "delete": true, "__deleted": true}`,
			want:  Record{Op: OpDelete, ID: qdrant.NewIDNum(42)},
		},
		{
			name:  "renamed delete field: delete is an ordinary field",
			cfg:   DecoderConfig{DeleteField: "__deleted"},
			value: `{"id": 42, "vector": [1], "delete": true}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		// Key id rules.
		{
			name:  "fallback: value id wins over a different key",
			key:   "movie-42",
			value: `{"id": 42, "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "key: the key is the id, the value id is ignored",
			cfg:   DecoderConfig{KeyID: KeyIDKey},
			key:   "movie-42",
			value: `{"id": -1, "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: v5("movie-42"), Vectors: dense(1)},
		},
		{
			name:  "key: delete record deletes the key's point",
			cfg:   DecoderConfig{KeyID: KeyIDKey},
			key:   "movie-42",
			value: `{"id": 42, "delete": true}`,
			want:  Record{Op: OpDelete, ID: v5("movie-42")},
		},
		{
			name:  "strict: value id equal to the key",
			cfg:   DecoderConfig{KeyID: KeyIDStrict},
			key:   "0042",
			value: `{"id": 42, "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(42), Vectors: dense(1)},
		},
		{
			name:  "strict: UUID value id equal to the key in another form",
			cfg:   DecoderConfig{KeyID: KeyIDStrict},
			key:   "{6F1C1B2E-4A8D-4C1E-9B6E-2F0D3C4B5A69}",
			value: `{"id": "6f1c1b2e4a8d4c1e9b6e2f0d3c4b5a69", "vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"), Vectors: dense(1)},
		},
		{
			name:  "strict: no value id, the key is the id",
			cfg:   DecoderConfig{KeyID: KeyIDStrict},
			key:   "movie-42",
			value: `{"vector": [1]}`,
			want:  Record{Op: OpUpsert, ID: v5("movie-42"), Vectors: dense(1)},
		},
		{
			name:     "strict: tombstone",
			cfg:      DecoderConfig{KeyID: KeyIDStrict},
			key:      "movie-42",
			nilValue: true,
			want:     Record{Op: OpDelete, ID: v5("movie-42")},
		},
		{
			name:  "record exactly at MaxBytes",
			cfg:   DecoderConfig{MaxBytes: len(`{"id":1,"vector":[1]}`) + 1},
			key:   "k",
			value: `{"id":1,"vector":[1]}`,
			want:  Record{Op: OpUpsert, ID: qdrant.NewIDNum(1), Vectors: dense(1)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var key, value []byte
			if c.key != "" {
				key = []byte(c.key)
			}
			if !c.nilValue {
				value = []byte(c.value)
			}
			got, err := NewDecoder(c.cfg).Decode(key, value)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := equalRecord(got, c.want); diff != "" {
				t.Errorf("Decode: %s", diff)
			}
		})
	}
}

// TestDecodeSignedZero checks -0 survives (proto.Equal does not tell -0
// from 0).
func TestDecodeSignedZero(t *testing.T) {
	got, err := NewDecoder(DecoderConfig{}).Decode(nil, []byte(`{"id":1,"vector":[-0.0, 0, -0]}`))
	if err != nil {
		t.Fatal(err)
	}
	data := got.Vectors.GetVector().GetDense().GetData()
	if len(data) != 3 || !math.Signbit(float64(data[0])) || math.Signbit(float64(data[1])) || !math.Signbit(float64(data[2])) {
		t.Errorf("vector = %v, want [-0 0 -0] with signs", data)
	}
}

// TestDecodeReusesNothing checks that records stay intact after the
// decoder, its input and its scratch are reused.
func TestDecodeReusesNothing(t *testing.T) {
	d := NewDecoder(DecoderConfig{AllowCollectionOverride: true})
	value := []byte(`{"id": "a\"b", "vector": {"v": [1, 2], "s": {"indices": [1], "values": [5]}}, "payload": {"k\u00e9": "x\ty"}, "collection_name": "c\u00e9"}`)
	first, err := d.Decode(nil, value)
	if err != nil {
		t.Fatal(err)
	}
	want := Record{Op: OpUpsert, ID: v5(`a"b`), Collection: "cé",
		Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
			"v": qdrant.NewVectorDense([]float32{1, 2}),
			"s": qdrant.NewVectorSparse([]uint32{1}, []float32{5}),
		}),
		Payload: payload("ké", qdrant.NewValueString("x\ty"))}
	for i := range value {
		value[i] = ' '
	}
	for range 3 {
		if _, err := d.Decode(nil, []byte(`{"id": "z\"z", "vector": {"v": [7, 8], "s": {"indices": [9], "values": [9]}}, "payload": {"k\u00e9": "q\tq"}, "collection_name": "d\u00e9"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if diff := equalRecord(first, want); diff != "" {
		t.Errorf("first record changed: %s", diff)
	}
	// Appending to a vector must not reach a neighbour's memory.
	a, _ := d.Decode(nil, []byte(`{"id":1,"vector":[1,2]}`))
	b, _ := d.Decode(nil, []byte(`{"id":2,"vector":[3,4]}`))
	da := a.Vectors.GetVector().GetDense().GetData()
	_ = append(da, 99)
	if db := b.Vectors.GetVector().GetDense().GetData(); db[0] != 3 {
		t.Errorf("appending to one vector changed the next: %v", db)
	}
}

// TestDecodeMatchesConstructors checks that the decoder's boxed messages
// have exactly the shape of the go-client constructors (same oneof
// wrappers), which is what real Qdrant accepts.
func TestDecodeMatchesConstructors(t *testing.T) {
	d := NewDecoder(DecoderConfig{})
	r, err := d.Decode([]byte("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"), []byte(`{"vector": {"d": [1], "m": [[1]], "s": {"indices": [1], "values": [1]}}, "payload": {"x": {"y": [1]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := r.PayloadMap()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []proto.Message{r.ID, r.Vectors, payload["x"]} {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal %T: %v", m, err)
		}
		back := m.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(b, back); err != nil {
			t.Fatalf("Unmarshal %T: %v", m, err)
		}
		if !proto.Equal(m, back) {
			t.Errorf("%T does not round-trip: %v vs %v", m, m, back)
		}
	}
	if _, ok := r.ID.GetPointIdOptions().(*qdrant.PointId_Uuid); !ok {
		t.Errorf("ID options %T, want *qdrant.PointId_Uuid", r.ID.GetPointIdOptions())
	}
	named := r.Vectors.GetVectors().GetVectors()
	if _, ok := named["d"].GetVector().(*qdrant.Vector_Dense); !ok {
		t.Errorf("dense vector is %T, want *qdrant.Vector_Dense (NewVectorDense)", named["d"].GetVector())
	}
	if _, ok := named["m"].GetVector().(*qdrant.Vector_MultiDense); !ok {
		t.Errorf("multi vector is %T, want *qdrant.Vector_MultiDense (NewVectorMulti)", named["m"].GetVector())
	}
	if _, ok := named["s"].GetVector().(*qdrant.Vector_Sparse); !ok {
		t.Errorf("sparse vector is %T, want *qdrant.Vector_Sparse (NewVectorSparse)", named["s"].GetVector())
	}
	if named["d"].GetData() != nil {
		t.Error("dense vector sets the deprecated Data field")
	}
}

// TestDecodeAllocations guards the hot path's allocation budget: vector
// data, protobuf messages and repeated names cost no allocation per record
// in steady state (only shared chunks, amortized); what remains is the
// payload map and its string values, and the text of a UUID id.
func TestDecodeAllocations(t *testing.T) {
	cases := []struct {
		name       string
		key, value []byte
		max        float64
	}{
		{"dense128 with 3-field payload", nil, denseRecord(128), 4},
		{"named dense and sparse", nil, namedRecord(), 6},
		{"dense without payload", []byte("42"), []byte(`{"vector": [0.1, 0.2, 0.3]}`), 0},
		{"tombstone with numeric key", []byte("42"), nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(DecoderConfig{})
			got := testing.AllocsPerRun(200, func() {
				if _, err := d.Decode(c.key, c.value); err != nil {
					t.Fatal(err)
				}
			})
			if got > c.max {
				t.Errorf("%v allocations per record, budget %v", got, c.max)
			}
		})
	}
}

// TestDecoderBoundsItsMemory checks that a huge record does not leave
// huge scratch buffers behind, that the intern table stays bounded, and
// that the decoder keeps no reference to the value.
func TestDecoderBoundsItsMemory(t *testing.T) {
	d := NewDecoder(DecoderConfig{})
	var b strings.Builder
	b.WriteString(`{"id": 1, "vector": {"d": [`)
	for i := range 100000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("1")
	}
	b.WriteString(`], "s": {"indices": [`)
	for i := range 100000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(strconv.Itoa(100000 - i))
	}
	b.WriteString(`], "values": [0`)
	b.WriteString(strings.Repeat(",0", 99999))
	b.WriteString(`]}}, "payload": {"s": "` + strings.Repeat(`\n`, 100000) + `"`)
	for i := range 2 * maxInterned {
		fmt.Fprintf(&b, `, "key%d": %d`, i, i)
	}
	b.WriteString(`}}`)
	rec, err := d.Decode(nil, []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Vectors.GetVectors().GetVectors()["d"].GetDense().GetData()); n != 100000 {
		t.Fatalf("dense vector has %d components", n)
	}
	payload, err := rec.PayloadMap()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(payload); n != 1+2*maxInterned {
		t.Fatalf("payload has %d keys", n)
	}
	for name, c := range map[string]int{"floats": cap(d.floats), "indices": cap(d.indices),
		"sorted": cap(d.sorted), "unescaped": cap(d.sc.unescaped), "wire": cap(d.wire)} {
		if c > maxScratch {
			t.Errorf("scratch %s kept %d entries, limit %d", name, c, maxScratch)
		}
	}
	if len(d.names) > maxInterned {
		t.Errorf("intern table has %d names, limit %d", len(d.names), maxInterned)
	}
	if d.sc.data != nil {
		t.Error("the decoder still references the value")
	}
}

// TestRecordsCrossGoroutines hands records to another goroutine that
// marshals them (proto.Marshal writes each message's size cache) while the
// decoder carves the next records from the same chunks; run with -race it
// proves records share no written memory with each other or the decoder.
func TestRecordsCrossGoroutines(t *testing.T) {
	d := NewDecoder(DecoderConfig{})
	values := [][]byte{denseRecord(16), namedRecord(),
		[]byte(`{"id": 3, "vector": [[1, 2], [3, 4]], "payload": {"a": {"b": [1, "x", null]}}}`)}
	want := make([][]byte, len(values))
	for i, v := range values {
		rec, err := NewDecoder(DecoderConfig{}).Decode([]byte("k"), v)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = marshalRecord(t, rec)
	}
	records := make(chan Record, 8)
	done := make(chan error)
	go func() {
		defer close(done)
		i := 0
		for rec := range records {
			if got := marshalRecord(t, rec); !bytes.Equal(got, want[i%len(want)]) {
				done <- fmt.Errorf("record %d marshals differently", i)
				for range records {
				}
				return
			}
			i++
		}
	}()
	for i := range 600 {
		rec, err := d.Decode([]byte("k"), values[i%len(values)])
		if err != nil {
			t.Fatal(err)
		}
		records <- rec
	}
	close(records)
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func marshalRecord(t *testing.T, rec Record) []byte {
	pm, err := rec.PayloadMap()
	if err != nil {
		t.Fatal(err)
	}
	point := &qdrant.PointStruct{Id: rec.ID, Vectors: rec.Vectors, Payload: pm}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(point)
	if err != nil {
		t.Errorf("marshal: %v", err)
	}
	return b
}

// TestPayloadLengths: the JSON payload's length prefixes, reserved as
// one byte, are widened at every level where the content outgrows it.
func TestPayloadLengths(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 70000} {
		long := strings.Repeat("x", n)
		value := fmt.Sprintf(`{"id": 1, "vector": [1], "payload": {"a": {"b": [%q, {"c": %q}], "d": %q}, "e": 1}}`, long, long, long)
		rec, err := NewDecoder(DecoderConfig{}).Decode(nil, []byte(value))
		if err != nil {
			t.Fatal(err)
		}
		s := qdrant.NewValueString(long)
		want := payload("a", object("b", qdrant.NewValueFromList(s, object("c", s)), "d", s), "e", qdrant.NewValueInt(1))
		if diff := equalRecord(rec, Record{Op: OpUpsert, ID: qdrant.NewIDNum(1), Vectors: dense(1), Payload: want}); diff != "" {
			t.Fatalf("strings of %d bytes: %s", n, diff)
		}
	}
}
