package job

import (
	"errors"
	"net/http"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// What a Qdrant error means is sink's one table: sink.Classify for gRPC
// answers, sink.RESTError.Action for REST ones (the same actions), and
// sink.RetryableREST for transport failures. What a command does about it
// is this table, the one policy of every handler calling Qdrant
// (control/index, control/backup); it differs from the data path's where
// a command can give up and a write cannot:
//
//	meaning (sink)                            data path         command (QdrantPolicy)
//	ActionRetry: unavailable, deadline,       retry forever     retry for RetryFor (waiting at least
//	  rate limit (retry-after), lock,                           retry-after), then failed
//	  aborted; REST 408, 429, 502-504;                          unavailable, retryable
//	  transport failures
//	ActionRetry, Internal (ServiceError:      retry forever     BriefAttempts attempts, then failed
//	  storage or consensus trouble);                            qdrant_error, retryable
//	  REST 500
//	ActionRetryOperator (API key,             retry, log ERROR  failed qdrant_error at once,
//	  permission, server version, data                         retryable: a new command may succeed
//	  loss; REST 401, 403),                                     once an operator acted
//	  ActionRetryCollection (strict mode)
//	NotFound (gRPC NotFound, REST 404)        bisect, DLQ       failed collection_not_found
//	ActionReject, ActionSplit (invalid        bisect, split     failed qdrant_error
//	  request, too large; REST 400, 409,
//	  413, 422)
//
// Internal is not retried for minutes like an outage: Qdrant's
// ServiceError is a storage or consensus failure that a retry rarely
// fixes, yet its cause may pass, so the failed command is retryable. The
// operator class fails at once whatever the transport: a key or a
// permission does not fix itself within RetryFor.
var qdrantPolicies = [...]Policy{
	qdrantTransient: {Retry: RetryTransient, Code: schemas.ErrUnavailable, Retryable: true},
	qdrantInternal:  {Retry: RetryBrief, Code: schemas.ErrQdrant, Retryable: true},
	qdrantOperator:  {Code: schemas.ErrQdrant, Retryable: true},
	qdrantNotFound:  {Code: schemas.ErrCollectionNotFound},
	qdrantRefused:   {Code: schemas.ErrQdrant},
}

// qdrantClass is a row of qdrantPolicies.
type qdrantClass uint8

const (
	qdrantTransient qdrantClass = iota
	qdrantInternal
	qdrantOperator
	qdrantNotFound
	qdrantRefused
)

// QdrantPolicy returns the policy for err, returned by a Qdrant call whose
// context is still alive (qdrantPolicies). ok is false when err is neither
// Qdrant's answer (gRPC or REST) nor a transport failure (a decoding
// failure, a *Error, another dependency's error): the caller decides.
func QdrantPolicy(err error) (p Policy, ok bool) {
	var re *sink.RESTError
	var class qdrantClass
	var after time.Duration // Qdrant's retry-after
	switch {
	case errors.As(err, &re):
		class = classOf(re.Action(), re.Status == http.StatusNotFound, re.Status == http.StatusInternalServerError)
		after = re.RetryAfter
	case qdrantAnswer(err):
		v := sink.Classify(err, nil)
		class = classOf(v.Action, v.Code == codes.NotFound, v.Code == codes.Internal)
		after = v.RetryAfter
	case sink.RetryableREST(err):
		// Connection refused or reset, a timeout, a response cut short.
		class = qdrantTransient
	default:
		return Policy{}, false
	}
	p = qdrantPolicies[class]
	if p.Retry == RetryTransient {
		p.After = after
	}
	return p, true
}

// classOf places sink's meaning of a failure (its action, and whether it
// is a missing collection or Qdrant's ServiceError) in qdrantPolicies.
func classOf(a sink.Action, notFound, internal bool) qdrantClass {
	switch {
	case notFound:
		return qdrantNotFound
	case a == sink.ActionRetry && internal:
		return qdrantInternal
	case a == sink.ActionRetry:
		return qdrantTransient
	case a.Retryable(): // ActionRetryOperator, ActionRetryCollection
		return qdrantOperator
	}
	return qdrantRefused
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
