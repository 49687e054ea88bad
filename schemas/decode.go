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
	DefaultDeleteField     = "delete"
)

// KeyIDRule says how the record key relates to the point id
// (record.key_id). Tombstones (null values) always delete the point of
// their key; the rule decides what upserts and delete records use.
type KeyIDRule uint8

const (
	// KeyIDFallback: the value's id field is the point id; the key is the
	// id only when the value has none. A key that names another point than
	// the value's id goes unnoticed, and a tombstone of that key deletes
	// the key's point, not the value's.
	KeyIDFallback KeyIDRule = iota
	// KeyIDKey: the key is always the point id; the value's id field is
	// ignored (neither read nor checked). Records without a key are
	// rejected.
	KeyIDKey
	// KeyIDStrict: the key is the point id and a value id, when present,
	// must name the same point (PointID of both); a record whose value id
	// disagrees with its key, or that has no key, is rejected. Upserts,
	// delete records and tombstones then always agree on the point.
	KeyIDStrict
)

// keyIDNames are the configuration names of the rules, by rule.
var keyIDNames = [...]string{KeyIDFallback: "fallback", KeyIDKey: "key", KeyIDStrict: "strict"}

// KeyIDRules lists the configuration names of the rules.
func KeyIDRules() []string { return keyIDNames[:] }

func (r KeyIDRule) String() string {
	if int(r) < len(keyIDNames) {
		return keyIDNames[r]
	}
	return fmt.Sprintf("KeyIDRule(%d)", r)
}

// ParseKeyIDRule returns the rule of a configuration name; "" is
// KeyIDFallback.
func ParseKeyIDRule(s string) (KeyIDRule, error) {
	if s == "" {
		return KeyIDFallback, nil
	}
	for r, name := range keyIDNames {
		if s == name {
			return KeyIDRule(r), nil
		}
	}
	return 0, fmt.Errorf("unknown key id rule %q: want one of fallback, key, strict", s)
}

// DecoderConfig configures a Decoder. The zero value decodes the standard
// format with collection_name ignored and no size limit.
type DecoderConfig struct {
	// IDField, VectorField, PayloadField, CollectionField and DeleteField
	// are the names of the value's fields; empty means "id", "vector",
	// "payload", "collection_name" and "delete". They should be distinct
	// (see Validate); if two are equal, the first role in that order wins.
	IDField, VectorField, PayloadField, CollectionField, DeleteField string
	// KeyID is how the record key relates to the point id.
	KeyID KeyIDRule
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
		{"delete", c.DeleteField},
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
	if int(c.KeyID) >= len(keyIDNames) {
		return fmt.Errorf("unknown key id rule %d", c.KeyID)
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
	if c.DeleteField == "" {
		c.DeleteField = DefaultDeleteField
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
	// wire is scratch for a payload's wire form (payload.go).
	wire []byte
	// names interns vector names and collection names, which repeat
	// from record to record.
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
	if cap(d.wire) > maxScratch {
		d.wire = nil
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
	} else {
		d.slabs.held += len(s) // this record's own copy
	}
	return s
}

// Decode turns one Kafka record into a Record.
//
// A nil value is a tombstone: OpDelete of the point whose id PointID derives
// from the key. Any other value must be one JSON object in the format of
// record.v1.schema.json. It is an OpDelete when its delete field is true (a
// delete record: vector and payload are then ignored, and its
// collection_name routes the delete), an OpUpsert otherwise. Its point id
// follows DecoderConfig.KeyID: under KeyIDFallback the value's id field or,
// when that is absent or null, the record key; under KeyIDKey the key;
// under KeyIDStrict the key, which a value id must agree with. For every
// field, null is the same as absent; when a field occurs more than once,
// the last occurrence wins and earlier ones only have to be valid JSON.
// Fields other than the configured ones are ignored.
//
// Every error is a *RecordError with Class and Stage set; its message names
// the field. Oversize records fail first, then invalid JSON (including
// invalid UTF-8), then the first problem in the order id, vector, payload,
// collection_name, delete (vector and payload are not checked on a delete
// record), then a missing id (or key), a value id that disagrees with the
// key, then a missing vector.
func (d *Decoder) Decode(key, value []byte) (Record, error) {
	if rec, done, err := d.begin(key, value); done {
		return rec, err
	}
	var f fields
	err := d.readRecord(value, &f)
	d.trimScratch()
	if err != nil {
		return Record{}, err
	}
	return d.finish(key, &f)
}

// begin applies the rules every format shares before reading a value:
// oversize records fail, and a nil value is a tombstone. done says the
// record is decided.
func (d *Decoder) begin(key, value []byte) (rec Record, done bool, err error) {
	if d.cfg.MaxBytes > 0 && len(key)+len(value) > d.cfg.MaxBytes {
		return Record{}, true, NewRecordError(ClassOversize, StageDecode,
			"record is %d bytes (key and value), over the limit of %d bytes",
			len(key)+len(value), d.cfg.MaxBytes)
	}
	d.slabs.held = 0
	if value == nil {
		rec, err = d.tombstone(key)
		return rec, true, err
	}
	return Record{}, false, nil
}

// finish turns the fields read from a value into a Record, by the rules
// every format shares: a delete record ignores its vector and payload, the
// first problem is reported in the order id, vector, payload, collection,
// delete, then the point id follows record.key_id, and an upsert needs a
// vector.
func (d *Decoder) finish(key []byte, f *fields) (Record, error) {
	if f.delete {
		f.vecErr, f.payErr, f.vectors, f.payloadWire = nil, nil, nil, nil
	}
	for _, err := range [...]error{f.idErr, f.vecErr, f.payErr, f.colErr, f.delErr} {
		if err != nil {
			return Record{}, err
		}
	}
	id, err := d.pointID(key, f.id)
	if err != nil {
		return Record{}, err
	}
	if f.delete {
		return Record{Op: OpDelete, ID: id, Collection: f.collection, MemBytes: d.slabs.held}, nil
	}
	if f.vectors == nil {
		return Record{}, NewRecordError(ClassValidate, StageValidate,
			"missing field %q: a point needs a vector", d.cfg.VectorField)
	}
	return Record{
		Op:         OpUpsert,
		ID:         id,
		Collection: f.collection,
		Vectors:    f.vectors,
		Payload:    f.payloadWire,
		MemBytes:   d.slabs.held,
	}, nil
}

// pointID applies the key id rule to the record key and the value's id
// (nil when absent, and always nil under KeyIDKey, which does not read it).
func (d *Decoder) pointID(key []byte, valueID *qdrant.PointId) (*qdrant.PointId, error) {
	if d.cfg.KeyID == KeyIDFallback && valueID != nil {
		return valueID, nil
	}
	if len(key) == 0 {
		if d.cfg.KeyID == KeyIDFallback {
			return nil, NewRecordError(ClassValidate, StageValidate,
				"no field %q in the value and the record has no key to use as the id", d.cfg.IDField)
		}
		return nil, NewRecordError(ClassValidate, StageValidate,
			"the record has no key, and record.key_id is %s: the key is the point id", d.cfg.KeyID)
	}
	id, err := d.keyID(key)
	if err != nil {
		return nil, err
	}
	if valueID != nil && IDKeyOf(valueID) != IDKeyOf(id) {
		return nil, NewRecordError(ClassValidate, StageValidate,
			"field %q: the value's id %s disagrees with the record key %s (point %s); record.key_id is strict",
			d.cfg.IDField, IDKeyOf(valueID), quoteTrunc(key), IDKeyOf(id))
	}
	return id, nil
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
	return Record{Op: OpDelete, ID: id, MemBytes: d.slabs.held}, nil
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
	id          *qdrant.PointId
	vectors     *qdrant.Vectors
	payloadWire []byte
	collection  string
	delete      bool
	idErr       error
	vecErr      error
	payErr      error
	colErr      error
	delErr      error
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
			if d.cfg.KeyID == KeyIDKey {
				ferr = s.skipValue(1) // not read: the key is the id
				break
			}
			f.id, ferr = d.readID()
			f.idErr = ferr
		case d.cfg.VectorField:
			f.vectors, ferr = d.readVectors()
			f.vecErr = ferr
		case d.cfg.PayloadField:
			f.payloadWire, ferr = d.readPayload()
			f.payErr = ferr
		case d.cfg.CollectionField:
			if d.cfg.AllowCollectionOverride {
				f.collection, ferr = d.readCollection()
				f.colErr = ferr
				break
			}
			ferr = s.skipValue(1)
		case d.cfg.DeleteField:
			f.delete, ferr = d.readDelete()
			f.delErr = ferr
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

// readDelete reads the delete field: true, false or null (false).
func (d *Decoder) readDelete() (bool, error) {
	s := &d.sc
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return false, s.literal("null")
	}
	return false, NewRecordError(ClassValidate, StageValidate,
		"field %q is %s; want true (delete the point), false or null", d.cfg.DeleteField, s.kindAt())
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
