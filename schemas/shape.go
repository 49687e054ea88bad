package schemas

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A shape is a type of a schema (Avro or Protobuf) as the record rules see
// it. Both formats are described by shapes, so the rules that say which
// types can hold an id, a vector, a payload, a collection or a delete flag
// (compile.go) are written once; each format's reader (avro.go, proto.go)
// follows the plan those rules produce. Shapes are immutable once built and
// shared by every decoder of a schema.
type shape struct {
	kind shapeKind
	// name is the full name of a record, enum or fixed type (messages and
	// Avro named types), for messages.
	name string
	// elem is the element of a list, the value of a map.
	elem *shape
	// fields of a record, in schema order (Avro reads them in this
	// order; Protobuf finds them by number).
	fields []*shapeField
	// branches of an Avro union, by index.
	branches []*shape
	// symbols of an Avro enum, by index.
	symbols []string
	// elemWrap: the elements of this Protobuf list or values of this map
	// are in a wrapper position (see shapeField.wrap).
	elemWrap bool
	// jsonType: kJSON is a Value, Struct or ListValue of google.protobuf or
	// of record.v1, read with JSON's meaning.
	json jsonType

	// Avro.
	avro      avroPrim    // the encoding of a primitive
	fixedSize int         // kBytes from a fixed
	logical   logicalKind // Avro logical types, Protobuf well-known types
	scale     int         // Avro decimal

	// Protobuf.
	proto   protoreflect.Kind                  // scalar kind (wire encoding)
	enumNum map[protoreflect.EnumNumber]string // enum value names
	byNum   map[protowire.Number]int           // record: field index by number
	// byNumSmall is byNum for numbers below 64 (-1: none), the fast path.
	byNumSmall []int8
	// keyKind is the scalar kind of a map's keys (Protobuf maps have
	// integer or string keys).
	keyKind protoreflect.Kind
	// jsonField says what each field of a kJSON message holds, by index.
	jsonField []jsonRole
	// qdrantWire: this JSON Value message is qdrant.Value on the wire
	// (record.v1's Value is): a payload of them is sent as its bytes.
	qdrantWire bool
}

type shapeKind uint8

const (
	kNull shapeKind = iota
	kBool
	kInt    // signed integer
	kUint   // unsigned integer
	kFloat  // 32-bit float
	kDouble // 64-bit float
	kString
	kBytes
	kEnum
	kList
	kMap // string (or, in Protobuf, integer) keys
	kRecord
	kUnion // Avro union
	kJSON  // a JSON value type (json says which)
)

var kindNames = [...]string{
	kNull: "null", kBool: "a boolean", kInt: "an integer", kUint: "an unsigned integer",
	kFloat: "a float", kDouble: "a double", kString: "a string", kBytes: "bytes",
	kEnum: "an enum", kList: "a list", kMap: "a map", kRecord: "a record", kUnion: "a union",
	kJSON: "a JSON value",
}

// describe names s in messages: "a list of float", "a record Meta".
func (s *shape) describe() string {
	switch s.kind {
	case kList:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(s.elem.describe(), "a "), "an ")
	case kMap:
		return "a map of " + strings.TrimPrefix(strings.TrimPrefix(s.elem.describe(), "a "), "an ")
	case kRecord, kEnum:
		if s.name != "" {
			return kindNames[s.kind] + " " + s.name
		}
	case kUnion:
		parts := make([]string, len(s.branches))
		for i, b := range s.branches {
			parts[i] = b.describe()
		}
		return "a union of " + strings.Join(parts, ", ")
	}
	return kindNames[s.kind]
}

// number reports whether s holds a number a vector can be made of.
func (s *shape) number() bool { return s.kind == kFloat || s.kind == kDouble }

// integer reports whether s holds an integer.
func (s *shape) integer() bool { return s.kind == kInt || s.kind == kUint }

// fieldIndex returns the index of the Protobuf field num, or -1.
func (s *shape) fieldIndex(num protowire.Number) int {
	if uint(num) < uint(len(s.byNumSmall)) {
		return int(s.byNumSmall[num])
	}
	if i, ok := s.byNum[num]; ok {
		return i
	}
	return -1
}

// nullable returns the one non-null branch of a union of null and one
// other type, or s itself when s is not a union.
func (s *shape) nullable() (*shape, bool) {
	if s.kind != kUnion {
		return s, true
	}
	var other *shape
	for _, b := range s.branches {
		if b.kind == kNull {
			continue
		}
		if other != nil {
			return nil, false
		}
		other = b
	}
	return other, other != nil
}

// A shapeField is a field of a record.
type shapeField struct {
	name  string
	shape *shape
	// Protobuf.
	num protowire.Number
	// oneof is the name of the (real) oneof the field belongs to.
	oneof string
	// implicit: a proto3 scalar without presence; it reads as its
	// default when absent from the wire.
	implicit bool
	// wrap: the field is a oneof member. Protobuf cannot hold a list in
	// a oneof, a map value or a list element, so a message there that
	// has one field, or only the members of one oneof, stands for that
	// field (wrapper, below).
	wrap bool
	// list: a repeated Protobuf field (shape is the kList); packed says
	// how its scalars may arrive.
	list bool
	// mapField: a Protobuf map field (shape is the kMap).
	mapField bool
}

// wrapper reports whether a record in a wrapper position stands for one of
// its fields: it has exactly one field, or all its fields are members of
// one oneof.
func (s *shape) wrapper() bool {
	if s.kind != kRecord || len(s.fields) == 0 {
		return false
	}
	if len(s.fields) == 1 {
		return true
	}
	o := s.fields[0].oneof
	if o == "" {
		return false
	}
	for _, f := range s.fields[1:] {
		if f.oneof != o {
			return false
		}
	}
	return true
}

// jsonType tells which JSON value type a kJSON shape is.
type jsonType uint8

const (
	jsonNone   jsonType = iota
	jsonValue           // any JSON value (google.protobuf.Value, record.v1 Value)
	jsonStruct          // an object
	jsonList            // a list
)

// jsonRole is what a field of a JSON value message holds.
type jsonRole uint8

const (
	jrOther jsonRole = iota
	jrNull
	jrDouble
	jrInteger
	jrString
	jrBool
	jrStruct // a Struct (Value.struct_value)
	jrList   // a ListValue (Value.list_value)
	jrFields // Struct.fields
	jrValues // ListValue.values
)

// logicalKind is a type whose value is read with a meaning beyond its
// encoding (payload values only).
type logicalKind uint8

const (
	logicalNone logicalKind = iota
	logicalTimestampMillis
	logicalTimestampMicros
	logicalLocalTimestampMillis
	logicalLocalTimestampMicros
	logicalDate
	logicalDecimal
	logicalProtoTimestamp // google.protobuf.Timestamp
	logicalProtoWrapper   // google.protobuf.*Value: its value field
)

// avroPrim is the encoding of an Avro primitive.
type avroPrim uint8

const (
	avroNone avroPrim = iota
	avroNull
	avroBoolean
	avroInt // int and long: zigzag varints
	avroFloat
	avroDouble
	avroBytes // bytes and string: length-prefixed
	avroFixed
	avroEnum
)

// schemaError is a schema the record rules cannot use.
func schemaError(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}
