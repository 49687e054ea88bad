package index

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// retryClass is how a failed call is retried.
type retryClass int

const (
	permanent      retryClass = iota // fail the command at once
	transientClass                   // retry with backoff for up to Options.RetryFor
	briefClass                       // retry up to Options.InternalAttempts attempts
)

// codeClasses classify gRPC codes. Transient: Qdrant restarting or a
// shard moving (Unavailable), our call timeout or Qdrant's
// (DeadlineExceeded), rate limiting (ResourceExhausted), a write lock
// (FailedPrecondition), connection-level failures (Unknown, Canceled by a
// proxy) and Aborted. Brief: Internal, Qdrant's ServiceError (storage or
// consensus trouble), which a retry rarely fixes: a few attempts, not
// minutes. Every other code is permanent for an admin call: NotFound (the
// collection is gone), InvalidArgument, PermissionDenied,
// Unauthenticated, Unimplemented, ...
var codeClasses = map[codes.Code]retryClass{
	codes.Unavailable: transientClass, codes.DeadlineExceeded: transientClass, codes.ResourceExhausted: transientClass,
	codes.FailedPrecondition: transientClass, codes.Unknown: transientClass,
	codes.Canceled: transientClass, codes.Aborted: transientClass,
	codes.Internal: briefClass,
}

// httpStatusError is a non-2xx answer of Qdrant's REST API.
type httpStatusError struct {
	Code int
	Body string
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body)
}

// classify tells how err (with the call's context still alive) is
// retried.
func classify(err error) retryClass {
	var he *httpStatusError
	if errors.As(err, &he) {
		switch {
		case he.Code == http.StatusInternalServerError:
			return briefClass // Qdrant's ServiceError
		case he.Code >= 500, he.Code == http.StatusTooManyRequests, he.Code == http.StatusRequestTimeout:
			return transientClass
		}
		return permanent
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return transientClass // connection refused/reset, our per-call timeout
	}
	if s, ok := status.FromError(err); ok {
		return codeClasses[s.Code()]
	}
	return permanent
}

// transient reports whether err is worth retrying at all.
func transient(err error) bool { return classify(err) != permanent }

// permanentError turns a non-transient failure of operation what on
// collection into the command's error.
func permanentError(what, collection string, err error) error {
	var je *job.Error
	if errors.As(err, &je) {
		return err
	}
	if status.Code(err) == codes.NotFound {
		return job.Errorf(schemas.ErrCollectionNotFound, false, "%s: collection %q does not exist: %w", what, collection, err)
	}
	return job.Errorf(schemas.ErrQdrant, false, "%s of %q: %w", what, collection, err)
}
