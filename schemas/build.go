package schemas

import (
	"fmt"
	"math"
	"strconv"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
)

// The rules of the JSON envelope, for values the typed formats (Avro,
// Protobuf) read: each helper checks one part of a record and builds it in
// the Decoder's slabs, with the messages the JSON decoder gives for the
// same problem.

// vecLoc names a vector in messages (String): the field, and its name when
// named. It is formatted only when there is a problem to report.
type vecLoc struct {
	field, name string
	named       bool
}

func (l vecLoc) String() string {
	if l.named {
		return fmt.Sprintf("field %q: vector %q", l.field, l.name)
	}
	return fmt.Sprintf("field %q", l.field)
}

// checkFloats checks the components of a vector: at least one, each finite
// (binary formats can carry NaN and infinities, JSON cannot).
func checkFloats(f []float32, where vecLoc) error {
	if len(f) == 0 {
		return NewRecordError(ClassValidate, StageValidate,
			"%s is an empty list; a vector needs at least one number", where)
	}
	for i, x := range f {
		if !finite32(x) {
			return NewRecordError(ClassValidate, StageValidate,
				"%s: element %d is %v; want a finite number", where, i, x)
		}
	}
	return nil
}

// finite32 reports whether x is neither NaN nor infinite (its exponent is
// not all ones).
func finite32(x float32) bool { return math.Float32bits(x)&0x7f800000 != 0x7f800000 }

// float32Of narrows a double vector component to float32, rounding to
// nearest; one outside the float32 range is an error, as in JSON.
func float32Of(x float64, where vecLoc, i int) (float32, error) {
	f := float32(x)
	if math.IsInf(float64(f), 0) && !math.IsInf(x, 0) {
		return 0, NewRecordError(ClassValidate, StageValidate,
			"%s: element %d (%g) is out of the float32 range", where, i, x)
	}
	return f, nil
}

// denseOf builds a dense vector of d.floats.
func (d *Decoder) denseOf(where vecLoc) (*qdrant.Vector, error) {
	if err := checkFloats(d.floats, where); err != nil {
		return nil, err
	}
	return d.slabs.denseVector(d.slabs.floatsFor(d.floats)), nil
}

// multiOf builds a multi-vector of the rows of dim numbers in d.floats.
func (d *Decoder) multiOf(dim int, where vecLoc) (*qdrant.Vector, error) {
	if err := checkFloats(d.floats, where); err != nil {
		return nil, err
	}
	return d.slabs.multiVector(d.slabs.floatsFor(d.floats), dim), nil
}

// checkRow checks the length of a multi-vector's row: rows have one length
// and are not empty. dim is the first row's length (its own for row 0).
func checkRow(n, dim, row int, where vecLoc) error {
	switch {
	case n == 0:
		return NewRecordError(ClassValidate, StageValidate,
			"%s: row %d of the multi-vector is empty", where, row)
	case n != dim:
		return NewRecordError(ClassValidate, StageValidate,
			"%s: row %d of the multi-vector has %d numbers but row 0 has %d; rows must have one length",
			where, row, n, dim)
	}
	return nil
}

// sparseOf builds a sparse vector of d.indices and d.floats.
func (d *Decoder) sparseOf(where vecLoc) (*qdrant.Vector, error) {
	if len(d.indices) != len(d.floats) {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"%s: sparse vector has %d indices but %d values", where, len(d.indices), len(d.floats))
	}
	for i, x := range d.floats {
		if !finite32(x) {
			return nil, NewRecordError(ClassValidate, StageValidate,
				"%s: value %d is %v; want a finite number", where, i, x)
		}
	}
	if dup, ok := d.duplicateIndex(); ok {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"%s: sparse index %d appears more than once", where, dup)
	}
	return d.slabs.sparseVector(d.slabs.uintsFor(d.indices), d.slabs.floatsFor(d.floats)), nil
}

// sparseIndex checks a sparse index read as an integer.
func sparseIndex(v int64, unsigned bool, where vecLoc, i int) (uint32, error) {
	if (!unsigned && v < 0) || uint64(v) > math.MaxUint32 {
		s := strconv.FormatInt(v, 10)
		if unsigned {
			s = strconv.FormatUint(uint64(v), 10)
		}
		return 0, NewRecordError(ClassValidate, StageValidate,
			"%s: index %d (%s) is not an integer in [0, %d]", where, i, s, uint32(math.MaxUint32))
	}
	return uint32(v), nil
}

// intID is the point id of a signed integer.
func (d *Decoder) intID(v int64, field string) (*qdrant.PointId, error) {
	if v < 0 {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q: %d is negative; want an unsigned integer or a string", field, v)
	}
	return d.slabs.numID(uint64(v)), nil
}

// stringID is the point id of a string, by PointID's rules.
func (d *Decoder) stringID(b []byte, field string) (*qdrant.PointId, error) {
	if err := validateID(b); err != nil {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q: string id %s %v", field, quoteTrunc(b), err)
	}
	return textID(&d.slabs, b), nil
}

// bytesID is the point id of the 16 bytes of a UUID.
func (d *Decoder) bytesID(b []byte, field string) (*qdrant.PointId, error) {
	if len(b) != 16 {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q is %d bytes; a UUID id is 16 bytes", field, len(b))
	}
	box := d.slabs.ids.next(idChunk)
	box.uuid.Uuid = uuid.UUID(b).String()
	box.id.PointIdOptions = &box.uuid
	d.slabs.held += idBoxBytes + uuidTextBytes
	return &box.id, nil
}

// collectionOf checks a collection name read from a record.
func (d *Decoder) collectionOf(b []byte, field string) (string, error) {
	if err := validateText(b, maxCollectionBytes); err != nil {
		return "", NewRecordError(ClassValidate, StageValidate,
			"field %q: collection name %s %v", field, quoteTrunc(b), err)
	}
	return d.intern(b), nil
}
