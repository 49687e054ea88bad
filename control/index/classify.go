package index

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// What a Qdrant error means is sink's one table: sink.Classify for gRPC
// answers, sink.RESTError for REST ones. What a command does about it is
// this package's policy, which differs from the data path's where a
// command can give up and a write cannot:
//
//	meaning (sink)                              data path           index handlers
//	ActionRetry: unavailable, deadline, rate    retry forever       retry for Options.RetryFor, then
//	  limit (retry-after), lock, aborted,                           failed unavailable (retryable)
//	  connection-level                                              (waiting at least retry-after)
//	ActionRetry, Internal (ServiceError:        retry forever       Options.InternalAttempts attempts,
//	  storage or consensus trouble)                                 then failed qdrant_error
//	ActionRetryOperator (API key, permission,   retry, log ERROR    failed qdrant_error, retryable
//	  server version, data loss),                                   (a new command may succeed once an
//	  ActionRetryCollection (strict mode)                           operator acted)
//	NotFound                                    bisect, DLQ         failed collection_not_found
//	ActionReject, ActionSplit                   bisect, split       failed qdrant_error
//
// REST answers (the optimizations endpoint) follow sink's REST table the
// same way: 500 (ServiceError) like Internal, other retryable statuses
// like ActionRetry, the rest fail. Transport failures (connection refused
// or reset, our per-call timeout) are retried like ActionRetry; any other
// error (a decoding failure, a job error) fails the command.

// retryKind is how a failed call is retried.
type retryKind int

const (
	noRetry        retryKind = iota // fail the command at once
	retryTransient                  // with backoff for up to Options.RetryFor
	retryBrief                      // up to Options.InternalAttempts attempts
)

// policy is what a handler does about a failed call.
type policy struct {
	retry retryKind
	// after is the least wait before the retry (Qdrant's retry-after).
	after time.Duration
	// operator: not retried, but a new command may succeed once an
	// operator acted (the failed command's error is retryable).
	operator bool
}

// policyOf tells what to do about err, returned by a call whose context
// is still alive.
func policyOf(err error) policy {
	var re *sink.RESTError
	if errors.As(err, &re) {
		switch {
		case re.Status == http.StatusInternalServerError:
			return policy{retry: retryBrief} // Qdrant's ServiceError
		case re.Retryable():
			return policy{retry: retryTransient, after: re.RetryAfter}
		}
		return policy{}
	}
	if qdrantAnswer(err) {
		v := sink.Classify(err, nil)
		switch {
		case v.Action == sink.ActionRetry && v.Code == codes.Internal:
			return policy{retry: retryBrief}
		case v.Action == sink.ActionRetry:
			return policy{retry: retryTransient, after: v.RetryAfter}
		case v.Action.Retryable():
			return policy{operator: true}
		}
		return policy{}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return policy{retry: retryTransient} // connection refused/reset, our per-call timeout
	}
	return policy{}
}

// qdrantAnswer reports whether err is Qdrant's gRPC answer: a status, or
// the go-client's rate-limit error (a ResourceExhausted with retry-after,
// which sink.Classify reads).
func qdrantAnswer(err error) bool {
	var re *qdrant.QdrantResourceExhaustedError
	if errors.As(err, &re) {
		return true
	}
	_, ok := status.FromError(err)
	return ok
}

// transient reports whether err is worth retrying at all.
func transient(err error) bool { return policyOf(err).retry != noRetry }

// permanentError turns a failure of operation what on collection that is
// not retried into the command's error.
func permanentError(what, collection string, err error) error {
	var je *job.Error
	if errors.As(err, &je) {
		return err
	}
	if status.Code(err) == codes.NotFound {
		return job.Errorf(schemas.ErrCollectionNotFound, false, "%s: collection %q does not exist: %w", what, collection, err)
	}
	return job.Errorf(schemas.ErrQdrant, policyOf(err).operator, "%s of %q: %w", what, collection, err)
}
