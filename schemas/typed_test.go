package schemas

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// registryOf is a SchemaSource of the given schemas by id.
func registryOf(s map[int]RegisteredSchema) corpusRegistry { return corpusRegistry(s) }

// decodeRegistered decodes value, framed for a schema registered as id.
func decodeRegistered(t *testing.T, cfg DecoderConfig, rs RegisteredSchema, index []int, key, value []byte) (Record, error) {
	t.Helper()
	reg := registryOf(map[int]RegisteredSchema{1: rs})
	d := NewFormatDecoder(FormatRegistry, cfg, NewSchemaCache(reg, cfg))
	return d.Decode(context.Background(), key, frame(1, index, value))
}

func wantClass(t *testing.T, err error, class ErrorClass, contains string) {
	t.Helper()
	re, ok := AsRecordError(err)
	if !ok || re.Class != class || !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %v, want class %s containing %q", err, class, contains)
	}
}

// TestAvroSchemaErrors: schemas whose fields cannot hold their part fail
// every record that names them, with class schema and the field named.
func TestAvroSchemaErrors(t *testing.T) {
	cases := []struct {
		name, fields, want string
		cfg                DecoderConfig
	}{
		{"vector is a string", `{"name": "vector", "type": "string"}`, `field "vector": is a string; want a list of float or double`, DecoderConfig{}},
		{"vector of ints", `{"name": "vector", "type": {"type": "array", "items": "int"}}`, `field "vector": is a list of integer`, DecoderConfig{}},
		{"unnamed sparse", `{"name": "vector", "type": {"type": "record", "name": "S", "fields": [{"name": "indices", "type": {"type": "array", "items": "int"}}, {"name": "values", "type": {"type": "array", "items": "float"}}]}}`,
			"a sparse vector must be named", DecoderConfig{}},
		{"named vector of strings", `{"name": "vector", "type": {"type": "map", "values": "string"}}`, `map value is a string`, DecoderConfig{}},
		{"id is a record", `{"name": "id", "type": {"type": "record", "name": "I", "fields": []}}`, `field "id" is a record I; want an unsigned integer, a string or 16 bytes`, DecoderConfig{}},
		{"id is a fixed of 8", `{"name": "id", "type": {"type": "fixed", "name": "F", "size": 8}}`, `field "id" is bytes`, DecoderConfig{}},
		{"payload is a list", `{"name": "payload", "type": {"type": "array", "items": "string"}}`, `field "payload" is a list of string; want a record, a map or a JSON object`, DecoderConfig{}},
		{"delete is a string", `{"name": "delete", "type": ["null", "string"]}`, `field "delete" is a union of null, a string; want a boolean`, DecoderConfig{}},
		{"collection is a long", `{"name": "collection_name", "type": "long"}`, `field "collection_name" is an integer; want a string`, DecoderConfig{AllowCollectionOverride: true}},
		{"path through a string", `{"name": "meta", "type": "string"}`, `field "meta.id": "meta" is a string, not a record`, DecoderConfig{IDField: "meta.id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			schema := `{"type": "record", "name": "R", "fields": [` + c.fields + `]}`
			_, err := decodeRegistered(t, c.cfg, RegisteredSchema{Type: SchemaAvro, Schema: schema}, nil, []byte("k"), []byte{})
			wantClass(t, err, ClassSchema, c.want)
		})
	}
	// A schema that does not parse, and a registry type this build
	// does not read.
	_, err := decodeRegistered(t, DecoderConfig{}, RegisteredSchema{Type: SchemaAvro, Schema: `{"type": "record"`}, nil, nil, nil)
	_ = err // a nil value is a tombstone: no schema needed
	_, err = decodeRegistered(t, DecoderConfig{}, RegisteredSchema{Type: SchemaAvro, Schema: `{"type": "record"`}, nil, []byte("k"), []byte{1})
	wantClass(t, err, ClassSchema, "schema id 1 (AVRO)")
	_, err = decodeRegistered(t, DecoderConfig{}, RegisteredSchema{Type: "XML", Schema: `<x/>`}, nil, []byte("k"), []byte{1})
	wantClass(t, err, ClassSchema, `unknown schema type "XML"`)
}

// avroPoint is the schema of the Avro record tests: every role, dotted.
const avroPoint = `{"type": "record", "name": "P", "fields": [
  {"name": "meta", "type": ["null", {"type": "record", "name": "Meta", "fields": [
    {"name": "id", "type": ["null", "long", "string", "bytes"]},
    {"name": "deleted", "type": "boolean"}]}]},
  {"name": "vector", "type": ["null", {"type": "array", "items": "double"}, {"type": "map", "values": ["null",
    {"type": "array", "items": "float"},
    {"type": "record", "name": "Sparse", "fields": [{"name": "values", "type": {"type": "array", "items": "double"}}, {"name": "indices", "type": {"type": "array", "items": "long"}}]}]}]},
  {"name": "payload", "type": ["null", {"type": "map", "values": ["null", "boolean", "long", "double", "string", "bytes",
    {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]},
    {"type": "fixed", "name": "Four", "size": 4},
    {"type": "long", "logicalType": "timestamp-millis"},
    {"type": "array", "items": "int"}]}]},
  {"name": "coll", "type": ["null", "string"]}
]}`

func avroPointValue(t *testing.T, v map[string]any) []byte {
	t.Helper()
	b, err := avro.Marshal(avro.MustParse(avroPoint), v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAvroRecords: values of every role through unions and dotted paths,
// payload types with their JSON meaning, and the JSON rules on bad ones.
func TestAvroRecords(t *testing.T) {
	cfg := DecoderConfig{IDField: "meta.id", DeleteField: "meta.deleted", CollectionField: "coll", AllowCollectionOverride: true}
	rs := RegisteredSchema{Type: SchemaAvro, Schema: avroPoint}
	meta := func(id any, deleted bool) map[string]any {
		return map[string]any{"Meta": map[string]any{"id": id, "deleted": deleted}}
	}
	base := func() map[string]any {
		return map[string]any{
			"meta":   meta(map[string]any{"long": int64(5)}, false),
			"vector": map[string]any{"array": []float64{1, 2.5}},
			"payload": map[string]any{"map": map[string]any{
				"n":     nil,
				"b":     map[string]any{"boolean": true},
				"i":     map[string]any{"long": int64(-3)},
				"d":     map[string]any{"double": 0.5},
				"s":     map[string]any{"string": "é"},
				"raw":   map[string]any{"bytes": []byte{0xff, 0}},
				"color": map[string]any{"Color": "GREEN"},
				"four":  map[string]any{"Four": [4]byte{1, 2, 3, 4}},
				"at":    map[string]any{"long.timestamp-millis": time.UnixMilli(1700000000123).UTC()},
				"list":  map[string]any{"array": []int32{1, 2}},
			}},
			"coll": map[string]any{"string": "movies"},
		}
	}
	rec, err := decodeRegistered(t, cfg, rs, nil, nil, avroPointValue(t, base()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*qdrant.Value{
		"n": qdrant.NewValueNull(), "b": qdrant.NewValueBool(true), "i": qdrant.NewValueInt(-3),
		"d": qdrant.NewValueDouble(0.5), "s": qdrant.NewValueString("é"), "raw": qdrant.NewValueString("/wA="),
		"color": qdrant.NewValueString("GREEN"), "four": qdrant.NewValueString("AQIDBA=="),
		"at":   qdrant.NewValueString("2023-11-14T22:13:20.123Z"),
		"list": qdrant.NewValueFromList(qdrant.NewValueInt(1), qdrant.NewValueInt(2)),
	}
	if diff := equalRecord(rec, Record{Op: OpUpsert, ID: qdrant.NewIDNum(5), Collection: "movies",
		Vectors: qdrant.NewVectorsDense([]float32{1, 2.5}), Payload: encoded(want)}); diff != "" {
		t.Fatal(diff)
	}

	named := base()
	named["meta"] = meta(map[string]any{"bytes": uuidBytes("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69")}, false)
	named["vector"] = map[string]any{"map": map[string]any{
		"img":  map[string]any{"array": []float32{1}},
		"txt":  map[string]any{"Sparse": map[string]any{"values": []float64{0.5}, "indices": []int64{9}}},
		"none": nil,
	}}
	named["payload"] = nil
	rec, err = decodeRegistered(t, cfg, rs, nil, nil, avroPointValue(t, named))
	if err != nil {
		t.Fatal(err)
	}
	wantVec := qdrant.NewVectorsMap(map[string]*qdrant.Vector{
		"img": qdrant.NewVectorDense([]float32{1}),
		"txt": qdrant.NewVectorSparse([]uint32{9}, []float32{0.5}),
	})
	if diff := equalRecord(rec, Record{Op: OpUpsert, ID: qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"),
		Collection: "movies", Vectors: wantVec}); diff != "" {
		t.Fatal(diff)
	}

	// A delete record: its vector is not read, even when bad.
	del := base()
	del["meta"] = meta(map[string]any{"string": "0042"}, true)
	del["vector"] = map[string]any{"array": []float64{math.NaN()}}
	rec, err = decodeRegistered(t, cfg, rs, nil, nil, avroPointValue(t, del))
	if err != nil || rec.Op != OpDelete || rec.ID.GetNum() != 42 || rec.Vectors != nil || rec.Collection != "movies" {
		t.Fatalf("delete record: %+v, %v", rec, err)
	}

	bad := []struct {
		name   string
		edit   func(map[string]any)
		class  ErrorClass
		substr string
	}{
		{"NaN", func(v map[string]any) { v["vector"] = map[string]any{"array": []float64{math.NaN()}} }, ClassValidate, `field "vector": element 0 is NaN`},
		{"out of float32", func(v map[string]any) { v["vector"] = map[string]any{"array": []float64{1e39}} }, ClassValidate, "out of the float32 range"},
		{"empty vector", func(v map[string]any) { v["vector"] = map[string]any{"array": []float64{}} }, ClassValidate, "empty list"},
		{"no vector", func(v map[string]any) { v["vector"] = nil }, ClassValidate, `missing field "vector"`},
		{"negative id", func(v map[string]any) { v["meta"] = meta(map[string]any{"long": int64(-1)}, false) }, ClassValidate, `field "meta.id": -1 is negative`},
		{"short uuid", func(v map[string]any) { v["meta"] = meta(map[string]any{"bytes": []byte{1, 2}}, false) }, ClassValidate, "2 bytes; a UUID id is 16 bytes"},
		{"no id, no key", func(v map[string]any) { v["meta"] = nil }, ClassValidate, `no field "meta.id"`},
		{"payload NaN", func(v map[string]any) {
			v["payload"] = map[string]any{"map": map[string]any{"x": map[string]any{"double": math.Inf(1)}}}
		}, ClassValidate, `field "payload" at /x: number +Inf has no JSON form`},
		{"bad collection", func(v map[string]any) { v["coll"] = map[string]any{"string": ""} }, ClassValidate, "collection name"},
		{"duplicate sparse index", func(v map[string]any) {
			v["vector"] = map[string]any{"map": map[string]any{"s": map[string]any{"Sparse": map[string]any{"values": []float64{1, 2}, "indices": []int64{3, 3}}}}}
		}, ClassValidate, "sparse index 3 appears more than once"},
		{"sparse index too large", func(v map[string]any) {
			v["vector"] = map[string]any{"map": map[string]any{"s": map[string]any{"Sparse": map[string]any{"values": []float64{1}, "indices": []int64{1 << 33}}}}}
		}, ClassValidate, "is not an integer in [0, 4294967295]"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			v := base()
			c.edit(v)
			_, err := decodeRegistered(t, cfg, rs, nil, nil, avroPointValue(t, v))
			wantClass(t, err, c.class, c.substr)
		})
	}
	good := avroPointValue(t, base())
	for name, value := range map[string][]byte{
		"truncated":      good[:len(good)-2],
		"trailing bytes": append(append([]byte{}, good...), 0),
		"bad union":      append([]byte{0x7f}, good[1:]...),
	} {
		_, err := decodeRegistered(t, cfg, rs, nil, []byte("k"), value)
		wantClass(t, err, ClassDecode, "not valid Avro")
		_ = name
	}
}

// TestProtoPayloadTypes: a producer's own message as the payload: every
// field by name, scalars without presence at their default, enums by
// name, bytes in base64, well-known types by their JSON meaning.
func TestProtoPayloadTypes(t *testing.T) {
	const schema = `syntax = "proto3";
package p;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";
enum Color { RED = 0; GREEN = 1; }
message Info {
  string s = 1;
  int32 i = 2;
  sint64 z = 3;
  uint64 u = 4;
  double d = 5;
  float f = 6;
  bool b = 7;
  bytes raw = 8;
  Color color = 9;
  Color unset_color = 10;
  repeated int32 nums = 11;
  map<int32, string> by_num = 12;
  google.protobuf.Timestamp at = 13;
  google.protobuf.Int64Value wrapped = 14;
  google.protobuf.Struct extra = 15;
  optional string maybe = 16;
  oneof pick { string a = 17; int64 b2 = 18; }
  Info child = 19;
}
message Point { uint64 id = 1; repeated float vector = 2; Info payload = 3; }`
	rs := RegisteredSchema{Type: SchemaProtobuf, Schema: schema}
	fd, err := parseProto(1, rs)
	if err != nil {
		t.Fatal(err)
	}
	info := dynamicpb.NewMessage(fd.Messages().ByName("Info"))
	f := info.Descriptor().Fields().ByName
	info.Set(f("s"), protoreflect.ValueOfString("x"))
	info.Set(f("z"), protoreflect.ValueOfInt64(-7))
	info.Set(f("u"), protoreflect.ValueOfUint64(9))
	info.Set(f("f"), protoreflect.ValueOfFloat32(0.5))
	info.Set(f("raw"), protoreflect.ValueOfBytes([]byte{1}))
	info.Set(f("color"), protoreflect.ValueOfEnum(1))
	l := info.Mutable(f("nums")).List()
	l.Append(protoreflect.ValueOfInt32(1))
	l.Append(protoreflect.ValueOfInt32(-2))
	info.Mutable(f("by_num")).Map().Set(protoreflect.ValueOfInt32(3).MapKey(), protoreflect.ValueOfString("three"))
	at := info.Mutable(f("at")).Message()
	at.Set(at.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(1700000000))
	w := info.Mutable(f("wrapped")).Message()
	w.Set(w.Descriptor().Fields().ByName("value"), protoreflect.ValueOfInt64(0))
	extra := info.Mutable(f("extra")).Message()
	sv := dynamicpb.NewMessage(extra.Descriptor().Fields().ByName("fields").MapValue().Message())
	sv.Set(sv.Descriptor().Fields().ByName("number_value"), protoreflect.ValueOfFloat64(2))
	extra.Mutable(extra.Descriptor().Fields().ByName("fields")).Map().Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfMessage(sv))
	info.Set(f("b2"), protoreflect.ValueOfInt64(4))
	child := info.Mutable(f("child")).Message()
	child.Set(f("s"), protoreflect.ValueOfString("c"))

	point := dynamicpb.NewMessage(fd.Messages().ByName("Point"))
	pf := point.Descriptor().Fields().ByName
	point.Set(pf("id"), protoreflect.ValueOfUint64(1))
	point.Mutable(pf("vector")).List().Append(protoreflect.ValueOfFloat32(1))
	point.Set(pf("payload"), protoreflect.ValueOfMessage(info))
	b, err := proto.Marshal(point)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := decodeRegistered(t, DecoderConfig{}, rs, []int{1}, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	defaults := func(s string) map[string]*qdrant.Value {
		return map[string]*qdrant.Value{
			"s": qdrant.NewValueString(s), "i": qdrant.NewValueInt(0), "z": qdrant.NewValueInt(0), "u": qdrant.NewValueInt(0),
			"d": qdrant.NewValueDouble(0), "f": qdrant.NewValueDouble(0), "b": qdrant.NewValueBool(false),
			"raw": qdrant.NewValueString(""), "color": qdrant.NewValueString("RED"), "unset_color": qdrant.NewValueString("RED"),
		}
	}
	want := defaults("x")
	want["z"] = qdrant.NewValueInt(-7)
	want["u"] = qdrant.NewValueInt(9)
	want["f"] = qdrant.NewValueDouble(0.5)
	want["raw"] = qdrant.NewValueString("AQ==")
	want["color"] = qdrant.NewValueString("GREEN")
	want["nums"] = qdrant.NewValueFromList(qdrant.NewValueInt(1), qdrant.NewValueInt(-2))
	want["by_num"] = qdrant.NewValueStruct(&qdrant.Struct{Fields: map[string]*qdrant.Value{"3": qdrant.NewValueString("three")}})
	want["at"] = qdrant.NewValueString("2023-11-14T22:13:20Z")
	want["wrapped"] = qdrant.NewValueInt(0)
	want["extra"] = qdrant.NewValueStruct(&qdrant.Struct{Fields: map[string]*qdrant.Value{"k": qdrant.NewValueDouble(2)}})
	want["b2"] = qdrant.NewValueInt(4)
	want["child"] = qdrant.NewValueStruct(&qdrant.Struct{Fields: defaults("c")})
	if diff := equalRecord(rec, Record{Op: OpUpsert, ID: qdrant.NewIDNum(1),
		Vectors: qdrant.NewVectorsDense([]float32{1}), Payload: encoded(want)}); diff != "" {
		t.Fatal(diff)
	}
}

// TestProtoWire: what the Protobuf reader accepts beyond what a
// serializer writes canonically, as protobuf-go does: unpacked lists,
// fields in any order, unknown fields, fields of another wire type
// (skipped), the last member of a oneof, the last of a repeated scalar.
func TestProtoWire(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 99, protowire.BytesType) // unknown
	b = protowire.AppendBytes(b, []byte("zz"))
	b = protowire.AppendTag(b, 1, protowire.VarintType) // id num 7
	b = protowire.AppendVarint(b, 7)
	dense := func(xs ...float32) []byte {
		var d []byte
		for _, x := range xs { // unpacked floats
			d = protowire.AppendTag(d, 1, protowire.Fixed32Type)
			d = protowire.AppendFixed32(d, math.Float32bits(x))
		}
		return d
	}
	b = protowire.AppendTag(b, 4, protowire.BytesType) // vector.dense [1, 2]
	b = protowire.AppendBytes(b, dense(1, 2))
	b = protowire.AppendTag(b, 3, protowire.BytesType) // id text "9": the last member set
	b = protowire.AppendBytes(b, []byte("9"))
	b = protowire.AppendTag(b, 9, protowire.BytesType) // delete with the wrong wire type: skipped
	b = protowire.AppendBytes(b, []byte{1})
	rec, err := NewFormatDecoder(FormatProtobuf, DecoderConfig{}, nil).Decode(context.Background(), nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := equalRecord(rec, Record{Op: OpUpsert, ID: qdrant.NewIDNum(9), Vectors: qdrant.NewVectorsDense([]float32{1, 2})}); diff != "" {
		t.Fatal(diff)
	}
	for name, c := range map[string]struct {
		value  []byte
		class  ErrorClass
		substr string
	}{
		"registry framing": {[]byte{0, 0, 0, 0, 1, 2}, ClassDecode, "read such a topic with record.format registry"},
		"truncated":        {b[:len(b)-1], ClassDecode, "not a valid Protobuf message"},
		"NaN":              {mustMarshal(t, &recordpb.Record{Id: &recordpb.Record_Num{Num: 1}, Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: []float32{float32(math.NaN())}}}}), ClassValidate, `field "vector": element 0 is NaN`},
		"no vector set":    {mustMarshal(t, &recordpb.Record{Id: &recordpb.Record_Num{Num: 1}, Vector: &recordpb.Record_Named{Named: &recordpb.NamedVectors{Vectors: map[string]*recordpb.Vector{"a": {}}}}}), ClassValidate, `vector "a" has no vector set`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewFormatDecoder(FormatProtobuf, DecoderConfig{}, nil).Decode(context.Background(), []byte("k"), c.value)
			wantClass(t, err, c.class, c.substr)
		})
	}
	_, err = NewFormatDecoder(FormatJSON, DecoderConfig{}, nil).Decode(context.Background(), []byte("k"), []byte{0, 0, 0, 0, 1, '{', '}'})
	wantClass(t, err, ClassDecode, "read such a topic with record.format registry")
}

// TestProtoPayload: the entries of a record.v1 payload in canonical form
// are copied as they are (wireEntry accepts them), and Qdrant reads the
// payload they encode; every other form is read and rewritten, and every
// problem gets the reader's error.
func TestProtoPayload(t *testing.T) {
	tag := func(b []byte, num protowire.Number, typ protowire.Type) []byte {
		return protowire.AppendTag(b, num, typ)
	}
	msg := func(b []byte, num protowire.Number, content []byte) []byte {
		return protowire.AppendBytes(tag(b, num, protowire.BytesType), content)
	}
	str := func(s string) []byte { return msg(nil, 4, []byte(s)) }
	integer := func(n int64) []byte { return protowire.AppendVarint(tag(nil, 3, protowire.VarintType), uint64(n)) }
	double := func(f float64) []byte {
		return protowire.AppendFixed64(tag(nil, 2, protowire.Fixed64Type), math.Float64bits(f))
	}
	entry := func(k string, v []byte) []byte { return msg(msg(nil, 1, []byte(k)), 2, v) }
	nested := func(depth int) []byte { // a Value whose objects go depth levels below it
		v := integer(1)
		for range depth {
			v = msg(nil, 6, msg(nil, 1, entry("a", v)))
		}
		return v
	}
	// record builds a record.v1 value: id 1, vector [1], payload entries.
	record := func(entries ...[]byte) []byte {
		b := protowire.AppendVarint(tag(nil, 1, protowire.VarintType), 1)
		b = msg(b, 4, protowire.AppendFixed32(tag(nil, 1, protowire.Fixed32Type), math.Float32bits(1)))
		for _, e := range entries {
			b = msg(b, 7, e)
		}
		return b
	}
	decode := func(t *testing.T, value []byte) (Record, error) {
		t.Helper()
		return NewFormatDecoder(FormatProtobuf, DecoderConfig{}, nil).Decode(context.Background(), nil, value)
	}
	upsert := func(p map[string]*qdrant.Value) Record {
		return Record{Op: OpUpsert, ID: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsDense([]float32{1}), Payload: encoded(p)}
	}

	t.Run("canonical", func(t *testing.T) {
		rec := &recordpb.Record{Id: &recordpb.Record_Num{Num: 1}, Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: []float32{1}}},
			Payload: map[string]*recordpb.Value{
				"title": {Kind: &recordpb.Value_StringValue{StringValue: "Alien"}},
				"none":  {Kind: &recordpb.Value_NullValue{}},
				"tags": {Kind: &recordpb.Value_ListValue{ListValue: &recordpb.ListValue{Values: []*recordpb.Value{
					{Kind: &recordpb.Value_BoolValue{BoolValue: true}}, {Kind: &recordpb.Value_DoubleValue{DoubleValue: 1.5}}}}}},
				"crew": {Kind: &recordpb.Value_StructValue{StructValue: &recordpb.Struct{Fields: map[string]*recordpb.Value{
					"size": {Kind: &recordpb.Value_IntegerValue{IntegerValue: -3}}, "empty": {Kind: &recordpb.Value_ListValue{ListValue: &recordpb.ListValue{}}}}}}},
			}}
		value := mustMarshal(t, rec)
		for b := value; len(b) > 0; { // the copy is taken: every entry is canonical
			num, typ, n := protowire.ConsumeTag(b)
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if e, _ := protowire.ConsumeBytes(b[n:]); num == 7 && !wireEntry(e, 1) {
				t.Fatalf("canonical entry %x not copied", e)
			}
			b = b[n+m:]
		}
		got, err := decode(t, value)
		if err != nil {
			t.Fatal(err)
		}
		want := upsert(map[string]*qdrant.Value{
			"title": qdrant.NewValueString("Alien"), "none": qdrant.NewValueNull(),
			"tags": qdrant.NewValueFromList(qdrant.NewValueBool(true), qdrant.NewValueDouble(1.5)),
			"crew": qdrant.NewValueStruct(&qdrant.Struct{Fields: map[string]*qdrant.Value{
				"size": qdrant.NewValueInt(-3), "empty": qdrant.NewValueFromList()}}),
		})
		if diff := equalRecord(got, want); diff != "" {
			t.Fatal(diff)
		}
		// At the depth limit still copied.
		deep := entry("deep", nested(MaxPayloadDepth-1))
		if _, err := decode(t, record(deep)); err != nil || !wireEntry(deep, 1) {
			t.Fatalf("payload %d levels deep: %v, copied %v", MaxPayloadDepth, err, wireEntry(deep, 1))
		}
	})

	// Other forms: read as protobuf-go reads them, and rewritten.
	valueFirst := msg(msg(nil, 2, str("v")), 1, []byte("k"))
	twoMembers := append(str("first"), integer(2)...)
	unknown := append(str("v"), msg(nil, 99, nil)...)
	wrongType := append(protowire.AppendVarint(tag(nil, 4, protowire.VarintType), 1), integer(3)...)
	for name, c := range map[string]struct {
		entry []byte
		want  *qdrant.Value
	}{
		"value before key":         {valueFirst, qdrant.NewValueString("v")},
		"two members of kind":      {entry("k", twoMembers), qdrant.NewValueInt(2)},
		"unknown field":            {entry("k", unknown), qdrant.NewValueString("v")},
		"member of the wrong type": {entry("k", wrongType), qdrant.NewValueInt(3)},
		"no member":                {entry("k", nil), qdrant.NewValueNull()},
		"null of another number":   {entry("k", protowire.AppendVarint(tag(nil, 1, protowire.VarintType), 48)), qdrant.NewValueNull()},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decode(t, record(c.entry))
			if err != nil {
				t.Fatal(err)
			}
			if wireEntry(c.entry, 1) || bytes.Equal(got.Payload, msg(nil, 3, c.entry)) {
				t.Fatalf("non-canonical entry %x copied as it came", c.entry)
			}
			if diff := equalRecord(got, upsert(map[string]*qdrant.Value{"k": c.want})); diff != "" {
				t.Fatal(diff)
			}
		})
	}
	// Problems: the reader's errors (never copied).
	for name, c := range map[string]struct {
		entry  []byte
		substr string
	}{
		"NaN":              {entry("k", double(math.NaN())), "has no JSON form"},
		"infinite":         {entry("k", msg(nil, 7, msg(nil, 1, double(math.Inf(1))))), "has no JSON form"},
		"bad UTF-8 string": {entry("k", str("\xff")), "not valid UTF-8"},
		"bad UTF-8 key":    {entry("\xff", str("v")), "not valid UTF-8"},
		"too deep":         {entry("deep", nested(MaxPayloadDepth)), "nested deeper than"},
	} {
		t.Run(name, func(t *testing.T) {
			if wireEntry(c.entry, 1) {
				t.Fatalf("entry with a problem %x would be copied", c.entry)
			}
			_, err := decode(t, record(c.entry))
			wantClass(t, err, ClassValidate, c.substr)
		})
	}
}

// sameWire tells record.v1's Value, whose bytes Qdrant reads, from
// google.protobuf.Value, whose field numbers differ.
func TestSameWire(t *testing.T) {
	if !sameWire((&recordpb.Value{}).ProtoReflect().Descriptor(), qdrantValue, map[protoreflect.FullName]bool{}) {
		t.Error("record.v1 Value is not qdrant.Value on the wire")
	}
	if sameWire((&structpb.Value{}).ProtoReflect().Descriptor(), qdrantValue, map[protoreflect.FullName]bool{}) {
		t.Error("google.protobuf.Value taken for qdrant.Value")
	}
}

// TestRegistryFraming: values that are not in the wire format, and
// message indexes that name no message.
func TestRegistryFraming(t *testing.T) {
	reg := newCorpusRegistry(t)
	cfg := DecoderConfig{}
	d := NewFormatDecoder(FormatRegistry, cfg, NewSchemaCache(reg, cfg))
	ctx := context.Background()
	for name, c := range map[string]struct {
		value  []byte
		class  ErrorClass
		substr string
	}{
		"JSON":             {[]byte(`{"id": 1}`), ClassDecode, "not in the Schema Registry wire format"},
		"short":            {[]byte{0, 0, 0}, ClassDecode, "not in the Schema Registry wire format"},
		"unknown id":       {frame(999, nil, []byte{1}), ClassSchema, "schema id 999: not found"},
		"no message 40":    {frame(idUser, []int{40}, nil), ClassSchema, "no message at index [40]"},
		"bad indexes":      {frame(idUser, nil, []byte{0x7f}), ClassDecode, "no valid message indexes"},
		"JSON not JSON":    {frame(idJSON, nil, []byte("nope")), ClassDecode, ""},
		"proto of a JSON":  {frame(idJSON, nil, []byte{0}), ClassDecode, "is not JSON"},
		"user proto Crew":  {frame(idUser, []int{0}, nil), ClassValidate, `no field "id"`},
		"v1 without id":    {frame(idV1, []int{0}, mustMarshal(t, &recordpb.Record{Delete: true})), ClassValidate, "no key"},
		"avro of no bytes": {frame(idDense, nil, nil), ClassDecode, "not valid Avro"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := d.Decode(ctx, nil, c.value)
			wantClass(t, err, c.class, c.substr)
		})
	}
	// A tombstone needs no schema.
	if rec, err := d.Decode(ctx, []byte("42"), nil); err != nil || rec.Op != OpDelete || rec.ID.GetNum() != 42 {
		t.Fatalf("tombstone: %+v, %v", rec, err)
	}
}

// flakySource is a registry that is unreachable for the first down calls
// and slow to answer.
type flakySource struct {
	corpusRegistry
	down  atomic.Int64
	calls atomic.Int64
	gate  chan struct{}
}

func (s *flakySource) SchemaByID(ctx context.Context, id int) (RegisteredSchema, error) {
	s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return RegisteredSchema{}, ctx.Err()
		}
	}
	if s.down.Add(-1) >= 0 {
		return RegisteredSchema{}, errors.New("connection refused")
	}
	return s.corpusRegistry.SchemaByID(ctx, id)
}

// TestSchemaCache: one fetch per id however many decoders ask at once;
// an unreachable registry is UnavailableError and asked again by the next
// record; unknown ids are remembered.
func TestSchemaCache(t *testing.T) {
	src := &flakySource{corpusRegistry: newCorpusRegistry(t), gate: make(chan struct{})}
	src.down.Store(1)
	cache := NewSchemaCache(src, DecoderConfig{})
	value, key := readCorpus(t, "dense.avro.bin"), []byte("42")

	_, err := decodeAfter(NewFormatDecoder(FormatRegistry, DecoderConfig{}, cache), src.gate, key, value)
	var unavailable *UnavailableError
	if !errors.As(err, &unavailable) {
		t.Fatalf("registry down: error %v, want *UnavailableError", err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := NewFormatDecoder(FormatRegistry, DecoderConfig{}, cache).Decode(context.Background(), key, value)
			errs <- err
		})
	}
	for src.calls.Load() < 2 { // the second fetch is under way; the others wait for it
		time.Sleep(time.Millisecond)
	}
	close(src.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("registry asked %d times, want 2 (the failed fetch, then one for 8 decoders)", n)
	}

	for range 3 {
		_, err := NewFormatDecoder(FormatRegistry, DecoderConfig{}, cache).Decode(context.Background(), key, frame(77, nil, []byte{1}))
		wantClass(t, err, ClassSchema, "schema id 77")
	}
	if n := src.calls.Load(); n != 3 {
		t.Fatalf("registry asked %d times, want 3 (an unknown id is remembered)", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewFormatDecoder(FormatRegistry, DecoderConfig{}, NewSchemaCache(&flakySource{corpusRegistry: newCorpusRegistry(t), gate: make(chan struct{})}, DecoderConfig{})).Decode(ctx, key, value); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: error %v, want context.Canceled", err)
	}
}

// decodeAfter decodes with fd, letting its fetch through gate once.
func decodeAfter(fd *FormatDecoder, gate chan struct{}, key, value []byte) (Record, error) {
	done := make(chan struct{})
	var rec Record
	var err error
	go func() {
		defer close(done)
		rec, err = fd.Decode(context.Background(), key, value)
	}()
	gate <- struct{}{}
	<-done
	return rec, err
}

func readCorpus(t *testing.T, name string) []byte {
	return []byte(readTestdata(t, name))
}

// TestSerializedProtoSchema: a Protobuf schema registered as a base64
// FileDescriptorProto (as Confluent's Python serializer registers it)
// reads as its .proto text does; a registered record.v1 Record is read
// with record.v1's field names.
func TestSerializedProtoSchema(t *testing.T) {
	fd := protodesc.ToFileDescriptorProto(recordpb.File_record_v1_proto)
	for _, m := range fd.MessageType { // as Confluent's Python serializer writes them
		for _, f := range m.Field {
			f.JsonName = proto.String("")
		}
	}
	b, err := proto.Marshal(fd)
	if err != nil {
		t.Fatal(err)
	}
	rs := RegisteredSchema{Type: SchemaProtobuf, Schema: base64.StdEncoding.EncodeToString(b)}
	value := readCorpus(t, "named.pb")
	rec, err := decodeRegistered(t, DecoderConfig{IDField: "other"}, rs, []int{0}, nil, value)
	if err != nil {
		t.Fatal(err)
	}
	want, err := NewFormatDecoder(FormatProtobuf, DecoderConfig{}, nil).Decode(context.Background(), nil, value)
	if err != nil {
		t.Fatal(err)
	}
	if diff := equalRecord(rec, want); diff != "" {
		t.Fatal(diff)
	}
}
