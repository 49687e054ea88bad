package schemas

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/qdrant/go-client/qdrant"
)

// The Avro reader: it reads a value in Avro's binary encoding by the
// writer's schema and a plan (compile.go) straight into the Qdrant types of
// a Record, in the Decoder's slabs. Fields that hold no part of the record
// are skipped by their schema. The whole value must be one record.

// avroCursor reads Avro's binary encoding.
type avroCursor struct {
	b []byte
	i int
}

// errAvro is a value that does not follow its schema's encoding.
var errAvro = errors.New("avro")

func (c *avroCursor) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s at byte %d", errAvro, fmt.Sprintf(format, args...), c.i)
}

// long reads a zigzag varint (int and long).
func (c *avroCursor) long() (int64, error) {
	var u uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if c.i >= len(c.b) {
			return 0, c.fail("value ends inside a number")
		}
		b := c.b[c.i]
		c.i++
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, c.fail("number longer than 10 bytes")
}

func (c *avroCursor) take(n int) ([]byte, error) {
	if n < 0 || n > len(c.b)-c.i {
		return nil, c.fail("%d bytes wanted, %d left", n, len(c.b)-c.i)
	}
	b := c.b[c.i : c.i+n : c.i+n]
	c.i += n
	return b, nil
}

// bytes reads bytes or a string: a length, then the bytes.
func (c *avroCursor) bytes() ([]byte, error) {
	n, err := c.long()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > int64(len(c.b)-c.i) {
		return nil, c.fail("length %d with %d bytes left", n, len(c.b)-c.i)
	}
	return c.take(int(n))
}

func (c *avroCursor) float() (float32, error) {
	b, err := c.take(4)
	if err != nil {
		return 0, err
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
}

func (c *avroCursor) double() (float64, error) {
	b, err := c.take(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
}

func (c *avroCursor) boolean() (bool, error) {
	b, err := c.take(1)
	if err != nil {
		return false, err
	}
	if b[0] > 1 {
		c.i--
		return false, c.fail("boolean byte %d", b[0])
	}
	return b[0] == 1, nil
}

// union reads a union's branch index.
func (c *avroCursor) union(s *shape) (*shape, int, error) {
	n, err := c.long()
	if err != nil {
		return nil, 0, err
	}
	if n < 0 || n >= int64(len(s.branches)) {
		return nil, 0, c.fail("union branch %d of %d", n, len(s.branches))
	}
	return s.branches[n], int(n), nil
}

// block reads the item count of an array or map block: 0 ends the list. A
// negative count is followed by the block's size in bytes. Counts are
// bounded by the bytes left (every item but a null or an empty record
// takes one), so a bad count cannot make the reader loop for long.
func (c *avroCursor) block() (int, error) {
	n, err := c.long()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		if n == math.MinInt64 {
			return 0, c.fail("block count %d", n)
		}
		n = -n
		if _, err := c.long(); err != nil {
			return 0, err
		}
	}
	if n > int64(len(c.b)-c.i)+1024 {
		return 0, c.fail("block of %d items with %d bytes left", n, len(c.b)-c.i)
	}
	return int(n), nil
}

// each calls fn once for every item of an array or map (for a map, fn
// reads the key first): blocks of items until an empty one.
func (c *avroCursor) each(fn func() error) error {
	for {
		n, err := c.block()
		if err != nil || n == 0 {
			return err
		}
		for range n {
			if err := fn(); err != nil {
				return err
			}
		}
	}
}

// skip reads past one value of shape s.
func (c *avroCursor) skip(s *shape, depth int) error {
	if depth > maxAvroDepth {
		return c.fail("values nested more than %d levels", maxAvroDepth)
	}
	switch s.kind {
	case kNull:
		return nil
	case kBool:
		_, err := c.boolean()
		return err
	case kInt, kEnum:
		_, err := c.long()
		return err
	case kFloat:
		_, err := c.take(4)
		return err
	case kDouble:
		_, err := c.take(8)
		return err
	case kString, kBytes:
		if s.avro == avroFixed {
			_, err := c.take(s.fixedSize)
			return err
		}
		_, err := c.bytes()
		return err
	case kList, kMap:
		return c.each(func() error {
			if s.kind == kMap {
				if _, err := c.bytes(); err != nil {
					return err
				}
			}
			return c.skip(s.elem, depth+1)
		})
	case kRecord:
		for _, f := range s.fields {
			if err := c.skip(f.shape, depth+1); err != nil {
				return err
			}
		}
		return nil
	case kUnion:
		b, _, err := c.union(s)
		if err != nil {
			return err
		}
		return c.skip(b, depth+1)
	}
	return nil
}

// maxAvroDepth bounds the nesting of values read (recursive schemas).
const maxAvroDepth = 64

// avroReader reads Avro records into a Decoder.
type avroReader struct{ d *Decoder }

// read reads value by plan p into f. It returns only errors that make the
// value unreadable (ClassDecode); problems with one part are left in f.
func (r avroReader) read(value []byte, p *plan, f *fields) error {
	c := &avroCursor{b: value}
	if err := r.record(c, p.root, f); err != nil {
		return avroRecordError(err)
	}
	if c.i != len(c.b) {
		return avroRecordError(c.fail("%d bytes after the record", len(c.b)-c.i))
	}
	return nil
}

func avroRecordError(err error) error {
	if errors.Is(err, errAvro) {
		return NewRecordError(ClassDecode, StageDecode, "value is not valid Avro of its schema: %v", err)
	}
	return err
}

// record reads the fields of a record on the way to the roles.
func (r avroReader) record(c *avroCursor, rp *recordPlan, f *fields) error {
	d := r.d
	for i, sf := range rp.shape.fields {
		fp := &rp.fields[i]
		start := c.i
		var err error
		switch fp.role {
		case roleNone:
			err = c.skip(sf.shape, 0)
		case roleDescend:
			if fp.branch < 0 {
				err = r.record(c, fp.sub, f)
				break
			}
			var b *shape
			var n int
			if b, n, err = c.union(sf.shape); err == nil {
				if n == fp.branch {
					err = r.record(c, fp.sub, f)
				} else {
					err = c.skip(b, 0)
				}
			}
		case roleID:
			f.id, f.idErr = r.id(c, sf.shape)
			err = f.idErr
		case roleCollection:
			f.collection, f.colErr = r.collection(c, sf.shape)
			err = f.colErr
		case roleDelete:
			f.delete, f.delErr = r.boolean(c, sf.shape)
			err = f.delErr
		case roleVector:
			f.vectors, f.vecErr = r.vectors(c, fp.vec, d.cfg.VectorField)
			err = f.vecErr
		case rolePayload:
			f.payloadWire, f.payErr = r.payload(c, sf.shape)
			err = f.payErr
		}
		if err == nil {
			continue
		}
		if errors.Is(err, errAvro) {
			return err
		}
		// A problem with the part's content: read past the field and
		// carry on, so that the rest is checked too.
		c.i = start
		if err := c.skip(sf.shape, 0); err != nil {
			return err
		}
	}
	return nil
}

// nonNull reads the branch of a union s, or returns s; null is nil.
func nonNull(c *avroCursor, s *shape) (*shape, error) {
	if s.kind == kUnion {
		b, _, err := c.union(s)
		if err != nil {
			return nil, err
		}
		s = b
	}
	if s.kind == kNull {
		return nil, nil
	}
	return s, nil
}

func (r avroReader) id(c *avroCursor, s *shape) (*qdrant.PointId, error) {
	d := r.d
	s, err := nonNull(c, s)
	if s == nil || err != nil {
		return nil, err
	}
	switch s.kind {
	case kInt:
		v, err := c.long()
		if err != nil {
			return nil, err
		}
		return d.intID(v, d.cfg.IDField)
	case kString:
		b, err := c.bytes()
		if err != nil {
			return nil, err
		}
		return d.stringID(b, d.cfg.IDField)
	}
	b, err := r.rawBytes(c, s)
	if err != nil {
		return nil, err
	}
	return d.bytesID(b, d.cfg.IDField)
}

func (r avroReader) rawBytes(c *avroCursor, s *shape) ([]byte, error) {
	if s.avro == avroFixed {
		return c.take(s.fixedSize)
	}
	return c.bytes()
}

func (r avroReader) collection(c *avroCursor, s *shape) (string, error) {
	s, err := nonNull(c, s)
	if s == nil || err != nil {
		return "", err
	}
	b, err := c.bytes()
	if err != nil {
		return "", err
	}
	return r.d.collectionOf(b, r.d.cfg.CollectionField)
}

func (r avroReader) boolean(c *avroCursor, s *shape) (bool, error) {
	s, err := nonNull(c, s)
	if s == nil || err != nil {
		return false, err
	}
	return c.boolean()
}

// vectors reads the vectors of a point.
func (r avroReader) vectors(c *avroCursor, vp *vecPlan, field string) (*qdrant.Vectors, error) {
	d := r.d
	switch vp.kind {
	case vNull:
		return nil, nil
	case vUnion:
		_, n, err := c.union(vp.shape)
		if err != nil {
			return nil, err
		}
		return r.vectors(c, vp.branches[n], field)
	case vNamedMap, vNamedRecord:
		return r.named(c, vp, field)
	}
	v, err := r.vector(c, vp, vecLoc{field: field})
	if v == nil || err != nil {
		return nil, err
	}
	return d.slabs.unnamed(v), nil
}

// named reads named vectors: a map, or a record of vectors.
func (r avroReader) named(c *avroCursor, vp *vecPlan, field string) (*qdrant.Vectors, error) {
	d := r.d
	m := make(map[string]*qdrant.Vector, 2)
	add := func(name string, v *qdrant.Vector) {
		if v != nil {
			m[name] = v
		}
	}
	if vp.kind == vNamedMap {
		err := c.each(func() error {
			k, err := c.bytes()
			if err != nil {
				return err
			}
			if !utf8.Valid(k) {
				return NewRecordError(ClassValidate, StageValidate,
					"field %q: vector name %s is not valid UTF-8", field, quoteTrunc(k))
			}
			name := d.intern(k)
			v, err := r.vector(c, vp.elem, vecLoc{field: field, name: name, named: true})
			add(name, v)
			return err
		})
		if err != nil {
			return nil, err
		}
	} else {
		for i, f := range vp.shape.fields {
			v, err := r.vector(c, vp.fields[i], vecLoc{field: field, name: f.name, named: true})
			if err != nil {
				return nil, err
			}
			add(f.name, v)
		}
	}
	if len(m) == 0 {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q holds no named vector; want at least one", field)
	}
	return d.slabs.named(m), nil
}

// vector reads one vector: dense, multi or sparse (nil for null).
func (r avroReader) vector(c *avroCursor, vp *vecPlan, where vecLoc) (*qdrant.Vector, error) {
	d := r.d
	switch vp.kind {
	case vNull:
		return nil, nil
	case vUnion:
		_, n, err := c.union(vp.shape)
		if err != nil {
			return nil, err
		}
		return r.vector(c, vp.branches[n], where)
	case vDense:
		if v, ok, err := r.denseBlock(c, vp.shape.elem, where); ok {
			return v, err
		}
		d.floats = d.floats[:0]
		if err := r.floats(c, vp.shape.elem, where); err != nil {
			return nil, err
		}
		return d.denseOf(where)
	case vMulti:
		d.floats = d.floats[:0]
		row, dim := 0, 0
		err := c.each(func() error {
			before := len(d.floats)
			if err := r.floats(c, vp.row.shape.elem, where); err != nil {
				return err
			}
			k := len(d.floats) - before
			if row == 0 {
				dim = k
			}
			row++
			return checkRow(k, dim, row-1, where)
		})
		if err != nil {
			return nil, err
		}
		if row == 0 {
			return nil, NewRecordError(ClassValidate, StageValidate,
				"%s is an empty list; a vector needs at least one number", where)
		}
		return d.multiOf(dim, where)
	case vSparse:
		d.indices, d.floats = d.indices[:0], d.floats[:0]
		for i, f := range vp.shape.fields {
			var err error
			if i == vp.indices {
				err = r.indices(c, f.shape.elem, where)
			} else {
				err = r.floats(c, f.shape.elem, where)
			}
			if err != nil {
				return nil, err
			}
		}
		return d.sparseOf(where)
	}
	return nil, nil
}

// denseBlock reads a list of floats straight into its slab, the common
// case: it counts the items of every block first (they are 4 bytes each),
// then decodes them in one pass. ok is false (nothing read) for lists of
// doubles.
func (r avroReader) denseBlock(c *avroCursor, elem *shape, where vecLoc) (*qdrant.Vector, bool, error) {
	if elem.kind != kFloat {
		return nil, false, nil
	}
	start, total := c.i, 0
	for {
		n, err := c.block()
		if err != nil {
			return nil, true, err
		}
		if n == 0 {
			break
		}
		if _, err := c.take(4 * n); err != nil {
			return nil, true, err
		}
		total += n
	}
	end := c.i
	if total == 0 {
		return nil, true, checkFloats(nil, where)
	}
	dst := r.d.slabs.floatsN(total)
	var special uint32 // see protoReader.packedFloats
	c.i = start
	for k := 0; k < total; {
		n, _ := c.block()
		for j := range n {
			u := binary.LittleEndian.Uint32(c.b[c.i+4*j:])
			special |= u&0x7f800000 + 0x00800000
			dst[k+j] = math.Float32frombits(u)
		}
		c.i += 4 * n
		k += n
	}
	c.i = end
	if special&0x80000000 != 0 {
		return nil, true, checkFloats(dst, where)
	}
	return r.d.slabs.denseVector(dst), true, nil
}

// floats appends a list of float or double to d.floats.
func (r avroReader) floats(c *avroCursor, elem *shape, where vecLoc) error {
	d := r.d
	return c.each(func() error {
		if elem.kind == kFloat {
			x, err := c.float()
			d.floats = append(d.floats, x)
			return err
		}
		x, err := c.double()
		if err != nil {
			return err
		}
		f, err := float32Of(x, where, len(d.floats))
		d.floats = append(d.floats, f)
		return err
	})
}

// indices appends a list of sparse indices to d.indices.
func (r avroReader) indices(c *avroCursor, elem *shape, where vecLoc) error {
	d := r.d
	return c.each(func() error {
		v, err := c.long()
		if err != nil {
			return err
		}
		u, err := sparseIndex(v, false, where, len(d.indices))
		d.indices = append(d.indices, u)
		return err
	})
}

// payload reads the payload: a record or a map, or null.
func (r avroReader) payload(c *avroCursor, s *shape) ([]byte, error) {
	s, err := nonNull(c, s)
	if s == nil || err != nil {
		return nil, err
	}
	d := r.d
	d.startPayload()
	if s.kind == kMap {
		err = r.mapOf(c, s, 1, tagPayloadEntry)
	} else {
		err = r.structOf(c, s, 1, tagPayloadEntry)
	}
	if p, ok := err.(*payloadProblem); ok {
		return nil, p.recordError(d.cfg.PayloadField)
	}
	if err != nil {
		return nil, err
	}
	return d.takePayload(), nil
}

// structOf reads a record as the entries, under tag, of an object at
// level depth.
func (r avroReader) structOf(c *avroCursor, s *shape, depth int, tag byte) error {
	d := r.d
	for _, f := range s.fields {
		entry, value := openEntry(d, tag, f.name)
		if err := r.value(c, f.shape, depth); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, f.name)
			}
			return err
		}
		d.closeEntry(entry, value)
	}
	return nil
}

// mapOf reads a map as the entries, under tag, of an object at level
// depth.
func (r avroReader) mapOf(c *avroCursor, s *shape, depth int, tag byte) error {
	d := r.d
	return c.each(func() error {
		k, err := c.bytes()
		if err != nil {
			return err
		}
		if !utf8.Valid(k) {
			return payloadProblemf("map key %s is not valid UTF-8", quoteTrunc(k))
		}
		entry, value := openEntry(d, tag, k)
		if err := r.value(c, s.elem, depth); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, d.entryKey(entry))
			}
			return err
		}
		d.closeEntry(entry, value)
		return nil
	})
}

// value reads one value of shape s held by an object or list at level
// depth.
func (r avroReader) value(c *avroCursor, s *shape, depth int) error {
	d := r.d
	switch s.kind {
	case kNull:
		d.putNull()
		return nil
	case kBool:
		v, err := c.boolean()
		if err == nil {
			d.putBool(v)
		}
		return err
	case kInt:
		v, err := c.long()
		if err != nil {
			return err
		}
		return r.intValue(s, v)
	case kFloat:
		v, err := c.float()
		if err != nil {
			return err
		}
		return d.putDouble(float64(v))
	case kDouble:
		v, err := c.double()
		if err != nil {
			return err
		}
		return d.putDouble(v)
	case kString:
		b, err := c.bytes()
		if err != nil {
			return err
		}
		return d.putString(b)
	case kBytes:
		b, err := r.rawBytes(c, s)
		if err != nil {
			return err
		}
		if s.logical == logicalDecimal {
			putText(d, decimalText(b, s.scale))
			return nil
		}
		d.putBytes(b)
		return nil
	case kEnum:
		n, err := c.long()
		if err != nil {
			return err
		}
		if n < 0 || n >= int64(len(s.symbols)) {
			return c.fail("enum symbol %d of %d", n, len(s.symbols))
		}
		putText(d, s.symbols[n])
		return nil
	case kUnion:
		b, _, err := c.union(s)
		if err != nil {
			return err
		}
		return r.value(c, b, depth)
	}
	if depth >= MaxPayloadDepth {
		return deeper()
	}
	switch s.kind {
	case kRecord, kMap:
		at := d.openLen(tagStruct)
		var err error
		if s.kind == kRecord {
			err = r.structOf(c, s, depth+1, tagStructEntry)
		} else {
			err = r.mapOf(c, s, depth+1, tagStructEntry)
		}
		if err != nil {
			return err
		}
		d.closeLen(at)
		return nil
	}
	list := d.openLen(tagList)
	i := 0
	err := c.each(func() error {
		at := d.openElem()
		if err := r.value(c, s.elem, depth+1); err != nil {
			if p, ok := err.(*payloadProblem); ok {
				p.path = append(p.path, strconv.Itoa(i))
			}
			return err
		}
		d.closeElem(at)
		i++
		return nil
	})
	if err != nil {
		return err
	}
	d.closeLen(list)
	return nil
}

// intValue puts an int or long, with its logical type's meaning.
func (r avroReader) intValue(s *shape, v int64) error {
	d := r.d
	var t time.Time
	switch s.logical {
	case logicalTimestampMillis, logicalLocalTimestampMillis:
		t = time.UnixMilli(v)
	case logicalTimestampMicros, logicalLocalTimestampMicros:
		t = time.UnixMicro(v)
	case logicalDate:
		if v < -3652059 || v > 2932896 { // years 0001 to 9999
			return payloadProblemf("date %d days from 1970-01-01 is out of range", v)
		}
		d.putTime(time.Unix(v*86400, 0), time.DateOnly)
		return nil
	default:
		d.putInt(v)
		return nil
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return payloadProblemf("timestamp %d is out of range", v)
	}
	if s.logical == logicalLocalTimestampMillis || s.logical == logicalLocalTimestampMicros {
		d.putTime(t, "2006-01-02T15:04:05.999999999")
		return nil
	}
	d.putTime(t, time.RFC3339Nano)
	return nil
}

// decimalText is an Avro decimal (a big-endian two's-complement unscaled
// integer) as decimal text.
func decimalText(b []byte, scale int) string {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	s := n.String()
	if scale <= 0 {
		return s
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	for len(s) <= scale {
		s = "0" + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	if neg {
		s = "-" + s
	}
	return s
}
