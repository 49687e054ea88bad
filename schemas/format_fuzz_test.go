package schemas

import (
	"context"

	"github.com/hamba/avro/v2"
	"math"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// corpusSeeds adds the corpus files with suffix to f, with and without
// their last bytes.
func corpusSeeds(f *testing.F, suffix string, add func(value []byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*"+suffix))
	if err != nil || len(files) == 0 {
		f.Fatalf("no corpus files *%s: %v", suffix, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
		add(b[:len(b)-len(b)/4])
	}
}

// checkTypedError asserts the decoder's error contract: a *RecordError
// whose class and stage agree.
func checkTypedError(t *testing.T, err error) {
	re, ok := err.(*RecordError)
	if !ok {
		t.Fatalf("error %T is not a *RecordError: %v", err, err)
	}
	switch {
	case re.Stage == StageDecode && (re.Class == ClassDecode || re.Class == ClassOversize || re.Class == ClassSchema):
	case re.Class == ClassValidate && re.Stage == StageValidate:
	default:
		t.Fatalf("class/stage %s/%s: %v", re.Class, re.Stage, err)
	}
	if re.Err == nil || re.Error() == "" {
		t.Fatalf("empty error message")
	}
}

// checkTypedRecord asserts a decoded record is one Qdrant accepts: an id,
// vectors Qdrant takes (upserts), a payload that marshals (so valid UTF-8
// and not nested past what gRPC takes), nothing else on deletes.
func checkTypedRecord(t *testing.T, rec Record, key []byte, tombstone bool, cfg DecoderConfig) {
	if rec.ID == nil || rec.ID.GetPointIdOptions() == nil {
		t.Fatalf("record without an id: %+v", rec)
	}
	if _, err := proto.Marshal(rec.ID); err != nil {
		t.Fatalf("id does not marshal: %v", err)
	}
	if tombstone {
		if rec.Op != OpDelete || !proto.Equal(rec.ID, PointID(string(key))) {
			t.Fatalf("tombstone decoded as %+v", rec)
		}
	}
	if !cfg.AllowCollectionOverride && rec.Collection != "" {
		t.Fatalf("collection %q with overrides off", rec.Collection)
	}
	if rec.Collection != "" && (!utf8.ValidString(rec.Collection) || len(rec.Collection) > maxCollectionBytes) {
		t.Fatalf("bad collection %q", rec.Collection)
	}
	if rec.Op == OpDelete {
		if rec.Vectors != nil || rec.Payload != nil {
			t.Fatalf("delete decoded with a vector or payload: %+v", rec)
		}
		return
	}
	checkVectors(t, rec.Vectors)
	payload, err := rec.PayloadMap()
	if err != nil {
		t.Fatalf("Payload does not unmarshal: %v", err)
	}
	for _, m := range []proto.Message{rec.Vectors, &qdrant.Struct{Fields: payload}} {
		if _, err := proto.Marshal(m); err != nil {
			t.Fatalf("%T does not marshal: %v", m, err)
		}
	}
	if d := payloadDepth(payload); d > MaxPayloadDepth {
		t.Fatalf("payload nested %d levels, over %d", d, MaxPayloadDepth)
	}
}

func payloadDepth(m map[string]*qdrant.Value) int {
	deepest := 0
	var walk func(v *qdrant.Value, depth int)
	walk = func(v *qdrant.Value, depth int) {
		deepest = max(deepest, depth)
		switch k := v.GetKind().(type) {
		case *qdrant.Value_StructValue:
			for _, e := range k.StructValue.GetFields() {
				walk(e, depth+1)
			}
		case *qdrant.Value_ListValue:
			for _, e := range k.ListValue.GetValues() {
				walk(e, depth+1)
			}
		case *qdrant.Value_DoubleValue:
			if math.IsNaN(k.DoubleValue) || math.IsInf(k.DoubleValue, 0) {
				deepest = math.MaxInt // not JSON: fail
			}
		}
	}
	for _, v := range m {
		walk(v, 1)
	}
	return deepest
}

// FuzzProtobuf checks the record.v1 decoder on arbitrary bytes: it never
// panics, errors follow the contract, records are ones Qdrant accepts,
// and on every value protobuf-go can unmarshal, written canonically, it
// agrees with the generated types read by the documented rules
// (referenceV1).
func FuzzProtobuf(f *testing.F) {
	corpusSeeds(f, ".pb", func(v []byte) {
		f.Add([]byte("k-1"), v, false, true, uint8(0))
		f.Add([]byte("7"), v, false, false, uint8(KeyIDStrict))
	})
	f.Add([]byte("42"), []byte(nil), true, false, uint8(0))
	f.Add([]byte("k"), []byte{0, 0, 0, 0, 1, 2}, false, false, uint8(0))
	f.Fuzz(func(t *testing.T, key, value []byte, tombstone, allow bool, rule uint8) {
		if tombstone {
			value = nil
		} else if value == nil {
			value = []byte{}
		}
		cfg := DecoderConfig{AllowCollectionOverride: allow, KeyID: KeyIDRule(rule % 3)}
		ctx := context.Background()
		rec, err := NewFormatDecoder(FormatProtobuf, cfg, nil).Decode(ctx, key, value)
		if err != nil {
			checkTypedError(t, err)
		} else {
			checkTypedRecord(t, rec, key, tombstone, cfg)
		}
		var ref recordpb.Record
		if tombstone || proto.Unmarshal(value, &ref) != nil {
			return
		}
		canon, err := proto.MarshalOptions{Deterministic: true}.Marshal(&ref)
		if err != nil {
			t.Fatal(err)
		}
		got, gerr := NewFormatDecoder(FormatProtobuf, cfg, nil).Decode(ctx, key, canon)
		want, werr := referenceV1(&ref, key, cfg)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("decoder: %v; reference rules: %v", gerr, werr)
		}
		if gerr == nil {
			if diff := equalRecord(got, want); diff != "" {
				t.Fatalf("decoder and reference differ: %s", diff)
			}
		}
	})
}

// refErr marks the reference rejecting a record.
type refErr string

func (e refErr) Error() string { return string(e) }

// referenceV1 applies the documented rules to a record.v1 Record read by
// protobuf-go, independently of the decoder.
func referenceV1(r *recordpb.Record, key []byte, cfg DecoderConfig) (Record, error) {
	var valueID *qdrant.PointId
	var err error
	if cfg.KeyID != KeyIDKey {
		switch id := r.Id.(type) {
		case *recordpb.Record_Num:
			valueID = qdrant.NewIDNum(id.Num)
		case *recordpb.Record_Text:
			if ValidateID(id.Text) != nil {
				err = refErr("bad text id")
			}
			valueID = PointID(id.Text)
		case *recordpb.Record_Uuid:
			if len(id.Uuid) != 16 {
				err = refErr("uuid not 16 bytes")
			} else {
				valueID = qdrant.NewIDUUID(uuid.UUID(id.Uuid).String())
			}
		}
	}
	var coll string
	if cfg.AllowCollectionOverride && r.CollectionName != "" {
		if validateText(r.CollectionName, maxCollectionBytes) != nil {
			err = refErr("bad collection")
		}
		coll = r.CollectionName
	}
	out := Record{Op: OpUpsert, Collection: coll}
	if r.Delete {
		out.Op = OpDelete
	} else {
		if out.Vectors, err = refVectors(r, err); err == nil && len(r.Payload) > 0 {
			m := make(map[string]*qdrant.Value, len(r.Payload))
			for k, v := range r.Payload {
				if m[k], err = refValue(v, 1); err != nil {
					break
				}
			}
			if err == nil {
				out.Payload, err = EncodePayload(m)
			}
		}
	}
	if err != nil {
		return Record{}, err
	}
	switch {
	case cfg.KeyID == KeyIDFallback && valueID != nil:
		out.ID = valueID
	case len(key) == 0 || ValidateID(string(key)) != nil:
		return Record{}, refErr("no usable key")
	default:
		out.ID = PointID(string(key))
		if valueID != nil && IDKeyOf(valueID) != IDKeyOf(out.ID) {
			return Record{}, refErr("key and id disagree")
		}
	}
	if out.Op == OpUpsert && out.Vectors == nil {
		return Record{}, refErr("no vector")
	}
	return out, nil
}

func refVectors(r *recordpb.Record, err error) (*qdrant.Vectors, error) {
	if err != nil {
		return nil, err
	}
	switch v := r.Vector.(type) {
	case *recordpb.Record_Dense:
		d, err := refDense(v.Dense.GetData())
		if err != nil {
			return nil, err
		}
		return &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: d}}, nil
	case *recordpb.Record_Multi:
		m, err := refMulti(v.Multi)
		if err != nil {
			return nil, err
		}
		return &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: m}}, nil
	case *recordpb.Record_Named:
		if len(v.Named.GetVectors()) == 0 {
			return nil, refErr("no named vector")
		}
		m := map[string]*qdrant.Vector{}
		for name, x := range v.Named.GetVectors() {
			var vec *qdrant.Vector
			var err error
			switch y := x.GetVector().(type) {
			case *recordpb.Vector_Dense:
				vec, err = refDense(y.Dense.GetData())
			case *recordpb.Vector_MultiDense:
				vec, err = refMulti(y.MultiDense)
			case *recordpb.Vector_Sparse:
				vec, err = refSparse(y.Sparse)
			default:
				err = refErr("named vector without a kind")
			}
			if err != nil {
				return nil, err
			}
			m[name] = vec
		}
		return qdrant.NewVectorsMap(m), nil
	}
	return nil, nil
}

func refFinite(f []float32) error {
	if len(f) == 0 {
		return refErr("empty")
	}
	for _, x := range f {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return refErr("not finite")
		}
	}
	return nil
}

func refDense(f []float32) (*qdrant.Vector, error) {
	if err := refFinite(f); err != nil {
		return nil, err
	}
	return qdrant.NewVectorDense(f), nil
}

func refMulti(m *recordpb.MultiDenseVector) (*qdrant.Vector, error) {
	rows := m.GetVectors()
	if len(rows) == 0 {
		return nil, refErr("no rows")
	}
	out := make([][]float32, len(rows))
	for i, r := range rows {
		if err := refFinite(r.GetData()); err != nil || len(r.GetData()) != len(rows[0].GetData()) {
			return nil, refErr("bad row")
		}
		out[i] = r.GetData()
	}
	return qdrant.NewVectorMulti(out), nil
}

func refSparse(s *recordpb.SparseVector) (*qdrant.Vector, error) {
	if len(s.GetIndices()) != len(s.GetValues()) {
		return nil, refErr("lengths")
	}
	seen := map[uint32]bool{}
	for _, i := range s.GetIndices() {
		if seen[i] {
			return nil, refErr("duplicate index")
		}
		seen[i] = true
	}
	for _, x := range s.GetValues() {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, refErr("not finite")
		}
	}
	return qdrant.NewVectorSparse(s.GetIndices(), s.GetValues()), nil
}

func refValue(v *recordpb.Value, depth int) (*qdrant.Value, error) {
	switch k := v.GetKind().(type) {
	case *recordpb.Value_DoubleValue:
		if math.IsNaN(k.DoubleValue) || math.IsInf(k.DoubleValue, 0) {
			return nil, refErr("not finite")
		}
		return qdrant.NewValueDouble(k.DoubleValue), nil
	case *recordpb.Value_IntegerValue:
		return qdrant.NewValueInt(k.IntegerValue), nil
	case *recordpb.Value_StringValue:
		return qdrant.NewValueString(k.StringValue), nil
	case *recordpb.Value_BoolValue:
		return qdrant.NewValueBool(k.BoolValue), nil
	case *recordpb.Value_StructValue:
		if depth >= MaxPayloadDepth {
			return nil, refErr("too deep")
		}
		m := map[string]*qdrant.Value{}
		for key, e := range k.StructValue.GetFields() {
			x, err := refValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			m[key] = x
		}
		return qdrant.NewValueStruct(&qdrant.Struct{Fields: m}), nil
	case *recordpb.Value_ListValue:
		if depth >= MaxPayloadDepth {
			return nil, refErr("too deep")
		}
		l := []*qdrant.Value{}
		for _, e := range k.ListValue.GetValues() {
			x, err := refValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return qdrant.NewValueFromList(l...), nil
	}
	return qdrant.NewValueNull(), nil
}

// fuzzRegistryConfigs are the decoder settings the registry fuzzers try.
func fuzzConfig(allow bool, rule uint8) DecoderConfig {
	return DecoderConfig{AllowCollectionOverride: allow, KeyID: KeyIDRule(rule % 3)}
}

// FuzzRegistry checks the registry format on arbitrary values: the
// Schema Registry framing, then Avro, Protobuf (a producer's messages and
// record.v1) or JSON by the schema of the id (the corpus registry). It
// never panics, errors follow the contract, records are ones Qdrant
// accepts.
func FuzzRegistry(f *testing.F) {
	for _, suffix := range []string{".avro.bin", ".userpb.bin", ".v1pb.bin", ".jsonsr.bin"} {
		corpusSeeds(f, suffix, func(v []byte) { f.Add([]byte("k-1"), v, true, uint8(0)) })
	}
	// The rich Avro schema of TestAvroRecords (unions, maps, enums,
	// fixed, logical types, dotted paths in the config below).
	rich, err := avro.Marshal(avro.MustParse(avroPoint), map[string]any{
		"meta":    map[string]any{"Meta": map[string]any{"id": map[string]any{"long": int64(5)}, "deleted": false}},
		"vector":  map[string]any{"map": map[string]any{"s": map[string]any{"Sparse": map[string]any{"values": []float64{1}, "indices": []int64{2}}}}},
		"payload": map[string]any{"map": map[string]any{"c": map[string]any{"Color": "RED"}, "l": map[string]any{"array": []int32{1}}}},
		"coll":    nil,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("k"), frame(idRich, nil, rich), true, uint8(0))
	f.Add([]byte("k"), []byte{0, 0, 0, 0, 99, 1}, false, uint8(0)) // unknown id
	f.Add([]byte("k"), []byte{0, 0, 0, 0, byte(idUser), 2, 200}, false, uint8(0))
	reg := newCorpusRegistry(f)
	f.Fuzz(func(t *testing.T, key, value []byte, allow bool, rule uint8) {
		cfg := fuzzConfig(allow, rule)
		if len(value) >= 5 && value[4] == idRich {
			cfg.IDField, cfg.DeleteField, cfg.CollectionField = "meta.id", "meta.deleted", "coll"
		}
		d := NewFormatDecoder(FormatRegistry, cfg, NewSchemaCache(reg, cfg))
		rec, err := d.Decode(context.Background(), key, value)
		if err != nil {
			checkTypedError(t, err)
			return
		}
		checkTypedRecord(t, rec, key, value == nil, cfg)
		// Deterministic.
		rec2, err := d.Decode(context.Background(), key, value)
		if err != nil {
			t.Fatalf("second decode: %v", err)
		}
		if diff := equalRecord(rec2, rec); diff != "" {
			t.Fatalf("second decode differs: %s", diff)
		}
	})
}
