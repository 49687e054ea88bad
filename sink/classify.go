package sink

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// action is what the writer does about a failed Qdrant call.
type action uint8

const (
	// retryTransient: the failure fixes itself (Qdrant restarting, shard
	// moving, rate limit, timeout); retry with backoff, log at WARN.
	retryTransient action = iota + 1
	// retryOperator: the failure is permanent until an operator acts (bad
	// API key, missing permission, disk full, a server that lacks the
	// method). It is not the data's fault, so the data must not go to the
	// DLQ: retry with backoff and log at ERROR so someone fixes it.
	retryOperator
	// reject: Qdrant refused the request as invalid (InvalidArgument) or
	// the collection is gone (NotFound). Retrying the same request cannot
	// succeed; the writer bisects the batch to find the bad operations.
	reject
)

func (a action) String() string {
	switch a {
	case retryTransient:
		return "retry"
	case retryOperator:
		return "retry_operator"
	case reject:
		return "reject"
	}
	return "unknown"
}

// rule is one row of the classification table.
type rule struct {
	action action
	// label is the gRPC code name in snake case: the value of the class
	// label of kafka_qdrant_retries_total.
	label string
	// reason says, for logs and reviewers, why the code gets this action
	// and where Qdrant produces it.
	reason string
}

// codeRules is THE classification table: every gRPC code a Qdrant call can
// end with, and what the writer does about it. Qdrant's mapping is
// StorageError -> tonic::Code in lib/storage/src/content_manager/conversions.rs
// (BadInput/BadRequest/InferenceError -> InvalidArgument, NotFound ->
// NotFound, ServiceError -> Internal, Locked/PreconditionFailed ->
// FailedPrecondition, Timeout -> DeadlineExceeded, RateLimitExceeded and
// InsufficientStorage -> ResourceExhausted, ShardUnavailable -> Unavailable,
// StandaloneMode -> Unimplemented, Forbidden -> PermissionDenied,
// ChecksumMismatch -> DataLoss) plus src/tonic/auth.rs (Unauthenticated,
// PermissionDenied). Codes not listed classify as Unknown.
var codeRules = map[codes.Code]rule{
	codes.Canceled:           {retryTransient, "canceled", "cancelled by the server or a proxy while our context is alive"},
	codes.Unknown:            {retryTransient, "unknown", "not a gRPC status (connection-level or unclassified failure)"},
	codes.InvalidArgument:    {reject, "invalid_argument", "Qdrant BadInput/BadRequest: the request holds an invalid point"},
	codes.DeadlineExceeded:   {retryTransient, "deadline_exceeded", "our per-call timeout or Qdrant's operation Timeout"},
	codes.NotFound:           {reject, "not_found", "the collection does not exist (deleted meanwhile)"},
	codes.AlreadyExists:      {retryOperator, "already_exists", "not produced by point writes; a server or proxy problem"},
	codes.PermissionDenied:   {retryOperator, "permission_denied", "the API key lacks write access to the collection"},
	codes.ResourceExhausted:  {retryTransient, "resource_exhausted", "Qdrant rate limiting (retry-after) or a full disk"},
	codes.FailedPrecondition: {retryTransient, "failed_precondition", "Qdrant write lock (Locked) or a transient cluster precondition"},
	codes.Aborted:            {retryTransient, "aborted", "aborted by the server; safe to retry"},
	codes.OutOfRange:         {retryOperator, "out_of_range", "not produced by point writes; a server or proxy problem"},
	codes.Unimplemented:      {retryOperator, "unimplemented", "the server does not support the method (version mismatch)"},
	codes.Internal:           {retryTransient, "internal", "Qdrant ServiceError (storage or consensus trouble)"},
	codes.Unavailable:        {retryTransient, "unavailable", "Qdrant down, restarting, or a shard unavailable"},
	codes.DataLoss:           {retryOperator, "data_loss", "Qdrant reports corruption; an operator must look"},
	codes.Unauthenticated:    {retryOperator, "unauthenticated", "missing or wrong API key (qdrant.api_key)"},
}

// Qdrant metadata keys on error statuses.
const (
	// retryAfterKey carries the seconds to wait on a rate-limited
	// (ResourceExhausted) response.
	retryAfterKey = "retry-after"
	// insufficientStorageKey marks a ResourceExhausted that means a node
	// is out of disk, not a rate limit.
	insufficientStorageKey = "qdrant-insufficient-storage"
)

// maxRetryAfter bounds a server's retry-after hint, so a bogus value cannot
// park a partition for hours.
const maxRetryAfter = 5 * time.Minute

// verdict is the classification of one failed call.
type verdict struct {
	code   codes.Code
	rule   rule
	msg    string        // the server's message (the status message)
	after  time.Duration // retry-after hint; 0 when none
	detail string        // extra context for logs
}

// classify maps a failed call's error (and the trailer metadata the call
// received, which may be nil) to a verdict, using codeRules. It does not
// look at the caller's context: a caller whose context has ended returns
// ctx.Err() before classifying.
//
// The go-client turns a ResourceExhausted carrying retry-after into a
// *qdrant.QdrantResourceExhaustedError, which is not a gRPC status; it is
// recognised here by type. When the hint is only in the trailer (raw
// generated clients), it is read from there.
func classify(err error, trailer metadata.MD) verdict {
	var re *qdrant.QdrantResourceExhaustedError
	if errors.As(err, &re) {
		v := verdict{code: codes.ResourceExhausted, rule: codeRules[codes.ResourceExhausted], msg: re.Reason}
		v.after = clampRetryAfter(time.Duration(re.RetryAfterS) * time.Second)
		return v
	}
	st, _ := status.FromError(err)
	code := st.Code()
	r, ok := codeRules[code]
	if !ok {
		code = codes.Unknown
		r = codeRules[codes.Unknown]
	}
	v := verdict{code: code, rule: r, msg: st.Message()}
	if code == codes.ResourceExhausted {
		if len(trailer.Get(insufficientStorageKey)) > 0 {
			v.rule.action = retryOperator
			v.detail = "insufficient storage on a Qdrant node"
		}
		if d, ok := parseRetryAfter(trailer.Get(retryAfterKey)); ok {
			v.after = d
		}
	}
	return v
}

// parseRetryAfter reads a retry-after value: whole seconds, as Qdrant sends
// it (ceiled), or a Go duration ("1.5s") for tolerance. It reports false
// when absent or unparsable.
func parseRetryAfter(values []string) (time.Duration, bool) {
	if len(values) == 0 {
		return 0, false
	}
	s := strings.TrimSpace(values[0])
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return clampRetryAfter(time.Duration(n * float64(time.Second))), true
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return clampRetryAfter(d), true
	}
	return 0, false
}

func clampRetryAfter(d time.Duration) time.Duration {
	return max(0, min(d, maxRetryAfter))
}

// statusVerdict classifies a per-operation UpdateResult status of a call
// that itself succeeded. Only Completed means applied (wait=true);
// WaitTimeout means Qdrant accepted the operation but did not confirm it
// in time, which is retried like a deadline.
func statusVerdict(s qdrant.UpdateStatus) (verdict, bool) {
	switch s {
	case qdrant.UpdateStatus_Completed:
		return verdict{}, true
	case qdrant.UpdateStatus_WaitTimeout:
		return verdict{code: codes.DeadlineExceeded, rule: codeRules[codes.DeadlineExceeded],
			msg: "update not confirmed within the wait timeout"}, false
	default:
		return verdict{code: codes.Unknown, rule: codeRules[codes.Unknown],
			msg: "update status " + s.String() + " is not Completed although wait=true"}, false
	}
}
