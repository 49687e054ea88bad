package schemas

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxPayloadDepth bounds the nesting of a payload: the payload object is
// level 1, an object or list in it level 2, and so on. Qdrant's gRPC
// decoder refuses messages nested more than 100 deep, and every payload
// object level costs three of them, so deeper payloads would be rejected
// by Qdrant (failing their whole batch) if they were let through.
const MaxPayloadDepth = 24

// payloadProblem is a payload value that is well-formed JSON but cannot
// be stored: an integer outside int64, a number outside float64, or
// nesting beyond MaxPayloadDepth. path is a JSON Pointer (RFC 6901) to it,
// built while unwinding.
type payloadProblem struct {
	path []string // innermost first
	msg  string
}

func (p *payloadProblem) Error() string { return p.msg }

// The JSON payload is written straight into its wire form, entries of
// qdrant.PointStruct's payload map (Record.PayloadWire; the tags are in
// proto_wire.go): no map of qdrant.Values is built, and the writer sends
// the bytes as they are. A length prefix is reserved as one byte
// (openLen) and widened if its content turns out longer (closeLen).

// readPayload reads the payload field: an object or null (absent). An
// empty object yields nil.
func (d *Decoder) readPayload() ([]byte, error) {
	s := &d.sc
	switch s.peek() {
	case '{':
	case 'n':
		return nil, s.literal("null")
	default:
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q is %s; want a JSON object", d.cfg.PayloadField, s.kindAt())
	}
	w, err := d.appendObject(d.wire[:0], 1, tagPayloadEntry)
	d.wire = w
	if p, ok := err.(*payloadProblem); ok {
		return nil, p.recordError(d.cfg.PayloadField)
	}
	if err != nil || len(w) == 0 {
		return nil, err
	}
	out := d.slabs.bytesN(len(w))
	copy(out, w)
	return out, nil
}

// recordError is the problem as the error of the payload field named field.
func (p *payloadProblem) recordError(field string) *RecordError {
	var b strings.Builder
	for i := len(p.path) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p.path[i]))
	}
	return NewRecordError(ClassValidate, StageValidate,
		"field %q at %s: %s", field, b.String(), p.msg)
}

// appendObject appends the members of a JSON object at nesting level
// depth to w as map entries, each under tag (PointStruct.payload's at the
// top, Struct.fields' below).
func (d *Decoder) appendObject(w []byte, depth int, tag byte) ([]byte, error) {
	s := &d.sc
	more, err := s.openObject()
	for more && err == nil {
		var k []byte
		if k, err = s.readKey(); err != nil {
			break
		}
		var entry, value int
		w, entry = openLen(append(w, tag))
		w = protowire.AppendBytes(append(w, tagEntryKey), k) // copied before the value reuses the scanner's buffer
		key := w[len(w)-len(k):]
		w, value = openLen(append(w, tagEntryValue))
		if w, err = d.appendValue(w, depth); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, string(key))
			}
			break
		}
		w = closeLen(closeLen(w, value), entry)
		more, err = s.next('}')
	}
	return w, err
}

// appendValue appends any JSON value inside an object or list at level
// depth to w as a Value.
func (d *Decoder) appendValue(w []byte, depth int) ([]byte, error) {
	s := &d.sc
	switch c := s.peek(); c {
	case '"':
		str, err := s.readString()
		if err != nil {
			return w, err
		}
		return protowire.AppendBytes(append(w, tagString), str), nil
	case '{', '[':
		if depth >= MaxPayloadDepth {
			return w, &payloadProblem{msg: "nested deeper than " +
				strconv.Itoa(MaxPayloadDepth) + " levels"}
		}
		if c == '[' {
			return d.appendArray(w, depth+1)
		}
		w, at := openLen(append(w, tagStruct))
		w, err := d.appendObject(w, depth+1, tagStructEntry)
		if err != nil {
			return w, err
		}
		return closeLen(w, at), nil
	case 't':
		return append(w, tagBool, 1), s.literal("true")
	case 'f':
		return append(w, tagBool, 0), s.literal("false")
	case 'n':
		return append(w, tagNull, 0), s.literal("null")
	}
	if !isNumberStart(s.peek()) {
		return w, s.unexpected("a JSON value")
	}
	n, err := s.readNumber()
	if err != nil {
		return w, err
	}
	if n.isInt {
		i, ok := n.int64()
		if !ok {
			return w, &payloadProblem{msg: "integer " + trunc(n.text) +
				" does not fit in int64 (Qdrant stores integers as int64); send it as a string or with a fraction"}
		}
		return protowire.AppendVarint(append(w, tagInteger), uint64(i)), nil
	}
	f, ok := n.float64()
	if !ok {
		return w, &payloadProblem{msg: "number " + trunc(n.text) + " is out of the float64 range"}
	}
	return protowire.AppendFixed64(append(w, tagDouble), math.Float64bits(f)), nil
}

// appendArray appends a JSON array at nesting level depth to w as a
// ListValue.
func (d *Decoder) appendArray(w []byte, depth int) ([]byte, error) {
	s := &d.sc
	w, list := openLen(append(w, tagList))
	more, err := s.openArray()
	for i := 0; more && err == nil; i++ {
		var v int
		w, v = openLen(append(w, tagListValue))
		if w, err = d.appendValue(w, depth); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, strconv.Itoa(i))
			}
			break
		}
		w = closeLen(w, v)
		more, err = s.next(']')
	}
	if err != nil {
		return w, err
	}
	return closeLen(w, list), nil
}

// openLen appends a one-byte length placeholder to w and returns where it
// is.
func openLen(w []byte) ([]byte, int) { return append(w, 0), len(w) }

// closeLen sets the placeholder at at to the length of what follows it,
// widening it when that needs more than one byte.
func closeLen(w []byte, at int) []byte {
	n := len(w) - at - 1
	if n < 0x80 {
		w[at] = byte(n)
		return w
	}
	size := protowire.SizeVarint(uint64(n))
	w = slices.Grow(w, size-1)[:len(w)+size-1]
	copy(w[at+size:], w[at+1:at+1+n])
	protowire.AppendVarint(w[at:at], uint64(n))
	return w
}
