// Package schemas holds kafka-qdrant's wire formats: the decoding and
// validation of data records (JSON version 1, documented by
// record.v1.schema.json, embedded as RecordSchemaV1), the derivation of
// point ids, and the error classes under which bad records are
// dead-lettered.
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
//   - Decode never panics, whatever the input (FuzzDecode).
//   - Every error is a *RecordError whose Class and Stage are set:
//     ClassOversize (StageDecode), ClassDecode (StageDecode: invalid JSON,
//     a value that is not an object, a vector of the wrong JSON type, a
//     tombstone without a key) or ClassValidate (StageValidate: everything
//     well-formed but unusable, a key that disagrees with the value id
//     under KeyIDStrict included). The message names the field.
//   - A decoded delete has a non-nil ID and no vectors or payload.
//   - A decoded upsert has a non-nil ID and non-empty vectors with finite
//     components, valid UTF-8 strings throughout and a payload nested at
//     most MaxPayloadDepth levels, so Qdrant's own validation and gRPC
//     decoding accept it; only collection-dependent checks (dimension,
//     vector names) are left to Qdrant.
//   - Decoding is deterministic and equal to reading the value with
//     encoding/json plus the rules above.
//   - Records never alias the key, the value or a Decoder's scratch
//     buffers, nor each other's mutable memory. To save allocations, the
//     protobuf messages and vector data of consecutive records are carved
//     from shared chunks (each piece belongs to one record; vector slices
//     have capped capacity), so a chunk is freed only once all its records
//     are; names and payload keys are interned, immutable strings.
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
