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
	// PayloadWire is the payload of a decoded upsert, in Protobuf wire
	// form: entries of qdrant.PointStruct's payload map (field 3), tags
	// included, which the writer sends as they are (payload.go). Nil for
	// deletes and for upserts without a payload. PayloadMap reads it.
	PayloadWire []byte
	// Payload is the payload as a map, for a Record built by hand rather
	// than decoded; the writer encodes it. At most one of Payload and
	// PayloadWire is set.
	Payload map[string]*qdrant.Value
	// MemBytes estimates the heap memory the record holds (its messages,
	// vector data and payload bytes, not the Record itself), for bounding
	// what a consumer keeps decoded. A payload costs about its wire size.
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
