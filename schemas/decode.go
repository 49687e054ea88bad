package schemas

import (
	"fmt"

	"github.com/qdrant/go-client/qdrant"
)

// Default JSON field names of the record value (DESIGN.md, record format
// version 1).
const (
	DefaultIDField         = "id"
	DefaultVectorField     = "vector"
	DefaultPayloadField    = "payload"
	DefaultCollectionField = "collection_name"
)

// DecoderConfig configures a Decoder. The zero value decodes the standard
// format with collection_name ignored and no size limit.
type DecoderConfig struct {
	// IDField, VectorField, PayloadField and CollectionField are the
	// names of the value's fields; empty means "id", "vector", "payload"
	// and "collection_name". They should be distinct (see Validate); if
	// two are equal, the first role in that order wins.
	IDField, VectorField, PayloadField, CollectionField string
	// AllowCollectionOverride makes CollectionField route the record.
	// When false the field is ignored entirely: it is neither checked nor
	// returned, so records with a bad collection_name are still written
	// to the configured collection.
	AllowCollectionOverride bool
	// MaxBytes bounds len(key)+len(value) of a record; larger records
	// fail with ClassOversize before any parsing. 0 means no limit.
	MaxBytes int
}

// Validate reports a configuration the decoder cannot honour: two roles
// sharing one field name, or a negative MaxBytes.
func (c DecoderConfig) Validate() error {
	c = c.withDefaults()
	names := [...]struct{ role, name string }{
		{"id", c.IDField}, {"vector", c.VectorField},
		{"payload", c.PayloadField}, {"collection", c.CollectionField},
	}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[i].name == names[j].name {
				return fmt.Errorf("the %s and %s fields are both named %q",
					names[i].role, names[j].role, names[i].name)
			}
		}
	}
	if c.MaxBytes < 0 {
		return fmt.Errorf("max bytes is negative (%d)", c.MaxBytes)
	}
	return nil
}

func (c DecoderConfig) withDefaults() DecoderConfig {
	if c.IDField == "" {
		c.IDField = DefaultIDField
	}
	if c.VectorField == "" {
		c.VectorField = DefaultVectorField
	}
	if c.PayloadField == "" {
		c.PayloadField = DefaultPayloadField
	}
	if c.CollectionField == "" {
		c.CollectionField = DefaultCollectionField
	}
	return c
}

// Decoder turns Kafka records into Records. It reuses its scanner and
// scratch buffers between calls, so it is not safe for concurrent use: make
// one per goroutine. Records it returns never alias the key, the value or
// the decoder's scratch buffers, and stay valid after later calls.
type Decoder struct {
	cfg   DecoderConfig
	sc    scanner
	slabs slabs
	// floats and indices collect the vector being read before it is
	// copied to its own memory; sorted is scratch for duplicate checks.
	floats  []float32
	indices []uint32
	sorted  []uint32
	// names interns vector names, payload keys and collection names,
	// which repeat from record to record.
	names map[string]string
}

// NewDecoder returns a Decoder for cfg (empty field names take their
// defaults). It does not validate cfg; see DecoderConfig.Validate.
func NewDecoder(cfg DecoderConfig) *Decoder {
	return &Decoder{
		cfg:   cfg.withDefaults(),
		names: make(map[string]string),
	}
}

// maxInterned bounds the names a Decoder keeps, and the length of each,
// so that records with ever-new keys cannot grow it without bound.
const (
	maxInterned    = 1024
	maxInternedLen = 48
)

// maxScratch bounds the scratch a Decoder keeps between records, so that
// one huge record does not pin its buffers for the Decoder's lifetime.
const maxScratch = 1 << 16

func (d *Decoder) trimScratch() {
	if cap(d.floats) > maxScratch {
		d.floats = nil
	}
	if cap(d.indices) > maxScratch {
		d.indices = nil
	}
	if cap(d.sorted) > maxScratch {
		d.sorted = nil
	}
	if cap(d.sc.unescaped) > maxScratch {
		d.sc.unescaped = nil
	}
	d.sc.data = nil
}

// intern returns b as a string, sharing one copy between records.
func (d *Decoder) intern(b []byte) string {
	if s, ok := d.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(s) <= maxInternedLen && len(d.names) < maxInterned {
		d.names[s] = s
	}
	return s
}

// Decode turns one Kafka record into a Record.
//
// A nil value is a tombstone: OpDelete of the point whose id PointID derives
// from the key. Any other value must be one JSON object in the format of
// record.v1.schema.json; it becomes an OpUpsert. The id is the value's id
// field or, when that is absent or null, the record key. For every field,
// null is the same as absent; when a field occurs more than once, the last
// occurrence wins and earlier ones only have to be valid JSON. Fields other
// than the four configured ones are ignored.
//
// Every error is a *RecordError with Class and Stage set; its message names
// the field. Oversize records fail first, then invalid JSON (including
// invalid UTF-8), then the first problem in the order id, vector, payload,
// collection_name, then a missing id or vector.
func (d *Decoder) Decode(key, value []byte) (Record, error) {
	if d.cfg.MaxBytes > 0 && len(key)+len(value) > d.cfg.MaxBytes {
		return Record{}, NewRecordError(ClassOversize, StageDecode,
			"record is %d bytes (key and value), over the limit of %d bytes",
			len(key)+len(value), d.cfg.MaxBytes)
	}
	if value == nil {
		return d.tombstone(key)
	}
	var f fields
	err := d.readRecord(value, &f)
	d.trimScratch()
	if err != nil {
		return Record{}, err
	}
	for _, err := range [...]error{f.idErr, f.vecErr, f.payErr, f.colErr} {
		if err != nil {
			return Record{}, err
		}
	}
	if f.id == nil {
		if len(key) == 0 {
			return Record{}, NewRecordError(ClassValidate, StageValidate,
				"no field %q in the value and the record has no key to use as the id", d.cfg.IDField)
		}
		id, err := d.keyID(key)
		if err != nil {
			return Record{}, err
		}
		f.id = id
	}
	if f.vectors == nil {
		return Record{}, NewRecordError(ClassValidate, StageValidate,
			"missing field %q: a point needs a vector", d.cfg.VectorField)
	}
	return Record{
		Op:         OpUpsert,
		ID:         f.id,
		Collection: f.collection,
		Vectors:    f.vectors,
		Payload:    f.payload,
	}, nil
}

func (d *Decoder) tombstone(key []byte) (Record, error) {
	if len(key) == 0 {
		return Record{}, NewRecordError(ClassDecode, StageDecode,
			"tombstone (null value) without a key: no point id to delete")
	}
	id, err := d.keyID(key)
	if err != nil {
		return Record{}, err
	}
	return Record{Op: OpDelete, ID: id}, nil
}

// keyID derives the point id from the record key.
func (d *Decoder) keyID(key []byte) (*qdrant.PointId, error) {
	if err := validateID(key); err != nil {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"record key %s, used as the point id, %v", quoteTrunc(key), err)
	}
	return textID(&d.slabs, key), nil
}

// fields are the outcome of the value's known fields: each is either a
// result (nil when absent or null) or an error about its last occurrence.
type fields struct {
	id         *qdrant.PointId
	vectors    *qdrant.Vectors
	payload    map[string]*qdrant.Value
	collection string
	idErr      error
	vecErr     error
	payErr     error
	colErr     error
}

// readRecord scans the whole value. It returns only fatal errors (invalid
// JSON, a value that is not an object); problems with one field are left
// in f so that the rest of the value is still checked.
func (d *Decoder) readRecord(value []byte, f *fields) error {
	s := &d.sc
	s.reset(value)
	if s.peek() != '{' {
		kind := s.kindAt()
		if err := s.skipValue(1); err != nil {
			return syntaxRecordError(err)
		}
		if !s.eof() {
			return syntaxRecordError(s.errorf("data after the JSON value"))
		}
		return NewRecordError(ClassDecode, StageDecode,
			"value is %s, want a JSON object", kind)
	}
	more, err := s.openObject()
	for err == nil && more {
		var k []byte
		if k, err = s.readKey(); err != nil {
			break
		}
		s.skipWS()
		start := s.pos
		var ferr error
		switch string(k) {
		case d.cfg.IDField:
			f.id, ferr = d.readID()
			f.idErr = ferr
		case d.cfg.VectorField:
			f.vectors, ferr = d.readVectors()
			f.vecErr = ferr
		case d.cfg.PayloadField:
			f.payload, ferr = d.readPayload()
			f.payErr = ferr
		case d.cfg.CollectionField:
			if d.cfg.AllowCollectionOverride {
				f.collection, ferr = d.readCollection()
				f.colErr = ferr
				break
			}
			fallthrough
		default:
			ferr = s.skipValue(1)
		}
		if ferr != nil {
			if _, ok := ferr.(*syntaxError); ok {
				err = ferr
				break
			}
			// A problem with the field's content: check the rest of
			// its syntax and carry on.
			s.pos = start
			if err = s.skipValue(1); err != nil {
				break
			}
		}
		more, err = s.next('}')
	}
	if err == nil && !s.eof() {
		err = s.errorf("data after the JSON object")
	}
	if err != nil {
		return syntaxRecordError(err)
	}
	return nil
}

func syntaxRecordError(err error) *RecordError {
	return &RecordError{Class: ClassDecode, Stage: StageDecode, Err: err}
}

// readID reads the id field: an unsigned integer, a string or null.
func (d *Decoder) readID() (*qdrant.PointId, error) {
	s := &d.sc
	switch c := s.peek(); {
	case c == '"':
		str, err := s.readString()
		if err != nil {
			return nil, err
		}
		if err := validateID(str); err != nil {
			return nil, NewRecordError(ClassValidate, StageValidate,
				"field %q: string id %s %v", d.cfg.IDField, quoteTrunc(str), err)
		}
		return textID(&d.slabs, str), nil
	case c == 'n':
		return nil, s.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		n, err := s.readNumber()
		if err != nil {
			return nil, err
		}
		if u, ok := n.uint64(); ok {
			return d.slabs.numID(u), nil
		}
		var why string
		switch {
		case n.neg:
			why = "is negative"
		case !n.isInt:
			why = "is not written as an integer (no fraction or exponent allowed)"
		default:
			why = "is above the uint64 maximum"
		}
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q: %s %s; want an unsigned integer or a string", d.cfg.IDField, trunc(n.text), why)
	default:
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q is %s; want an unsigned integer or a string", d.cfg.IDField, s.kindAt())
	}
}

// maxCollectionBytes is Qdrant's limit on collection names.
const maxCollectionBytes = 255

// readCollection reads the collection field: a non-empty string or null.
func (d *Decoder) readCollection() (string, error) {
	s := &d.sc
	switch s.peek() {
	case '"':
		str, err := s.readString()
		if err != nil {
			return "", err
		}
		if err := validateText(str, maxCollectionBytes); err != nil {
			return "", NewRecordError(ClassValidate, StageValidate,
				"field %q: collection name %s %v", d.cfg.CollectionField, quoteTrunc(str), err)
		}
		return d.intern(str), nil
	case 'n':
		return "", s.literal("null")
	}
	return "", NewRecordError(ClassValidate, StageValidate,
		"field %q is %s; want a non-empty string", d.cfg.CollectionField, s.kindAt())
}

// maxQuoted bounds how much of a bad input an error message repeats.
const maxQuoted = 64

// quoteTrunc quotes b for a message, cut to maxQuoted bytes.
func quoteTrunc(b []byte) string {
	if len(b) > maxQuoted {
		return fmt.Sprintf("%q… (%d bytes)", b[:maxQuoted], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// trunc returns b as text for a message, cut to maxQuoted bytes.
func trunc(b []byte) string {
	if len(b) > maxQuoted {
		return fmt.Sprintf("%s… (%d bytes)", b[:maxQuoted], len(b))
	}
	return string(b)
}
