package schemas

import (
	"errors"
	"fmt"
)

// ErrorClass is the stable name of a kind of bad input. It is written to the
// DLQ header __connect.errors.exception.class.name and used as a metric
// label, so the set is small and never changes meaning.
type ErrorClass string

const (
	// ClassDecode: the value is not a well-formed record (invalid JSON,
	// wrong JSON types, a tombstone without a key).
	ClassDecode ErrorClass = "decode"
	// ClassValidate: well-formed but invalid (no id, unsafe id, empty
	// vector, NaN/Inf, sparse indices/values mismatch or duplicates,
	// payload not an object, wrong dimension or unknown vector name for
	// the collection).
	ClassValidate ErrorClass = "validate"
	// ClassOversize: the record is larger than record.max_bytes.
	ClassOversize ErrorClass = "oversize"
	// ClassSchema: the record names a Schema Registry schema that cannot
	// be used: an id the registry does not know, a schema that does not
	// parse, of another type than the value, or whose fields the
	// record.* names find with types that cannot hold their part.
	ClassSchema ErrorClass = "schema"
	// ClassUnknownCollection: the record routes to a collection that does
	// not exist in Qdrant.
	ClassUnknownCollection ErrorClass = "unknown_collection"
	// ClassQdrantRejected: Qdrant rejected the point as invalid (found by
	// bisecting a rejected batch).
	ClassQdrantRejected ErrorClass = "qdrant_rejected"
)

// Stage is where in the pipeline a record failed; written to the DLQ header
// kq.errors.stage.
type Stage string

const (
	StageDecode   Stage = "decode"
	StageValidate Stage = "validate"
	StageRoute    Stage = "route"
	StageWrite    Stage = "write"
)

// RecordError is a permanent error about one record: it goes to the DLQ (or
// stops the partition when there is no DLQ) and is never retried.
type RecordError struct {
	Class ErrorClass
	Stage Stage
	Err   error
}

func (e *RecordError) Error() string { return e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

// NewRecordError returns a RecordError with a formatted message.
func NewRecordError(class ErrorClass, stage Stage, format string, args ...any) *RecordError {
	return &RecordError{Class: class, Stage: stage, Err: fmt.Errorf(format, args...)}
}

// UnavailableError is a record that could not be decoded because a service
// the decoder needs (the Schema Registry) could not be asked. It is not the
// record's fault: retry the record until the service answers, never
// dead-letter it.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "schema registry unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// AsRecordError reports whether err is (or wraps) a RecordError.
func AsRecordError(err error) (*RecordError, bool) {
	var re *RecordError
	ok := errors.As(err, &re)
	return re, ok
}
