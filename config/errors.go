package config

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem with one configuration key.
type FieldError struct {
	// Key is the dotted key path, e.g. "kafka.brokers" or
	// "routing.topics.orders".
	Key string
	// Msg says what is wrong, e.g. "must not be empty".
	Msg string
}

// Error returns "key: msg".
func (e FieldError) Error() string { return e.Key + ": " + e.Msg }

// ValidationError lists every problem found in a configuration, in a
// deterministic order. It is returned by Validate, and by Load for unknown
// keys and unparsable values. errors.As finds each FieldError through Unwrap.
type ValidationError []FieldError

// Error returns the problems joined by newlines.
func (v ValidationError) Error() string {
	msgs := make([]string, len(v))
	for i, e := range v {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the FieldErrors, for errors.As and errors.Is.
func (v ValidationError) Unwrap() []error {
	errs := make([]error, len(v))
	for i, e := range v {
		errs[i] = e
	}
	return errs
}

// Keys returns the key of every problem, in order (a key may repeat).
func (v ValidationError) Keys() []string {
	keys := make([]string, len(v))
	for i, e := range v {
		keys[i] = e.Key
	}
	return keys
}

// errorList collects FieldErrors.
type errorList struct{ errs ValidationError }

func (l *errorList) add(key, format string, args ...any) {
	l.errs = append(l.errs, FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil or the collected errors; sorted by key when sorted is set
// (for errors found by walking maps in random order), otherwise in the order
// found.
func (l *errorList) err(sorted bool) error {
	if len(l.errs) == 0 {
		return nil
	}
	if sorted {
		sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Key < l.errs[j].Key })
	}
	return l.errs
}
