package schemas

import (
	"context"
	"fmt"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// Format is how the record values of a topic are encoded (record.format,
// and per topic routing.topics.<topic>.format).
type Format uint8

const (
	// FormatJSON is the JSON envelope (record.v1.schema.json).
	FormatJSON Format = iota
	// FormatProtobuf is one kafka_qdrant.record.v1.Record
	// (record.v1.proto), without framing.
	FormatProtobuf
	// FormatRegistry is the Schema Registry wire format: byte 0, the
	// schema id (4 bytes, big-endian), for Protobuf the message indexes,
	// then an Avro, Protobuf or JSON value, as the registry says the
	// schema is.
	FormatRegistry
)

var formatNames = [...]string{FormatJSON: "json", FormatProtobuf: "protobuf", FormatRegistry: "registry"}

// Formats lists the configuration names of the formats.
func Formats() []string { return formatNames[:] }

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", f)
}

// ParseFormat returns the format of a configuration name; "" is
// FormatJSON.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatJSON, nil
	}
	for f, name := range formatNames {
		if s == name {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("unknown record format %q: want one of %s", s, strings.Join(formatNames[:], ", "))
}

// recordV1Names are the field names of record.v1's Record; they replace the
// configured ones for the protobuf format.
func recordV1Names(c DecoderConfig) DecoderConfig {
	c.IDField, c.VectorField, c.PayloadField = "id", "vector", "payload"
	c.CollectionField, c.DeleteField = "collection_name", "delete"
	return c
}

// recordV1Plan compiles record.v1's Record for the key rule and override
// setting of c.
func recordV1Plan(c DecoderConfig) *plan {
	s := newProtoShapes().message((&recordpb.Record{}).ProtoReflect().Descriptor())
	p, err := compilePlan(s, pathsOf(recordV1Names(c)))
	if err != nil {
		panic("schemas: record.v1.proto breaks the record rules: " + err.Error())
	}
	return p
}

// FormatDecoder decodes the records of a topic in its format, by the rules
// of the JSON envelope (see the package documentation). Like Decoder it is
// not safe for concurrent use: make one per goroutine. Decoders of the
// registry format share a SchemaCache.
type FormatDecoder struct {
	format Format
	cfg    DecoderConfig
	// d decodes with the configured field names (json, registry).
	d  *Decoder
	pb protoReader
	// v1 decodes record.v1 Records (protobuf, and record.v1 messages
	// through the registry), with their own field names.
	v1     *Decoder
	v1pb   protoReader
	v1plan *plan
	cache  *SchemaCache
	// last is the schema of the last registry record and, for Protobuf,
	// the plan of its top-level message index.
	last struct {
		schema *compiledSchema
		index  int
		plan   protoPlan
	}
}

// NewFormatDecoder returns a decoder of format f. cache is needed by
// FormatRegistry only (nil otherwise). It does not validate cfg; see
// DecoderConfig.Validate.
func NewFormatDecoder(f Format, cfg DecoderConfig, cache *SchemaCache) *FormatDecoder {
	cfg = cfg.withDefaults()
	fd := &FormatDecoder{format: f, cfg: cfg, d: NewDecoder(cfg), cache: cache}
	fd.pb.d = fd.d
	if f == FormatProtobuf {
		fd.recordV1()
	}
	return fd
}

// recordV1 returns the decoder of record.v1 Records, made on first use.
func (fd *FormatDecoder) recordV1() (*Decoder, *protoReader, *plan) {
	if fd.v1 == nil {
		fd.v1 = NewDecoder(recordV1Names(fd.cfg))
		fd.v1pb.d = fd.v1
		fd.v1plan = recordV1Plan(fd.cfg)
	}
	return fd.v1, &fd.v1pb, fd.v1plan
}

// Format returns the decoder's format.
func (fd *FormatDecoder) Format() Format { return fd.format }

// Decode turns one Kafka record into a Record. Errors are a *RecordError
// (bad input: dead-letter it) or, for the registry format only, an
// *UnavailableError (the Schema Registry could not be asked: retry the
// record later) or ctx's error.
func (fd *FormatDecoder) Decode(ctx context.Context, key, value []byte) (Record, error) {
	switch fd.format {
	case FormatProtobuf:
		d, r, p := fd.recordV1()
		return decodeProto(d, r, p, key, value)
	case FormatRegistry:
		return fd.decodeRegistry(ctx, key, value)
	}
	if len(value) > 0 && value[0] == 0 {
		if rec, done, err := fd.d.begin(key, value); done {
			return rec, err
		}
		return Record{}, NewRecordError(ClassDecode, StageDecode,
			"value is not JSON: it starts with byte 0, as Schema Registry framing (magic byte 0, schema id) does; read such a topic with record.format registry")
	}
	return fd.d.Decode(key, value)
}

// decodeProto decodes a Protobuf message of plan p.
func decodeProto(d *Decoder, r *protoReader, p *plan, key, value []byte) (Record, error) {
	if rec, done, err := d.begin(key, value); done {
		return rec, err
	}
	var f fields
	err := r.read(value, p, &f)
	r.release()
	d.trimScratch()
	if err != nil {
		return Record{}, err
	}
	return d.finish(key, &f)
}

// release lets go of the spans of the last record (they alias its value).
func (r *protoReader) release() {
	for i := range r.slots {
		clear(r.slots[i])
	}
	clear(r.stack[:cap(r.stack)])
	r.stack = r.stack[:0]
}
