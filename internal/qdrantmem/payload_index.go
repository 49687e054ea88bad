package qdrantmem

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// Payload indexes: what they change here is what strict mode sees
// (strict.go: unindexed_filtering_update) and the payload_schema of
// CollectionInfo. Filtering itself does not use them; results are the same
// with or without an index, as in Qdrant.

// CreateFieldIndex creates (or replaces) the payload index of one key, as
// create_field_index (src/tonic/api/update_common.rs) and do_create_index
// (src/common/update.rs, v1.18.3) do: strict mode (max_payload_index_count,
// then the timeout), then a field type is required. Only plain field
// types are modelled; field_index_params are ignored.
func (ps *pointsService) CreateFieldIndex(ctx context.Context, req *qdrant.CreateFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodCreateFieldIndex, func(start time.Time) (*qdrant.PointsOperationResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		if _, err := parseJSONPath(req.GetFieldName()); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		if sm := c.strict(); sm != nil {
			if l := sm.MaxPayloadIndexCount; l != nil && uint64(len(c.payloadIndex)) >= *l {
				return nil, errStrictMode(
					fmt.Sprintf("Collection already has the maximum number of payload indices (%d)", *l),
					"Please delete an existing index before creating a new one.")
			}
			if err := checkStrictTimeout(sm, req.Timeout); err != nil {
				return nil, err
			}
		}
		if req.FieldType == nil {
			return nil, badRequest("Can't auto-detect field type, please specify `field_schema` in the request")
		}
		if c.payloadIndex == nil {
			c.payloadIndex = map[string]*qdrant.FieldType{}
		}
		t := *req.FieldType
		c.payloadIndex[req.GetFieldName()] = &t
		return &qdrant.PointsOperationResponse{Result: c.result(req.GetWait()), Time: elapsed(start)}, nil
	})
}

// DeleteFieldIndex drops the payload index of one key; dropping a key
// without an index succeeds, as in Qdrant.
func (ps *pointsService) DeleteFieldIndex(ctx context.Context, req *qdrant.DeleteFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	s := ps.s
	return handle(s, ctx, MethodDeleteFieldIndex, func(start time.Time) (*qdrant.PointsOperationResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c, err := s.resolve(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		delete(c.payloadIndex, req.GetFieldName())
		return &qdrant.PointsOperationResponse{Result: c.result(req.GetWait()), Time: elapsed(start)}, nil
	})
}

// payloadSchema renders the indexes as CollectionInfo.payload_schema
// (`impl From<PayloadIndexInfo> for PayloadSchemaInfo`,
// lib/api/src/grpc/conversions.rs): the data type, no params for a plain
// field type, and the number of points with a value at the key. The caller
// holds s.mu.
func (c *collection) payloadSchema() map[string]*qdrant.PayloadSchemaInfo {
	out := make(map[string]*qdrant.PayloadSchemaInfo, len(c.payloadIndex))
	for key, t := range c.payloadIndex {
		var n uint64
		if path, err := parseJSONPath(key); err == nil {
			for _, p := range c.points {
				if len(path.values(p.payload)) > 0 {
					n++
				}
			}
		}
		out[key] = &qdrant.PayloadSchemaInfo{DataType: schemaType(*t), Points: proto.Uint64(n)}
	}
	return out
}

// schemaType maps a FieldType to the PayloadSchemaType CollectionInfo
// reports (both enums list the same types; PayloadSchemaType has
// UnknownType first).
func schemaType(t qdrant.FieldType) qdrant.PayloadSchemaType {
	return qdrant.PayloadSchemaType(int32(t) + 1)
}
