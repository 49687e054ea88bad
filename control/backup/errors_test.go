package backup

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// TestClassify: the package's own failures, then Qdrant's by the control
// plane's one policy (job.QdrantPolicy, tested in control/job), then the
// rest as transient.
func TestClassify(t *testing.T) {
	unavailable := job.Policy{Retry: job.RetryTransient, Code: schemas.ErrUnavailable, Retryable: true}
	tests := []struct {
		name string
		err  error
		want job.Policy
	}{
		{"job error keeps its code", job.Errorf(schemas.ErrTargetExists, false, "x"), job.Policy{Code: schemas.ErrTargetExists}},
		{"checksum", fmt.Errorf("put: %w", store.ErrChecksumMismatch), job.Policy{Code: schemas.ErrChecksumMismatch}},
		{"missing object", fmt.Errorf("get: %w", store.ErrNotFound), job.Policy{Code: schemas.ErrBackupNotFound}},
		{"store down", &store.UnavailableError{Op: "put", Err: errors.New("refused")}, job.Policy{Retry: job.RetryTransient, Code: schemas.ErrStoreUnavailable, Retryable: true}},
		{"REST 404", &sink.RESTError{Status: 404}, job.Policy{Code: schemas.ErrCollectionNotFound}},
		{"REST 503", &sink.RESTError{Status: 503}, unavailable},
		{"REST 500", &sink.RESTError{Status: 500}, job.Policy{Retry: job.RetryBrief, Code: schemas.ErrQdrant, Retryable: true}},
		{"REST 403", &sink.RESTError{Status: 403}, job.Policy{Code: schemas.ErrQdrant, Retryable: true}},
		{"REST 400", &sink.RESTError{Status: 400}, job.Policy{Code: schemas.ErrQdrant}},
		{"gRPC not found", status.Error(codes.NotFound, "Not found: Collection `x` doesn't exist!"), job.Policy{Code: schemas.ErrCollectionNotFound}},
		{"gRPC unavailable", status.Error(codes.Unavailable, "down"), unavailable},
		{"gRPC internal", status.Error(codes.Internal, "Service internal error"), job.Policy{Retry: job.RetryBrief, Code: schemas.ErrQdrant, Retryable: true}},
		{"gRPC bad key", status.Error(codes.Unauthenticated, "Invalid API key or JWT"), job.Policy{Code: schemas.ErrQdrant, Retryable: true}},
		{"gRPC invalid", status.Error(codes.InvalidArgument, "Wrong input: x"), job.Policy{Code: schemas.ErrQdrant}},
		{"anything else", errors.New("connection reset"), unavailable},
	}
	for _, tc := range tests {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestBackupQdrantFailures: a backup meeting Qdrant's failures follows the
// control plane's one policy (job.QdrantPolicy), the same over gRPC and
// REST: Qdrant's ServiceError (gRPC Internal, REST 500) gets a few
// attempts, not RetryFor of them, and fails retryable qdrant_error; a
// REST 403 fails at once, retryable (an operator must act), like a gRPC
// PermissionDenied.
func TestBackupQdrantFailures(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		code      codes.Code
		msg       string
		wantCalls int
	}{
		{"gRPC Internal", qdrantmem.MethodCollectionExists, codes.Internal, "Service internal error: storage failure", 3},
		{"REST 500", qdrantmem.RouteCreateSnapshot, codes.Internal, "Service internal error: storage failure", 3},
		{"REST 403", qdrantmem.RouteCreateSnapshot, codes.PermissionDenied, "Forbidden: Global access is required", 1},
		{"gRPC PermissionDenied", qdrantmem.MethodCollectionExists, codes.PermissionDenied, "Forbidden: Global access is required", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.produce(upsert(1, 1))
			w.apply(collection)
			w.q.FailNext(tc.method, 1000, tc.code, tc.msg)
			start := time.Now()
			_, err := w.run(schemas.CommandBackup, "b-q", collection, "", &fakeSession{})
			se := job.StatusErrorOf(err, schemas.ErrInternal)
			if se.Code != schemas.ErrQdrant || !se.Retryable || !strings.Contains(se.Message, tc.msg) {
				t.Fatalf("backup failed with %+v, want a retryable qdrant_error", se)
			}
			if calls := w.q.CallCount(tc.method); calls != tc.wantCalls {
				t.Fatalf("%d calls of %s (in %s), want %d", calls, tc.method, time.Since(start).Round(time.Millisecond), tc.wantCalls)
			}
		})
	}
}
