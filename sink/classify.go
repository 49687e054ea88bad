package sink

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Action is what a failed Qdrant call means for a caller, over gRPC
// (Classify) and REST (RESTError.Action). The writer acts on every value;
// the control plane's handlers map them to a command's policy (one table,
// control/job's QdrantPolicy): retry ActionRetry within a bound, fail at
// once on the rest, with a retryable error when only an operator can fix
// it (ActionRetryOperator, ActionRetryCollection).
type Action uint8

const (
	// ActionRetry: the failure fixes itself (Qdrant restarting, shard
	// moving, rate limit, timeout); retry with backoff, log at WARN.
	ActionRetry Action = iota + 1
	// ActionRetryOperator: the failure is permanent until an operator acts
	// (bad API key, missing permission, disk full, a server that lacks the
	// method). It is not the data's fault, so the data must not go to the
	// DLQ: retry with backoff and log at ERROR so someone fixes it.
	ActionRetryOperator
	// ActionRetryCollection: Qdrant refused the request for a reason that
	// holds for every request to the collection (strict-mode limits
	// answered as InvalidArgument). It is not the data's fault either:
	// re-read the collection's config (the limit may have changed, an
	// index may be missing), retry with backoff and log at ERROR.
	ActionRetryCollection
	// ActionReject: Qdrant refused the request as invalid (InvalidArgument)
	// or the collection is gone (NotFound). Retrying the same request
	// cannot succeed; the writer re-checks the records against the
	// collection's config and bisects the rest to find the bad ones.
	ActionReject
	// ActionSplit: the request is too large for gRPC's message limit or
	// for a proxy in front of Qdrant; send it in halves.
	ActionSplit
)

func (a Action) String() string {
	switch a {
	case ActionRetry:
		return "retry"
	case ActionRetryOperator:
		return "retry_operator"
	case ActionRetryCollection:
		return "retry_collection"
	case ActionReject:
		return "reject"
	case ActionSplit:
		return "split"
	}
	return "unknown"
}

// Retryable reports whether the same call may succeed later without
// changing it: every action but ActionReject and ActionSplit.
func (a Action) Retryable() bool {
	return a == ActionRetry || a == ActionRetryOperator || a == ActionRetryCollection
}

// Rule is one row of the classification table.
type Rule struct {
	Action Action
	// Class is the gRPC code name in snake case, or the name of a condition
	// recognised by its message (strict_mode, request_too_large): the
	// value of the class label of kafka_qdrant_retries_total.
	Class string
	// Reason says, for logs and reviewers, why the failure gets this
	// action and where Qdrant produces it.
	Reason string
}

// codeRules is THE classification table: every gRPC code a Qdrant call can
// end with, and what the writer does about it; messageRules refine it for
// conditions Qdrant tells apart only in the message. Qdrant's mapping is
// StorageError -> tonic::Code in lib/storage/src/content_manager/conversions.rs
// (BadInput/BadRequest/InferenceError -> InvalidArgument, NotFound ->
// NotFound, ServiceError -> Internal, Locked/PreconditionFailed ->
// FailedPrecondition, Timeout -> DeadlineExceeded, RateLimitExceeded and
// InsufficientStorage -> ResourceExhausted, ShardUnavailable -> Unavailable,
// StandaloneMode -> Unimplemented, Forbidden -> PermissionDenied,
// ChecksumMismatch -> DataLoss) plus src/tonic/auth.rs (Unauthenticated,
// PermissionDenied). Codes not listed classify as Unknown.
var codeRules = map[codes.Code]Rule{
	codes.Canceled:           {ActionRetry, "canceled", "cancelled by the server or a proxy while our context is alive"},
	codes.Unknown:            {ActionRetry, "unknown", "not a gRPC status (connection-level or unclassified failure)"},
	codes.InvalidArgument:    {ActionReject, "invalid_argument", "Qdrant BadInput/BadRequest: the request holds an invalid point"},
	codes.DeadlineExceeded:   {ActionRetry, "deadline_exceeded", "our per-call timeout or Qdrant's operation Timeout"},
	codes.NotFound:           {ActionReject, "not_found", "the collection does not exist (deleted meanwhile)"},
	codes.AlreadyExists:      {ActionRetryOperator, "already_exists", "not produced by point writes; a server or proxy problem"},
	codes.PermissionDenied:   {ActionRetryOperator, "permission_denied", "the API key lacks write access to the collection"},
	codes.ResourceExhausted:  {ActionRetry, "resource_exhausted", "Qdrant rate limiting (retry-after) or a full disk"},
	codes.FailedPrecondition: {ActionRetry, "failed_precondition", "Qdrant write lock (Locked) or a transient cluster precondition"},
	codes.Aborted:            {ActionRetry, "aborted", "aborted by the server; safe to retry"},
	codes.OutOfRange:         {ActionRetryOperator, "out_of_range", "not produced by point writes; a server or proxy problem"},
	codes.Unimplemented:      {ActionRetryOperator, "unimplemented", "the server does not support the method (version mismatch)"},
	codes.Internal:           {ActionRetry, "internal", "Qdrant ServiceError (storage or consensus trouble)"},
	codes.Unavailable:        {ActionRetry, "unavailable", "Qdrant down, restarting, or a shard unavailable"},
	codes.DataLoss:           {ActionRetryOperator, "data_loss", "Qdrant reports corruption; an operator must look"},
	codes.Unauthenticated:    {ActionRetryOperator, "unauthenticated", "missing or wrong API key (qdrant.api_key)"},
}

// messageRule refines codeRules: a status with code whose message contains
// text gets rule instead.
type messageRule struct {
	code codes.Code
	text string
	rule Rule
}

// Strict mode's collection-wide refusals: Qdrant v1.18.3 answers them as
// StorageError::BadRequest ("Bad request: ...", InvalidArgument), the same
// code as a bad point, and tells them apart only in the text. Each holds
// for every write to the collection until its config or state changes, so
// none of them says anything about the records.
const strictModeReason = "strict mode refuses writes to the whole collection until its config or state changes"

// messageRules, checked in order before codeRules. Texts are Qdrant
// v1.18.3's (lib/collection/src/operations/verification/mod.rs and
// update.rs, src/common/update.rs) and grpc-go v1.81's (rpc_util.go,
// stream.go, internal/transport/http2_client.go).
var messageRules = []messageRule{
	// check_limit_opt: `Limit exceeded {value} > {limit} for "{name}"`.
	// The writer cuts upsert operations to the limit and caps the request
	// timeout; seeing these again means the limit was lowered meanwhile.
	{codes.InvalidArgument, `for "upsert limit"`, Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": upsert_max_batchsize"}},
	{codes.InvalidArgument, `for "timeout"`, Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": max_timeout"}},
	// check_request_filter / check_filter_limits: fenced deletes filter on
	// _kq_offset, which the writer indexes.
	{codes.InvalidArgument, "Index required but not found for", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": unindexed_filtering_update needs a payload index"}},
	{codes.InvalidArgument, "Filter condition limit reached", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": filter_max_conditions"}},
	{codes.InvalidArgument, "Condition size limit reached", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": condition_max_size"}},
	// check_collection_size_limit, check_resident_memory, check_disk_usage.
	{codes.InvalidArgument, "Max points count limit of", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": max_points_count reached"}},
	{codes.InvalidArgument, "Max vector storage size limit of", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": max_collection_vector_size_bytes reached"}},
	{codes.InvalidArgument, "Max payload storage size limit of", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": max_collection_payload_size_bytes reached"}},
	{codes.InvalidArgument, "Resident memory usage is at", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": max_resident_memory_percent reached"}},
	{codes.InvalidArgument, "Disk usage is at", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": max_disk_usage_percent reached"}},
	{codes.InvalidArgument, "Collection already has the maximum number of payload indices", Rule{ActionRetryCollection, "strict_mode", strictModeReason + ": max_payload_index_count"}},
	// grpc-go's own limit ("trying to send message larger than max"), a
	// gRPC server's or proxy's ("grpc: received message larger than max").
	// Qdrant's gRPC server itself has none (src/tonic/mod.rs).
	{codes.ResourceExhausted, "message larger than max", Rule{ActionSplit, "request_too_large", "the request exceeds a gRPC message limit (ours or a proxy's)"}},
	// An HTTP proxy refusing the body (nginx client_max_body_size, envoy):
	// grpc-go maps a 413 to Unknown "unexpected HTTP status code received
	// from server: 413 (Request Entity Too Large)".
	{codes.Unknown, "received from server: 413 ", Rule{ActionSplit, "request_too_large", "a proxy in front of Qdrant refused the request body as too large (HTTP 413)"}},
	{codes.Unknown, "Payload Too Large", Rule{ActionSplit, "request_too_large", "a proxy in front of Qdrant refused the request body as too large (HTTP 413)"}},
}

// limitPattern reads check_limit_opt's message.
var limitPattern = regexp.MustCompile(`Limit exceeded (\d+) > (\d+) for "([^"]+)"`)

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

// Verdict is the classification of one failed Qdrant call.
type Verdict struct {
	Code codes.Code
	Rule
	// Message is the server's message (the status message).
	Message string
	// RetryAfter is Qdrant's retry-after hint; 0 when none.
	RetryAfter time.Duration
	// Detail is extra context for logs.
	Detail string
	// LimitName and Limit are the strict-mode limit a refusal names
	// (`Limit exceeded 12 > 10 for "upsert limit"`: "upsert limit", 10);
	// empty and 0 otherwise.
	LimitName string
	Limit     uint64
}

// Classify maps a failed Qdrant call's error (and the trailer metadata the
// call received, which may be nil) to a Verdict, using messageRules, then
// codeRules. It does not look at the caller's context: a caller whose
// context has ended returns ctx.Err() before classifying.
//
// The go-client turns a ResourceExhausted carrying retry-after into a
// *qdrant.QdrantResourceExhaustedError, which is not a gRPC status; it is
// recognised here by type. When the hint is only in the trailer (raw
// generated clients), it is read from there.
func Classify(err error, trailer metadata.MD) Verdict {
	var re *qdrant.QdrantResourceExhaustedError
	if errors.As(err, &re) {
		v := Verdict{Code: codes.ResourceExhausted, Rule: codeRules[codes.ResourceExhausted], Message: re.Reason}
		v.RetryAfter = clampRetryAfter(time.Duration(re.RetryAfterS) * time.Second)
		return v
	}
	st, _ := status.FromError(err)
	code := st.Code()
	r, ok := codeRules[code]
	if !ok {
		code = codes.Unknown
		r = codeRules[codes.Unknown]
	}
	v := Verdict{Code: code, Rule: r, Message: st.Message()}
	for _, mr := range messageRules {
		if mr.code == code && strings.Contains(v.Message, mr.text) {
			v.Rule = mr.rule
			break
		}
	}
	if m := limitPattern.FindStringSubmatch(v.Message); m != nil && v.Action == ActionRetryCollection {
		if n, err := strconv.ParseUint(m[2], 10, 64); err == nil {
			v.LimitName, v.Limit = m[3], n
		}
	}
	if code == codes.ResourceExhausted && v.Action != ActionSplit {
		if len(trailer.Get(insufficientStorageKey)) > 0 {
			v.Action = ActionRetryOperator
			v.Detail = "insufficient storage on a Qdrant node"
		}
		if d, ok := parseRetryAfter(trailer.Get(retryAfterKey)); ok {
			v.RetryAfter = d
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
func statusVerdict(s qdrant.UpdateStatus) (Verdict, bool) {
	switch s {
	case qdrant.UpdateStatus_Completed:
		return Verdict{}, true
	case qdrant.UpdateStatus_WaitTimeout:
		return Verdict{Code: codes.DeadlineExceeded, Rule: codeRules[codes.DeadlineExceeded],
			Message: "update not confirmed within the wait timeout"}, false
	default:
		return Verdict{Code: codes.Unknown, Rule: codeRules[codes.Unknown],
			Message: "update status " + s.String() + " is not Completed although wait=true"}, false
	}
}

// resultsVerdict checks that a successful UpdateBatch answered one result
// per operation, each Completed. A shorter (or longer) result list is an
// error, never a success: nothing says which operations were applied.
func resultsVerdict(resp *qdrant.UpdateBatchResponse, operations int) (Verdict, bool) {
	if n := len(resp.GetResult()); n != operations {
		return Verdict{Code: codes.Unknown, Rule: codeRules[codes.Unknown],
			Message: fmt.Sprintf("qdrant answered %d results for %d operations", n, operations)}, false
	}
	for _, r := range resp.GetResult() {
		if v, ok := statusVerdict(r.GetStatus()); !ok {
			return v, false
		}
	}
	return Verdict{}, true
}
