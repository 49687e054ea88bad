package schemas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// CommandType names what a control command does. The set is the table of
// DESIGN.md ("Control commands and status events"); a type outside it is
// unknown and is answered with a failed status (code ErrUnknownType).
type CommandType string

// The command types of the contract.
const (
	CommandBackup        CommandType = "backup"
	CommandBackupStorage CommandType = "backup_storage"
	CommandRestore       CommandType = "restore"
	CommandListBackups   CommandType = "list_backups"
	CommandPruneBackups  CommandType = "prune_backups"
	CommandIndexDefer    CommandType = "index_defer"
	CommandIndexBuild    CommandType = "index_build"
	CommandCancel        CommandType = "cancel"
)

// CommandTypes returns every known command type, in the order of DESIGN.md.
func CommandTypes() []CommandType {
	return []CommandType{
		CommandBackup, CommandBackupStorage, CommandRestore, CommandListBackups,
		CommandPruneBackups, CommandIndexDefer, CommandIndexBuild, CommandCancel,
	}
}

// Known reports whether t is one of CommandTypes.
func (t CommandType) Known() bool {
	for _, k := range CommandTypes() {
		if t == k {
			return true
		}
	}
	return false
}

// needsCollection lists the types whose command must name a collection.
var needsCollection = map[CommandType]bool{
	CommandBackup: true, CommandRestore: true, CommandIndexDefer: true, CommandIndexBuild: true,
}

// Command is one control command: the JSON value of a record on the control
// topic, whose key is the command id (version 1, command.v1.schema.json).
//
//	{"id": "ib-movies-1", "type": "index_build", "collection": "movies",
//	 "params": {"m": 16, "timeout": "30m"}}
type Command struct {
	// ID identifies the command: status events are keyed by it and a
	// command whose id already reached a final state is not run again.
	// When the value has no id, the record key is the id.
	ID string `json:"id"`
	// Type is what to do; see CommandTypes.
	Type CommandType `json:"type"`
	// Collection is the target collection (required by backup, restore,
	// index_defer and index_build).
	Collection string `json:"collection,omitempty"`
	// Target is the id of the command a cancel stops.
	Target string `json:"target,omitempty"`
	// Params are the type's parameters, a JSON object; each type decodes
	// and validates its own (see IndexDeferParams, IndexBuildParams).
	Params json.RawMessage `json:"params,omitempty"`
	// IssuedAt is when the sender issued the command (RFC 3339). With
	// control.auth configured a command must carry it, inside the signed
	// value, and it must be within control.auth.window of the time the
	// command reached the control topic; without control.auth it is
	// informational.
	IssuedAt time.Time `json:"issued_at,omitzero"`
}

// MaxIDLength bounds a command id.
const MaxIDLength = 200

// idPattern is what a command id may look like: printable, no spaces or
// quotes, so ids are safe as Kafka keys, in logs, file names and shells.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@+=/-]*$`)

// CheckID reports whether id is a valid command id.
func CheckID(id string) error {
	switch {
	case id == "":
		return errors.New("id is empty")
	case len(id) > MaxIDLength:
		return fmt.Errorf("id is %d characters long, at most %d allowed", len(id), MaxIDLength)
	case !idPattern.MatchString(id):
		return fmt.Errorf("id %q has characters other than letters, digits and . _ : @ + = / - (or does not start with a letter or digit)", id)
	}
	return nil
}

// CommandError says why a command is rejected before it runs. Code is the
// status event's error.code (one of the Err* codes).
type CommandError struct {
	Code string
	Err  error
}

func (e *CommandError) Error() string { return e.Err.Error() }
func (e *CommandError) Unwrap() error { return e.Err }

func commandErrorf(code, format string, args ...any) *CommandError {
	return &CommandError{Code: code, Err: fmt.Errorf(format, args...)}
}

// DecodeCommand decodes and checks the record (key, value) of the control
// topic. It checks what is common to every type: the JSON shape (an object
// with no unknown fields), the id (value id, else the key; both set and
// different is an error), a non-empty type, and the collection or target the
// type needs. It does not check that the type is known nor the params: the
// executor does, with the type's handler.
//
// On error the returned Command holds whatever could be read (at least the
// id when one was found), so the caller can publish a failed status under
// that id; the error is a *CommandError with code ErrInvalidCommand.
func DecodeCommand(key, value []byte) (Command, error) {
	var c Command
	if len(bytes.TrimSpace(value)) == 0 {
		c.ID = keyID(key)
		return c, commandErrorf(ErrInvalidCommand, "command value is empty (a command is a JSON object)")
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		c = Command{ID: salvageID(value)}
		if c.ID == "" {
			c.ID = keyID(key)
		}
		msg := describeJSONError(err)
		if m := badIssuedAt(value); m != "" {
			msg = m
		}
		return c, commandErrorf(ErrInvalidCommand, "decoding command: %s", msg)
	}
	if _, err := dec.Token(); err != io.EOF {
		if CheckID(c.ID) != nil {
			c.ID = keyID(key)
		}
		return c, commandErrorf(ErrInvalidCommand, "decoding command: trailing data after the JSON object")
	}
	switch {
	case c.ID == "" && len(key) > 0:
		c.ID = string(key)
	case c.ID != "" && len(key) > 0 && c.ID != string(key):
		err := commandErrorf(ErrInvalidCommand, "record key %.60q differs from the command id %.60q (the key must be the id, or empty)", key, c.ID)
		if CheckID(c.ID) != nil {
			c.ID = ""
		}
		return c, err
	}
	if c.ID == "" {
		return c, commandErrorf(ErrInvalidCommand, "command has no id (set \"id\" or the record key)")
	}
	if err := CheckID(c.ID); err != nil {
		id := c.ID
		c.ID = ""
		return c, commandErrorf(ErrInvalidCommand, "invalid command id %.60q: %v", id, err)
	}
	if c.Type == "" {
		return c, commandErrorf(ErrInvalidCommand, "command %s has no type", c.ID)
	}
	if len(c.Params) > 0 && !isJSONObject(c.Params) {
		return c, commandErrorf(ErrInvalidParameters, "params must be a JSON object, got %s", jsonKind(c.Params))
	}
	if needsCollection[c.Type] && c.Collection == "" {
		return c, commandErrorf(ErrInvalidParameters, "%s needs a collection", c.Type)
	}
	if c.Type == CommandCancel {
		if c.Target == "" {
			return c, commandErrorf(ErrInvalidParameters, "cancel needs a target (the id of the command to cancel)")
		}
		if c.Target == c.ID {
			return c, commandErrorf(ErrInvalidParameters, "cancel %s targets itself", c.ID)
		}
	}
	return c, nil
}

// InvalidCommandID is the id a malformed control record's failed status is
// published under when the record has no usable id of its own (or its id
// belongs to another command): kq-invalid-<partition>-<offset>-<8 hex of
// SHA-256 over key, a zero byte and value>. Every replica computes the
// same id for a record, and so can the sender.
func InvalidCommandID(partition int32, offset int64, key, value []byte) string {
	h := sha256.New()
	h.Write(key)
	h.Write([]byte{0})
	h.Write(value)
	return fmt.Sprintf("kq-invalid-%d-%d-%s", partition, offset, hex.EncodeToString(h.Sum(nil)[:4]))
}

// keyID returns the record key as a command id when it is a valid one,
// else "" (the caller then uses a generated id: a key that is not an id,
// such as a megabyte of text, never becomes a status key).
func keyID(key []byte) string {
	if CheckID(string(key)) != nil {
		return ""
	}
	return string(key)
}

// salvageID returns the "id" string of a value that is a JSON object but
// failed strict decoding (an unknown field, a wrong type elsewhere), so
// the failed status can carry the id the operator chose. It returns ""
// when there is no usable id.
func salvageID(value []byte) string {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(value, &probe) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(probe.ID, &id) != nil || CheckID(id) != nil {
		return ""
	}
	return id
}

// badIssuedAt says what is wrong with the "issued_at" of a value that
// failed to decode, or "" when issued_at is absent or fine.
func badIssuedAt(value []byte) string {
	var probe struct {
		IssuedAt json.RawMessage `json:"issued_at"`
	}
	if json.Unmarshal(value, &probe) != nil || probe.IssuedAt == nil {
		return ""
	}
	var t time.Time
	if json.Unmarshal(probe.IssuedAt, &t) == nil {
		return ""
	}
	return fmt.Sprintf("field \"issued_at\" must be an RFC 3339 time such as \"2026-11-29T06:00:00Z\", got %.60s", probe.IssuedAt)
}

// describeJSONError turns encoding/json errors into messages that name the
// field and what was expected.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("a command is a JSON object, got %s", typ.Value)
		}
		return fmt.Sprintf("field %q must be %s, got %s", typ.Field, jsonTypeName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "invalid JSON: unexpected end of input"
	}
	return err.Error()
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

func isJSONObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	return jsonKindOf(t[0])
}

// DecodeParams decodes c.Params strictly (unknown parameters are an error)
// into dst; absent params leave dst unchanged. The error is a
// *CommandError with code ErrInvalidParameters.
func (c Command) DecodeParams(dst any) error {
	if len(c.Params) == 0 || bytes.Equal(bytes.TrimSpace(c.Params), []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.Params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return commandErrorf(ErrInvalidParameters, "%s params: %s", c.Type, describeParamError(err))
	}
	return nil
}

func describeParamError(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fmt.Sprintf("%q must be %s, got %s", typ.Field, jsonTypeName(typ.Type.Kind().String()), typ.Value)
	}
	return describeJSONError(err)
}
