package backup

import (
	"context"
	"errors"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// classify is what a step does about err: how it is retried within the
// command and the command's error once it is not. It is the one table of
// the package: a *job.Error keeps its code, store sentinels and
// UnavailableError, Qdrant's answers and transport failures by the control
// plane's one policy (job.QdrantPolicy), and everything else (Kafka, I/O)
// as unavailable and transient.
func classify(err error) job.Policy {
	var je *job.Error
	var se *store.UnavailableError
	switch {
	case errors.As(err, &je):
		return job.Policy{Code: je.Code, Retryable: je.Retryable}
	case errors.Is(err, store.ErrChecksumMismatch):
		return job.Policy{Code: schemas.ErrChecksumMismatch}
	case errors.Is(err, store.ErrNotFound):
		return job.Policy{Code: schemas.ErrBackupNotFound}
	case errors.As(err, &se):
		return job.Policy{Retry: job.RetryTransient, Code: schemas.ErrStoreUnavailable, Retryable: true}
	}
	if p, ok := job.QdrantPolicy(err); ok {
		return p
	}
	// Kafka, the network, I/O: worth retrying.
	return job.Policy{Retry: job.RetryTransient, Code: schemas.ErrUnavailable, Retryable: true}
}

// fail wraps err, which happened while doing what, as the command's error.
// A cancelled or handed-over command returns its context's cause.
func fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return classify(err).Errorf("%s: %w", what, err)
}
