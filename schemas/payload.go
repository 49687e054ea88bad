package schemas

import (
	"strconv"
	"strings"

	"github.com/qdrant/go-client/qdrant"
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

// readPayload reads the payload field: an object or null (absent). An
// empty object yields a nil map.
func (d *Decoder) readPayload() (map[string]*qdrant.Value, error) {
	s := &d.sc
	switch s.peek() {
	case '{':
	case 'n':
		return nil, s.literal("null")
	default:
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q is %s; want a JSON object", d.cfg.PayloadField, s.kindAt())
	}
	m, err := d.readObject(1)
	if p, ok := err.(*payloadProblem); ok {
		return nil, p.recordError(d.cfg.PayloadField)
	}
	return m, err
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

// readObject reads a JSON object at nesting level depth; nil when empty.
func (d *Decoder) readObject(depth int) (map[string]*qdrant.Value, error) {
	s := &d.sc
	more, err := s.openObject()
	if err != nil || !more {
		return nil, err
	}
	m := make(map[string]*qdrant.Value)
	for more {
		k, err := s.readKey()
		if err != nil {
			return nil, err
		}
		// Copy the key before reading the value reuses the scanner's
		// buffer.
		key := d.intern(k)
		v, err := d.readValue(depth)
		if err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, key)
			}
			return nil, err
		}
		m[key] = v
		if more, err = s.next('}'); err != nil {
			return nil, err
		}
	}
	d.slabs.held += mapBytes(len(m))
	return m, nil
}

// readValue reads any JSON value inside an object or list at level depth.
func (d *Decoder) readValue(depth int) (*qdrant.Value, error) {
	s := &d.sc
	switch c := s.peek(); c {
	case '"':
		str, err := s.readString()
		if err != nil {
			return nil, err
		}
		return d.slabs.stringValue(string(str)), nil
	case '{', '[':
		if depth >= MaxPayloadDepth {
			return nil, &payloadProblem{msg: "nested deeper than " +
				strconv.Itoa(MaxPayloadDepth) + " levels"}
		}
		if c == '[' {
			return d.readArray(depth + 1)
		}
		m, err := d.readObject(depth + 1)
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = map[string]*qdrant.Value{}
		}
		return d.slabs.structValue(m), nil
	case 't':
		return d.slabs.boolValue(true), s.literal("true")
	case 'f':
		return d.slabs.boolValue(false), s.literal("false")
	case 'n':
		return d.slabs.nullValue(), s.literal("null")
	}
	if !isNumberStart(s.peek()) {
		return nil, s.unexpected("a JSON value")
	}
	n, err := s.readNumber()
	if err != nil {
		return nil, err
	}
	if n.isInt {
		i, ok := n.int64()
		if !ok {
			return nil, &payloadProblem{msg: "integer " + trunc(n.text) +
				" does not fit in int64 (Qdrant stores integers as int64); send it as a string or with a fraction"}
		}
		return d.slabs.intValue(i), nil
	}
	f, ok := n.float64()
	if !ok {
		return nil, &payloadProblem{msg: "number " + trunc(n.text) + " is out of the float64 range"}
	}
	return d.slabs.doubleValue(f), nil
}

// readArray reads a JSON array at nesting level depth.
func (d *Decoder) readArray(depth int) (*qdrant.Value, error) {
	s := &d.sc
	more, err := s.openArray()
	if err != nil {
		return nil, err
	}
	var values []*qdrant.Value
	for i := 0; more; i++ {
		v, err := d.readValue(depth)
		if err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, strconv.Itoa(i))
			}
			return nil, err
		}
		values = append(values, v)
		if more, err = s.next(']'); err != nil {
			return nil, err
		}
	}
	if values == nil {
		values = []*qdrant.Value{}
	}
	return d.slabs.listValue(values), nil
}
