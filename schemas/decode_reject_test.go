package schemas

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeRejects(t *testing.T) {
	allow := DecoderConfig{AllowCollectionOverride: true}
	const (
		decode   = ClassDecode
		validate = ClassValidate
	)
	deep := `{"id":1,"vector":[1],"payload":` + strings.Repeat(`{"a":`, MaxPayloadDepth) + `1` +
		strings.Repeat(`}`, MaxPayloadDepth) + `}`
	deepest := `{"id":1,"vector":[1],"payload":` + strings.Repeat(`{"a":`, MaxPayloadDepth+1) + `1` +
		strings.Repeat(`}`, MaxPayloadDepth+1) + `}`
	tooDeep := `{"id":1,"vector":[1],"x":` + strings.Repeat(`[`, maxSkipDepth+1) + strings.Repeat(`]`, maxSkipDepth+1) + `}`
	cases := []struct {
		name       string
		cfg        DecoderConfig
		key, value string
		nilValue   bool
		class      ErrorClass
		wantMsg    string // substring of the message
	}{
		// Invalid JSON.
		{name: "empty value", value: "", class: decode, wantMsg: "invalid JSON at byte 0: unexpected end of input"},
		{name: "whitespace value", value: " \n", class: decode, wantMsg: "invalid JSON"},
		{name: "truncated", value: `{"id": 1, "vector": [1,`, class: decode, wantMsg: "unexpected end of input"},
		{name: "trailing data", value: `{"id": 1, "vector": [1]} {}`, class: decode, wantMsg: "data after the JSON object"},
		{name: "single quotes", value: `{'id': 1}`, class: decode, wantMsg: "want a string (object key)"},
		{name: "trailing comma", value: `{"id": 1, "vector": [1],}`, class: decode, wantMsg: "want a string (object key)"},
		{name: "NaN literal", value: `{"id": 1, "vector": [NaN]}`, class: decode, wantMsg: `invalid JSON at byte 21: unexpected 'N', want a JSON value`},
		{name: "Infinity literal in payload", value: `{"id": 1, "vector": [1], "payload": {"x": Infinity}}`, class: decode, wantMsg: "invalid JSON"},
		{name: "leading zero", value: `{"id": 1, "vector": [01]}`, class: decode, wantMsg: "invalid JSON"},
		{name: "leading zero in id", value: `{"id": 01, "vector": [1]}`, class: decode, wantMsg: "leading zero"},
		{name: "bare minus", value: `{"id": 1, "vector": [-]}`, class: decode, wantMsg: "want a digit"},
		{name: "dot without digits", value: `{"id": 1, "vector": [1.]}`, class: decode, wantMsg: "a digit after the decimal point"},
		{name: "exponent without digits", value: `{"id": 1, "vector": [1e+]}`, class: decode, wantMsg: "a digit in the exponent"},
		{name: "plus sign", value: `{"id": 1, "vector": [+1]}`, class: decode, wantMsg: "unexpected '+'"},
		{name: "invalid UTF-8", value: "{\"id\": 1, \"vector\": [1], \"payload\": {\"x\": \"\xff\"}}", class: decode, wantMsg: "invalid UTF-8"},
		{name: "UTF-8 surrogate bytes", value: "{\"id\": 1, \"vector\": [1], \"x\": \"\xed\xa0\x80\"}", class: decode, wantMsg: "invalid UTF-8"},
		{name: "raw control character in string", value: "{\"id\": \"a\nb\", \"vector\": [1]}", class: decode, wantMsg: "control character 0xa in string"},
		{name: "bad escape", value: `{"id": "a\qb", "vector": [1]}`, class: decode, wantMsg: `invalid escape "\\q"`},
		{name: "bad unicode escape", value: `{"id": "a\u12g4", "vector": [1]}`, class: decode, wantMsg: `invalid \u escape`},
		{name: "unterminated string", value: `{"id": "abc`, class: decode, wantMsg: "unterminated string"},
		{name: "misspelled literal", value: `{"id": 1, "vector": [1], "payload": {"x": nul}}`, class: decode, wantMsg: `want null`},
		{name: "nesting too deep in an ignored field", value: tooDeep, class: decode, wantMsg: "nesting deeper than 512 levels"},
		{name: "syntax error after a field error wins", value: `{"id": -1, "vector": [1]`, class: decode, wantMsg: "unexpected end of input"},
		{name: "syntax error inside a bad vector wins", value: `{"id": 1, "vector": ["a", }`, class: decode, wantMsg: "invalid JSON"},
		// Not an object.
		{name: "value is an array", value: `[1, 2]`, class: decode, wantMsg: "value is an array, want a JSON object"},
		{name: "value is a string", value: `"x"`, class: decode, wantMsg: "value is a string, want a JSON object"},
		{name: "value is JSON null", value: `null`, class: decode, wantMsg: "value is null, want a JSON object"},
		{name: "value is a number", value: ` 5 `, class: decode, wantMsg: "value is a number, want a JSON object"},
		// Wrong JSON types.
		{name: "vector is a string", value: `{"id": 1, "vector": "0.1,0.2"}`, class: decode, wantMsg: `field "vector" is a string; want a list of numbers or an object of named vectors`},
		{name: "vector is a number", value: `{"id": 1, "vector": 1}`, class: decode, wantMsg: `field "vector" is a number`},
		{name: "vector element is a string", value: `{"id": 1, "vector": [1, "2"]}`, class: decode, wantMsg: `field "vector": element 1 is a string; want a number`},
		{name: "vector element is null", value: `{"id": 1, "vector": [null]}`, class: decode, wantMsg: `element 0 is null; want a number`},
		{name: "vector element is a list after a number", value: `{"id": 1, "vector": [1, [2]]}`, class: decode, wantMsg: `element 1 is an array; want a number`},
		{name: "multi-vector row is a number", value: `{"id": 1, "vector": [[1], 2]}`, class: decode, wantMsg: `element 1 is a number; a multi-vector is a list of lists`},
		{name: "multi-vector element is a string", value: `{"id": 1, "vector": [[1], ["a"]]}`, class: decode, wantMsg: `row 1 element 0 is a string; want a number`},
		{name: "named vector is a number", value: `{"id": 1, "vector": {"a": 1}}`, class: decode, wantMsg: `field "vector": vector "a" is a number; want a list of numbers`},
		{name: "named vector is null", value: `{"id": 1, "vector": {"a": null}}`, class: decode, wantMsg: `vector "a" is null`},
		{name: "sparse indices not a list", value: `{"id": 1, "vector": {"s": {"indices": 1, "values": [1]}}}`, class: decode, wantMsg: `vector "s": "indices" is a number; want a list of unsigned integers`},
		{name: "sparse values not a list", value: `{"id": 1, "vector": {"s": {"indices": [1], "values": {}}}}`, class: decode, wantMsg: `"values" is an object; want a list of numbers`},
		{name: "sparse index is a string", value: `{"id": 1, "vector": {"s": {"indices": ["1"], "values": [1]}}}`, class: decode, wantMsg: `index 0 is a string; want an unsigned integer`},
		{name: "sparse value is a bool", value: `{"id": 1, "vector": {"s": {"indices": [1], "values": [true]}}}`, class: decode, wantMsg: `vector "s": element 0 is a boolean; want a number`},
		{name: "sparse unknown key", value: `{"id": 1, "vector": {"s": {"indices": [1], "values": [1], "weights": [1]}}}`, class: decode, wantMsg: `unknown key "weights" in a sparse vector`},
		{name: "sparse without values", value: `{"id": 1, "vector": {"s": {"indices": [1]}}}`, class: decode, wantMsg: `sparse vector without "values"`},
		{name: "sparse without indices", value: `{"id": 1, "vector": {"s": {"values": [1]}}}`, class: decode, wantMsg: `sparse vector without "indices"`},
		{name: "sparse empty object", value: `{"id": 1, "vector": {"s": {}}}`, class: decode, wantMsg: `without "indices" and "values"`},
		{name: "custom vector field named in message", cfg: DecoderConfig{VectorField: "embedding"}, value: `{"id": 1, "embedding": true}`, class: decode, wantMsg: `field "embedding" is a boolean`},
		// Tombstones.
		{name: "tombstone without key", nilValue: true, class: decode, wantMsg: "tombstone (null value) without a key"},
		// Ids.
		{name: "no id and no key", value: `{"vector": [1]}`, class: validate, wantMsg: `no field "id" in the value and the record has no key`},
		{name: "null id and no key", value: `{"id": null, "vector": [1]}`, class: validate, wantMsg: `no field "id" in the value`},
		{name: "custom id field named", cfg: DecoderConfig{IDField: "pk"}, value: `{"id": 1, "vector": [1]}`, class: validate, wantMsg: `no field "pk"`},
		{name: "negative id", value: `{"id": -1, "vector": [1]}`, class: validate, wantMsg: `field "id": -1 is negative; want an unsigned integer or a string`},
		{name: "negative zero id", value: `{"id": -0, "vector": [1]}`, class: validate, wantMsg: `-0 is negative`},
		{name: "fractional id", value: `{"id": 1.5, "vector": [1]}`, class: validate, wantMsg: `1.5 is not written as an integer`},
		{name: "integral fraction id", value: `{"id": 1.0, "vector": [1]}`, class: validate, wantMsg: `1.0 is not written as an integer`},
		{name: "exponent id", value: `{"id": 1e3, "vector": [1]}`, class: validate, wantMsg: `1e3 is not written as an integer`},
		{name: "id above uint64", value: `{"id": 18446744073709551616, "vector": [1]}`, class: validate, wantMsg: `18446744073709551616 is above the uint64 maximum`},
		{name: "id bool", value: `{"id": true, "vector": [1]}`, class: validate, wantMsg: `field "id" is a boolean; want an unsigned integer or a string`},
		{name: "id object", value: `{"id": {"n": 1}, "vector": [1]}`, class: validate, wantMsg: `field "id" is an object`},
		{name: "id array", value: `{"id": [1], "vector": [1]}`, class: validate, wantMsg: `field "id" is an array`},
		{name: "id empty string", value: `{"id": "", "vector": [1]}`, class: validate, wantMsg: `field "id": string id "" is empty`},
		{name: "id with escaped control character", value: `{"id": "a\u0001b", "vector": [1]}`, class: validate, wantMsg: `contains the control character 0x1 at byte 1`},
		{name: "id with DEL", value: `{"id": "a\u007f", "vector": [1]}`, class: validate, wantMsg: `control character 0x7f`},
		{name: "id with C1 control", value: `{"id": "a\u0085", "vector": [1]}`, class: validate, wantMsg: `control character U+0085`},
		{name: "id too long", value: `{"id": "` + strings.Repeat("x", MaxIDBytes+1) + `", "vector": [1]}`, class: validate, wantMsg: `is 1025 bytes long, over the limit of 1024`},
		{name: "binary key", key: "\x00\x00\x00\x2a", value: `{"vector": [1]}`, class: validate, wantMsg: `record key "\x00\x00\x00*", used as the point id, contains the control character 0x0`},
		{name: "key not UTF-8", key: "\xff\xfe", value: `{"vector": [1]}`, class: validate, wantMsg: `is not valid UTF-8`},
		{name: "key too long", key: strings.Repeat("k", MaxIDBytes+1), value: `{"vector": [1]}`, class: validate, wantMsg: `over the limit of 1024`},
		{name: "tombstone with binary key", key: "\x01", nilValue: true, class: validate, wantMsg: `record key "\x01", used as the point id`},
		{name: "id problem reported before vector problem", value: `{"vector": "x", "id": true}`, class: validate, wantMsg: `field "id" is a boolean`},
		// Vectors.
		{name: "missing vector", value: `{"id": 1}`, class: validate, wantMsg: `missing field "vector"`},
		{name: "null vector", value: `{"id": 1, "vector": null}`, class: validate, wantMsg: `missing field "vector"`},
		{name: "empty vector", value: `{"id": 1, "vector": []}`, class: validate, wantMsg: `field "vector" is an empty list`},
		{name: "empty named vectors", value: `{"id": 1, "vector": {}}`, class: validate, wantMsg: `field "vector" is an empty object; want at least one named vector`},
		{name: "empty named vector", value: `{"id": 1, "vector": {"a": [1], "b": []}}`, class: validate, wantMsg: `field "vector": vector "b" is an empty list`},
		{name: "float32 overflow", value: `{"id": 1, "vector": [1, 3.5e38]}`, class: validate, wantMsg: `field "vector": element 1 (3.5e38) is out of the float32 range`},
		{name: "float32 negative overflow", value: `{"id": 1, "vector": [-1e39]}`, class: validate, wantMsg: `(-1e39) is out of the float32 range`},
		{name: "float32 overflow past rounding", value: `{"id": 1, "vector": [3.4028236e38]}`, class: validate, wantMsg: `out of the float32 range`},
		{name: "float64 overflow in vector", value: `{"id": 1, "vector": [1e400]}`, class: validate, wantMsg: `out of the float32 range`},
		{name: "float overflow in named vector", value: `{"id": 1, "vector": {"a": [1e39]}}`, class: validate, wantMsg: `vector "a": element 0 (1e39)`},
		{name: "float overflow in sparse values", value: `{"id": 1, "vector": {"s": {"indices": [1], "values": [1e39]}}}`, class: validate, wantMsg: `vector "s": element 0 (1e39) is out of the float32 range`},
		{name: "sparse length mismatch", value: `{"id": 1, "vector": {"s": {"indices": [1, 2], "values": [1]}}}`, class: validate, wantMsg: `sparse vector has 2 indices but 1 values`},
		{name: "sparse duplicate indices", value: `{"id": 1, "vector": {"s": {"indices": [5, 1, 5], "values": [1, 2, 3]}}}`, class: validate, wantMsg: `sparse index 5 appears more than once`},
		{name: "sparse adjacent duplicate indices", value: `{"id": 1, "vector": {"s": {"indices": [1, 1], "values": [1, 2]}}}`, class: validate, wantMsg: `sparse index 1 appears more than once`},
		{name: "sparse index above uint32", value: `{"id": 1, "vector": {"s": {"indices": [4294967296], "values": [1]}}}`, class: validate, wantMsg: `index 0 (4294967296) is not an integer in [0, 4294967295]`},
		{name: "sparse negative index", value: `{"id": 1, "vector": {"s": {"indices": [-1], "values": [1]}}}`, class: validate, wantMsg: `index 0 (-1) is not an integer`},
		{name: "sparse fractional index", value: `{"id": 1, "vector": {"s": {"indices": [1.5], "values": [1]}}}`, class: validate, wantMsg: `index 0 (1.5) is not an integer`},
		{name: "multi-vector ragged rows", value: `{"id": 1, "vector": [[1, 2], [3]]}`, class: validate, wantMsg: `row 1 of the multi-vector has 1 numbers but row 0 has 2`},
		{name: "multi-vector empty row", value: `{"id": 1, "vector": [[1], []]}`, class: validate, wantMsg: `row 1 of the multi-vector is empty`},
		{name: "multi-vector only empty row", value: `{"id": 1, "vector": {"m": [[]]}}`, class: validate, wantMsg: `vector "m": row 0 of the multi-vector is empty`},
		{name: "multi-vector overflow", value: `{"id": 1, "vector": [[1], [1e39]]}`, class: validate, wantMsg: `row 1 element 0 (1e39) is out of the float32 range`},
		// Payload.
		{name: "payload is a list", value: `{"id": 1, "vector": [1], "payload": [1]}`, class: validate, wantMsg: `field "payload" is an array; want a JSON object`},
		{name: "payload is a string", value: `{"id": 1, "vector": [1], "payload": "{}"}`, class: validate, wantMsg: `field "payload" is a string`},
		{name: "payload is a bool", value: `{"id": 1, "vector": [1], "payload": false}`, class: validate, wantMsg: `field "payload" is a boolean`},
		{name: "payload integer above int64", value: `{"id": 1, "vector": [1], "payload": {"n": 9223372036854775808}}`, class: validate, wantMsg: `field "payload" at /n: integer 9223372036854775808 does not fit in int64`},
		{name: "payload integer below int64", value: `{"id": 1, "vector": [1], "payload": {"n": -9223372036854775809}}`, class: validate, wantMsg: `integer -9223372036854775809 does not fit in int64`},
		{name: "payload nested path", value: `{"id": 1, "vector": [1], "payload": {"a/b": {"c~": [0, 1e999]}}}`, class: validate, wantMsg: `field "payload" at /a~1b/c~0/1: number 1e999 is out of the float64 range`},
		{name: "payload too deep", value: deepest, class: validate, wantMsg: `nested deeper than 24 levels`},
		{name: "payload problem after vector problem", value: `{"id": 1, "vector": [], "payload": 1}`, class: validate, wantMsg: `field "vector" is an empty list`},
		// Collection.
		{name: "collection empty", cfg: allow, value: `{"id": 1, "vector": [1], "collection_name": ""}`, class: validate, wantMsg: `field "collection_name": collection name "" is empty`},
		{name: "collection number", cfg: allow, value: `{"id": 1, "vector": [1], "collection_name": 5}`, class: validate, wantMsg: `field "collection_name" is a number; want a non-empty string`},
		{name: "collection control character", cfg: allow, value: `{"id": 1, "vector": [1], "collection_name": "a\nb"}`, class: validate, wantMsg: `control character 0xa`},
		{name: "collection too long", cfg: allow, value: `{"id": 1, "vector": [1], "collection_name": "` + strings.Repeat("c", 256) + `"}`, class: validate, wantMsg: `over the limit of 255`},
		// Delete records.
		{name: "delete is a string", value: `{"id": 1, "delete": "true"}`, class: validate, wantMsg: `field "delete" is a string; want true (delete the point), false or null`},
		{name: "delete is a number", value: `{"id": 1, "vector": [1], "delete": 1}`, class: validate, wantMsg: `field "delete" is a number`},
		{name: "delete record without id or key", value: `{"delete": true}`, class: validate, wantMsg: `no field "id" in the value and the record has no key`},
		{name: "delete record with a bad id", value: `{"id": -1, "delete": true}`, class: validate, wantMsg: `field "id": -1 is negative`},
		{name: "delete record with a bad collection", cfg: allow, value: `{"id": 1, "delete": true, "collection_name": ""}`, class: validate, wantMsg: `collection name "" is empty`},
		// Key id rules.
		{name: "strict: value id disagrees with the key", cfg: DecoderConfig{KeyID: KeyIDStrict}, key: "movie-42", value: `{"id": 42, "vector": [1]}`, class: validate,
			wantMsg: `field "id": the value's id 42 disagrees with the record key "movie-42" (point 0e35ee61-932d-5e0a-892d-f6733c923313); record.key_id is strict`},
		{name: "strict: delete record id disagrees with the key", cfg: DecoderConfig{KeyID: KeyIDStrict}, key: "7", value: `{"id": 8, "delete": true}`, class: validate,
			wantMsg: `the value's id 8 disagrees with the record key "7" (point 7); record.key_id is strict`},
		{name: "strict: no key", cfg: DecoderConfig{KeyID: KeyIDStrict}, value: `{"id": 42, "vector": [1]}`, class: validate,
			wantMsg: `the record has no key, and record.key_id is strict`},
		{name: "key: no key", cfg: DecoderConfig{KeyID: KeyIDKey}, value: `{"id": 42, "vector": [1]}`, class: validate,
			wantMsg: `the record has no key, and record.key_id is key`},
		{name: "strict: bad key", cfg: DecoderConfig{KeyID: KeyIDStrict}, key: "a\x01", value: `{"id": 42, "vector": [1]}`, class: validate,
			wantMsg: `used as the point id, contains the control character 0x1`},
		// Size.
		{name: "oversize", cfg: DecoderConfig{MaxBytes: 20}, key: "k", value: `{"id":1,"vector":[1]}`, class: ClassOversize, wantMsg: "record is 22 bytes (key and value), over the limit of 20 bytes"},
		{name: "oversize tombstone", cfg: DecoderConfig{MaxBytes: 2}, key: "key", nilValue: true, class: ClassOversize, wantMsg: "record is 3 bytes"},
		{name: "oversize before invalid JSON", cfg: DecoderConfig{MaxBytes: 2}, value: `{{{`, class: ClassOversize, wantMsg: "over the limit of 2 bytes"},
	}
	stages := map[ErrorClass]Stage{ClassDecode: StageDecode, ClassValidate: StageValidate, ClassOversize: StageDecode}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var key, value []byte
			if c.key != "" {
				key = []byte(c.key)
			}
			if !c.nilValue {
				value = []byte(c.value)
			}
			rec, err := NewDecoder(c.cfg).Decode(key, value)
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", rec)
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("error %T (%v) is not a *RecordError", err, err)
			}
			if re.Class != c.class || re.Stage != stages[c.class] {
				t.Errorf("class/stage = %s/%s, want %s/%s (%v)", re.Class, re.Stage, c.class, stages[c.class], err)
			}
			if !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("message %q does not contain %q", err, c.wantMsg)
			}
			if rec.ID != nil || rec.Vectors != nil || rec.Payload != nil || rec.Op != 0 {
				t.Errorf("a failed Decode returned a non-zero Record: %+v", rec)
			}
		})
	}
	// The deepest payload allowed is accepted.
	if _, err := NewDecoder(DecoderConfig{}).Decode(nil, []byte(deep)); err != nil {
		t.Errorf("payload of depth %d: %v", MaxPayloadDepth, err)
	}
}

func TestDecoderConfigValidate(t *testing.T) {
	cases := []struct {
		name    string
		cfg     DecoderConfig
		wantErr string
	}{
		{name: "zero value", cfg: DecoderConfig{}},
		{name: "custom distinct", cfg: DecoderConfig{IDField: "pk", VectorField: "emb", PayloadField: "meta", CollectionField: "c", MaxBytes: 10}},
		{name: "id and vector equal", cfg: DecoderConfig{IDField: "x", VectorField: "x"}, wantErr: `the id and vector fields are both named "x"`},
		{name: "custom equals a default", cfg: DecoderConfig{PayloadField: "id"}, wantErr: `the id and payload fields are both named "id"`},
		{name: "negative max bytes", cfg: DecoderConfig{MaxBytes: -1}, wantErr: "max bytes is negative"},
		{name: "delete field equals the collection field", cfg: DecoderConfig{DeleteField: "collection_name"}, wantErr: `the collection and delete fields are both named "collection_name"`},
		{name: "unknown key id rule", cfg: DecoderConfig{KeyID: 9}, wantErr: "unknown key id rule 9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("Validate = %v, want %q", err, c.wantErr)
			}
		})
	}
}
