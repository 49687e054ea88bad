package backup

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// failure is how an error of a dependency ends a command: its status code,
// whether sending the command again may help, and whether the step that
// met it is worth retrying within the command (a transient failure).
type failure struct {
	code      string
	retryable bool
	transient bool
}

// classify maps an error to its failure. It is the one table of the
// package: store sentinels and UnavailableError, Qdrant REST answers (by
// sink's HTTP status table), Qdrant gRPC answers (by sink.Classify, the
// data path's table), and everything else (Kafka, I/O) as unavailable and
// transient.
func classify(err error) failure {
	var je *job.Error
	var se *store.UnavailableError
	var re *sink.RESTError
	switch {
	case errors.As(err, &je):
		return failure{code: je.Code, retryable: je.Retryable}
	case errors.Is(err, store.ErrChecksumMismatch):
		return failure{code: schemas.ErrChecksumMismatch}
	case errors.Is(err, store.ErrNotFound):
		return failure{code: schemas.ErrBackupNotFound}
	case errors.As(err, &se):
		return failure{code: schemas.ErrStoreUnavailable, retryable: true, transient: true}
	case errors.As(err, &re):
		switch {
		case re.Status == http.StatusNotFound:
			return failure{code: schemas.ErrCollectionNotFound}
		case re.Retryable():
			return failure{code: schemas.ErrUnavailable, retryable: true, transient: true}
		default:
			return failure{code: schemas.ErrQdrant}
		}
	}
	if _, isStatus := status.FromError(err); isStatus {
		// Qdrant's gRPC answers, by the data path's own table.
		v := sink.Classify(err, nil)
		switch {
		case v.Code == codes.NotFound:
			return failure{code: schemas.ErrCollectionNotFound}
		case v.Action == sink.ActionRetry:
			return failure{code: schemas.ErrUnavailable, retryable: true, transient: true}
		case v.Action.Retryable():
			// Fixed only by an operator (API key, permission, disk):
			// the command fails, a new one may succeed.
			return failure{code: schemas.ErrQdrant, retryable: true}
		default:
			return failure{code: schemas.ErrQdrant}
		}
	}
	// Kafka, the network, I/O: worth retrying.
	return failure{code: schemas.ErrUnavailable, retryable: true, transient: true}
}

// fail wraps err, which happened while doing what, as the command's error.
// A cancelled or handed-over command returns its context's cause.
func fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	f := classify(err)
	return &job.Error{Code: f.code, Retryable: f.retryable, Err: fmt.Errorf("%s: %w", what, err)}
}
