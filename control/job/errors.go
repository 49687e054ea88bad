package job

import (
	"errors"
	"fmt"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Error is a command failure with the status event's error code (one of
// the schemas.Err* codes) and whether sending the command again may help.
type Error struct {
	Code      string
	Retryable bool
	Err       error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message (%w wraps).
func Errorf(code string, retryable bool, format string, args ...any) *Error {
	return &Error{Code: code, Retryable: retryable, Err: fmt.Errorf(format, args...)}
}

// StatusErrorOf turns any error into a status error: a *Error keeps its
// code and retryability, a *schemas.CommandError its code, anything else is
// code fallback (not retryable).
func StatusErrorOf(err error, fallback string) *schemas.StatusError {
	var je *Error
	if errors.As(err, &je) {
		return &schemas.StatusError{Code: je.Code, Message: err.Error(), Retryable: je.Retryable}
	}
	var ce *schemas.CommandError
	if errors.As(err, &ce) {
		return &schemas.StatusError{Code: ce.Code, Message: err.Error()}
	}
	return &schemas.StatusError{Code: fallback, Message: err.Error()}
}
