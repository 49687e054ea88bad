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

// transientCodes are the gRPC codes of failures that fix themselves:
// Qdrant restarting or a shard moving (Unavailable), our call timeout or
// Qdrant's (DeadlineExceeded), rate limiting (ResourceExhausted), a write
// lock (FailedPrecondition), storage or consensus trouble (Internal),
// connection-level failures (Unknown, Canceled by a proxy) and Aborted.
// Every other code is permanent for an admin call: NotFound (the collection
// is gone), InvalidArgument, PermissionDenied, Unauthenticated,
// Unimplemented, ...
var transientCodes = map[codes.Code]bool{
	codes.Unavailable: true, codes.DeadlineExceeded: true, codes.ResourceExhausted: true,
	codes.FailedPrecondition: true, codes.Internal: true, codes.Unknown: true,
	codes.Canceled: true, codes.Aborted: true,
}

// httpStatusError is a non-2xx answer of Qdrant's REST API.
type httpStatusError struct {
	Code int
	Body string
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body)
}

// transient reports whether err (with the call's context still alive) is
// worth retrying.
func transient(err error) bool {
	var he *httpStatusError
	if errors.As(err, &he) {
		return he.Code >= 500 || he.Code == http.StatusTooManyRequests || he.Code == http.StatusRequestTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return true // connection refused/reset, our per-call timeout
	}
	if s, ok := status.FromError(err); ok {
		return transientCodes[s.Code()]
	}
	return false
}

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
