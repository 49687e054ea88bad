package schemas

import "github.com/qdrant/go-client/qdrant"

// Op is what a record asks Qdrant to do with its point.
type Op uint8

const (
	// OpUpsert inserts or replaces the point.
	OpUpsert Op = iota + 1
	// OpDelete deletes the point (a Kafka tombstone).
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
	// ID is the point id, derived by PointID from the value's id field or,
	// failing that, from the record key. Upserts and deletes use the same
	// derivation, so a tombstone deletes exactly the point its key created.
	ID *qdrant.PointId
	// Collection is the per-record routing override (the collection_name
	// field); empty when absent or when overrides are disabled.
	Collection string
	// Vectors is nil for deletes.
	Vectors *qdrant.Vectors
	// Payload is nil for deletes and for upserts without a payload.
	Payload map[string]*qdrant.Value
}
