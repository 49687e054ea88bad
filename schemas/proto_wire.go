package schemas

import (
	"math"
	"unicode/utf8"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Payloads are written in wire form (Record.Payload, payload.go):
// entries of qdrant.PointStruct's payload map. record.v1's Value is
// qdrant.Value on the wire (the same field numbers, kinds and nesting), so
// the entries of a record.v1 payload map are, byte for byte, such entries
// already: the Protobuf reader checks them and copies them instead of
// reading and writing them again.
//
// Only the canonical form is copied: every entry a key then a value, every
// Value exactly one member, with the one-byte tag the payload writer
// writes, no unknown fields. There Qdrant reads the bytes exactly as the
// writer would have written them. The checks are the reader's: UTF-8 keys
// and strings, finite doubles, nesting within MaxPayloadDepth. Anything
// else (another serializer's field order, a problem to report) is read and
// written by the reader, which takes every form and words the errors.

// qdrantValue is the message record.v1's Value must match.
var qdrantValue = (&qdrant.Value{}).ProtoReflect().Descriptor()

// Tags of the wire form: of PointStruct.payload's entries, and of
// qdrant.Value, Struct, ListValue and their map entries (record.v1's are
// the same).
const (
	tagPayloadEntry = 3<<3 | byte(protowire.BytesType) // PointStruct.payload
	tagEntryKey     = 1<<3 | byte(protowire.BytesType)
	tagEntryValue   = 2<<3 | byte(protowire.BytesType)
	tagStructEntry  = 1<<3 | byte(protowire.BytesType) // Struct.fields
	tagListValue    = 1<<3 | byte(protowire.BytesType) // ListValue.values
	tagNull         = 1<<3 | byte(protowire.VarintType)
	tagDouble       = 2<<3 | byte(protowire.Fixed64Type)
	tagInteger      = 3<<3 | byte(protowire.VarintType)
	tagString       = 4<<3 | byte(protowire.BytesType)
	tagBool         = 5<<3 | byte(protowire.VarintType)
	tagStruct       = 6<<3 | byte(protowire.BytesType)
	tagList         = 7<<3 | byte(protowire.BytesType)
)

// sameWire reports whether messages a and b have the same fields by
// number, kind and cardinality, recursively: the same wire form.
func sameWire(a, b protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[a.FullName()] {
		return true // being compared further up
	}
	seen[a.FullName()] = true
	af, bf := a.Fields(), b.Fields()
	if af.Len() != bf.Len() {
		return false
	}
	for i := range af.Len() {
		x := af.Get(i)
		y := bf.ByNumber(x.Number())
		if y == nil || x.Kind() != y.Kind() || x.Cardinality() != y.Cardinality() || x.IsMap() != y.IsMap() {
			return false
		}
		if x.IsMap() {
			if x.MapKey().Kind() != y.MapKey().Kind() || x.MapValue().Kind() != y.MapValue().Kind() {
				return false
			}
			if x.MapValue().Kind() == protoreflect.MessageKind && !sameWire(x.MapValue().Message(), y.MapValue().Message(), seen) {
				return false
			}
			continue
		}
		if x.Kind() == protoreflect.MessageKind && !sameWire(x.Message(), y.Message(), seen) {
			return false
		}
	}
	return true
}

// wirePayload copies the payload map entries in spans as entries of
// PointStruct.payload, or reports false when one is not in the canonical
// form (see above).
func (r *protoReader) wirePayload(spans []protoSpan) ([]byte, bool) {
	n := 0
	for _, sp := range spans {
		if !wireEntry(sp.b, 1) {
			return nil, false
		}
		n += 1 + protowire.SizeBytes(len(sp.b))
	}
	if n == 0 {
		return nil, true
	}
	b := r.d.slabs.bytesN(n)[:0]
	for _, sp := range spans {
		b = protowire.AppendBytes(append(b, tagPayloadEntry), sp.b)
	}
	return b, true
}

// wireEntry checks a map entry of an object at level depth: key, value.
func wireEntry(b []byte, depth int) bool {
	if len(b) == 0 || b[0] != tagEntryKey {
		return false
	}
	k, n := protowire.ConsumeBytes(b[1:])
	if n < 0 || !utf8.Valid(k) {
		return false
	}
	b = b[1+n:]
	if len(b) == 0 || b[0] != tagEntryValue {
		return false
	}
	v, n := protowire.ConsumeBytes(b[1:])
	return n >= 0 && 1+n == len(b) && wireValue(v, depth)
}

// wireValue checks a Value held by an object or list at level depth.
func wireValue(b []byte, depth int) bool {
	if len(b) < 2 { // a tag and its value
		return false
	}
	tag, b := b[0], b[1:]
	var n int
	switch tag {
	case tagNull: // NULL_VALUE, the only one
		if b[0] != 0 {
			return false
		}
		n = 1
	case tagInteger, tagBool:
		_, n = protowire.ConsumeVarint(b)
	case tagDouble:
		var u uint64
		u, n = protowire.ConsumeFixed64(b)
		if f := math.Float64frombits(u); math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	case tagString, tagStruct, tagList:
		var v []byte
		v, n = protowire.ConsumeBytes(b)
		switch {
		case n < 0:
			return false
		case tag == tagString:
			if !utf8.Valid(v) {
				return false
			}
		case depth >= MaxPayloadDepth:
			return false
		case !wireRepeated(v, depth+1, tag == tagStruct): // a Struct's fields, a ListValue's values
			return false
		}
	default: // another member, another wire type, a tag of several bytes
		return false
	}
	return n >= 0 && n == len(b) // exactly one member
}

// wireRepeated checks the field 1 occurrences of a Struct (entries) or a
// ListValue (values) at level depth.
func wireRepeated(b []byte, depth int, entries bool) bool {
	for len(b) > 0 {
		if b[0] != tagStructEntry { // = tagListValue
			return false
		}
		v, n := protowire.ConsumeBytes(b[1:])
		if n < 0 {
			return false
		}
		if entries && !wireEntry(v, depth) || !entries && !wireValue(v, depth) {
			return false
		}
		b = b[1+n:]
	}
	return true
}
