package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// The Kafka headers of a signed command.
const (
	// HeaderKey is the id of the key that signed the command.
	HeaderKey = "kq.auth.key"
	// HeaderSignature is the lower- or upper-case hex HMAC-SHA256 of the
	// record value with the key's secret.
	HeaderSignature = "kq.auth.signature"
)

// Reason is why a command is unauthorized; a small fixed set, used as a
// metric label.
type Reason string

// The reasons.
const (
	ReasonUnsigned     Reason = "unsigned"      // no kq.auth.key or kq.auth.signature header
	ReasonUnknownKey   Reason = "unknown_key"   // the key id is not in control.auth.keys
	ReasonBadSignature Reason = "bad_signature" // the signature does not match the value
	ReasonIncomplete   Reason = "incomplete"    // the signed value lacks its id or issued_at
	ReasonExpired      Reason = "expired"       // issued_at outside control.auth.window
	ReasonNotPermitted Reason = "not_permitted" // the key may not send this type
)

// Reasons returns every Reason.
func Reasons() []Reason {
	return []Reason{ReasonUnsigned, ReasonUnknownKey, ReasonBadSignature, ReasonIncomplete, ReasonExpired, ReasonNotPermitted}
}

// Error is an authorization failure. Its message names the key id and the
// reason, never a secret or a signature.
type Error struct {
	Reason Reason
	// Key is the key id the record named ("" when none), clipped.
	Key string
	Msg string
}

func (e *Error) Error() string { return e.Msg }

func errorf(reason Reason, key, format string, args ...any) *Error {
	return &Error{Reason: reason, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Sign returns the hex HMAC-SHA256 of value with secret: the value of the
// kq.auth.signature header. The shell equivalent is
//
//	printf '%s' "$value" | openssl dgst -sha256 -hmac "$secret" | awk '{print $NF}'
func Sign(secret, value []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(value)
	return hex.EncodeToString(m.Sum(nil))
}

type key struct {
	secret []byte
	all    bool // may send every type
	types  []schemas.CommandType
}

// Verifier checks commands against control.auth. It is safe for
// concurrent use (it is never modified after New).
type Verifier struct {
	keys   map[string]key
	window time.Duration
}

// New builds the Verifier of cfg, or returns nil when cfg has no keys
// (commands need no signature). cfg must have passed config validation;
// New re-checks what it relies on.
func New(cfg config.ControlAuth) (*Verifier, error) {
	if len(cfg.Keys) == 0 {
		return nil, nil
	}
	if cfg.Window <= 0 {
		return nil, fmt.Errorf("control.auth.window must be > 0, got %s", cfg.Window)
	}
	v := &Verifier{keys: make(map[string]key, len(cfg.Keys)), window: cfg.Window}
	for id, s := range cfg.Keys {
		k := key{secret: []byte(s.Reveal())}
		if spec, ok := cfg.Commands[id]; ok {
			types, err := config.ParseAuthCommands(spec)
			if err != nil {
				return nil, fmt.Errorf("control.auth.commands.%s: %w", id, err)
			}
			k.all, k.types = types == nil, types
		}
		v.keys[id] = k
	}
	return v, nil
}

// Idle returns the ids of the keys that may send no command type (they
// have no control.auth.commands entry), sorted.
func (v *Verifier) Idle() []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(v.keys)) {
		if k := v.keys[id]; !k.all && len(k.types) == 0 {
			out = append(out, id)
		}
	}
	return out
}

// Verify checks the signature headers against the record value and
// returns the id of the key that signed it.
func (v *Verifier) Verify(headers []kgo.RecordHeader, value []byte) (string, error) {
	var keyID, sig []byte
	var haveKey, haveSig bool
	for _, h := range headers {
		switch h.Key {
		case HeaderKey:
			keyID, haveKey = h.Value, true
		case HeaderSignature:
			sig, haveSig = h.Value, true
		}
	}
	if !haveKey || !haveSig {
		return "", errorf(ReasonUnsigned, schemas.Clip(string(keyID), 64),
			"command is not signed: control.auth requires the headers %s (key id) and %s (hex HMAC-SHA256 of the record value)", HeaderKey, HeaderSignature)
	}
	id := string(keyID)
	k, ok := v.keys[id]
	if !ok {
		return "", errorf(ReasonUnknownKey, schemas.Clip(id, 64), "command signed with unknown key %.64q", id)
	}
	got, err := hex.DecodeString(string(bytes.TrimSpace(sig)))
	if err != nil || len(got) != sha256.Size {
		return "", errorf(ReasonBadSignature, id, "signature of key %q is not 64 hex digits", id)
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write(value)
	if !hmac.Equal(got, m.Sum(nil)) {
		return "", errorf(ReasonBadSignature, id, "signature of key %q does not match the record value (it must be the HMAC-SHA256 of the value exactly as sent)", id)
	}
	return id, nil
}

// Permit checks the command c decoded from the signed value: its id and
// issued_at must be in the value (so the signature covers them) and its
// type one the key may send.
func (v *Verifier) Permit(keyID string, c schemas.Command, value []byte) error {
	if valueID(value) != c.ID {
		return errorf(ReasonIncomplete, keyID, "signed command must carry its id in the value (\"id\": %q), not only in the record key", c.ID)
	}
	if c.IssuedAt.IsZero() {
		return errorf(ReasonIncomplete, keyID, "signed command %s has no issued_at (RFC 3339, in the value)", c.ID)
	}
	k := v.keys[keyID]
	if k.all || slices.Contains(k.types, c.Type) {
		return nil
	}
	may := "no command type"
	if len(k.types) > 0 {
		s := make([]string, len(k.types))
		for i, t := range k.types {
			s[i] = string(t)
		}
		may = strings.Join(s, ", ")
	}
	return errorf(ReasonNotPermitted, keyID, "key %q may not send %.60q (it may send: %s)", keyID, c.Type, may)
}

// Fresh checks that c's issued_at is within the window of at, the time
// the command reached the control topic (see RecordTime).
func (v *Verifier) Fresh(keyID string, c schemas.Command, at time.Time) error {
	d := at.Sub(c.IssuedAt)
	if d > v.window || d < -v.window {
		return errorf(ReasonExpired, keyID, "command %s was issued at %s, %s from the time it reached the control topic (%s); control.auth.window is %s",
			c.ID, c.IssuedAt.UTC().Format(time.RFC3339), absDur(d).Round(time.Second), at.UTC().Format(time.RFC3339), v.window)
	}
	return nil
}

// RecordTime is the time a control record reached the topic: its
// timestamp when the broker set it (the topic has
// message.timestamp.type=LogAppendTime, as kafka-qdrant creates it), so a
// command waiting in the topic or delivered again is judged by when it
// arrived; else now (a producer's CreateTime could be anything).
func RecordTime(rec *kgo.Record, now time.Time) time.Time {
	if rec.Attrs.TimestampType() == 1 && !rec.Timestamp.IsZero() {
		return rec.Timestamp
	}
	return now
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// valueID is the "id" string of a JSON object value, or "".
func valueID(value []byte) string {
	var probe struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(value, &probe) != nil {
		return ""
	}
	return probe.ID
}
