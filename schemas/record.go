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
	// Payload is the payload of an upsert in Protobuf wire form: entries
	// of qdrant.PointStruct's payload map (field 3), tags included, which
	// the writer sends as they are. The decoders write it (payload.go);
	// EncodePayload makes it from a map, PayloadMap reads it. Nil for
	// deletes and for upserts without a payload.
	Payload []byte
	// MemBytes estimates the heap memory the record holds (its messages,
	// vector data and payload bytes, not the Record itself), for bounding
	// what a consumer keeps decoded. A payload costs about its wire size.
	MemBytes int
}

// PayloadMap returns the payload as a map: for a caller that reads it
// (the writer does not).
func (r *Record) PayloadMap() (map[string]*qdrant.Value, error) {
	if r.Payload == nil {
		return nil, nil
	}
	var p qdrant.PointStruct
	if err := proto.Unmarshal(r.Payload, &p); err != nil {
		return nil, err
	}
	return p.Payload, nil
}

// EncodePayload is the Record.Payload of the payload m, for a Record
// built by hand; nil when m is empty.
func EncodePayload(m map[string]*qdrant.Value) ([]byte, error) {
	if len(m) == 0 {
		return nil, nil
	}
	return proto.Marshal(&qdrant.PointStruct{Payload: m})
}
