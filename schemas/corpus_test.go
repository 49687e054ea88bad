package schemas

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/hamba/avro/v2"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

var update = flag.Bool("update", false, "rewrite the golden corpus under testdata/corpus")

// The golden corpus: one record of each vector kind (dense, multi,
// named with dense, sparse and multi) and a delete record, in every
// format: the JSON envelope, record.v1 Protobuf, and through the Schema
// Registry Avro, a producer's own Protobuf messages, record.v1 and JSON.
// Every encoding of a case must decode to the same Record, the one in
// <case>.want.json; the inputs are committed, so a change in how any
// format decodes shows as a diff.

type corpusCase struct {
	name string
	key  string
	rec  *recordpb.Record
}

func corpusPayload(title string, year int64, rating float64, classic bool) map[string]*recordpb.Value {
	str := func(s string) *recordpb.Value {
		return &recordpb.Value{Kind: &recordpb.Value_StringValue{StringValue: s}}
	}
	integer := func(i int64) *recordpb.Value {
		return &recordpb.Value{Kind: &recordpb.Value_IntegerValue{IntegerValue: i}}
	}
	return map[string]*recordpb.Value{
		"title":  str(title),
		"year":   integer(year),
		"rating": {Kind: &recordpb.Value_DoubleValue{DoubleValue: rating}},
		"tags": {Kind: &recordpb.Value_ListValue{ListValue: &recordpb.ListValue{Values: []*recordpb.Value{
			str("sci-fi"), str(title + "-tag")}}}},
		"crew": {Kind: &recordpb.Value_StructValue{StructValue: &recordpb.Struct{Fields: map[string]*recordpb.Value{
			"director": str("R. Scott"), "size": integer(120)}}}},
		"classic": {Kind: &recordpb.Value_BoolValue{BoolValue: classic}},
	}
}

func pbDense(f ...float32) *recordpb.DenseVector { return &recordpb.DenseVector{Data: f} }

var corpusCases = []corpusCase{
	{name: "dense", key: "42", rec: &recordpb.Record{
		Id:      &recordpb.Record_Num{Num: 42},
		Vector:  &recordpb.Record_Dense{Dense: pbDense(0.25, -1.5, 3, 0.1)},
		Payload: corpusPayload("Alien", 1979, 8.5, true),
	}},
	{name: "multi", key: "doc-1", rec: &recordpb.Record{
		Id: &recordpb.Record_Text{Text: "doc-1"},
		Vector: &recordpb.Record_Multi{Multi: &recordpb.MultiDenseVector{Vectors: []*recordpb.DenseVector{
			pbDense(1, 2, 3, 4), pbDense(5, 6, 7, 8.5)}}},
		Payload:        corpusPayload("Doc", 2024, 0.5, true),
		CollectionName: "docs",
	}},
	{name: "named", key: "6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69", rec: &recordpb.Record{
		Id: &recordpb.Record_Uuid{Uuid: uuidBytes("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69")},
		Vector: &recordpb.Record_Named{Named: &recordpb.NamedVectors{Vectors: map[string]*recordpb.Vector{
			"image": {Vector: &recordpb.Vector_Dense{Dense: pbDense(0.5, 0.5, -0.5, 1e-3)}},
			"text": {Vector: &recordpb.Vector_Sparse{Sparse: &recordpb.SparseVector{
				Indices: []uint32{7, 3, 1000}, Values: []float32{0.5, 0.25, 2}}}},
			"colbert": {Vector: &recordpb.Vector_MultiDense{MultiDense: &recordpb.MultiDenseVector{
				Vectors: []*recordpb.DenseVector{pbDense(1, 2), pbDense(3, 4), pbDense(5, 6)}}}},
		}}},
		Payload: corpusPayload("Named", 1, -2.25, true),
	}},
	{name: "delete", key: "7", rec: &recordpb.Record{
		Id:             &recordpb.Record_Num{Num: 7},
		CollectionName: "archive",
		Delete:         true,
	}},
}

// Schema ids of the corpus registry.
const (
	idPayload = 1  // example.v1.Payload (Avro), referenced by the next three
	idDense   = 2  // dense.avsc
	idMulti   = 3  // multi.avsc
	idNamed   = 4  // named.avsc
	idUser    = 10 // user.proto
	idV1      = 11 // record.v1.proto
	idJSON    = 12 // a JSON Schema
	idRich    = 13 // avroPoint (typed_test.go)
)

// corpusFormats are the encodings of every case: a file suffix and how to
// make it.
var corpusFormats = []struct {
	suffix string
	format Format
	encode func(t *testing.T, c corpusCase) []byte
}{
	{".json", FormatJSON, func(t *testing.T, c corpusCase) []byte { return envelopeJSON(c.rec) }},
	{".pb", FormatProtobuf, func(t *testing.T, c corpusCase) []byte { return mustMarshal(t, c.rec) }},
	{".avro.bin", FormatRegistry, encodeAvro},
	{".userpb.bin", FormatRegistry, encodeUserProto},
	{".v1pb.bin", FormatRegistry, func(t *testing.T, c corpusCase) []byte {
		return frame(idV1, []int{0}, mustMarshal(t, c.rec))
	}},
	{".jsonsr.bin", FormatRegistry, func(t *testing.T, c corpusCase) []byte {
		return frame(idJSON, nil, envelopeJSON(c.rec))
	}},
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// frame puts a value in the Schema Registry wire format.
func frame(id int, index []int, value []byte) []byte {
	b, _ := new(sr.ConfluentHeader).AppendEncode(nil, id, index)
	return append(b, value...)
}

func TestCorpus(t *testing.T) {
	reg := newCorpusRegistry(t)
	cfg := DecoderConfig{AllowCollectionOverride: true}
	cache := NewSchemaCache(reg, cfg)
	for _, c := range corpusCases {
		t.Run(c.name, func(t *testing.T) {
			base := filepath.Join("testdata", "corpus", c.name)
			if *update {
				for _, f := range corpusFormats {
					writeFile(t, base+f.suffix, f.encode(t, c))
				}
				rec, err := NewDecoder(cfg).Decode([]byte(c.key), envelopeJSON(c.rec))
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, base+".want.json", renderRecord(t, rec))
			}
			want, err := os.ReadFile(base + ".want.json")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range corpusFormats {
				value, err := os.ReadFile(base + f.suffix)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(value, f.encode(t, c)) {
					t.Errorf("%s%s is not what the case encodes to: run go test ./schemas/ -run TestCorpus -update", c.name, f.suffix)
				}
				rec, err := NewFormatDecoder(f.format, cfg, cache).Decode(context.Background(), []byte(c.key), value)
				if err != nil {
					t.Fatalf("%s%s: %v", c.name, f.suffix, err)
				}
				if got := renderRecord(t, rec); !bytes.Equal(got, want) {
					t.Errorf("%s%s decodes to\n%s\nwant (%s.want.json)\n%s", c.name, f.suffix, got, c.name, want)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// renderRecord prints a Record as indented JSON with sorted keys.
func renderRecord(t *testing.T, rec Record) []byte {
	out := map[string]any{"op": rec.Op.String()}
	put := func(name string, m proto.Message) {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	put("id", rec.ID)
	if rec.Collection != "" {
		out["collection"] = rec.Collection
	}
	if rec.Vectors != nil {
		put("vectors", rec.Vectors)
	}
	payload, err := rec.PayloadMap()
	if err != nil {
		t.Fatal(err)
	}
	if payload != nil {
		put("payload", &qdrant.Struct{Fields: payload})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// envelopeJSON is a record.v1 Record as the JSON envelope.
func envelopeJSON(r *recordpb.Record) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	sep := func() {
		if b.Len() > 1 {
			b.WriteString(", ")
		}
	}
	switch id := r.Id.(type) {
	case *recordpb.Record_Num:
		fmt.Fprintf(&b, `"id": %d`, id.Num)
	case *recordpb.Record_Text:
		fmt.Fprintf(&b, `"id": %q`, id.Text)
	case *recordpb.Record_Uuid:
		fmt.Fprintf(&b, `"id": %q`, uuid.UUID(id.Uuid).String())
	}
	floats := func(f []float32) string {
		s := "["
		for i, x := range f {
			if i > 0 {
				s += ", "
			}
			s += strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return s + "]"
	}
	rows := func(m *recordpb.MultiDenseVector) string {
		s := "["
		for i, row := range m.Vectors {
			if i > 0 {
				s += ", "
			}
			s += floats(row.Data)
		}
		return s + "]"
	}
	switch v := r.Vector.(type) {
	case *recordpb.Record_Dense:
		sep()
		b.WriteString(`"vector": ` + floats(v.Dense.Data))
	case *recordpb.Record_Multi:
		sep()
		b.WriteString(`"vector": ` + rows(v.Multi))
	case *recordpb.Record_Named:
		sep()
		b.WriteString(`"vector": {`)
		names := make([]string, 0, len(v.Named.Vectors))
		for n := range v.Named.Vectors {
			names = append(names, n)
		}
		sort.Strings(names)
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q: ", n)
			switch x := v.Named.Vectors[n].Vector.(type) {
			case *recordpb.Vector_Dense:
				b.WriteString(floats(x.Dense.Data))
			case *recordpb.Vector_MultiDense:
				b.WriteString(rows(x.MultiDense))
			case *recordpb.Vector_Sparse:
				idx, _ := json.Marshal(x.Sparse.Indices)
				fmt.Fprintf(&b, `{"indices": %s, "values": %s}`, idx, floats(x.Sparse.Values))
			}
		}
		b.WriteByte('}')
	}
	if len(r.Payload) > 0 {
		sep()
		p, _ := json.Marshal(nativePayload(r.Payload))
		b.WriteString(`"payload": `)
		b.Write(p)
	}
	if r.CollectionName != "" {
		sep()
		fmt.Fprintf(&b, `"collection_name": %q`, r.CollectionName)
	}
	if r.Delete {
		sep()
		b.WriteString(`"delete": true`)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// nativePayload is a record.v1 payload as Go values (int64, float64,
// string, bool, []any, map[string]any, nil).
func nativePayload(p map[string]*recordpb.Value) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = nativeValue(v)
	}
	return out
}

func nativeValue(v *recordpb.Value) any {
	switch k := v.Kind.(type) {
	case *recordpb.Value_DoubleValue:
		return k.DoubleValue
	case *recordpb.Value_IntegerValue:
		return k.IntegerValue
	case *recordpb.Value_StringValue:
		return k.StringValue
	case *recordpb.Value_BoolValue:
		return k.BoolValue
	case *recordpb.Value_StructValue:
		return nativePayload(k.StructValue.Fields)
	case *recordpb.Value_ListValue:
		l := make([]any, len(k.ListValue.Values))
		for i, e := range k.ListValue.Values {
			l[i] = nativeValue(e)
		}
		return l
	}
	return nil
}

// corpusRegistry serves the corpus schemas (schemas.SchemaSource) from
// testdata; the registry client is tested against a real REST registry in
// schemas/registry.
type corpusRegistry map[int]RegisteredSchema

func (r corpusRegistry) SchemaByID(_ context.Context, id int) (RegisteredSchema, error) {
	s, ok := r[id]
	if !ok {
		return RegisteredSchema{}, fmt.Errorf("schema id %d: %w", id, ErrSchemaNotFound)
	}
	return s, nil
}

func readTestdata(t testing.TB, name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newCorpusRegistry(t testing.TB) corpusRegistry {
	payload := RegisteredSchema{Type: SchemaAvro, Schema: readTestdata(t, "payload.avsc")}
	avroOf := func(file string) RegisteredSchema {
		return RegisteredSchema{Type: SchemaAvro, Schema: readTestdata(t, file),
			References: []Reference{{Name: "example.v1.Payload", Schema: payload}}}
	}
	v1, err := os.ReadFile("record.v1.proto")
	if err != nil {
		t.Fatal(err)
	}
	return corpusRegistry{
		idPayload: payload,
		idDense:   avroOf("dense.avsc"),
		idMulti:   avroOf("multi.avsc"),
		idNamed:   avroOf("named.avsc"),
		idUser:    {Type: SchemaProtobuf, Schema: readTestdata(t, "user.proto")},
		idV1:      {Type: SchemaProtobuf, Schema: string(v1)},
		idJSON:    {Type: SchemaJSON, Schema: `{"type": "object"}`},
		idRich:    {Type: SchemaAvro, Schema: avroPoint},
	}
}

// avroSchemaOf parses a corpus Avro schema with its reference.
func avroSchemaOf(t testing.TB, id int) avro.Schema {
	s, err := parseAvro(newCorpusRegistry(t)[id])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// encodeAvro encodes a case with its Avro schema, framed.
func encodeAvro(t *testing.T, c corpusCase) []byte {
	id := idDense
	switch c.rec.Vector.(type) {
	case *recordpb.Record_Multi:
		id = idMulti
	case *recordpb.Record_Named:
		id = idNamed
	}
	s := avroSchemaOf(t, id)
	b, err := avro.Marshal(s, avroNative(c.rec))
	if err != nil {
		t.Fatal(err)
	}
	return frame(id, nil, b)
}

func avroNative(r *recordpb.Record) map[string]any {
	m := map[string]any{"id": nil, "vector": nil, "payload": nil, "collection_name": nil, "delete": r.Delete}
	switch id := r.Id.(type) {
	case *recordpb.Record_Num:
		m["id"] = map[string]any{"long": int64(id.Num)}
	case *recordpb.Record_Text:
		m["id"] = map[string]any{"string": id.Text}
	case *recordpb.Record_Uuid:
		m["id"] = map[string]any{"example.v1.UUID": [16]byte(id.Uuid)}
	}
	rows := func(mv *recordpb.MultiDenseVector) [][]float32 {
		out := make([][]float32, len(mv.Vectors))
		for i, r := range mv.Vectors {
			out[i] = r.Data
		}
		return out
	}
	switch v := r.Vector.(type) {
	case *recordpb.Record_Dense:
		m["vector"] = map[string]any{"array": v.Dense.Data}
	case *recordpb.Record_Multi:
		m["vector"] = map[string]any{"array": rows(v.Multi)}
	case *recordpb.Record_Named:
		named := map[string]any{"image": nil, "text": nil, "colbert": nil}
		for n, x := range v.Named.Vectors {
			switch x := x.Vector.(type) {
			case *recordpb.Vector_Dense:
				named[n] = map[string]any{"array": x.Dense.Data}
			case *recordpb.Vector_MultiDense:
				named[n] = map[string]any{"array": rows(x.MultiDense)}
			case *recordpb.Vector_Sparse:
				idx := make([]int32, len(x.Sparse.Indices))
				for i, u := range x.Sparse.Indices {
					idx[i] = int32(u)
				}
				named[n] = map[string]any{"example.v1.Sparse": map[string]any{"indices": idx, "values": x.Sparse.Values}}
			}
		}
		m["vector"] = map[string]any{"example.v1.Vectors": named}
	}
	if len(r.Payload) > 0 {
		p := nativePayload(r.Payload)
		crew := p["crew"].(map[string]any)
		crew["size"] = int32(crew["size"].(int64))
		m["payload"] = map[string]any{"example.v1.Payload": p}
	}
	if r.CollectionName != "" {
		m["collection_name"] = map[string]any{"string": r.CollectionName}
	}
	return m
}

// userFile compiles user.proto.
func userFile(t testing.TB) protoreflect.FileDescriptor {
	fd, err := parseProto(idUser, newCorpusRegistry(t)[idUser])
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// encodeUserProto encodes a case as a message of user.proto, framed.
func encodeUserProto(t *testing.T, c corpusCase) []byte {
	fd := userFile(t)
	name, index := protoreflect.Name("Dense"), 5
	switch c.rec.Vector.(type) {
	case *recordpb.Record_Multi:
		name, index = "Multi", 6
	case *recordpb.Record_Named:
		name, index = "Named", 7
	}
	md := fd.Messages().ByName(name)
	m := dynamicpb.NewMessage(md)
	f := md.Fields().ByName
	switch id := c.rec.Id.(type) {
	case *recordpb.Record_Num:
		m.Set(f("num"), protoreflect.ValueOfUint64(id.Num))
	case *recordpb.Record_Text:
		m.Set(f("text"), protoreflect.ValueOfString(id.Text))
	case *recordpb.Record_Uuid:
		m.Set(f("uuid"), protoreflect.ValueOfBytes(id.Uuid))
	}
	floatList := func(l protoreflect.List, data []float32) {
		for _, x := range data {
			l.Append(protoreflect.ValueOfFloat32(x))
		}
	}
	rowsInto := func(l protoreflect.List, mv *recordpb.MultiDenseVector) {
		for _, r := range mv.Vectors {
			row := l.NewElement().Message()
			floatList(row.Mutable(row.Descriptor().Fields().ByName("values")).List(), r.Data)
			l.Append(protoreflect.ValueOfMessage(row))
		}
	}
	switch v := c.rec.Vector.(type) {
	case *recordpb.Record_Dense:
		floatList(m.Mutable(f("vector")).List(), v.Dense.Data)
	case *recordpb.Record_Multi:
		rowsInto(m.Mutable(f("vector")).List(), v.Multi)
	case *recordpb.Record_Named:
		vm := m.Mutable(f("vector")).Message()
		vf := vm.Descriptor().Fields().ByName
		for n, x := range v.Named.Vectors {
			switch x := x.Vector.(type) {
			case *recordpb.Vector_Dense:
				floatList(vm.Mutable(vf(protoreflect.Name(n))).List(), x.Dense.Data)
			case *recordpb.Vector_MultiDense:
				rowsInto(vm.Mutable(vf(protoreflect.Name(n))).List(), x.MultiDense)
			case *recordpb.Vector_Sparse:
				sm := vm.Mutable(vf(protoreflect.Name(n))).Message()
				idx := sm.Mutable(sm.Descriptor().Fields().ByName("indices")).List()
				for _, u := range x.Sparse.Indices {
					idx.Append(protoreflect.ValueOfUint32(u))
				}
				floatList(sm.Mutable(sm.Descriptor().Fields().ByName("values")).List(), x.Sparse.Values)
			}
		}
	}
	if len(c.rec.Payload) > 0 {
		p := nativePayload(c.rec.Payload)
		pm := m.Mutable(f("payload")).Message()
		pf := pm.Descriptor().Fields().ByName
		pm.Set(pf("title"), protoreflect.ValueOfString(p["title"].(string)))
		pm.Set(pf("year"), protoreflect.ValueOfInt64(p["year"].(int64)))
		pm.Set(pf("rating"), protoreflect.ValueOfFloat64(p["rating"].(float64)))
		tags := pm.Mutable(pf("tags")).List()
		for _, s := range p["tags"].([]any) {
			tags.Append(protoreflect.ValueOfString(s.(string)))
		}
		crew := p["crew"].(map[string]any)
		cm := pm.Mutable(pf("crew")).Message()
		cm.Set(cm.Descriptor().Fields().ByName("director"), protoreflect.ValueOfString(crew["director"].(string)))
		cm.Set(cm.Descriptor().Fields().ByName("size"), protoreflect.ValueOfInt32(int32(crew["size"].(int64))))
		pm.Set(pf("classic"), protoreflect.ValueOfBool(p["classic"].(bool)))
	}
	if c.rec.CollectionName != "" {
		m.Set(f("collection_name"), protoreflect.ValueOfString(c.rec.CollectionName))
	}
	if c.rec.Delete {
		m.Set(f("delete"), protoreflect.ValueOfBool(true))
	}
	return frame(idUser, []int{index}, mustMarshal(t, m))
}

func uuidBytes(s string) []byte {
	u := uuid.MustParse(s)
	return u[:]
}
