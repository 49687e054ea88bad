package schemas

import (
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// Op is what a record asks Qdrant to do with its point.
type Op uint8

const (
	// OpUpsert inserts or replaces the point.
	OpUpsert Op = iota + 1
	// OpDelete deletes the point (a Kafka tombstone, or a delete record:
	// a value whose delete field is true).
	OpDelete
)

func (o Op) String() string {
	switch o {
	case OpUpsert:
		return "upsert"
	case OpDelete:
		return "delete"
	}
	return "unknown"
}

// Record is one decoded Kafka record, ready for the sink. The Qdrant types
// are built once, here, and handed to the gRPC client without another copy.
type Record struct {
	Op Op
	// ID is the point id: PointID of the record key for a tombstone; for
	// a value, the value's id field or the record key as
	// DecoderConfig.KeyID says. Upserts and deletes use the same
	// derivation, so a delete of a key or id removes exactly the point an
	// upsert of the same key or id created.
	ID *qdrant.PointId
	// Collection is the per-record routing override (the collection_name
	// field) of an upsert or a delete record; empty when absent, when
	// overrides are disabled, and for tombstones.
	Collection string
	// Vectors is nil for deletes.
	Vectors *qdrant.Vectors
	// Payload is the payload read as a map: from Avro, and from
	// Protobuf schemas other than record.v1's (or a record.v1 payload
	// not in canonical form). Nil for deletes, for upserts without a
	// payload, and when PayloadWire holds it.
	Payload map[string]*qdrant.Value
	// PayloadWire is the payload in Protobuf wire form: entries of
	// qdrant.PointStruct's payload map (field 3), tags included, which
	// the writer sends as they are. The JSON reader writes every payload
	// this way (payload.go); the record.v1 reader copies a canonical one
	// (proto_wire.go). It holds what Payload would, checked by the same
	// rules. At most one of Payload and PayloadWire is set; PayloadMap
	// reads either.
	PayloadWire []byte
	// MemBytes estimates the heap memory the record holds (its messages,
	// vector data, strings, maps and lists, not the Record itself), for
	// bounding what a consumer keeps decoded. A payload in PayloadWire
	// costs about its wire size; one in Payload many times that: about
	// 150 bytes per small field.
	MemBytes int
}

// PayloadMap returns the payload as a map whichever form it is in,
// decoding PayloadWire: for a caller that reads payloads (the writer does
// not).
func (r *Record) PayloadMap() (map[string]*qdrant.Value, error) {
	if r.PayloadWire == nil {
		return r.Payload, nil
	}
	var p qdrant.PointStruct
	if err := proto.Unmarshal(r.PayloadWire, &p); err != nil {
		return nil, err
	}
	return p.Payload, nil
}
