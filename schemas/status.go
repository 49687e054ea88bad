package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// State is where a command is in its life:
//
//	accepted ──► running ──► succeeded | failed | cancelled
//	    └──────────────────► failed | cancelled   (rejected, or cancelled while queued)
//
// running is published again for progress and when another replica resumes
// the command. Final states are never followed by another state.
type State string

// The states of the contract.
const (
	StateAccepted  State = "accepted"
	StateRunning   State = "running"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// States returns every state, in lifecycle order.
func States() []State {
	return []State{StateAccepted, StateRunning, StateSucceeded, StateFailed, StateCancelled}
}

// Final reports whether s ends the command (succeeded, failed, cancelled).
func (s State) Final() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCancelled
}

// Error codes of StatusError.Code. The set is stable: tools branch on it.
const (
	// ErrInvalidCommand: the value is not a command (invalid JSON, unknown
	// field, no or bad id, no type).
	ErrInvalidCommand = "invalid_command"
	// ErrUnknownType: the type is not a command type.
	ErrUnknownType = "unknown_type"
	// ErrUnsupported: a known type this build does not execute yet.
	ErrUnsupported = "unsupported"
	// ErrInvalidParameters: missing or invalid params, collection or target.
	ErrInvalidParameters = "invalid_parameters"
	// ErrCollectionNotFound: the collection does not exist in Qdrant.
	ErrCollectionNotFound = "collection_not_found"
	// ErrTimeout: the command's timeout parameter passed.
	ErrTimeout = "timeout"
	// ErrCancelled: the command was cancelled (state cancelled).
	ErrCancelled = "cancelled"
	// ErrNotFound: a cancel's target is not a command this replica runs.
	ErrNotFound = "not_found"
	// ErrNotCancellable: a cancel's target already ended otherwise.
	ErrNotCancellable = "not_cancellable"
	// ErrUnavailable: a dependency (Qdrant) kept failing transiently for
	// longer than the retry bound.
	ErrUnavailable = "unavailable"
	// ErrQdrant: Qdrant refused an operation.
	ErrQdrant = "qdrant_error"
	// ErrOptimizer: Qdrant's optimizer reports an error (collection red).
	ErrOptimizer = "optimizer_error"
	// ErrInternal: a bug or an unexpected failure in the runner.
	ErrInternal = "internal"
	// ErrUnauthorized: control.auth is configured and the command is
	// unsigned, badly signed, outside its issued_at window, or of a type
	// its key may not send. It did nothing; its status is published under
	// a generated kq-invalid-… id naming the record (Status.Record).
	ErrUnauthorized = "unauthorized"
)

// ErrorCodes returns every error code, in the order above.
func ErrorCodes() []string {
	return []string{
		ErrInvalidCommand, ErrUnknownType, ErrUnsupported, ErrInvalidParameters,
		ErrCollectionNotFound, ErrTimeout, ErrCancelled, ErrNotFound, ErrNotCancellable,
		ErrUnavailable, ErrQdrant, ErrOptimizer, ErrInternal,
		ErrBackupNotFound, ErrChecksumMismatch, ErrStoreUnavailable, ErrTargetExists, ErrReplayGap,
		ErrUnauthorized,
	}
}

// StatusError is the error of a failed (or cancelled) command.
type StatusError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

// Progress is how far a running command is. Done and Total count the
// command's own unit (vectors indexed, snapshots uploaded); Total is 0 when
// unknown. Data holds type-specific figures (for index_build: points,
// indexed_vectors, segments, status, optimizer).
type Progress struct {
	Done   int64           `json:"done"`
	Total  int64           `json:"total"`
	Detail string          `json:"detail,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// Status is one status event: the JSON value of a record on the status
// topic, whose key is CommandID (version 1, status.v1.schema.json). The
// topic is compacted, so the last event of a command is its state.
type Status struct {
	CommandID string      `json:"command_id"`
	Type      CommandType `json:"type"`
	// Collection is the command's collection, when it has one.
	Collection string          `json:"collection,omitempty"`
	State      State           `json:"state"`
	Progress   *Progress       `json:"progress"`
	Result     json.RawMessage `json:"result"`
	Error      *StatusError    `json:"error"`
	// Checkpoint is the state the command's handler saved to resume from
	// (type-specific JSON); running events of a command that saved one
	// carry the latest. It is never on a final event.
	Checkpoint json.RawMessage `json:"checkpoint,omitempty"`
	// Record names the control record a failed status answers when the
	// status is published under a generated kq-invalid-… id (the record
	// had no usable id, its id belongs to another command, or it was
	// unauthorized: control.auth).
	Record *RecordRef `json:"record,omitempty"`
	// Replica names the connector replica that published the event.
	Replica string    `json:"replica"`
	Time    time.Time `json:"time"`
}

// RecordRef is where a control record is, and the key and id it carried
// (clipped to MaxRefLength bytes).
type RecordRef struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key,omitempty"`
	ID        string `json:"id,omitempty"`
}

// Bounds of a status event. Kafka refuses records above the broker's
// message.max.bytes (1 MiB by default), so a status event is kept well
// below it whatever the command held: Encode clips the free-text fields
// (a malformed record's type, collection, key and the messages quoting
// them) and refuses an event still larger than MaxStatusBytes (a
// handler's oversized result or checkpoint).
const (
	MaxStatusBytes  = 256 << 10
	MaxRefLength    = 256
	maxTextLength   = 4 << 10
	maxDetailLength = 1 << 10
)

// Clip shortens s to at most n bytes (on a rune boundary), marking the cut
// with "…".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:max(cut, 0)] + "…"
}

// clip bounds the free-text fields of s.
func (s *Status) clip() {
	s.Type = CommandType(Clip(string(s.Type), MaxRefLength))
	s.Collection = Clip(s.Collection, MaxRefLength)
	s.Replica = Clip(s.Replica, MaxRefLength)
	if s.Error != nil {
		e := *s.Error
		e.Code = Clip(e.Code, MaxRefLength)
		e.Message = Clip(e.Message, maxTextLength)
		s.Error = &e
	}
	if s.Progress != nil {
		p := *s.Progress
		p.Detail = Clip(p.Detail, maxDetailLength)
		s.Progress = &p
	}
	if s.Record != nil {
		r := *s.Record
		r.Key, r.ID = Clip(r.Key, MaxRefLength), Clip(r.ID, MaxRefLength)
		s.Record = &r
	}
}

// ErrStatusTooLarge is returned by Encode for an event above
// MaxStatusBytes after clipping.
var ErrStatusTooLarge = errors.New("status event too large")

// Encode returns the JSON value of s with its free-text fields clipped.
// Result and Checkpoint must be valid JSON or empty. An event larger than
// MaxStatusBytes is an error wrapping ErrStatusTooLarge.
func (s Status) Encode() ([]byte, error) {
	if len(s.Result) == 0 {
		s.Result = nil
	}
	if len(s.Checkpoint) == 0 {
		s.Checkpoint = nil
	}
	s.clip()
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding status of %s: %w", s.CommandID, err)
	}
	if len(b) > MaxStatusBytes {
		return nil, fmt.Errorf("encoding status of %s: %d bytes, at most %d: %w", s.CommandID, len(b), MaxStatusBytes, ErrStatusTooLarge)
	}
	return b, nil
}

// DecodeStatus decodes a status event. Unknown fields are ignored (events
// from newer replicas stay readable); command_id, state and time are
// required and state must be known.
func DecodeStatus(value []byte) (Status, error) {
	var s Status
	if len(bytes.TrimSpace(value)) == 0 {
		return s, errors.New("status value is empty")
	}
	if err := json.Unmarshal(value, &s); err != nil {
		return s, fmt.Errorf("decoding status: %s", describeJSONError(err))
	}
	if bytes.Equal(bytes.TrimSpace(s.Result), []byte("null")) {
		s.Result = nil
	}
	if bytes.Equal(bytes.TrimSpace(s.Checkpoint), []byte("null")) {
		s.Checkpoint = nil
	}
	switch {
	case s.CommandID == "":
		return s, errors.New("status has no command_id")
	case s.Time.IsZero():
		return s, fmt.Errorf("status of %s has no time", s.CommandID)
	}
	for _, k := range States() {
		if s.State == k {
			return s, nil
		}
	}
	return s, fmt.Errorf("status of %s has unknown state %q", s.CommandID, s.State)
}
