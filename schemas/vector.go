package schemas

import (
	"fmt"
	"math"
	"slices"

	"github.com/qdrant/go-client/qdrant"
)

// readVectors reads the vector field: a list (one unnamed dense or
// multi-vector), an object of named vectors, or null (absent).
func (d *Decoder) readVectors() (*qdrant.Vectors, error) {
	s := &d.sc
	switch s.peek() {
	case '[':
		v, err := d.readList("", false)
		if err != nil {
			return nil, err
		}
		return d.slabs.unnamed(v), nil
	case '{':
		return d.readNamed()
	case 'n':
		return nil, s.literal("null")
	}
	return nil, NewRecordError(ClassDecode, StageDecode,
		"field %q is %s; want a list of numbers or an object of named vectors",
		d.cfg.VectorField, s.kindAt())
}

// where names a vector in messages: the field, and the vector's name when
// it is named.
func (d *Decoder) where(name string, named bool) string {
	if named {
		return fmt.Sprintf("field %q: vector %q", d.cfg.VectorField, name)
	}
	return fmt.Sprintf("field %q", d.cfg.VectorField)
}

// readNamed reads an object of named vectors.
func (d *Decoder) readNamed() (*qdrant.Vectors, error) {
	s := &d.sc
	more, err := s.openObject()
	if err != nil {
		return nil, err
	}
	if !more {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q is an empty object; want at least one named vector", d.cfg.VectorField)
	}
	m := make(map[string]*qdrant.Vector, 2)
	for more {
		k, err := s.readKey()
		if err != nil {
			return nil, err
		}
		name := d.intern(k)
		var v *qdrant.Vector
		switch s.peek() {
		case '[':
			v, err = d.readList(name, true)
		case '{':
			v, err = d.readSparse(name)
		default:
			err = NewRecordError(ClassDecode, StageDecode,
				"%s is %s; want a list of numbers, a list of lists of numbers or {\"indices\": [...], \"values\": [...]}",
				d.where(name, true), s.kindAt())
		}
		if err != nil {
			return nil, err
		}
		m[name] = v
		if more, err = s.next('}'); err != nil {
			return nil, err
		}
	}
	return d.slabs.named(m), nil
}

// readList reads a dense vector (a list of numbers) or a multi-vector (a
// non-empty list of non-empty lists of numbers, all of one length).
func (d *Decoder) readList(name string, named bool) (*qdrant.Vector, error) {
	s := &d.sc
	more, err := s.openArray()
	if err != nil {
		return nil, err
	}
	if !more {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"%s is an empty list; a vector needs at least one number", d.where(name, named))
	}
	d.floats = d.floats[:0]
	if s.peek() != '[' {
		if err := d.readNumbers(name, named, -1); err != nil {
			return nil, err
		}
		return d.slabs.denseVector(d.slabs.floatsFor(d.floats)), nil
	}
	dim := 0
	for row := 0; more; row++ {
		if c := s.peek(); c != '[' {
			return nil, NewRecordError(ClassDecode, StageDecode,
				"%s: element %d is %s; a multi-vector is a list of lists of numbers",
				d.where(name, named), row, s.kindAt())
		}
		before := len(d.floats)
		s.pos++ // '['
		if s.peek() == ']' {
			return nil, NewRecordError(ClassValidate, StageValidate,
				"%s: row %d of the multi-vector is empty", d.where(name, named), row)
		}
		if err := d.readNumbers(name, named, row); err != nil {
			return nil, err
		}
		n := len(d.floats) - before
		if row == 0 {
			dim = n
		} else if n != dim {
			return nil, NewRecordError(ClassValidate, StageValidate,
				"%s: row %d of the multi-vector has %d numbers but row 0 has %d; rows must have one length",
				d.where(name, named), row, n, dim)
		}
		if more, err = s.next(']'); err != nil {
			return nil, err
		}
	}
	return d.slabs.multiVector(d.slabs.floatsFor(d.floats), dim), nil
}

// readNumbers appends the numbers of a list to d.floats, from the first
// element to the closing bracket (which it consumes). row is the row of a
// multi-vector, or -1.
func (d *Decoder) readNumbers(name string, named bool, row int) error {
	s := &d.sc
	data := s.data
	i := s.pos
	first := len(d.floats)
	for {
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		f, next, ok := fastFloat32(data, i)
		if ok {
			i = next
		} else {
			s.pos = i
			if i >= len(data) || !isNumberStart(data[i]) {
				return d.elementError(name, named, row, len(d.floats)-first,
					ClassDecode, fmt.Sprintf("is %s; want a number", s.kindAt()))
			}
			n, err := s.readNumber()
			if err != nil {
				return err
			}
			if f, ok = n.float32(); !ok {
				return d.elementError(name, named, row, len(d.floats)-first, ClassValidate,
					fmt.Sprintf("(%s) is out of the float32 range", trunc(n.text)))
			}
			i = s.pos
		}
		d.floats = append(d.floats, f)
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i < len(data) {
			switch data[i] {
			case ',':
				i++
				continue
			case ']':
				s.pos = i + 1
				return nil
			}
		}
		s.pos = i
		return s.unexpected("',' or ']'")
	}
}

func isNumberStart(c byte) bool { return c == '-' || ('0' <= c && c <= '9') }

func (d *Decoder) elementError(name string, named bool, row, i int, class ErrorClass, what string) error {
	stage := StageDecode
	if class == ClassValidate {
		stage = StageValidate
	}
	if row >= 0 {
		return NewRecordError(class, stage, "%s: row %d element %d %s", d.where(name, named), row, i, what)
	}
	return NewRecordError(class, stage, "%s: element %d %s", d.where(name, named), i, what)
}

// readSparse reads {"indices": [...], "values": [...]}.
func (d *Decoder) readSparse(name string) (*qdrant.Vector, error) {
	s := &d.sc
	more, err := s.openObject()
	if err != nil {
		return nil, err
	}
	var haveIdx, haveVal bool
	for more {
		k, err := s.readKey()
		if err != nil {
			return nil, err
		}
		switch string(k) {
		case "indices":
			if err := d.readIndices(name); err != nil {
				return nil, err
			}
			haveIdx = true
		case "values":
			if c := s.peek(); c != '[' {
				return nil, NewRecordError(ClassDecode, StageDecode,
					"%s: \"values\" is %s; want a list of numbers", d.where(name, true), s.kindAt())
			}
			s.pos++
			d.floats = d.floats[:0]
			if s.peek() == ']' {
				s.pos++
			} else if err := d.readNumbers(name, true, -1); err != nil {
				return nil, err
			}
			haveVal = true
		default:
			return nil, NewRecordError(ClassDecode, StageDecode,
				"%s: unknown key %s in a sparse vector; want \"indices\" and \"values\"",
				d.where(name, true), quoteTrunc(k))
		}
		if more, err = s.next('}'); err != nil {
			return nil, err
		}
	}
	switch {
	case !haveIdx && !haveVal:
		return nil, NewRecordError(ClassDecode, StageDecode,
			"%s is an object without \"indices\" and \"values\"; a sparse vector needs both", d.where(name, true))
	case !haveIdx:
		return nil, NewRecordError(ClassDecode, StageDecode,
			"%s: sparse vector without \"indices\"", d.where(name, true))
	case !haveVal:
		return nil, NewRecordError(ClassDecode, StageDecode,
			"%s: sparse vector without \"values\"", d.where(name, true))
	case len(d.indices) != len(d.floats):
		return nil, NewRecordError(ClassValidate, StageValidate,
			"%s: sparse vector has %d indices but %d values", d.where(name, true), len(d.indices), len(d.floats))
	}
	if dup, ok := d.duplicateIndex(); ok {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"%s: sparse index %d appears more than once", d.where(name, true), dup)
	}
	return d.slabs.sparseVector(d.slabs.uintsFor(d.indices), d.slabs.floatsFor(d.floats)), nil
}

// readIndices reads the list of sparse indices into d.indices.
func (d *Decoder) readIndices(name string) error {
	s := &d.sc
	if c := s.peek(); c != '[' {
		return NewRecordError(ClassDecode, StageDecode,
			"%s: \"indices\" is %s; want a list of unsigned integers", d.where(name, true), s.kindAt())
	}
	s.pos++
	d.indices = d.indices[:0]
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		if c := s.peek(); !isNumberStart(c) {
			return NewRecordError(ClassDecode, StageDecode,
				"%s: index %d is %s; want an unsigned integer", d.where(name, true), len(d.indices), s.kindAt())
		}
		n, err := s.readNumber()
		if err != nil {
			return err
		}
		u, ok := n.uint64()
		if !ok || u > math.MaxUint32 {
			return NewRecordError(ClassValidate, StageValidate,
				"%s: index %d (%s) is not an integer in [0, %d]",
				d.where(name, true), len(d.indices), trunc(n.text), uint32(math.MaxUint32))
		}
		d.indices = append(d.indices, uint32(u))
		more, err := s.next(']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// duplicateIndex reports an index of d.indices that occurs twice.
func (d *Decoder) duplicateIndex() (uint32, bool) {
	idx := d.indices
	ascending := true
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			ascending = false
			break
		}
	}
	if ascending {
		return 0, false
	}
	d.sorted = append(d.sorted[:0], idx...)
	slices.Sort(d.sorted)
	for i := 1; i < len(d.sorted); i++ {
		if d.sorted[i] == d.sorted[i-1] {
			return d.sorted[i], true
		}
	}
	return 0, false
}
