package sink

import (
	"fmt"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// The messages below follow Qdrant's own (lib/segment/src/common/
// operation_error.rs, "Wrong input: ..." from its BadInput), so a record
// dead-lettered by Check reads like one Qdrant would have rejected.

// check validates r against the schema; nil when it fits.
func (s *collectionSchema) check(collection string, r *schemas.Record) *schemas.RecordError {
	if s.missing {
		return schemas.NewRecordError(schemas.ClassUnknownCollection, schemas.StageRoute,
			"collection %q does not exist in Qdrant", collection)
	}
	if r == nil || r.Op != schemas.OpUpsert {
		return nil
	}
	if v := r.Vectors.GetVector(); v != nil {
		return s.checkVector(collection, "", v)
	}
	named := r.Vectors.GetVectors()
	if named == nil {
		return invalid("Wrong input: the point has no vector")
	}
	// Report the offending name that sorts first, so the message does not
	// depend on map order (without sorting, which would allocate).
	var first *schemas.RecordError
	firstName := ""
	for name, v := range named.GetVectors() {
		if first != nil && name >= firstName {
			continue
		}
		if err := s.checkVector(collection, name, v); err != nil {
			first, firstName = err, name
		}
	}
	return first
}

// checkVector validates one vector against the config of its name.
func (s *collectionSchema) checkVector(collection, name string, v *qdrant.Vector) *schemas.RecordError {
	kind := shape(v)
	if p, ok := s.dense[name]; ok {
		switch kind {
		case shapeSparse:
			return invalid("Wrong input: Conversion between sparse and regular vectors failed%s", named(name))
		case shapeMulti:
			if !p.multi {
				return invalid("Wrong input: Conversion between multi and regular vectors failed%s", named(name))
			}
		case shapeInference:
			return nil // Qdrant computes it; its size is the model's business
		}
		if got, bad := wrongDim(v, p.size); bad {
			return invalid("Wrong input: Vector dimension error: expected dim: %d, got %d%s", p.size, got, named(name))
		}
		return nil
	}
	if _, ok := s.sparse[name]; ok {
		switch kind {
		case shapeSparse:
			return nil
		case shapeMulti:
			return invalid("Wrong input: Conversion between multi and regular vectors failed%s", named(name))
		default:
			return invalid("Wrong input: Conversion between sparse and regular vectors failed%s", named(name))
		}
	}
	if name == "" {
		return invalid("Wrong input: Not existing vector name error: the point has an unnamed vector but collection %q has only named vectors", collection)
	}
	return invalid("Wrong input: Not existing vector name error: %s", name)
}

func invalid(format string, args ...any) *schemas.RecordError {
	return schemas.NewRecordError(schemas.ClassValidate, schemas.StageValidate, format, args...)
}

// named is the suffix that names a vector in a message; Qdrant's own
// messages do not, which makes them hard to act on.
func named(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" (vector %q)", name)
}

// vectorShape is the kind of a vector value in a point.
type vectorShape uint8

const (
	shapeDense vectorShape = iota + 1
	shapeSparse
	shapeMulti
	shapeInference // Document, Image or InferenceObject: Qdrant embeds it
)

// shape returns a vector's kind. It understands the deprecated flat
// encoding (data + indices / vectors_count) too.
func shape(v *qdrant.Vector) vectorShape {
	switch v.GetVector().(type) {
	case *qdrant.Vector_Dense:
		return shapeDense
	case *qdrant.Vector_Sparse:
		return shapeSparse
	case *qdrant.Vector_MultiDense:
		return shapeMulti
	case *qdrant.Vector_Document, *qdrant.Vector_Image, *qdrant.Vector_Object:
		return shapeInference
	}
	switch {
	case v.GetIndices() != nil: //nolint:staticcheck // deprecated encoding, still accepted by Qdrant
		return shapeSparse
	case v.GetVectorsCount() > 0: //nolint:staticcheck // idem
		return shapeMulti
	}
	return shapeDense
}

// wrongDim returns the length of the first dense row of a dense or multi
// vector that is not size long; ok is false when every row fits.
func wrongDim(v *qdrant.Vector, size uint64) (got int, ok bool) {
	switch x := v.GetVector().(type) {
	case *qdrant.Vector_Dense:
		if n := len(x.Dense.GetData()); uint64(n) != size {
			return n, true
		}
		return 0, false
	case *qdrant.Vector_MultiDense:
		for _, r := range x.MultiDense.GetVectors() {
			if n := len(r.GetData()); uint64(n) != size {
				return n, true
			}
		}
		return 0, false
	}
	n := len(v.GetData())                             //nolint:staticcheck // deprecated encoding, still accepted by Qdrant
	if count := int(v.GetVectorsCount()); count > 0 { //nolint:staticcheck // idem
		if n%count != 0 || uint64(n/count) != size {
			return n / count, true
		}
		return 0, false
	}
	if uint64(n) != size {
		return n, true
	}
	return 0, false
}
