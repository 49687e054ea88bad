package schemas

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// The record rules for typed formats (Avro, Protobuf): which types of a
// schema can hold each part of a record. compilePlan applies them once per
// schema, so a schema the rules cannot use fails every record that names it
// with one clear error (ClassSchema), and the readers only follow the plan.
//
//   - id: an integer (>= 0 at run time), a string (PointID's rules) or 16
//     bytes (a UUID); an Avro union of null and those; a Protobuf oneof of
//     those (the member set is the id).
//   - vector: a list of float or double (one unnamed dense vector); a list
//     of such lists (an unnamed multi-vector); a map, or a record whose
//     fields are vectors (named vectors), each a dense vector, a
//     multi-vector or a sparse vector (a record of exactly "indices", a
//     list of integers, and "values", a list of float or double). Unions
//     (Avro) and oneofs (Protobuf) pick one of these; null is absent.
//     Protobuf cannot put a list in a oneof, a map value or a list
//     element: there a message of one field, or only of one oneof's
//     members, stands for that field (record.v1's DenseVector, Vector).
//   - payload: a record, a map or a JSON object type; null is absent.
//   - collection: a string; delete: a boolean; null is absent.
//
// A field name with dots is a path into nested records ("meta.id"); a
// missing field means the part is absent from every record.

// role is what a field of a record holds.
type role uint8

const (
	roleNone role = iota
	roleID
	roleVector
	rolePayload
	roleCollection
	roleDelete
	roleDescend // a record on the path to other roles
)

// rolePaths are the field paths of the roles; nil means the role is not
// read.
type rolePaths struct {
	id, vector, payload, collection, del []string
}

// pathsOf splits the configured field names at dots, leaving out the id
// under KeyIDKey and the collection when overrides are off.
func pathsOf(c DecoderConfig) rolePaths {
	split := func(s string) []string { return strings.Split(s, ".") }
	p := rolePaths{
		vector:  split(c.VectorField),
		payload: split(c.PayloadField),
		del:     split(c.DeleteField),
	}
	if c.KeyID != KeyIDKey {
		p.id = split(c.IDField)
	}
	if c.AllowCollectionOverride {
		p.collection = split(c.CollectionField)
	}
	return p
}

// plan is a compiled schema: how to read its records.
type plan struct {
	root *recordPlan
	// slots counts the fields the Protobuf reader keeps spans of.
	slots int
}

// recordPlan says what each field of a record on the way to the roles is.
type recordPlan struct {
	shape  *shape
	fields []fieldPlan // by field index
}

type fieldPlan struct {
	role role
	vec  *vecPlan    // roleVector
	sub  *recordPlan // roleDescend
	// branch is the index of the record in an Avro union on a path, -1
	// otherwise.
	branch int
	// slot numbers the field for the Protobuf reader.
	slot int
}

type vecKind uint8

const (
	vNull        vecKind = iota // nothing (an Avro null branch)
	vDense                      // list of numbers
	vMulti                      // list of rows (row)
	vSparse                     // record of indices and values
	vNamedMap                   // map of vectors (elem)
	vNamedRecord                // record of vectors (fields)
	vUnion                      // Avro union (branches)
	vWrap                       // Protobuf wrapper message (fields: the one set)
)

// vecPlan is how to read a vector (or named vectors) of a shape.
type vecPlan struct {
	kind     vecKind
	shape    *shape
	row      *vecPlan   // vMulti: a vDense, or a vWrap around one
	elem     *vecPlan   // vNamedMap
	fields   []*vecPlan // vNamedRecord, vWrap: by field index
	branches []*vecPlan // vUnion
	// indices and values are the field indexes of a vSparse record.
	indices, values int
}

type compiler struct{ slots int }

// compilePlan applies the record rules to a record shape.
func compilePlan(root *shape, paths rolePaths) (*plan, error) {
	if root.kind != kRecord {
		return nil, schemaError("the schema is %s, not a record", root.describe())
	}
	c := &compiler{}
	rp := newRecordPlan(root)
	for _, r := range []struct {
		role role
		path []string
	}{
		{roleDelete, paths.del}, {roleID, paths.id}, {roleVector, paths.vector},
		{rolePayload, paths.payload}, {roleCollection, paths.collection},
	} {
		if r.path == nil {
			continue
		}
		if err := c.place(rp, r.path, r.role, strings.Join(r.path, ".")); err != nil {
			return nil, err
		}
	}
	return &plan{root: rp, slots: c.slots}, nil
}

func newRecordPlan(s *shape) *recordPlan {
	rp := &recordPlan{shape: s, fields: make([]fieldPlan, len(s.fields))}
	for i := range rp.fields {
		rp.fields[i].branch = -1
	}
	return rp
}

var roleNames = [...]string{
	roleID: "id", roleVector: "vector", rolePayload: "payload",
	roleCollection: "collection", roleDelete: "delete",
}

// place gives the field at path below rp the role r; full is the whole
// path, for messages.
func (c *compiler) place(rp *recordPlan, path []string, r role, full string) error {
	s := rp.shape
	var idx []int
	for i, f := range s.fields {
		if f.name == path[0] {
			idx = []int{i}
			break
		}
	}
	if idx == nil {
		for i, f := range s.fields {
			if f.oneof != "" && f.oneof == path[0] {
				idx = append(idx, i)
			}
		}
		if idx != nil && len(path) > 1 {
			return schemaError("field %q: %q is a oneof, not a record", full, path[0])
		}
	}
	if idx == nil {
		return nil // absent from every record
	}
	if len(path) > 1 {
		i := idx[0]
		f := s.fields[i]
		fp := &rp.fields[i]
		inner, branch, ok := recordOnPath(f)
		if !ok {
			return schemaError("field %q: %q is %s, not a record", full, path[0], f.shape.describe())
		}
		switch fp.role {
		case roleNone:
			fp.role, fp.sub, fp.branch, fp.slot = roleDescend, newRecordPlan(inner), branch, c.slot()
		case roleDescend:
		default:
			return schemaError("field %q: %q is already the %s", full, path[0], roleNames[fp.role])
		}
		return c.place(fp.sub, path[1:], r, full)
	}
	for _, i := range idx {
		f := s.fields[i]
		fp := &rp.fields[i]
		if fp.role != roleNone {
			what := roleNames[fp.role]
			if fp.role == roleDescend {
				what = "path to another part"
			}
			return schemaError("field %q is already the %s", full, what)
		}
		if err := checkRole(r, f, full); err != nil {
			return err
		}
		fp.role, fp.slot = r, c.slot()
		if r == roleVector {
			v, err := classifyVector(f.shape, f.wrap, false, 0)
			if err != nil {
				return schemaError("field %q: %v", full, err)
			}
			fp.vec = v
		}
	}
	return nil
}

func (c *compiler) slot() int {
	c.slots++
	return c.slots - 1
}

// recordOnPath returns the record a path goes through at field f: a
// record, or the record of an Avro union of null and a record (branch is
// its index).
func recordOnPath(f *shapeField) (inner *shape, branch int, ok bool) {
	s := f.shape
	if f.list || f.mapField {
		return nil, 0, false
	}
	if s.kind == kRecord && s.json == jsonNone && s.logical == logicalNone {
		return s, -1, true
	}
	if s.kind != kUnion {
		return nil, 0, false
	}
	inner, ok = s.nullable()
	if !ok || inner.kind != kRecord || inner.json != jsonNone || inner.logical != logicalNone {
		return nil, 0, false
	}
	for i, b := range s.branches {
		if b == inner {
			branch = i
		}
	}
	return inner, branch, true
}

// checkRole checks that field f can hold role r (vectors: classifyVector).
func checkRole(r role, f *shapeField, full string) error {
	s := f.shape
	var ok bool
	var want string
	switch r {
	case roleVector:
		return nil
	case roleID:
		want = "an unsigned integer, a string or 16 bytes (a UUID)"
		ok = !f.list && !f.mapField && all(s, func(b *shape) bool {
			return b.integer() || b.kind == kString || (b.kind == kBytes && (b.fixedSize == 0 || b.fixedSize == 16))
		})
	case rolePayload:
		want = "a record, a map or a JSON object"
		ok = f.mapField || (!f.list && all(s, func(b *shape) bool {
			return (b.kind == kRecord && b.logical == logicalNone) || b.kind == kMap ||
				(b.kind == kJSON && (b.json == jsonStruct || b.json == jsonValue))
		}))
	case roleCollection:
		want = "a string"
		ok = !f.list && !f.mapField && all(s, func(b *shape) bool { return b.kind == kString })
	case roleDelete:
		want = "a boolean"
		ok = !f.list && !f.mapField && all(s, func(b *shape) bool { return b.kind == kBool })
	}
	if !ok {
		return schemaError("field %q is %s; want %s", full, s.describe(), want)
	}
	return nil
}

// all reports whether s, or every non-null branch of a union s (at least
// one), satisfies ok.
func all(s *shape, ok func(*shape) bool) bool {
	if s.kind != kUnion {
		return ok(s)
	}
	n := 0
	for _, b := range s.branches {
		if b.kind == kNull {
			continue
		}
		if !ok(b) {
			return false
		}
		n++
	}
	return n > 0
}

// maxVectorNesting bounds the types classifyVector follows (recursive
// schemas).
const maxVectorNesting = 8

const vectorForms = "a list of float or double, a list of such lists, a map or record of named vectors, or a record of indices and values (sparse)"

// classifyVector returns how to read a vector of shape s. wrap tells that s
// is in a Protobuf wrapper position; named, that s is one of named vectors.
func classifyVector(s *shape, wrap, named bool, depth int) (*vecPlan, error) {
	if depth > maxVectorNesting {
		return nil, fmt.Errorf("vector types nest more than %d levels", maxVectorNesting)
	}
	if wrap && s.wrapper() {
		p := &vecPlan{kind: vWrap, shape: s, fields: make([]*vecPlan, len(s.fields))}
		for i, f := range s.fields {
			v, err := classifyVector(f.shape, f.wrap, named, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", f.name, err)
			}
			p.fields[i] = v
		}
		return p, nil
	}
	switch s.kind {
	case kNull:
		return &vecPlan{kind: vNull, shape: s}, nil
	case kList:
		if s.elem.number() {
			return &vecPlan{kind: vDense, shape: s}, nil
		}
		if row, ok := rowPlan(s.elem, s.elemWrap); ok {
			return &vecPlan{kind: vMulti, shape: s, row: row}, nil
		}
	case kRecord:
		if s.json != jsonNone || s.logical != logicalNone {
			break
		}
		if idx, val, ok := sparseFields(s); ok {
			if !named {
				return nil, fmt.Errorf("is a sparse vector (%s); a sparse vector must be named", s.describe())
			}
			return &vecPlan{kind: vSparse, shape: s, indices: idx, values: val}, nil
		}
		if named {
			break
		}
		if len(s.fields) == 0 {
			return nil, fmt.Errorf("is %s without fields; want %s", s.describe(), vectorForms)
		}
		p := &vecPlan{kind: vNamedRecord, shape: s, fields: make([]*vecPlan, len(s.fields))}
		for i, f := range s.fields {
			v, err := classifyVector(f.shape, f.wrap, true, depth+1)
			if err != nil {
				return nil, fmt.Errorf("vector %q %v", f.name, err)
			}
			p.fields[i] = v
		}
		return p, nil
	case kMap:
		if named {
			break
		}
		if s.keyKind != 0 && s.keyKind != protoreflect.StringKind {
			return nil, fmt.Errorf("is a map with %s keys; named vectors need string keys", s.keyKind)
		}
		v, err := classifyVector(s.elem, s.elemWrap, true, depth+1)
		if err != nil {
			return nil, fmt.Errorf("map value %v", err)
		}
		return &vecPlan{kind: vNamedMap, shape: s, elem: v}, nil
	case kUnion:
		p := &vecPlan{kind: vUnion, shape: s, branches: make([]*vecPlan, len(s.branches))}
		for i, b := range s.branches {
			v, err := classifyVector(b, false, named, depth+1)
			if err != nil {
				return nil, fmt.Errorf("union branch %d %v", i, err)
			}
			p.branches[i] = v
		}
		return p, nil
	}
	if named {
		return nil, fmt.Errorf("is %s; want a list of float or double, a list of such lists, or a record of indices and values (sparse)", s.describe())
	}
	return nil, fmt.Errorf("is %s; want %s", s.describe(), vectorForms)
}

// rowPlan returns how to read one row of a multi-vector: a list of numbers,
// or (Protobuf) a message whose one field is.
func rowPlan(s *shape, wrap bool) (*vecPlan, bool) {
	if s.kind == kList && s.elem.number() {
		return &vecPlan{kind: vDense, shape: s}, true
	}
	if wrap && s.kind == kRecord && len(s.fields) == 1 {
		if f := s.fields[0]; f.shape.kind == kList && f.shape.elem.number() {
			return &vecPlan{kind: vWrap, shape: s, fields: []*vecPlan{{kind: vDense, shape: f.shape}}}, true
		}
	}
	return nil, false
}

// sparseFields reports whether s is a sparse vector: exactly the fields
// indices (a list of integers) and values (a list of numbers).
func sparseFields(s *shape) (indices, values int, ok bool) {
	if len(s.fields) != 2 {
		return 0, 0, false
	}
	indices, values = -1, -1
	for i, f := range s.fields {
		switch f.name {
		case "indices":
			if f.shape.kind == kList && f.shape.elem.integer() {
				indices = i
			}
		case "values":
			if f.shape.kind == kList && f.shape.elem.number() {
				values = i
			}
		}
	}
	return indices, values, indices >= 0 && values >= 0
}
