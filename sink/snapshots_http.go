package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// RESTError is a non-2xx answer of Qdrant's REST API: the HTTP status and
// Qdrant's message (the "status.error" of a JSON ApiResponse, or the plain
// text actix sends for extractor and download errors).
type RESTError struct {
	// Op says what was being done ("creating snapshot of movies").
	Op     string
	Status int
	// Message is Qdrant's error text.
	Message string
	// RetryAfter is the Retry-After hint of a 429, zero when none.
	RetryAfter time.Duration
}

func (e *RESTError) Error() string {
	return fmt.Sprintf("%s: qdrant answered %d: %s", e.Op, e.Status, e.Message)
}

// Action is what the status means, in the vocabulary of the gRPC table
// (codeRules): ActionRetry for a failure that fixes itself,
// ActionRetryOperator for one only an operator can fix (401, 403: the data
// path would retry it and log at ERROR), ActionReject or ActionSplit for a
// request that cannot succeed as it is (restStatusRules).
func (e *RESTError) Action() Action { return statusRule(e.Status).action }

// Retryable reports whether sending the same request again may succeed
// without anyone acting: the status's Action is ActionRetry.
func (e *RESTError) Retryable() bool { return e.Action() == ActionRetry }

// Reason says why the status has its Action (restStatusRules).
func (e *RESTError) Reason() string { return statusRule(e.Status).reason }

// restRule is one row of restStatusRules.
type restRule struct {
	action Action
	reason string
}

// restStatusRules is THE classification of Qdrant REST answers, the HTTP
// twin of codeRules, with the same actions. Qdrant maps StorageError to
// HTTP statuses in src/actix/helpers.rs (v1.18.3): BadInput, BadRequest,
// ChecksumMismatch, InferenceError → 400; NotFound → 404; ServiceError,
// PreconditionFailed → 500; Locked, Forbidden → 403; Timeout → 408;
// AlreadyExists → 409; RateLimitExceeded → 429 (Retry-After);
// ShardUnavailable → 503; request validation → 422 (src/actix/mod.rs);
// authentication → 401 (src/actix/auth.rs); multipart extractor errors →
// 400/415. Statuses not listed: 5xx ActionRetry, others ActionReject.
var restStatusRules = map[int]restRule{
	http.StatusBadRequest:            {ActionReject, "Qdrant refused the request (bad input, checksum mismatch, unsupported location)"},
	http.StatusUnauthorized:          {ActionRetryOperator, "missing or wrong API key (qdrant.api_key): an operator must act"},
	http.StatusForbidden:             {ActionRetryOperator, "forbidden by Qdrant's configuration or the key's access (URL recovery disabled, storage locked, path outside snapshots dir): an operator must act"},
	http.StatusNotFound:              {ActionReject, "the collection or snapshot does not exist"},
	http.StatusRequestTimeout:        {ActionRetry, "Qdrant's operation timed out"},
	http.StatusConflict:              {ActionReject, "already exists"},
	http.StatusRequestEntityTooLarge: {ActionSplit, "the request is larger than Qdrant (or a proxy in front of it) accepts"},
	http.StatusUnsupportedMediaType:  {ActionReject, "wrong content type (a client bug)"},
	http.StatusUnprocessableEntity:   {ActionReject, "Qdrant's request validation failed"},
	http.StatusTooManyRequests:       {ActionRetry, "rate limited (Retry-After)"},
	http.StatusInternalServerError:   {ActionRetry, "Qdrant service error (storage or consensus trouble)"},
	http.StatusBadGateway:            {ActionRetry, "a proxy in front of Qdrant failed"},
	http.StatusServiceUnavailable:    {ActionRetry, "Qdrant down, restarting, or a shard unavailable"},
	http.StatusGatewayTimeout:        {ActionRetry, "a proxy in front of Qdrant timed out"},
}

func statusRule(status int) restRule {
	if r, ok := restStatusRules[status]; ok {
		return r
	}
	if status >= 500 {
		return restRule{ActionRetry, "server error"}
	}
	return restRule{ActionReject, "unexpected status"}
}

// RetryableREST reports whether err, returned by a SnapshotClient call, may
// succeed when the call is repeated without anyone acting: a RESTError
// whose Action is ActionRetry, or a transport failure (connection refused
// or reset, timeout, a response cut short). Context cancellation is not
// retryable.
func RetryableREST(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var re *RESTError
	if errors.As(err, &re) {
		return re.Retryable()
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errStalled) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// StatusOf returns the HTTP status of a RESTError in err's chain, or 0.
func StatusOf(err error) int {
	var re *RESTError
	if errors.As(err, &re) {
		return re.Status
	}
	return 0
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// ReadRESTError reads a non-2xx answer of Qdrant's REST API (Qdrant's
// status.error or the plain text body, Retry-After) into a RESTError,
// whose Retryable is the one REST classification.
func ReadRESTError(op string, resp *http.Response) *RESTError { return restError(op, resp) }

// restError reads an error answer into a RESTError.
func restError(op string, resp *http.Response) *RESTError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &RESTError{Op: op, Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
	var body struct {
		Status json.RawMessage `json:"status"`
	}
	if json.Unmarshal(b, &body) == nil && len(body.Status) > 0 {
		var st struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body.Status, &st) == nil && st.Error != "" {
			e.Message = st.Error
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.RetryAfter = clampRetryAfter(time.Duration(s) * time.Second)
	}
	return e
}

// decodeResult decodes the "result" of an ApiResponse into v (nil: ignore it).
func decodeResult(op string, body io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: reading answer: %w", op, err)
	}
	var r struct {
		Result json.RawMessage `json:"result"`
		Status json.RawMessage `json:"status"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return fmt.Errorf("%s: decoding answer %.200q: %w", op, b, err)
	}
	if v == nil {
		return nil
	}
	dec = json.NewDecoder(bytes.NewReader(r.Result))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: decoding result %.200q: %w", op, r.Result, err)
	}
	return nil
}

// errStalled is a download that received no byte for the stall timeout.
var errStalled = errors.New("no data received within the stall timeout")

// stallReader fails a body read that makes no progress for d: it cancels
// the request (through cancel) and reports errStalled. Every read that
// returns data resets the timer. It stops the timer on Close.
type stallReader struct {
	body   io.ReadCloser
	timer  *time.Timer
	d      time.Duration
	cancel context.CancelFunc
	fired  atomic.Bool
}

func newStallReader(body io.ReadCloser, d time.Duration, cancel context.CancelFunc) *stallReader {
	sr := &stallReader{body: body, d: d, cancel: cancel}
	sr.timer = time.AfterFunc(d, func() {
		sr.fired.Store(true)
		cancel()
	})
	return sr
}

func (sr *stallReader) Read(p []byte) (int, error) {
	n, err := sr.body.Read(p)
	if sr.fired.Load() {
		if err != nil && err != io.EOF {
			return n, fmt.Errorf("%w (%s)", errStalled, sr.d)
		}
		return n, err
	}
	if n > 0 {
		sr.timer.Reset(sr.d)
	}
	return n, err
}

func (sr *stallReader) Close() error {
	sr.timer.Stop()
	err := sr.body.Close()
	sr.cancel()
	return err
}
