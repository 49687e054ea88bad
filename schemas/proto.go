package schemas

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The Protobuf reader: it reads a message's wire bytes by a plan (compile.go)
// straight into the Qdrant types of a Record, in the Decoder's slabs, with
// no intermediate message. Unknown fields, and known fields of another wire
// type, are skipped as protobuf-go skips them; lists of scalars may come
// packed or not; the last occurrence of a non-repeated field wins (a
// message field that occurs twice is not merged, as no serializer writes
// that) and the last member set of a oneof wins.

// protoSpan is one occurrence of a field: where its tag was (to order the
// members of a oneof; the field index while grouping a message's fields),
// its wire type and its value's bytes (a varint's, the fixed bytes, or a
// length-delimited field's content).
type protoSpan struct {
	pos int
	typ protowire.Type
	b   []byte
}

// protoReader reads Protobuf records into a Decoder. Like the Decoder, it
// is used by one goroutine.
type protoReader struct {
	d *Decoder
	// slots holds the occurrences of each role and path field of a plan.
	slots [][]protoSpan
	// stack holds the fields of the messages being read, innermost last.
	stack []protoSpan
	// key is scratch for a map key that is not a string.
	key []byte
}

// protoCand is the field that holds a role in a record: of a oneof's
// members, the one set last.
type protoCand struct {
	f     *shapeField
	fp    *fieldPlan
	spans []protoSpan
	pos   int
}

// read reads the message value by plan p into f. It returns only errors
// that make the value unreadable (ClassDecode); problems with one part are
// left in f.
func (r *protoReader) read(value []byte, p *plan, f *fields) error {
	if cap(r.slots) < p.slots {
		r.slots = make([][]protoSpan, p.slots)
	}
	r.slots = r.slots[:p.slots]
	for i := range r.slots {
		clear(r.slots[i])
		r.slots[i] = r.slots[i][:0]
	}
	r.stack = r.stack[:0]
	if err := r.scan(value, p.root); err != nil {
		return err
	}
	var cands [roleDelete + 1]protoCand
	r.choose(p.root, &cands)
	d := r.d
	if c := cands[roleDelete]; c.f != nil {
		v, _ := protowire.ConsumeVarint(c.spans[len(c.spans)-1].b)
		f.delete = v != 0
	}
	if c := cands[roleID]; c.f != nil {
		f.id, f.idErr = r.id(c.f.shape, c.spans[len(c.spans)-1])
	}
	if c := cands[roleCollection]; c.f != nil {
		f.collection, f.colErr = d.collectionOf(c.spans[len(c.spans)-1].b, d.cfg.CollectionField)
	}
	if f.delete {
		return nil
	}
	if c := cands[roleVector]; c.f != nil {
		f.vectors, f.vecErr = r.vectors(c.fp.vec, c.spans)
	}
	if c := cands[rolePayload]; c.f != nil {
		var ok bool
		if s := c.f.shape; c.f.mapField && s.keyKind == protoreflect.StringKind && s.elem.qdrantWire {
			f.payloadWire, ok = r.wirePayload(c.spans)
		}
		if !ok {
			f.payloadWire, f.payErr = r.payload(c.f, c.spans)
		}
	}
	return nil
}

func protoError(n int, what string) error {
	return NewRecordError(ClassDecode, StageDecode, "value is not a valid Protobuf %s: %v", what, protowire.ParseError(n))
}

// scan notes the occurrences of the role and path fields of rp in the
// message b, then scans the last occurrence of each path field.
func (r *protoReader) scan(b []byte, rp *recordPlan) error {
	s := rp.shape
	for pos := 0; pos < len(b); {
		num, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			if pos == 0 && len(b) > 0 && b[0] == 0 {
				return NewRecordError(ClassDecode, StageDecode,
					"value is not a Protobuf message: it starts with byte 0, as Schema Registry framing (magic byte 0, schema id) does; read such a topic with record.format registry")
			}
			return protoError(n, "message")
		}
		m := protowire.ConsumeFieldValue(num, typ, b[pos+n:])
		if m < 0 {
			return protoError(m, "message")
		}
		if i := s.fieldIndex(num); i >= 0 && rp.fields[i].role != roleNone && accepts(s.fields[i], typ) {
			fp := &rp.fields[i]
			r.slots[fp.slot] = append(r.slots[fp.slot], protoSpan{pos: pos, typ: typ, b: fieldBytes(typ, b[pos+n:pos+n+m])})
		}
		pos += n + m
	}
	for i := range rp.fields {
		fp := &rp.fields[i]
		if fp.role != roleDescend {
			continue
		}
		if spans := r.slots[fp.slot]; len(spans) > 0 {
			if err := r.scan(spans[len(spans)-1].b, fp.sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldBytes is the value of a field: the content of a length-delimited
// one, else its bytes.
func fieldBytes(typ protowire.Type, b []byte) []byte {
	if typ == protowire.BytesType {
		v, _ := protowire.ConsumeBytes(b)
		return v
	}
	return b
}

// accepts reports whether an occurrence of wire type typ is a value of f;
// others are skipped, as unknown fields.
func accepts(f *shapeField, typ protowire.Type) bool {
	switch {
	case f.mapField:
		return typ == protowire.BytesType
	case f.list:
		e := f.shape.elem
		return typ == wireType(e.proto) || (typ == protowire.BytesType && packable(e.proto))
	}
	return typ == wireType(f.shape.proto)
}

// choose picks the field of each role below rp: the one set last.
func (r *protoReader) choose(rp *recordPlan, cands *[roleDelete + 1]protoCand) {
	for i := range rp.fields {
		fp := &rp.fields[i]
		if fp.role == roleNone {
			continue
		}
		spans := r.slots[fp.slot]
		switch {
		case len(spans) == 0:
		case fp.role == roleDescend:
			r.choose(fp.sub, cands)
		default:
			pos := spans[len(spans)-1].pos
			if c := &cands[fp.role]; c.f == nil || pos > c.pos {
				*c = protoCand{f: rp.shape.fields[i], fp: fp, spans: spans, pos: pos}
			}
		}
	}
}

// Scalars. Spans were checked by ConsumeFieldValue, so one value decodes.

func spanUint(k protoreflect.Kind, sp protoSpan) uint64 {
	switch sp.typ {
	case protowire.Fixed32Type:
		return uint64(binary.LittleEndian.Uint32(sp.b))
	case protowire.Fixed64Type:
		return binary.LittleEndian.Uint64(sp.b)
	}
	v, _ := protowire.ConsumeVarint(sp.b)
	if k == protoreflect.Uint32Kind {
		v = uint64(uint32(v))
	}
	return v
}

func spanInt(k protoreflect.Kind, sp protoSpan) int64 {
	switch sp.typ {
	case protowire.Fixed32Type:
		return int64(int32(binary.LittleEndian.Uint32(sp.b)))
	case protowire.Fixed64Type:
		return int64(binary.LittleEndian.Uint64(sp.b))
	}
	v, _ := protowire.ConsumeVarint(sp.b)
	switch k {
	case protoreflect.Int32Kind, protoreflect.EnumKind:
		return int64(int32(v))
	case protoreflect.Sint32Kind:
		return int64(int32(protowire.DecodeZigZag(v & math.MaxUint32)))
	case protoreflect.Sint64Kind:
		return protowire.DecodeZigZag(v)
	}
	return int64(v)
}

func spanFloat(sp protoSpan) float64 {
	if sp.typ == protowire.Fixed32Type {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(sp.b)))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(sp.b))
}

// elements calls fn with each element of a list of scalars of kind k in
// spans, unpacking packed ones.
func elements(k protoreflect.Kind, spans []protoSpan, fn func(protoSpan) error) error {
	wt := wireType(k)
	for _, sp := range spans {
		if sp.typ == wt {
			if err := fn(sp); err != nil {
				return err
			}
			continue
		}
		for b := sp.b; len(b) > 0; {
			var n int
			switch wt {
			case protowire.VarintType:
				_, n = protowire.ConsumeVarint(b)
			case protowire.Fixed32Type:
				_, n = protowire.ConsumeFixed32(b)
			default:
				_, n = protowire.ConsumeFixed64(b)
			}
			if n < 0 {
				return protoError(n, "packed list")
			}
			if err := fn(protoSpan{typ: wt, b: b[:n]}); err != nil {
				return err
			}
			b = b[n:]
		}
	}
	return nil
}

// fields collects the occurrences of the fields of record s in the message
// b onto the stack, grouped by field index (pos) in order of occurrence,
// and returns them; the caller truncates the stack back to start.
func (r *protoReader) fields(s *shape, b []byte) (start int, spans []protoSpan, err error) {
	start = len(r.stack)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return start, nil, protoError(n, "message")
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return start, nil, protoError(m, "message")
		}
		if i := s.fieldIndex(num); i >= 0 && accepts(s.fields[i], typ) {
			r.stack = append(r.stack, protoSpan{pos: i, typ: typ, b: fieldBytes(typ, b[n:n+m])})
		}
		b = b[n+m:]
	}
	spans = r.stack[start:]
	slices.SortStableFunc(spans, func(a, b protoSpan) int { return cmp.Compare(a.pos, b.pos) })
	return start, spans, nil
}

// occurrences returns the occurrences of field i in spans grouped by
// fields.
func occurrences(spans []protoSpan, i int) []protoSpan {
	lo, _ := slices.BinarySearchFunc(spans, i, func(sp protoSpan, i int) int { return cmp.Compare(sp.pos, i) })
	hi := lo
	for hi < len(spans) && spans[hi].pos == i {
		hi++
	}
	return spans[lo:hi]
}

// lastSet returns the index and occurrences of the field of a oneof
// wrapper set last, or -1.
func lastSet(b []byte, s *shape, spans []protoSpan) (int, []protoSpan) {
	last := -1
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if n < 0 || m < 0 {
			break // fields already reported it
		}
		if i := s.fieldIndex(num); i >= 0 && accepts(s.fields[i], typ) {
			last = i
		}
		b = b[n+m:]
	}
	if last < 0 {
		return -1, nil
	}
	return last, occurrences(spans, last)
}

// id reads a point id.
func (r *protoReader) id(s *shape, sp protoSpan) (*qdrant.PointId, error) {
	d := r.d
	switch s.kind {
	case kUint:
		return d.slabs.numID(spanUint(s.proto, sp)), nil
	case kInt:
		return d.intID(spanInt(s.proto, sp), d.cfg.IDField)
	case kString:
		return d.stringID(sp.b, d.cfg.IDField)
	}
	return d.bytesID(sp.b, d.cfg.IDField)
}

// vectors reads the vectors of a point from the occurrences of its field.
func (r *protoReader) vectors(vp *vecPlan, spans []protoSpan) (*qdrant.Vectors, error) {
	d := r.d
	field := d.cfg.VectorField
	switch vp.kind {
	case vNamedMap, vNamedRecord:
		return r.named(vp, spans)
	case vWrap:
		inner, in, start, ok, err := r.unwrap(vp, spans)
		defer r.trunc(start)
		if err != nil || !ok {
			return nil, err
		}
		return r.vectors(inner, in)
	case vNull:
		return nil, nil
	}
	v, err := r.vector(vp, spans, vecLoc{field: field})
	if err != nil || v == nil {
		return nil, err
	}
	return d.slabs.unnamed(v), nil
}

// unwrap reads a wrapper message (the last of spans) and returns the plan
// and occurrences of its field that is set; ok is false when a oneof
// wrapper has none. The occurrences are on the stack from start, which the
// caller truncates it back to.
func (r *protoReader) unwrap(vp *vecPlan, spans []protoSpan) (inner *vecPlan, in []protoSpan, start int, ok bool, err error) {
	var b []byte
	if len(spans) > 0 {
		b = spans[len(spans)-1].b
	}
	start, all, err := r.fields(vp.shape, b)
	if err != nil {
		return nil, nil, start, false, err
	}
	if len(vp.fields) == 1 {
		return vp.fields[0], all, start, true, nil
	}
	i, set := lastSet(b, vp.shape, all)
	if i < 0 {
		return nil, nil, start, false, nil
	}
	return vp.fields[i], set, start, true, nil
}

// trunc drops the stack's spans from start on.
func (r *protoReader) trunc(start int) { r.stack = r.stack[:start] }

// vector reads one vector (dense, multi or sparse) from spans.
func (r *protoReader) vector(vp *vecPlan, spans []protoSpan, where vecLoc) (*qdrant.Vector, error) {
	d := r.d
	switch vp.kind {
	case vDense:
		if len(spans) == 1 && spans[0].typ == protowire.BytesType && vp.shape.elem.kind == kFloat && len(spans[0].b)%4 == 0 {
			return r.packedFloats(spans[0].b, where) // the common case, without a copy
		}
		d.floats = d.floats[:0]
		if err := r.floats(vp.shape.elem, spans, where); err != nil {
			return nil, err
		}
		return d.denseOf(where)
	case vMulti:
		d.floats = d.floats[:0]
		dim := 0
		for row, sp := range spans {
			before := len(d.floats)
			if err := r.row(vp.row, sp, where); err != nil {
				return nil, err
			}
			n := len(d.floats) - before
			if row == 0 {
				dim = n
			}
			if err := checkRow(n, dim, row, where); err != nil {
				return nil, err
			}
		}
		if len(spans) == 0 {
			return nil, NewRecordError(ClassValidate, StageValidate,
				"%s is an empty list; a vector needs at least one number", where)
		}
		return d.multiOf(dim, where)
	case vSparse:
		var b []byte
		if len(spans) > 0 {
			b = spans[len(spans)-1].b
		}
		start, all, err := r.fields(vp.shape, b)
		defer func() { r.stack = r.stack[:start] }()
		if err != nil {
			return nil, err
		}
		d.indices, d.floats = d.indices[:0], d.floats[:0]
		idx := vp.shape.fields[vp.indices].shape.elem
		n := 0
		err = elements(idx.proto, occurrences(all, vp.indices), func(sp protoSpan) error {
			var u uint32
			var err error
			if idx.kind == kUint {
				u, err = sparseIndex(int64(spanUint(idx.proto, sp)), true, where, n)
			} else {
				u, err = sparseIndex(spanInt(idx.proto, sp), false, where, n)
			}
			d.indices = append(d.indices, u)
			n++
			return err
		})
		if err != nil {
			return nil, err
		}
		if err := r.floats(vp.shape.fields[vp.values].shape.elem, occurrences(all, vp.values), where); err != nil {
			return nil, err
		}
		return d.sparseOf(where)
	case vWrap:
		inner, in, start, ok, err := r.unwrap(vp, spans)
		defer r.trunc(start)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, NewRecordError(ClassValidate, StageValidate, "%s has no vector set", where)
		}
		return r.vector(inner, in, where)
	}
	return nil, nil
}

// packedFloats builds a dense vector of one packed list of floats, decoded
// straight into its slab.
func (r *protoReader) packedFloats(b []byte, where vecLoc) (*qdrant.Vector, error) {
	d := r.d
	if len(b) == 0 {
		return nil, checkFloats(nil, where)
	}
	dst := d.slabs.floatsN(len(b) / 4)
	// A component whose exponent bits are all ones (NaN, infinite)
	// carries into bit 31 when one is added to its exponent.
	var special uint32
	for i := range dst {
		u := binary.LittleEndian.Uint32(b)
		b = b[4:]
		special |= u&0x7f800000 + 0x00800000
		dst[i] = math.Float32frombits(u)
	}
	if special&0x80000000 != 0 {
		return nil, checkFloats(dst, where)
	}
	return d.slabs.denseVector(dst), nil
}

// floats appends the numbers of a list of float or double to d.floats.
func (r *protoReader) floats(elem *shape, spans []protoSpan, where vecLoc) error {
	d := r.d
	return elements(elem.proto, spans, func(sp protoSpan) error {
		x := spanFloat(sp)
		f, err := float32Of(x, where, len(d.floats))
		d.floats = append(d.floats, f)
		return err
	})
}

// row appends one row of a multi-vector to d.floats.
func (r *protoReader) row(vp *vecPlan, sp protoSpan, where vecLoc) error {
	if vp.kind == vDense { // cannot happen in Protobuf: rows are messages
		return r.floats(vp.shape.elem, []protoSpan{sp}, where)
	}
	start, all, err := r.fields(vp.shape, sp.b)
	defer func() { r.stack = r.stack[:start] }()
	if err != nil {
		return err
	}
	return r.floats(vp.fields[0].shape.elem, all, where)
}

// named reads named vectors: the entries of a map, or the fields of a
// record.
func (r *protoReader) named(vp *vecPlan, spans []protoSpan) (*qdrant.Vectors, error) {
	d := r.d
	field := d.cfg.VectorField
	m := make(map[string]*qdrant.Vector, 2)
	if vp.kind == vNamedMap {
		for _, sp := range spans {
			key, val, err := mapEntry(sp.b)
			if err != nil {
				return nil, err
			}
			if key.typ != protowire.BytesType || !utf8.Valid(key.b) {
				return nil, NewRecordError(ClassValidate, StageValidate,
					"field %q: vector name %s is not valid UTF-8", field, quoteTrunc(key.b))
			}
			name := d.intern(key.b)
			if val.typ != protowire.BytesType {
				val = protoSpan{typ: protowire.BytesType} // absent: an empty message
			}
			v, err := r.vector(vp.elem, []protoSpan{val}, vecLoc{field: field, name: name, named: true})
			if err != nil {
				return nil, err
			}
			if v != nil {
				m[name] = v
			}
		}
	} else {
		var b []byte
		if len(spans) > 0 {
			b = spans[len(spans)-1].b
		}
		start, all, err := r.fields(vp.shape, b)
		defer func() { r.stack = r.stack[:start] }()
		if err != nil {
			return nil, err
		}
		for i, f := range vp.shape.fields {
			if in := occurrences(all, i); len(in) > 0 {
				v, err := r.vector(vp.fields[i], in, vecLoc{field: field, name: f.name, named: true})
				if err != nil {
					return nil, err
				}
				if v != nil {
					m[f.name] = v
				}
			}
		}
	}
	if len(m) == 0 {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q holds no named vector; want at least one", field)
	}
	return d.slabs.named(m), nil
}

// mapEntry reads the key (field 1) and value (field 2) of a map entry;
// missing ones have the zero protoSpan (wire type varint, no bytes).
func mapEntry(b []byte) (key, val protoSpan, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return key, val, protoError(n, "map entry")
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return key, val, protoError(m, "map entry")
		}
		sp := protoSpan{typ: typ, b: fieldBytes(typ, b[n:n+m])}
		switch num {
		case 1:
			key = sp
		case 2:
			val = sp
		}
		b = b[n+m:]
	}
	return key, val, nil
}

// payload reads the payload of field f: a map, a message or a JSON object.
func (r *protoReader) payload(f *shapeField, spans []protoSpan) ([]byte, error) {
	d := r.d
	d.startPayload()
	var err error
	switch s := f.shape; {
	case f.mapField:
		err = r.mapOf(s, spans, 1, tagPayloadEntry)
	case s.kind == kJSON:
		err = r.jsonObject(s, spans[len(spans)-1].b)
	default:
		err = r.structOf(s, spans[len(spans)-1].b, 1, tagPayloadEntry)
	}
	if p, ok := err.(*payloadProblem); ok {
		return nil, p.recordError(d.cfg.PayloadField)
	}
	if err != nil {
		return nil, err
	}
	return d.takePayload(), nil
}

// mapOf reads the entries of a map field as the entries, under tag, of an
// object at level depth.
func (r *protoReader) mapOf(s *shape, spans []protoSpan, depth int, tag byte) error {
	d := r.d
	for _, sp := range spans {
		key, val, err := mapEntry(sp.b)
		if err != nil {
			return err
		}
		k, err := r.mapKey(s.keyKind, key)
		if err != nil {
			return err
		}
		if val.b == nil || val.typ != wireType(s.elem.proto) {
			val = protoSpan{typ: wireType(s.elem.proto), b: defaultBytes(s.elem)} // absent: the default
		}
		entry, value := openEntry(d, tag, k)
		if err := r.value(s.elem, val, depth); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, d.entryKey(entry))
			}
			return err
		}
		d.closeEntry(entry, value)
	}
	return nil
}

var zeroScalar [8]byte

func fixedSize(t protowire.Type) int {
	switch t {
	case protowire.Fixed32Type:
		return 4
	case protowire.Fixed64Type:
		return 8
	}
	return 1 // a varint 0
}

// mapKey is a map key as an object key, valid until the next call.
func (r *protoReader) mapKey(k protoreflect.Kind, key protoSpan) ([]byte, error) {
	if key.b == nil || key.typ != wireType(k) {
		key = protoSpan{typ: wireType(k)} // absent: the default
		if key.typ != protowire.BytesType {
			key.b = zeroScalar[:fixedSize(key.typ)]
		}
	}
	if key.typ == protowire.BytesType {
		if !utf8.Valid(key.b) {
			return nil, payloadProblemf("map key %s is not valid UTF-8", quoteTrunc(key.b))
		}
		return key.b, nil
	}
	switch k {
	case protoreflect.BoolKind:
		r.key = strconv.AppendBool(r.key[:0], spanUint(k, key) != 0)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		r.key = strconv.AppendUint(r.key[:0], spanUint(k, key), 10)
	default:
		r.key = strconv.AppendInt(r.key[:0], spanInt(k, key), 10)
	}
	return r.key, nil
}

// structOf reads a message as the entries, under tag, of an object at
// level depth: each field set, by name, and the scalars without presence
// at their default.
func (r *protoReader) structOf(s *shape, b []byte, depth int, tag byte) error {
	d := r.d
	start, all, err := r.fields(s, b)
	defer func() { r.stack = r.stack[:start] }()
	if err != nil {
		return err
	}
	for i, f := range s.fields {
		in := occurrences(all, i)
		if len(in) == 0 && !f.implicit {
			continue
		}
		entry, value := openEntry(d, tag, f.name)
		var err error
		switch {
		case len(in) == 0:
			err = r.value(f.shape, protoSpan{typ: wireType(f.shape.proto), b: defaultBytes(f.shape)}, depth)
		case f.mapField:
			if depth >= MaxPayloadDepth {
				err = deeper()
				break
			}
			at := d.openLen(tagStruct)
			if err = r.mapOf(f.shape, in, depth+1, tagStructEntry); err == nil {
				d.closeLen(at)
			}
		case f.list:
			if depth >= MaxPayloadDepth {
				err = deeper()
				break
			}
			err = r.list(f.shape.elem, in, depth+1)
		default:
			err = r.value(f.shape, in[len(in)-1], depth)
		}
		if err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, f.name)
			}
			return err
		}
		d.closeEntry(entry, value)
	}
	return nil
}

// defaultBytes is the wire form of the default value of a scalar shape.
func defaultBytes(s *shape) []byte {
	if wireType(s.proto) == protowire.BytesType {
		return nil
	}
	return zeroScalar[:fixedSize(wireType(s.proto))]
}

// list reads the elements of a list field as a list at level depth.
func (r *protoReader) list(elem *shape, spans []protoSpan, depth int) error {
	at := r.d.openLen(tagList)
	if err := r.elements(elem, spans, depth); err != nil {
		return err
	}
	r.d.closeLen(at)
	return nil
}

// elements reads the elements of a list field as the values of a list at
// level depth.
func (r *protoReader) elements(elem *shape, spans []protoSpan, depth int) error {
	d := r.d
	n := 0
	add := func(sp protoSpan) error {
		at := d.openElem()
		if err := r.value(elem, sp, depth); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, strconv.Itoa(n))
			}
			return err
		}
		if d.closeElem(at) {
			n++
		}
		return nil
	}
	if packable(elem.proto) {
		return elements(elem.proto, spans, add)
	}
	for _, sp := range spans {
		if err := add(sp); err != nil {
			return err
		}
	}
	return nil
}

// value reads one value of shape s, held by an object or list at level
// depth. Groups write nothing (left out).
func (r *protoReader) value(s *shape, sp protoSpan, depth int) error {
	d := r.d
	switch s.kind {
	case kBool:
		v, _ := protowire.ConsumeVarint(sp.b)
		d.putBool(v != 0)
	case kInt:
		d.putInt(spanInt(s.proto, sp))
	case kUint:
		return d.putUint(spanUint(s.proto, sp))
	case kFloat, kDouble:
		return d.putDouble(spanFloat(sp))
	case kString:
		return d.putString(sp.b)
	case kBytes:
		d.putBytes(sp.b)
	case kEnum:
		n := spanInt(protoreflect.EnumKind, sp)
		if name, ok := s.enumNum[protoreflect.EnumNumber(n)]; ok {
			putText(d, name)
		} else {
			d.putInt(n)
		}
	case kJSON:
		return r.jsonValue(s, sp.b, depth)
	case kRecord:
		switch s.logical {
		case logicalProtoTimestamp:
			return r.timestamp(s, sp.b)
		case logicalProtoWrapper:
			start, all, err := r.fields(s, sp.b)
			defer func() { r.stack = r.stack[:start] }()
			if err != nil {
				return err
			}
			f := s.fields[0]
			in := occurrences(all, 0)
			if len(in) == 0 {
				return r.value(f.shape, protoSpan{typ: wireType(f.shape.proto), b: defaultBytes(f.shape)}, depth)
			}
			return r.value(f.shape, in[len(in)-1], depth)
		}
		if depth >= MaxPayloadDepth {
			return deeper()
		}
		at := d.openLen(tagStruct)
		if err := r.structOf(s, sp.b, depth+1, tagStructEntry); err != nil {
			return err
		}
		d.closeLen(at)
	}
	return nil // a group writes nothing
}

// timestamp reads a google.protobuf.Timestamp as RFC 3339 text.
func (r *protoReader) timestamp(s *shape, b []byte) error {
	start, all, err := r.fields(s, b)
	defer func() { r.stack = r.stack[:start] }()
	if err != nil {
		return err
	}
	var secs, nanos int64
	for i, f := range s.fields {
		if in := occurrences(all, i); len(in) > 0 {
			switch f.name {
			case "seconds":
				secs = spanInt(f.shape.proto, in[len(in)-1])
			case "nanos":
				nanos = spanInt(f.shape.proto, in[len(in)-1])
			}
		}
	}
	// The range of google.protobuf.Timestamp: years 1 to 9999.
	if secs < -62135596800 || secs > 253402300799 || nanos < 0 || nanos > 999999999 {
		return payloadProblemf("timestamp (%d s, %d ns) is out of range", secs, nanos)
	}
	r.d.putTime(time.Unix(secs, nanos), time.RFC3339Nano)
	return nil
}

// jsonObject reads the payload held by a field of a JSON type: a
// Struct's fields, or the Struct a Value holds, as the payload's entries.
func (r *protoReader) jsonObject(s *shape, b []byte) error {
	switch s.json {
	case jsonStruct:
		return r.jsonContent(s, b, 1, tagPayloadEntry)
	case jsonValue:
		i, sp, err := r.jsonMember(s, b)
		if err != nil {
			return err
		}
		if i >= 0 && s.jsonField[i] == jrStruct {
			return r.jsonObject(s.fields[i].shape, sp.b)
		}
	}
	return NewRecordError(ClassValidate, StageValidate,
		"field %q is not a JSON object", r.d.cfg.PayloadField)
}

// jsonValue reads a message of a JSON type (Value, Struct, ListValue) held
// at level depth.
func (r *protoReader) jsonValue(s *shape, b []byte, depth int) error {
	d := r.d
	switch s.json {
	case jsonStruct, jsonList:
		if depth >= MaxPayloadDepth {
			return deeper()
		}
		tag := byte(tagStruct)
		if s.json == jsonList {
			tag = tagList
		}
		at := d.openLen(tag)
		if err := r.jsonContent(s, b, depth+1, tagStructEntry); err != nil {
			return err
		}
		d.closeLen(at)
		return nil
	}
	i, sp, err := r.jsonMember(s, b)
	if err != nil {
		return err
	}
	if i < 0 {
		d.putNull()
		return nil
	}
	f := s.fields[i]
	switch s.jsonField[i] {
	case jrDouble:
		return d.putDouble(spanFloat(sp))
	case jrInteger:
		d.putInt(spanInt(f.shape.proto, sp))
	case jrString:
		return d.putString(sp.b)
	case jrBool:
		v, _ := protowire.ConsumeVarint(sp.b)
		d.putBool(v != 0)
	case jrStruct, jrList:
		return r.jsonValue(f.shape, sp.b, depth)
	default:
		d.putNull()
	}
	return nil
}

// jsonContent reads the content of a Struct (its fields, as entries under
// tag) or of a ListValue (its values) at level depth.
func (r *protoReader) jsonContent(s *shape, b []byte, depth int, tag byte) error {
	start, all, err := r.fields(s, b)
	defer func() { r.stack = r.stack[:start] }()
	if err != nil {
		return err
	}
	for i, f := range s.fields {
		in := occurrences(all, i)
		switch s.jsonField[i] {
		case jrFields:
			return r.mapOf(f.shape, in, depth, tag)
		case jrValues:
			return r.elements(f.shape.elem, in, depth)
		}
	}
	return nil
}

// jsonMember finds the member of a Value that is set: a Value is a oneof,
// and the member set last wins. i is -1 when none is.
func (r *protoReader) jsonMember(s *shape, b []byte) (i int, sp protoSpan, err error) {
	i = -1
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return -1, sp, protoError(n, "message")
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return -1, sp, protoError(m, "message")
		}
		if j := s.fieldIndex(num); j >= 0 && accepts(s.fields[j], typ) {
			i, sp = j, protoSpan{typ: typ, b: fieldBytes(typ, b[n:n+m])}
		}
		b = b[n+m:]
	}
	return i, sp, nil
}
