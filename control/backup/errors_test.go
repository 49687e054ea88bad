package backup

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want failure
	}{
		{"job error keeps its code", job.Errorf(schemas.ErrTargetExists, false, "x"), failure{code: schemas.ErrTargetExists}},
		{"checksum", fmt.Errorf("put: %w", store.ErrChecksumMismatch), failure{code: schemas.ErrChecksumMismatch}},
		{"missing object", fmt.Errorf("get: %w", store.ErrNotFound), failure{code: schemas.ErrBackupNotFound}},
		{"store down", &store.UnavailableError{Op: "put", Err: errors.New("refused")}, failure{code: schemas.ErrStoreUnavailable, retryable: true, transient: true}},
		{"REST 404", &sink.RESTError{Status: 404}, failure{code: schemas.ErrCollectionNotFound}},
		{"REST 503", &sink.RESTError{Status: 503}, failure{code: schemas.ErrUnavailable, retryable: true, transient: true}},
		{"REST 400", &sink.RESTError{Status: 400}, failure{code: schemas.ErrQdrant}},
		{"gRPC not found", status.Error(codes.NotFound, "Not found: Collection `x` doesn't exist!"), failure{code: schemas.ErrCollectionNotFound}},
		{"gRPC unavailable", status.Error(codes.Unavailable, "down"), failure{code: schemas.ErrUnavailable, retryable: true, transient: true}},
		{"gRPC bad key", status.Error(codes.Unauthenticated, "Invalid API key or JWT"), failure{code: schemas.ErrQdrant, retryable: true}},
		{"gRPC invalid", status.Error(codes.InvalidArgument, "Wrong input: x"), failure{code: schemas.ErrQdrant}},
		{"anything else", errors.New("connection reset"), failure{code: schemas.ErrUnavailable, retryable: true, transient: true}},
	}
	for _, tc := range tests {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
