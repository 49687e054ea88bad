package sink

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/seed-a550a1ef/kafka-qdrant/sink/internal/wireschema"
)

// Property: requests that set every field of every message reachable from
// UpdateBatchPoints (found by walking the descriptors, not from a list)
// round-trip through the generated encoder and have proto.Size's length.
// The test fails if some field was never set, so no generated line goes
// untested.
func TestAppendUpdateBatchEveryField(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 300
	}
	g := &anyGen{set: map[protoreflect.FullName]bool{}}
	for seed := range uint64(n) {
		g.r = rand.New(rand.NewPCG(seed, 0xf1e1d))
		req := &qdrant.UpdateBatchPoints{}
		g.fill(req.ProtoReflect(), 0)
		t.Run("", func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("seed %d", seed)
				}
			}()
			checkWire(t, req)
		})
	}
	for _, md := range wireschema.Reachable((&qdrant.UpdateBatchPoints{}).ProtoReflect().Descriptor()) {
		for i := range md.Fields().Len() {
			if f := md.Fields().Get(i); !g.set[f.FullName()] {
				t.Errorf("%s was never set", f.FullName())
			}
		}
	}
}

// anyGen fills messages with random values through protoreflect: every
// field kind, negative and out-of-range enums, negative zero, unicode,
// empty messages, unknown fields. set records the fields it set.
type anyGen struct {
	r   *rand.Rand
	set map[protoreflect.FullName]bool
}

// maxDepth bounds the nesting (Filter → Condition → Filter, Value → Struct
// → Value); below it messages are left empty.
const maxDepth = 9

func (g *anyGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *anyGen) fill(m protoreflect.Message, depth int) {
	md := m.Descriptor()
	for i := range md.Fields().Len() {
		f := md.Fields().Get(i)
		if o := f.ContainingOneof(); (o == nil || o.IsSynthetic()) && g.chance(0.5) {
			g.setField(m, f, depth)
		}
	}
	for i := range md.Oneofs().Len() {
		if o := md.Oneofs().Get(i); !o.IsSynthetic() && g.chance(0.8) {
			g.setField(m, o.Fields().Get(g.r.IntN(o.Fields().Len())), depth)
		}
	}
	if g.chance(0.05) {
		b := protowire.AppendTag(nil, protowire.Number(1000+g.r.IntN(100)), protowire.BytesType)
		m.SetUnknown(protowire.AppendString(b, g.str()))
	}
}

func (g *anyGen) setField(m protoreflect.Message, f protoreflect.FieldDescriptor, depth int) {
	g.set[f.FullName()] = true
	switch {
	case f.IsMap():
		mp := m.Mutable(f).Map()
		for range 1 + g.r.IntN(3) {
			var v protoreflect.Value
			if f.MapValue().Message() != nil {
				v = mp.NewValue()
				g.child(v.Message(), depth)
			} else {
				v = g.scalar(f.MapValue())
			}
			mp.Set(g.scalar(f.MapKey()).MapKey(), v)
		}
	case f.IsList():
		l := m.Mutable(f).List()
		for range 1 + g.r.IntN(3) {
			if f.Message() != nil {
				v := l.NewElement()
				g.child(v.Message(), depth)
				l.Append(v)
			} else {
				l.Append(g.scalar(f))
			}
		}
	case f.Message() != nil:
		v := m.NewField(f)
		g.child(v.Message(), depth)
		m.Set(f, v)
	default:
		m.Set(f, g.scalar(f))
	}
}

func (g *anyGen) child(m protoreflect.Message, depth int) {
	if depth < maxDepth {
		g.fill(m, depth+1)
	}
}

func (g *anyGen) scalar(f protoreflect.FieldDescriptor) protoreflect.Value {
	u := g.r.Uint64() >> g.r.IntN(64)
	if g.chance(0.2) {
		u = 0
	}
	switch f.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(g.chance(0.5))
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(int32(u%5) - 1))
	case protoreflect.Int32Kind:
		return protoreflect.ValueOfInt32(int32(u))
	case protoreflect.Int64Kind:
		return protoreflect.ValueOfInt64(int64(u))
	case protoreflect.Uint32Kind:
		return protoreflect.ValueOfUint32(uint32(u))
	case protoreflect.Uint64Kind:
		return protoreflect.ValueOfUint64(u)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(g.float()))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(g.float())
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(g.str())
	}
	panic("anyGen: no values of kind " + f.Kind().String() + " (" + string(f.FullName()) + ")")
}

func (g *anyGen) float() float64 {
	switch g.r.IntN(5) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return math.Inf(1 - 2*g.r.IntN(2))
	}
	return g.r.NormFloat64() * 1e3
}

func (g *anyGen) str() string {
	return []string{"", "a", "title", "日本語", "🦀", "\x00", strings.Repeat("long", 40)}[g.r.IntN(7)]
}

// The go-client linked in is the one wire_gen.go was generated from.
func TestWireSchemaMatchesGoClient(t *testing.T) {
	if err := wireSchemaErr(); err != nil {
		t.Fatal(err)
	}
}

// checkWireSchema notices every change to the descriptors that would make
// wire_gen.go write something else than protobuf-go: a field or oneof case
// added, a kind or packing changed, a message added.
func TestCheckWireSchemaNoticesChanges(t *testing.T) {
	tests := []struct {
		name string
		edit func(files map[string]*descriptorpb.FileDescriptorProto)
		want string // in the error
	}{
		{"field added", func(files map[string]*descriptorpb.FileDescriptorProto) {
			m := message(t, files, "qdrant.PointStruct")
			m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{
				Name: ptr("extra"), JsonName: ptr("extra"), Number: ptr(int32(99)),
				Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(),
			})
		}, "qdrant.PointStruct is {"},
		{"oneof case added", func(files map[string]*descriptorpb.FileDescriptorProto) {
			m := message(t, files, "qdrant.Value")
			m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{
				Name: ptr("uint_value"), JsonName: ptr("uintValue"), Number: ptr(int32(8)), OneofIndex: ptr(int32(0)),
				Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_UINT64.Enum(),
			})
		}, "qdrant.Value is {"},
		{"kind changed", func(files map[string]*descriptorpb.FileDescriptorProto) {
			field(t, files, "qdrant.Value", "integer_value").Type = descriptorpb.FieldDescriptorProto_TYPE_SINT64.Enum()
		}, "qdrant.Value is {"},
		{"packing changed", func(files map[string]*descriptorpb.FileDescriptorProto) {
			field(t, files, "qdrant.DenseVector", "data").Options = &descriptorpb.FieldOptions{Packed: ptr(false)}
		}, "qdrant.DenseVector is {"},
		{"message added", func(files map[string]*descriptorpb.FileDescriptorProto) {
			f := files["points.proto"]
			f.MessageType = append(f.MessageType, &descriptorpb.DescriptorProto{Name: ptr("Extra")})
			m := message(t, files, "qdrant.PointStruct")
			m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{
				Name: ptr("extra"), JsonName: ptr("extra"), Number: ptr(int32(99)), TypeName: ptr(".qdrant.Extra"),
				Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(),
			})
		}, "54 messages reachable from qdrant.UpdateBatchPoints, wire_gen.go covers 53"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkWireSchema(rebuildUpdateBatch(t, tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	t.Run("unchanged", func(t *testing.T) {
		if err := checkWireSchema(rebuildUpdateBatch(t, func(map[string]*descriptorpb.FileDescriptorProto) {})); err != nil {
			t.Fatal(err)
		}
	})
}

// rebuildUpdateBatch returns the descriptor of qdrant.UpdateBatchPoints
// rebuilt from the go-client's files after edit changed them.
func rebuildUpdateBatch(t *testing.T, edit func(files map[string]*descriptorpb.FileDescriptorProto)) protoreflect.MessageDescriptor {
	t.Helper()
	root := (&qdrant.UpdateBatchPoints{}).ProtoReflect().Descriptor().ParentFile()
	files := map[string]*descriptorpb.FileDescriptorProto{}
	var order []string
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if files[fd.Path()] != nil {
			return
		}
		for i := range fd.Imports().Len() {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		files[fd.Path()] = protodesc.ToFileDescriptorProto(fd)
		order = append(order, fd.Path())
	}
	add(root)
	edit(files)
	reg := new(protoregistry.Files)
	for _, path := range order {
		fd, err := protodesc.NewFile(files[path], reg)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	d, err := reg.FindDescriptorByName("qdrant.UpdateBatchPoints")
	if err != nil {
		t.Fatal(err)
	}
	return d.(protoreflect.MessageDescriptor)
}

// message finds a top-level message of files by full name.
func message(t *testing.T, files map[string]*descriptorpb.FileDescriptorProto, name string) *descriptorpb.DescriptorProto {
	t.Helper()
	for _, f := range files {
		for _, m := range f.MessageType {
			if f.GetPackage()+"."+m.GetName() == name {
				return m
			}
		}
	}
	t.Fatalf("no message %s", name)
	return nil
}

func field(t *testing.T, files map[string]*descriptorpb.FileDescriptorProto, msg, name string) *descriptorpb.FieldDescriptorProto {
	t.Helper()
	for _, f := range message(t, files, msg).Field {
		if f.GetName() == name {
			return f
		}
	}
	t.Fatalf("%s has no field %s", msg, name)
	return nil
}

// When the go-client linked in is not the one wire_gen.go was generated
// from, every entry point encodes with protobuf-go: the bytes are
// proto.Marshal's and nothing the generated code does not know is lost.
func TestStaleWireSchemaUsesProtobufGo(t *testing.T) {
	saved := wireSchemaErr
	defer func() { wireSchemaErr = saved }()
	wireSchemaErr = func() error { return errors.New("stale") }

	// A field wire_gen.go cannot know: an unknown field stands in for it,
	// on a message the generated code would write itself.
	req := writerRequest(t, false)
	point := req.Operations[0].GetUpsert().Points[0]
	point.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7))
	want, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := appendUpdateBatch(nil, req); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("appendUpdateBatch = %x, %v; want proto.Marshal's %x", got, err, want)
	}
	if got := sizeUpdateBatch(req); got != len(want) {
		t.Fatalf("sizeUpdateBatch = %d, want %d", got, len(want))
	}
	data, err := updateBatchCodec{}.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	defer data.Free()
	if got := data.Materialize(); !bytes.Equal(got, want) {
		t.Fatalf("codec Marshal = %x, want proto.Marshal's %x", got, want)
	}
}

// sizePointParts, which sizes a record's point without building it, is
// proto.Size of the point it would build, and allocates nothing.
func TestSizePointParts(t *testing.T) {
	for seed := range uint64(500) {
		p := newReqGen(seed).point()
		if p == nil || len(p.ProtoReflect().GetUnknown()) > 0 {
			continue
		}
		if got, want := sizePointParts(p.Id, p.Vectors, p.Payload), proto.Size(p); got != want {
			t.Fatalf("seed %d: sizePointParts = %d, proto.Size = %d", seed, got, want)
		}
	}
	p := pointWith(map[string]*qdrant.Value{"title": qdrant.NewValueString("doc")})
	if n := testing.AllocsPerRun(10, func() { sizePointParts(p.Id, p.Vectors, p.Payload) }); n != 0 {
		t.Fatalf("sizePointParts allocs = %v, want 0", n)
	}
}
