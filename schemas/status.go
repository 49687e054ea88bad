package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
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
)

// ErrorCodes returns every error code, in the order above.
func ErrorCodes() []string {
	return []string{
		ErrInvalidCommand, ErrUnknownType, ErrUnsupported, ErrInvalidParameters,
		ErrCollectionNotFound, ErrTimeout, ErrCancelled, ErrNotFound, ErrNotCancellable,
		ErrUnavailable, ErrQdrant, ErrOptimizer, ErrInternal,
		ErrBackupNotFound, ErrChecksumMismatch, ErrStoreUnavailable, ErrTargetExists, ErrReplayGap,
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
	// Replica names the connector replica that published the event.
	Replica string    `json:"replica"`
	Time    time.Time `json:"time"`
}

// Encode returns the JSON value of s. Result must be valid JSON or empty.
func (s Status) Encode() ([]byte, error) {
	if len(s.Result) == 0 {
		s.Result = nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding status of %s: %w", s.CommandID, err)
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
