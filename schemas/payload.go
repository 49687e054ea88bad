package schemas

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

func payloadProblemf(format string, args ...any) error {
	return &payloadProblem{msg: fmt.Sprintf(format, args...)}
}

// deeper is the problem of a payload nested beyond MaxPayloadDepth.
func deeper() error {
	return payloadProblemf("nested deeper than %d levels", MaxPayloadDepth)
}

// The payload writer. Every reader writes a payload straight into its
// wire form in d.wire: entries of qdrant.PointStruct's payload map, each a
// key and a qdrant.Value, objects as Structs and lists as ListValues (the
// tags are in proto_wire.go). takePayload hands it to the record
// (Record.Payload), which the writer sends as it is: no map of
// qdrant.Values is built. A length prefix is reserved as one byte
// (openLen) and widened when its content turns out longer (closeLen).

// startPayload empties d.wire for the payload about to be read.
func (d *Decoder) startPayload() { d.wire = d.wire[:0] }

// takePayload returns the payload written since startPayload in the
// record's own memory; nil when it has no entry.
func (d *Decoder) takePayload() []byte {
	if len(d.wire) == 0 {
		return nil
	}
	out := d.slabs.bytesN(len(d.wire))
	copy(out, d.wire)
	return out
}

// openLen appends tag and a one-byte length placeholder, and returns where
// the placeholder is.
func (d *Decoder) openLen(tag byte) int {
	d.wire = append(d.wire, tag, 0)
	return len(d.wire) - 1
}

// closeLen sets the placeholder at at to the length of what follows it,
// widening it when that needs more than one byte.
func (d *Decoder) closeLen(at int) {
	w := d.wire
	n := len(w) - at - 1
	if n < 0x80 {
		w[at] = byte(n)
		return
	}
	size := protowire.SizeVarint(uint64(n))
	w = slices.Grow(w, size-1)[:len(w)+size-1]
	copy(w[at+size:], w[at+1:at+1+n])
	protowire.AppendVarint(w[at:at], uint64(n))
	d.wire = w
}

// openEntry starts a map entry under tag (tagPayloadEntry at the top of
// the payload, tagStructEntry in an object) with its key, then its value;
// closeEntry ends both.
func openEntry[K string | []byte](d *Decoder, tag byte, key K) (entry, value int) {
	entry = d.openLen(tag)
	d.wire = append(protowire.AppendVarint(append(d.wire, tagEntryKey), uint64(len(key))), key...)
	return entry, d.openLen(tagEntryValue)
}

// closeEntry ends the entry openEntry started; one whose value wrote
// nothing (a Protobuf group) is left out.
func (d *Decoder) closeEntry(entry, value int) {
	if len(d.wire) == value+1 {
		d.wire = d.wire[:entry-1]
		return
	}
	d.closeLen(value)
	d.closeLen(entry)
}

// entryKey is the key of the entry openEntry started at entry, for
// naming a problem in its value.
func (d *Decoder) entryKey(entry int) string {
	k, _ := protowire.ConsumeBytes(d.wire[entry+2:]) // after the key's tag
	return string(k)
}

// openElem starts an element of a list; closeElem ends it and reports
// whether it is kept: one that wrote nothing (a Protobuf group) is left
// out.
func (d *Decoder) openElem() int { return d.openLen(tagListValue) }

func (d *Decoder) closeElem(at int) bool {
	if len(d.wire) == at+1 {
		d.wire = d.wire[:at-1]
		return false
	}
	d.closeLen(at)
	return true
}

// Values. Problems are *payloadProblem, so the caller can name the path
// to them.

func (d *Decoder) putNull() { d.wire = append(d.wire, tagNull, 0) }

func (d *Decoder) putBool(v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	d.wire = append(d.wire, tagBool, b)
}

func (d *Decoder) putInt(v int64) {
	d.wire = protowire.AppendVarint(append(d.wire, tagInteger), uint64(v))
}

// putUint puts an unsigned integer; Qdrant's are int64.
func (d *Decoder) putUint(v uint64) error {
	if v > math.MaxInt64 {
		return payloadProblemf("integer %d does not fit in int64 (Qdrant stores integers as int64)", v)
	}
	d.putInt(int64(v))
	return nil
}

// putDouble puts a number; JSON has no NaN or infinities.
func (d *Decoder) putDouble(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return payloadProblemf("number %v has no JSON form; want a finite number", v)
	}
	d.wire = protowire.AppendFixed64(append(d.wire, tagDouble), math.Float64bits(v))
	return nil
}

// putText puts a string known to be UTF-8.
func putText[T string | []byte](d *Decoder, s T) {
	d.wire = append(protowire.AppendVarint(append(d.wire, tagString), uint64(len(s))), s...)
}

// putString puts a string read from a record; it must be UTF-8.
func (d *Decoder) putString(b []byte) error {
	if !utf8.Valid(b) {
		return payloadProblemf("string is not valid UTF-8")
	}
	putText(d, b)
	return nil
}

// putBytes puts bytes as a base64 string (their JSON form in Protobuf's
// JSON mapping).
func (d *Decoder) putBytes(b []byte) {
	n := base64.StdEncoding.EncodedLen(len(b))
	d.wire = base64.StdEncoding.AppendEncode(protowire.AppendVarint(append(d.wire, tagString), uint64(n)), b)
}

// putTime puts t formatted by layout, in UTC; by default RFC 3339 text
// (what Qdrant's datetime index reads).
func (d *Decoder) putTime(t time.Time, layout string) {
	at := d.openLen(tagString)
	d.wire = t.UTC().AppendFormat(d.wire, layout)
	d.closeLen(at)
}

// JSON. The payload field is an object; its members are read straight
// into the writer.

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
	d.startPayload()
	err := d.readObject(1, tagPayloadEntry)
	if p, ok := err.(*payloadProblem); ok {
		return nil, p.recordError(d.cfg.PayloadField)
	}
	if err != nil {
		return nil, err
	}
	return d.takePayload(), nil
}

// readObject reads the members of a JSON object at nesting level depth
// as map entries under tag.
func (d *Decoder) readObject(depth int, tag byte) error {
	s := &d.sc
	more, err := s.openObject()
	for more && err == nil {
		var k []byte
		if k, err = s.readKey(); err != nil {
			break
		}
		entry, value := openEntry(d, tag, k) // copies the key before the value reuses the scanner's buffer
		if err = d.readValue(depth); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, d.entryKey(entry))
			}
			break
		}
		d.closeEntry(entry, value)
		more, err = s.next('}')
	}
	return err
}

// readValue reads any JSON value inside an object or list at level depth.
func (d *Decoder) readValue(depth int) error {
	s := &d.sc
	switch c := s.peek(); c {
	case '"':
		str, err := s.readString()
		if err != nil {
			return err
		}
		putText(d, str)
		return nil
	case '{', '[':
		if depth >= MaxPayloadDepth {
			return deeper()
		}
		if c == '[' {
			return d.readArray(depth + 1)
		}
		at := d.openLen(tagStruct)
		if err := d.readObject(depth+1, tagStructEntry); err != nil {
			return err
		}
		d.closeLen(at)
		return nil
	case 't':
		d.putBool(true)
		return s.literal("true")
	case 'f':
		d.putBool(false)
		return s.literal("false")
	case 'n':
		d.putNull()
		return s.literal("null")
	}
	if !isNumberStart(s.peek()) {
		return s.unexpected("a JSON value")
	}
	n, err := s.readNumber()
	if err != nil {
		return err
	}
	if n.isInt {
		i, ok := n.int64()
		if !ok {
			return &payloadProblem{msg: "integer " + trunc(n.text) +
				" does not fit in int64 (Qdrant stores integers as int64); send it as a string or with a fraction"}
		}
		d.putInt(i)
		return nil
	}
	f, ok := n.float64()
	if !ok {
		return &payloadProblem{msg: "number " + trunc(n.text) + " is out of the float64 range"}
	}
	return d.putDouble(f)
}

// readArray reads a JSON array at nesting level depth as a ListValue.
func (d *Decoder) readArray(depth int) error {
	s := &d.sc
	list := d.openLen(tagList)
	more, err := s.openArray()
	for i := 0; more && err == nil; i++ {
		at := d.openElem()
		if err = d.readValue(depth); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, strconv.Itoa(i))
			}
			break
		}
		d.closeElem(at)
		more, err = s.next(']')
	}
	if err != nil {
		return err
	}
	d.closeLen(list)
	return nil
}
