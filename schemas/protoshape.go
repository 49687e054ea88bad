package schemas

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// protoShapes builds the shapes of Protobuf messages, one per message or
// enum type, so recursive types (Struct → Value → Struct) share theirs.
type protoShapes struct {
	msgs  map[protoreflect.FullName]*shape
	enums map[protoreflect.FullName]*shape
}

func newProtoShapes() *protoShapes {
	return &protoShapes{msgs: make(map[protoreflect.FullName]*shape), enums: make(map[protoreflect.FullName]*shape)}
}

// protoJSONTypes are the message types read with JSON's meaning in a
// payload: google.protobuf's Struct, Value and ListValue, and record.v1's.
var protoJSONTypes = map[protoreflect.FullName]jsonType{
	"google.protobuf.Value":            jsonValue,
	"google.protobuf.Struct":           jsonStruct,
	"google.protobuf.ListValue":        jsonList,
	"kafka_qdrant.record.v1.Value":     jsonValue,
	"kafka_qdrant.record.v1.Struct":    jsonStruct,
	"kafka_qdrant.record.v1.ListValue": jsonList,
}

// jsonFieldRoles are what the fields of those types hold, by name.
var jsonFieldRoles = map[protoreflect.Name]jsonRole{
	"null_value":    jrNull,
	"number_value":  jrDouble,
	"double_value":  jrDouble,
	"integer_value": jrInteger,
	"string_value":  jrString,
	"bool_value":    jrBool,
	"struct_value":  jrStruct,
	"list_value":    jrList,
	"fields":        jrFields,
	"values":        jrValues,
}

// message returns the shape of md.
func (ps *protoShapes) message(md protoreflect.MessageDescriptor) *shape {
	if s, ok := ps.msgs[md.FullName()]; ok {
		return s
	}
	s := &shape{kind: kRecord, name: string(md.FullName()), proto: protoreflect.MessageKind, byNum: make(map[protowire.Number]int)}
	ps.msgs[md.FullName()] = s
	if j, ok := protoJSONTypes[md.FullName()]; ok {
		s.kind, s.json = kJSON, j
		s.qdrantWire = j == jsonValue && sameWire(md, qdrantValue, map[protoreflect.FullName]bool{})
	}
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		s.logical = logicalProtoTimestamp
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		s.logical = logicalProtoWrapper
	}
	fds := md.Fields()
	s.fields = make([]*shapeField, fds.Len())
	if s.kind == kJSON {
		s.jsonField = make([]jsonRole, fds.Len())
	}
	for i := range fds.Len() {
		fd := fds.Get(i)
		f := &shapeField{name: string(fd.Name()), num: fd.Number()}
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
			f.oneof, f.wrap = string(o.Name()), true
		}
		switch {
		case fd.IsMap():
			f.mapField = true
			f.shape = &shape{kind: kMap, elem: ps.value(fd.MapValue()), elemWrap: true, keyKind: fd.MapKey().Kind()}
		case fd.IsList():
			f.list = true
			f.shape = &shape{kind: kList, elem: ps.value(fd), elemWrap: true}
		default:
			f.shape = ps.value(fd)
			f.implicit = !fd.HasPresence()
		}
		s.fields[i] = f
		s.byNum[fd.Number()] = i
		if fd.Number() < 64 && i < 128 {
			for len(s.byNumSmall) <= int(fd.Number()) {
				s.byNumSmall = append(s.byNumSmall, -1)
			}
			s.byNumSmall[fd.Number()] = int8(i)
		}
		if s.kind == kJSON {
			s.jsonField[i] = jsonFieldRoles[fd.Name()]
		}
	}
	return s
}

// scalarShapes are the shapes of Protobuf scalars, by kind.
var scalarShapes = func() map[protoreflect.Kind]*shape {
	m := make(map[protoreflect.Kind]*shape)
	for k, sk := range map[protoreflect.Kind]shapeKind{
		protoreflect.BoolKind:     kBool,
		protoreflect.Int32Kind:    kInt,
		protoreflect.Sint32Kind:   kInt,
		protoreflect.Sfixed32Kind: kInt,
		protoreflect.Int64Kind:    kInt,
		protoreflect.Sint64Kind:   kInt,
		protoreflect.Sfixed64Kind: kInt,
		protoreflect.Uint32Kind:   kUint,
		protoreflect.Fixed32Kind:  kUint,
		protoreflect.Uint64Kind:   kUint,
		protoreflect.Fixed64Kind:  kUint,
		protoreflect.FloatKind:    kFloat,
		protoreflect.DoubleKind:   kDouble,
		protoreflect.StringKind:   kString,
		protoreflect.BytesKind:    kBytes,
	} {
		m[k] = &shape{kind: sk, proto: k}
	}
	return m
}()

// groupShape stands for a (proto2) group field: skipped when read, and no
// role accepts it.
var groupShape = &shape{kind: kNull, proto: protoreflect.GroupKind}

// value returns the shape of one value of field fd (an element of a list,
// the value of a map).
func (ps *protoShapes) value(fd protoreflect.FieldDescriptor) *shape {
	switch fd.Kind() {
	case protoreflect.MessageKind:
		return ps.message(fd.Message())
	case protoreflect.GroupKind:
		return groupShape
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if s, ok := ps.enums[ed.FullName()]; ok {
			return s
		}
		s := &shape{kind: kEnum, name: string(ed.FullName()), proto: protoreflect.EnumKind,
			enumNum: make(map[protoreflect.EnumNumber]string)}
		vals := ed.Values()
		for i := range vals.Len() {
			v := vals.Get(i)
			if _, dup := s.enumNum[v.Number()]; !dup { // aliases: the first name
				s.enumNum[v.Number()] = string(v.Name())
			}
		}
		ps.enums[ed.FullName()] = s
		return s
	}
	return scalarShapes[fd.Kind()]
}

// wireType is the wire type of one value of a scalar Protobuf kind (lists
// of them may also come packed, as bytes).
func wireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.VarintType
}

// packable reports whether a list of kind k may come packed.
func packable(k protoreflect.Kind) bool {
	t := wireType(k)
	return t == protowire.VarintType || t == protowire.Fixed32Type || t == protowire.Fixed64Type
}
