package schemas

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Schema types of a Schema Registry (its schemaType).
const (
	SchemaAvro     = "AVRO"
	SchemaProtobuf = "PROTOBUF"
	SchemaJSON     = "JSON"
)

// RegisteredSchema is a schema of a Schema Registry with the schemas it
// references.
type RegisteredSchema struct {
	// Type is SchemaAvro, SchemaProtobuf or SchemaJSON.
	Type string
	// Schema is the schema's text: Avro JSON, a .proto file, a JSON
	// Schema.
	Schema string
	// References are the schemas it refers to, each with its own: for
	// Protobuf the files it imports (Name is the import path), for Avro
	// the named types it uses (parsed first, in order).
	References []Reference
}

// Reference is a schema referred to by name.
type Reference struct {
	Name   string
	Schema RegisteredSchema
}

// SchemaSource finds the schemas of a Schema Registry by id;
// schemas/registry implements it over the registry's REST API.
type SchemaSource interface {
	// SchemaByID returns the schema registered under id, references
	// resolved. Its error wraps ErrSchemaNotFound when the registry does
	// not know id (the record goes to the DLQ); any other error means the
	// registry could not be asked (the record is retried).
	SchemaByID(ctx context.Context, id int) (RegisteredSchema, error)
}

// ErrSchemaNotFound is a schema (an id, or a reference of a schema) the
// Schema Registry does not know.
var ErrSchemaNotFound = errors.New("not found in the schema registry")

// unknownTTL is how long an unknown schema id is remembered before the
// registry is asked again, and unknownMax how many are.
const (
	unknownTTL = time.Minute
	unknownMax = 1024
)

// SchemaCache fetches the schemas a topic's records name from a
// SchemaSource and compiles each once for the record rules. It is safe for
// concurrent use: the decoders of every partition share one. Schemas (and
// schemas that break the rules) are kept for good, since a registry never
// changes what an id means; unknown ids for unknownTTL; a registry that
// cannot be asked is asked again on the next record.
type SchemaCache struct {
	src SchemaSource
	cfg DecoderConfig

	mu      sync.Mutex
	entries map[int]*schemaEntry
	unknown int // entries of unknown ids
}

type schemaEntry struct {
	done   chan struct{} // closed once schema, err and failed are set
	schema *compiledSchema
	err    error // a *RecordError (ClassSchema), kept
	// failed: the registry could not be asked for the fetching caller;
	// the entry was dropped and waiters ask again.
	failed bool
	// expires, when set, is when an unknown id is asked again (under
	// SchemaCache.mu).
	expires time.Time
}

// NewSchemaCache returns a cache of src's schemas compiled for cfg.
func NewSchemaCache(src SchemaSource, cfg DecoderConfig) *SchemaCache {
	return &SchemaCache{src: src, cfg: cfg.withDefaults(), entries: make(map[int]*schemaEntry)}
}

// compiledSchema is a registered schema ready to read values of.
type compiledSchema struct {
	id  int
	typ string
	// avro is the plan of an Avro schema.
	avro *plan
	// Protobuf: the file, and a plan per message, compiled on first use.
	file   protoreflect.FileDescriptor
	shapes *protoShapes
	mu     sync.Mutex
	plans  map[string]protoPlan
	top    []*protoPlan // plans of top-level messages, by index
}

type protoPlan struct {
	p   *plan
	v1  bool // a record.v1 Record: read with its own field names
	err error
}

// get returns the compiled schema id, fetching it on first use; callers
// of an id being fetched wait for that fetch. Errors: a *RecordError
// (ClassSchema), an *UnavailableError, or ctx's error.
func (c *SchemaCache) get(ctx context.Context, id int) (*compiledSchema, error) {
	for {
		c.mu.Lock()
		e, ok := c.entries[id]
		if ok && !e.expires.IsZero() && time.Now().After(e.expires) {
			delete(c.entries, id)
			c.unknown--
			ok = false
		}
		if !ok {
			e = &schemaEntry{done: make(chan struct{})}
			c.entries[id] = e
			c.mu.Unlock()
			return c.fetch(ctx, id, e)
		}
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !e.failed {
			return e.schema, e.err
		}
	}
}

// fetch asks the source for id and fills e. When the registry cannot be
// asked, e is dropped so that the next record asks again.
func (c *SchemaCache) fetch(ctx context.Context, id int, e *schemaEntry) (*compiledSchema, error) {
	rs, err := c.src.SchemaByID(ctx, id)
	var failure error
	switch {
	case errors.Is(err, ErrSchemaNotFound):
		e.err = NewRecordError(ClassSchema, StageDecode, "schema id %d: %v", id, err)
	case err != nil:
		failure = err
		if ctx.Err() == nil {
			failure = &UnavailableError{Err: fmt.Errorf("fetching schema id %d: %w", id, err)}
		}
		e.failed = true
	default:
		e.schema, err = compileRegistered(id, rs, c.cfg)
		if err != nil {
			e.err = NewRecordError(ClassSchema, StageDecode, "schema id %d (%s): %v", id, rs.Type, err)
		}
	}
	c.mu.Lock()
	switch {
	case e.failed:
		delete(c.entries, id)
	case errors.Is(err, ErrSchemaNotFound):
		e.expires = time.Now().Add(unknownTTL)
		c.unknown++
		if c.unknown > unknownMax {
			for k, o := range c.entries {
				if !o.expires.IsZero() && k != id {
					delete(c.entries, k)
					c.unknown--
				}
			}
		}
	}
	c.mu.Unlock()
	close(e.done)
	if e.failed {
		return nil, failure
	}
	return e.schema, e.err
}

// compileRegistered parses a registered schema and, for Avro, compiles its
// plan.
func compileRegistered(id int, rs RegisteredSchema, cfg DecoderConfig) (*compiledSchema, error) {
	s := &compiledSchema{id: id, typ: rs.Type}
	switch rs.Type {
	case SchemaAvro, "":
		s.typ = SchemaAvro
		as, err := parseAvro(rs)
		if err != nil {
			return nil, err
		}
		if s.avro, err = compilePlan(avroShape(as), pathsOf(cfg)); err != nil {
			return nil, err
		}
	case SchemaProtobuf:
		fd, err := parseProto(id, rs)
		if err != nil {
			return nil, err
		}
		s.file, s.shapes, s.plans = fd, newProtoShapes(), make(map[string]protoPlan)
	case SchemaJSON:
	default:
		return nil, fmt.Errorf("unknown schema type %q", rs.Type)
	}
	return s, nil
}

// parseAvro parses an Avro schema after the named types it references.
func parseAvro(rs RegisteredSchema) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	var refs func(rs RegisteredSchema, depth int) error
	refs = func(rs RegisteredSchema, depth int) error {
		if depth > 32 {
			return errors.New("references nest more than 32 levels")
		}
		for _, r := range rs.References {
			if err := refs(r.Schema, depth+1); err != nil {
				return err
			}
			if _, err := avro.ParseWithCache(r.Schema.Schema, "", cache); err != nil {
				return fmt.Errorf("referenced schema %q: %w", r.Name, err)
			}
		}
		return nil
	}
	if err := refs(rs, 0); err != nil {
		return nil, err
	}
	return avro.ParseWithCache(rs.Schema, "", cache)
}

// parseProto compiles a .proto file with the files it imports.
func parseProto(id int, rs RegisteredSchema) (protoreflect.FileDescriptor, error) {
	files := make(map[string]string)
	var add func(rs RegisteredSchema, depth int) error
	add = func(rs RegisteredSchema, depth int) error {
		if depth > 32 {
			return errors.New("references nest more than 32 levels")
		}
		for _, r := range rs.References {
			if _, ok := files[r.Name]; ok {
				continue
			}
			files[r.Name] = r.Schema.Schema
			if err := add(r.Schema, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(rs, 0); err != nil {
		return nil, err
	}
	main := fmt.Sprintf("kafka-qdrant/registry/schema-%d.proto", id)
	files[main] = rs.Schema
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
			text, ok := files[path]
			if !ok {
				return protocompile.SearchResult{}, fmt.Errorf("%s: not a reference of the schema: %w", path, protoregistry.NotFound)
			}
			if fd, ok := serializedProto(text); ok {
				fd.Name = proto.String(path)
				return protocompile.SearchResult{Proto: fd}, nil
			}
			return protocompile.SearchResult{Source: strings.NewReader(text)}, nil
		})),
		MaxParallelism: 1,
	}
	out, err := c.Compile(context.Background(), main)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// serializedProto reads a Protobuf schema registered as a base64
// FileDescriptorProto, as Confluent's serializers for Python and others
// register it (a .proto text is never valid base64).
func serializedProto(s string) (*descriptorpb.FileDescriptorProto, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) == 0 {
		return nil, false
	}
	var fd descriptorpb.FileDescriptorProto
	if proto.Unmarshal(b, &fd) != nil {
		return nil, false
	}
	// JSON names play no part here, but some serializers leave them
	// empty, which the compiler takes for clashing custom names: give
	// those their default (protoc's lowerCamelCase).
	var fix func([]*descriptorpb.DescriptorProto)
	fix = func(ms []*descriptorpb.DescriptorProto) {
		for _, m := range ms {
			for _, f := range m.Field {
				if f.GetJsonName() == "" {
					f.JsonName = proto.String(defaultJSONName(f.GetName()))
				}
			}
			fix(m.NestedType)
		}
	}
	fix(fd.MessageType)
	return &fd, true
}

// defaultJSONName is protoc's JSON name of a field: underscores dropped,
// the letter after each upper-cased.
func defaultJSONName(name string) string {
	var b strings.Builder
	up := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			up = true
		case up && 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
			up = false
		default:
			b.WriteByte(c)
			up = false
		}
	}
	return b.String()
}

// message returns the plan of the message at index path idx of a Protobuf
// schema (the Schema Registry's message indexes).
func (s *compiledSchema) message(idx []int, cfg DecoderConfig) (protoPlan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(idx) == 1 && idx[0] >= 0 && idx[0] < len(s.top) && s.top[idx[0]] != nil {
		p := s.top[idx[0]] // a top-level message: the common case
		return *p, p.err
	}
	key := fmt.Sprint(idx)
	if p, ok := s.plans[key]; ok {
		return p, p.err
	}
	p := s.compileMessage(idx, cfg)
	s.plans[key] = p
	if len(idx) == 1 && idx[0] >= 0 && idx[0] < s.file.Messages().Len() {
		if s.top == nil {
			s.top = make([]*protoPlan, s.file.Messages().Len())
		}
		s.top[idx[0]] = &p
	}
	return p, p.err
}

func (s *compiledSchema) compileMessage(idx []int, cfg DecoderConfig) protoPlan {
	msgs := s.file.Messages()
	var md protoreflect.MessageDescriptor
	for i, x := range idx {
		if x < 0 || x >= msgs.Len() {
			return protoPlan{err: NewRecordError(ClassSchema, StageDecode,
				"schema id %d has no message at index %v (level %d has %d messages)", s.id, idx, i, msgs.Len())}
		}
		md = msgs.Get(x)
		msgs = md.Messages()
	}
	paths, v1 := pathsOf(cfg), md.FullName() == recordV1Name
	if v1 {
		paths = pathsOf(recordV1Names(cfg))
	}
	p, err := compilePlan(s.shapes.message(md), paths)
	if err != nil {
		return protoPlan{err: NewRecordError(ClassSchema, StageDecode,
			"schema id %d (PROTOBUF), message %s: %v", s.id, md.FullName(), err)}
	}
	return protoPlan{p: p, v1: v1}
}

// recordV1Name is the full name of record.v1's Record.
const recordV1Name = "kafka_qdrant.record.v1.Record"

// header parses the Schema Registry wire format.
var header sr.ConfluentHeader

// decodeRegistry decodes a value in the Schema Registry wire format.
func (fd *FormatDecoder) decodeRegistry(ctx context.Context, key, value []byte) (Record, error) {
	d := fd.d
	if rec, done, err := d.begin(key, value); done {
		return rec, err
	}
	id, rest, err := header.DecodeID(value)
	if err != nil {
		return Record{}, NewRecordError(ClassDecode, StageDecode,
			"value is not in the Schema Registry wire format (byte 0, then a 4-byte schema id): it starts with %s",
			quoteTrunc(value[:min(len(value), 5)]))
	}
	// The records of a partition name one schema, nearly always: keep
	// the last one here, so the shared cache's lock is not taken per
	// record.
	s := fd.last.schema
	if s == nil || s.id != id {
		if s, err = fd.cache.get(ctx, id); err != nil {
			return Record{}, err
		}
		fd.last.schema, fd.last.index, fd.last.plan = s, -1, protoPlan{}
	}
	switch s.typ {
	case SchemaAvro:
		var f fields
		err := avroReader{d}.read(rest, s.avro, &f)
		d.trimScratch()
		if err != nil {
			return Record{}, err
		}
		return d.finish(key, &f)
	case SchemaProtobuf:
		var buf [maxMessageIndexes]int
		idx, rest, err := messageIndexes(rest, buf[:0])
		if err != nil {
			return Record{}, NewRecordError(ClassDecode, StageDecode,
				"value of Protobuf schema id %d has no valid message indexes after the schema id: %v", id, err)
		}
		var p protoPlan
		if len(idx) == 1 && idx[0] == fd.last.index {
			p = fd.last.plan
		} else if p, err = s.message(idx, fd.cache.cfg); err != nil {
			return Record{}, err
		} else if len(idx) == 1 {
			fd.last.index, fd.last.plan = idx[0], p
		}
		if p.v1 {
			v1, r, _ := fd.recordV1()
			return decodeProto(v1, r, p.p, key, rest)
		}
		return decodeProto(d, &fd.pb, p.p, key, rest)
	}
	if len(rest) > 0 && rest[0] == 0 {
		return Record{}, NewRecordError(ClassDecode, StageDecode, "value of JSON schema id %d is not JSON", id)
	}
	return d.Decode(key, rest)
}

// maxMessageIndexes bounds the message index path of a Protobuf value.
const maxMessageIndexes = 16

// messageIndexes reads the message indexes of a Protobuf value into dst:
// a zigzag varint count, then that many zigzag varint indexes; a count of
// 0 stands for [0] (sr.ConfluentHeader.DecodeIndex, without allocating).
func messageIndexes(b []byte, dst []int) ([]int, []byte, error) {
	n, k := binary.Varint(b)
	switch {
	case k <= 0:
		return nil, nil, errors.New("truncated index count")
	case n == 0:
		return append(dst, 0), b[k:], nil
	case n < 0 || n > maxMessageIndexes:
		return nil, nil, fmt.Errorf("%d indexes, want 1 to %d", n, maxMessageIndexes)
	}
	b = b[k:]
	for range n {
		x, k := binary.Varint(b)
		if k <= 0 {
			return nil, nil, errors.New("truncated index")
		}
		if x < 0 || x > math.MaxInt32 {
			return nil, nil, fmt.Errorf("index %d", x)
		}
		dst, b = append(dst, int(x)), b[k:]
	}
	return dst, b, nil
}
