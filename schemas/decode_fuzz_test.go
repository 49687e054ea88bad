package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

var fuzzSeeds = []string{
	`{"id": 42, "vector": [0.1, 0.2, 0.3], "payload": {"title": "Alien", "year": 1979}, "collection_name": "movies"}`,
	`{"id": "6F1C1B2E-4A8D-4C1E-9B6E-2F0D3C4B5A69", "vector": {"image": [0.5, -0.25], "colbert": [[1, 2], [3, 4]], "text": {"indices": [3, 1, 200], "values": [0.1, 0.2, 0.3]}}}`,
	`{"vector": [[1, 2], [3, 4]], "payload": {"s": "caf\u00e9\n", "i": -42, "f": 2.5e-3, "t": true, "n": null, "l": [1, "a", [], {}], "o": {"p": {"q": [null]}}}}`,
	`{"id": "user-1", "id": 7, "vector": [], "vector": [1e-45, 3.4028234e38, -0.0], "x": {"y": [true, false]}}`,
	`{"id": 1, "vector": {"s": {"values": [], "indices": []}}, "payload": null, "collection_name": null}`,
	`{"\u0069d": "\ud83d\ude00", "vector": [1]}`,
	`{"id": -1, "vector": [1]}`,
	`{"id": 1.5e3, "vector": [1]}`,
	`{"id": 18446744073709551616, "vector": [1]}`,
	`{"id": "a\u0001", "vector": [1]}`,
	`{"id": 1, "vector": {"s": {"indices": [1, 1], "values": [1, 2]}}}`,
	`{"id": 1, "vector": {"s": {"indices": [4294967296], "values": [1]}}}`,
	`{"id": 1, "vector": [[1, 2], [3]]}`,
	`{"id": 1, "vector": [1e39]}`,
	`{"id": 1, "vector": [1], "payload": {"n": 9223372036854775808}}`,
	`{"id": 1, "vector": [1], "payload": [1]}`,
	`{"id": 1, "vector": [1], "collection_name": ""}`,
	`{"id": 1, "vector": [NaN]}`,
	`{"id": 1, "vector": [01]}`,
	"{\"id\": \"\xff\", \"vector\": [1]}",
	`[1, 2]`,
	`null`,
	``,
	`{"id": 1, "vector": [1],`,
	`{"id":1,"vector":[1]} x`,
	`{"id": 7, "delete": true, "collection_name": "c"}`,
	`{"delete": true, "vector": "ignored"}`,
	`{"id": 1, "vector": [1], "delete": false, "delete": null}`,
	`{"id": 1, "delete": "yes"}`,
	`{"id": "k-1", "vector": [1]}`,
}

// FuzzDecode checks the decoder's contract on arbitrary input: it never
// panics; every error is a *RecordError with a consistent class and stage;
// a decoded record is one real Qdrant accepts (non-nil id, non-empty finite
// vectors, valid UTF-8) and equals what encoding/json reads from the same
// value; invalid JSON is always rejected; decoding is deterministic.
func FuzzDecode(f *testing.F) {
	for i, s := range fuzzSeeds {
		rule := uint8(i % 3)
		f.Add([]byte("k-1"), []byte(s), false, true, uint16(0), rule)
		f.Add([]byte(nil), []byte(s), false, false, uint16(0), rule)
		f.Add([]byte("7"), []byte(s), false, true, uint16(0), uint8(KeyIDStrict))
	}
	f.Add([]byte("42"), []byte(nil), true, false, uint16(0), uint8(0))
	f.Add([]byte(nil), []byte(nil), true, false, uint16(0), uint8(0))
	f.Add([]byte("\x00"), []byte(nil), true, false, uint16(0), uint8(0))
	f.Add([]byte("k"), []byte(`{"id":1,"vector":[1]}`), false, false, uint16(10), uint8(0))

	f.Fuzz(func(t *testing.T, key, value []byte, tombstone, allow bool, maxBytes uint16, rule uint8) {
		if tombstone {
			value = nil
		} else if value == nil {
			value = []byte{}
		}
		cfg := DecoderConfig{AllowCollectionOverride: allow, MaxBytes: int(maxBytes), KeyID: KeyIDRule(rule % 3)}
		d := NewDecoder(cfg)
		rec, err := d.Decode(key, value)
		if err != nil {
			checkFuzzError(t, err, value)
		} else {
			checkFuzzRecord(t, rec, key, value, cfg)
		}

		// Deterministic: the same decoder again, and a fresh one.
		for _, dd := range []*Decoder{d, NewDecoder(cfg)} {
			rec2, err2 := dd.Decode(key, value)
			if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
				t.Fatalf("re-decode: %v, then %v", err, err2)
			}
			if err == nil {
				if diff := equalRecord(rec2, rec); diff != "" {
					t.Fatalf("re-decode differs: %s", diff)
				}
			}
		}
	})
}

func checkFuzzError(t *testing.T, err error, value []byte) {
	re, ok := err.(*RecordError)
	if !ok {
		t.Fatalf("error %T is not a *RecordError: %v", err, err)
	}
	switch {
	case re.Class == ClassDecode && re.Stage == StageDecode:
	case re.Class == ClassValidate && re.Stage == StageValidate:
	case re.Class == ClassOversize && re.Stage == StageDecode:
	default:
		t.Fatalf("class/stage %s/%s: %v", re.Class, re.Stage, err)
	}
	if re.Err == nil || re.Error() == "" {
		t.Fatalf("empty error message")
	}
	var se *syntaxError
	if errors.As(err, &se) && value != nil && json.Valid(value) && utf8.Valid(value) &&
		!strings.Contains(se.msg, "nesting deeper") {
		t.Fatalf("valid JSON reported as invalid: %v", err)
	}
}

func checkFuzzRecord(t *testing.T, rec Record, key, value []byte, cfg DecoderConfig) {
	allow := cfg.AllowCollectionOverride
	if rec.ID == nil || rec.ID.GetPointIdOptions() == nil {
		t.Fatalf("record without an id: %+v", rec)
	}
	if _, err := proto.Marshal(rec.ID); err != nil {
		t.Fatalf("id does not marshal: %v", err)
	}
	if value == nil {
		if rec.Op != OpDelete || rec.Vectors != nil || rec.Payload != nil || rec.Collection != "" {
			t.Fatalf("tombstone decoded as %+v", rec)
		}
		if !proto.Equal(rec.ID, PointID(string(key))) {
			t.Fatalf("tombstone id %v, PointID(key) %v", rec.ID, PointID(string(key)))
		}
		return
	}
	if !json.Valid(value) {
		t.Fatalf("accepted invalid JSON %q", value)
	}
	if !utf8.Valid(value) {
		t.Fatalf("accepted invalid UTF-8 %q", value)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(value, &top); err != nil {
		t.Fatalf("encoding/json rejects an accepted value: %v", err)
	}
	if del := string(top["delete"]) == "true"; del != (rec.Op == OpDelete) || (!del && rec.Op != OpUpsert) {
		t.Fatalf("op %v for a value whose delete field is %s", rec.Op, top["delete"])
	}
	if rec.Op == OpDelete {
		if rec.Vectors != nil || rec.Payload != nil {
			t.Fatalf("delete record decoded with a vector or payload: %+v", rec)
		}
		checkAgainstEncodingJSON(t, rec, key, value, cfg)
		return
	}
	checkVectors(t, rec.Vectors)
	pm, err := rec.PayloadMap()
	if err != nil {
		t.Fatalf("payload does not unmarshal: %v", err)
	}
	for _, m := range []proto.Message{rec.Vectors, &qdrant.Struct{Fields: pm}} {
		if _, err := proto.Marshal(m); err != nil {
			t.Fatalf("%T does not marshal: %v", m, err)
		}
	}
	if !allow && rec.Collection != "" {
		t.Fatalf("collection %q with overrides off", rec.Collection)
	}
	checkAgainstEncodingJSON(t, rec, key, value, cfg)
}

// checkVectors asserts the vectors are ones Qdrant accepts.
func checkVectors(t *testing.T, vs *qdrant.Vectors) {
	finite := func(data []float32) {
		for _, f := range data {
			if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
				t.Fatalf("non-finite component %v", f)
			}
		}
	}
	check := func(v *qdrant.Vector, sparseOK bool) {
		switch {
		case v.GetDense() != nil:
			if len(v.GetDense().GetData()) == 0 {
				t.Fatal("empty dense vector")
			}
			finite(v.GetDense().GetData())
		case v.GetMultiDense() != nil:
			rows := v.GetMultiDense().GetVectors()
			if len(rows) == 0 {
				t.Fatal("multi-vector without rows")
			}
			for _, r := range rows {
				if len(r.GetData()) == 0 || len(r.GetData()) != len(rows[0].GetData()) {
					t.Fatalf("bad multi-vector row lengths")
				}
				finite(r.GetData())
			}
		case v.GetSparse() != nil && sparseOK:
			sp := v.GetSparse()
			if len(sp.GetIndices()) != len(sp.GetValues()) {
				t.Fatal("sparse length mismatch")
			}
			seen := map[uint32]bool{}
			for _, i := range sp.GetIndices() {
				if seen[i] {
					t.Fatalf("duplicate sparse index %d", i)
				}
				seen[i] = true
			}
			finite(sp.GetValues())
		default:
			t.Fatalf("vector of unexpected shape %v", v)
		}
		if v.GetData() != nil || v.GetIndices() != nil {
			t.Fatal("deprecated vector fields set")
		}
	}
	switch {
	case vs.GetVector() != nil:
		check(vs.GetVector(), false)
	case vs.GetVectors() != nil:
		if len(vs.GetVectors().GetVectors()) == 0 {
			t.Fatal("empty named vectors")
		}
		for _, v := range vs.GetVectors().GetVectors() {
			check(v, true)
		}
	default:
		t.Fatalf("no vectors: %v", vs)
	}
}

// checkAgainstEncodingJSON decodes value with encoding/json (last
// duplicate wins there too) and compares id, dense vector, payload and
// collection (id only and collection for a delete record).
func checkAgainstEncodingJSON(t *testing.T, rec Record, key, value []byte, cfg DecoderConfig) {
	allow := cfg.AllowCollectionOverride
	var top map[string]json.RawMessage
	if err := json.Unmarshal(value, &top); err != nil {
		t.Fatalf("encoding/json rejects an accepted value: %v", err)
	}
	// Id, by the key id rule.
	var wantID *qdrant.PointId
	raw, ok := top["id"]
	switch {
	case cfg.KeyID != KeyIDFallback:
		wantID = PointID(string(key))
		if cfg.KeyID == KeyIDStrict && ok && string(raw) != "null" && IDKeyOf(valueID(t, raw)) != IDKeyOf(wantID) {
			t.Fatalf("strict: value id %s accepted with key %q", raw, key)
		}
	case !ok || string(raw) == "null":
		wantID = PointID(string(key))
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		wantID = PointID(s)
	default:
		u, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			t.Fatalf("accepted numeric id %s: %v", raw, err)
		}
		wantID = qdrant.NewIDNum(u)
	}
	if !proto.Equal(rec.ID, wantID) {
		t.Fatalf("id %v, encoding/json reads %v", rec.ID, wantID)
	}
	if rec.Op == OpDelete {
		checkCollection(t, rec, top, allow)
		return
	}
	// Unnamed dense vector.
	if raw := top["vector"]; bytes.HasPrefix(raw, []byte("[")) && !bytes.HasPrefix(bytes.TrimLeft(raw[1:], " \t\r\n"), []byte("[")) {
		var nums []json.Number
		if err := json.Unmarshal(raw, &nums); err != nil {
			t.Fatalf("vector %s: %v", raw, err)
		}
		got := rec.Vectors.GetVector().GetDense().GetData()
		if len(got) != len(nums) {
			t.Fatalf("vector has %d components, encoding/json reads %d", len(got), len(nums))
		}
		for i, n := range nums {
			want, _ := strconv.ParseFloat(string(n), 32)
			if math.Float32bits(got[i]) != math.Float32bits(float32(want)) {
				t.Fatalf("component %d = %v, strconv reads %s as %v", i, got[i], n, float32(want))
			}
		}
	}
	// Payload.
	want := map[string]*qdrant.Value{}
	if raw, ok := top["payload"]; ok && string(raw) != "null" {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("payload %s: %v", raw, err)
		}
		for k, v := range m {
			want[k] = referenceValue(t, v)
		}
	}
	got, err := rec.PayloadMap()
	if err != nil {
		t.Fatalf("Payload does not unmarshal: %v", err)
	}
	if !proto.Equal(&qdrant.Struct{Fields: got}, &qdrant.Struct{Fields: want}) {
		t.Fatalf("payload %v, encoding/json reads %v", got, want)
	}
	checkCollection(t, rec, top, allow)
}

func checkCollection(t *testing.T, rec Record, top map[string]json.RawMessage, allow bool) {
	wantColl := ""
	if raw, ok := top["collection_name"]; ok && allow && string(raw) != "null" {
		if err := json.Unmarshal(raw, &wantColl); err != nil {
			t.Fatal(err)
		}
	}
	if rec.Collection != wantColl {
		t.Fatalf("collection %q, encoding/json reads %q", rec.Collection, wantColl)
	}
}

// valueID reads an id field (a number or a string) with encoding/json.
func valueID(t *testing.T, raw json.RawMessage) *qdrant.PointId {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		return PointID(s)
	}
	u, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		t.Fatalf("accepted numeric id %s: %v", raw, err)
	}
	return qdrant.NewIDNum(u)
}

// referenceValue converts an encoding/json value (with json.Number) to a
// Qdrant value by the documented rules, independently of the decoder.
func referenceValue(t *testing.T, v any) *qdrant.Value {
	switch v := v.(type) {
	case nil:
		return qdrant.NewValueNull()
	case bool:
		return qdrant.NewValueBool(v)
	case string:
		return qdrant.NewValueString(v)
	case json.Number:
		if !strings.ContainsAny(string(v), ".eE") {
			i, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				t.Fatalf("accepted integer %s: %v", v, err)
			}
			return qdrant.NewValueInt(i)
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			t.Fatalf("accepted number %s: %v", v, err)
		}
		return qdrant.NewValueDouble(f)
	case []any:
		vals := make([]*qdrant.Value, len(v))
		for i, e := range v {
			vals[i] = referenceValue(t, e)
		}
		return qdrant.NewValueFromList(vals...)
	case map[string]any:
		m := make(map[string]*qdrant.Value, len(v))
		for k, e := range v {
			m[k] = referenceValue(t, e)
		}
		return qdrant.NewValueFromFields(m)
	}
	t.Fatalf("unexpected %T", v)
	return nil
}

// TestFuzzSeedsAreMixed keeps the seed corpus useful: it must hold both
// records that decode and records that are rejected.
func TestFuzzSeedsAreMixed(t *testing.T) {
	var ok, bad int
	for _, s := range fuzzSeeds {
		if _, err := NewDecoder(DecoderConfig{AllowCollectionOverride: true}).Decode([]byte("k"), []byte(s)); err != nil {
			bad++
		} else {
			ok++
		}
	}
	if ok < 5 || bad < 10 {
		t.Errorf("seed corpus has %d good and %d bad values; want both kinds", ok, bad)
	}
}
