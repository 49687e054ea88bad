// Package schemas holds kafka-qdrant's wire formats: the decoding and
// validation of data records (JSON version 1, documented by
// record.v1.schema.json, embedded as RecordSchemaV1; Protobuf, documented
// by record.v1.proto; Avro, Protobuf and JSON through a Schema Registry),
// the derivation of point ids, and the error classes under which bad
// records are dead-lettered.
//
// # Records
//
// A Decoder turns one Kafka record (key, value) into a Record ready for the
// Qdrant gRPC client:
//
//	{"id": 42, "vector": [0.1, 0.2], "payload": {"year": 1979}, "collection_name": "movies"}
//
// The rules:
//
//   - A nil value is a tombstone: OpDelete of the point whose id is derived
//     from the key. Any other value must be exactly one JSON object (RFC
//     8259, UTF-8): an OpDelete when its delete field is true (a delete
//     record, {"id": 42, "delete": true, "collection_name": "movies"}:
//     vector and payload are ignored), an OpUpsert otherwise.
//   - vector is a list of numbers (unnamed dense), a list of lists (unnamed
//     multi-vector), or an object of named vectors, each dense, multi or
//     sparse {"indices": [...], "values": [...]}. Numbers are rounded to
//     the nearest float32, exactly as strconv.ParseFloat(s, 32) rounds.
//   - payload is an object; integers stay int64 (ones outside int64 are
//     rejected rather than silently turned into doubles), other numbers
//     are doubles.
//   - collection_name routes the record (upsert or delete record) when
//     DecoderConfig allows it and is otherwise ignored. A tombstone has no
//     value, so it always follows its topic's route.
//   - null means absent for every field; the last of duplicate keys wins;
//     unknown fields are ignored; field names are configurable.
//
// # Formats
//
// A topic's Format (record.format, per topic routing.topics.<t>.format)
// picks how FormatDecoder reads its values; the rules above hold in every
// format, with the same messages:
//
//   - FormatJSON: the envelope above (Decoder).
//   - FormatProtobuf: one kafka_qdrant.record.v1.Record (record.v1.proto,
//     Go code in schemas/recordpb), with its own field names: id is a
//     oneof of num, uuid (16 bytes) and text (the string rules); vector a
//     oneof of dense, multi and named; payload a map of Values with JSON's
//     types (integers stay int64). A value starting with byte 0 is taken
//     for Schema Registry framing and rejected with a hint.
//   - FormatRegistry: the Schema Registry wire format: byte 0, the
//     schema id (4 bytes, big-endian), for Protobuf the message indexes,
//     then the value. The registry's schema of the id (SchemaSource,
//     cached by SchemaCache) says how to read it: Avro or Protobuf by the
//     record rules of compile.go, the configured field names finding the
//     parts (a dotted name is a path into nested records); JSON as the
//     envelope (top-level names). A registered record.v1 Record is read
//     with record.v1's names.
//
// Typed formats (Avro, Protobuf) are compiled once per schema (compilePlan:
// which field holds which part, and how to read it) and read straight into
// the Qdrant types and the payload wire form of the Record, in the
// Decoder's slabs, with no intermediate value: protoReader (proto.go) and
// avroReader (avro.go) follow the plan. Which types hold which part:
//
//   - id: an unsigned integer (a signed one must be >= 0), a string (the
//     string rules), or 16 bytes (a UUID); a union or oneof of those.
//   - vector: a list of float or double (unnamed dense), a list of such
//     lists (unnamed multi), a map or a record of named vectors (each
//     dense, multi, or sparse: a record of exactly "indices", a list of
//     integers, and "values", a list of float or double). Protobuf cannot
//     put a list in a oneof, a map value or a list element: there, a
//     message of one field, or only of one oneof's members, stands for it.
//   - payload: a record (every field by name; Protobuf scalars without
//     presence at their default), a map, or a JSON type (google.protobuf
//     or record.v1 Struct, Value); enums by name, bytes in base64,
//     timestamps (google.protobuf.Timestamp, Avro timestamp-*) as RFC 3339
//     text, Avro dates as YYYY-MM-DD, Avro decimals as decimal text,
//     Protobuf wrappers by their value. Numbers must be finite and
//     integers fit int64, as in JSON.
//   - collection: a string; delete: a boolean. Null (an Avro null branch,
//     a Protobuf field not on the wire) is absent.
//
// Protobuf values are read as protobuf-go reads them (unknown fields and
// fields of another wire type skipped, lists packed or not, the last
// member of a oneof set wins), except that a message field occurring twice
// is not merged: the last occurrence wins.
//
// # Payloads
//
// Every format writes the payload straight into its wire form,
// Record.Payload: entries of qdrant.PointStruct's payload map, objects
// as Structs and lists as ListValues (payload.go). No map of qdrant.Values
// is built: the writer sends the bytes as they are, and a decoded payload
// holds about its size on the wire. A record.v1 payload (or one of any
// schema whose Value is qdrant.Value on the wire) in canonical form is
// not even rewritten: its map entries are already such entries, so the
// reader checks them by the rules above and copies them (proto_wire.go);
// any other form, and any payload with a problem, is read as above, with
// the same results and errors.
//
// # Key and id
//
// DecoderConfig.KeyID (record.key_id) says how the record key relates to
// the point id of a value; a tombstone always deletes the point of its
// key:
//
//   - KeyIDFallback ("fallback", the default): the value's id field, or
//     the key when the value has none. A key naming another point than the
//     value's id is not noticed, and its tombstone deletes the key's point.
//   - KeyIDKey ("key"): the key, always; the id field is not read.
//   - KeyIDStrict ("strict"): the key, which a value id must name too
//     (compared as IDKeys: 42 and "0042" agree); a disagreeing or keyless
//     record is a ClassValidate error naming both.
//
// # Point ids
//
// PointID is the one derivation used for upserts and deletes, applied to a
// string id or to the record key:
//
//   - ASCII digits only, fitting in a uint64 → that number (so "42",
//     "0042" and the JSON number 42 are the same point);
//   - a UUID (hyphenated, {braced}, urn:uuid:, or 32 hex digits; any case)
//     → that UUID in lowercase hyphenated form;
//   - anything else → the UUIDv5 of its bytes in PointIDNamespace,
//     uuid.NewSHA1(uuid.NameSpaceURL,
//     "https://github.com/seed-a550a1ef/kafka-qdrant/point-id")
//     = 0addd6a9-f233-5ed4-88ad-e96b8177b08f. The namespace is part of the
//     data contract and never changes.
//
// A JSON number id must be an unsigned integer written without fraction or
// exponent and at most MaxUint64. String ids and keys must pass ValidateID:
// 1 to MaxIDBytes bytes of UTF-8 without control characters (so binary
// keys cannot serve as ids). IDKeyOf maps a point id to a comparable IDKey
// for merging operations on one point.
//
// # Invariants
//
//   - Decode never panics, whatever the input (FuzzDecode, FuzzProtobuf,
//     FuzzRegistry).
//   - A FormatDecoder's errors are a *RecordError, or (registry format)
//     an *UnavailableError when the Schema Registry could not be asked,
//     which the caller retries, or the context's error. ClassSchema
//     (StageDecode) is a record whose schema id the registry does not know
//     or whose schema cannot be used; a value that does not decode by its
//     schema or framing is ClassDecode.
//   - Every error is a *RecordError whose Class and Stage are set:
//     ClassOversize (StageDecode), ClassDecode (StageDecode: invalid JSON,
//     a value that is not an object, a vector of the wrong JSON type, a
//     tombstone without a key) or ClassValidate (StageValidate: everything
//     well-formed but unusable, a key that disagrees with the value id
//     under KeyIDStrict included). The message names the field.
//   - A decoded delete has a non-nil ID and no vectors or payload.
//   - Record.Payload is in wire form; PayloadMap reads it and
//     EncodePayload makes it from a map.
//   - A decoded upsert has a non-nil ID and non-empty vectors with finite
//     components, valid UTF-8 strings throughout and a payload nested at
//     most MaxPayloadDepth levels, so Qdrant's own validation and gRPC
//     decoding accept it; only collection-dependent checks (dimension,
//     vector names) are left to Qdrant.
//   - Decoding is deterministic and equal to reading the value with
//     encoding/json plus the rules above.
//   - Records never alias the key, the value or a Decoder's scratch
//     buffers, nor each other's mutable memory. To save allocations, the
//     protobuf messages, vector data and payload bytes of consecutive
//     records are carved from shared chunks (each piece belongs to one
//     record; slices have capped capacity), so a chunk is freed only once
//     all its records are; vector and collection names are interned,
//     immutable strings.
//   - A Decoder is not safe for concurrent use; use one per goroutine.
//
// # Backup manifests
//
// BackupManifest (backup_manifest.v1.schema.json) describes one complete
// backup in the backup store: its snapshot objects (key, size, SHA-256,
// the Qdrant node and shards each came from) and, for a collection
// backup, the data group's committed offsets read before the snapshots
// and the topics' end offsets read after them. DecodeBackupManifest reads
// only version 1 and ignores unknown fields of it.
package schemas
