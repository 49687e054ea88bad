package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

const (
	opsSecret = "ops-secret-0123456789abcdef0123456789"
	ciSecret  = "ci-secret-0123456789abcdef01234567890"
)

func testVerifier(t testing.TB) *Verifier {
	v, err := New(config.ControlAuth{
		Keys:     map[string]config.Secret{"ops": opsSecret, "ci": ciSecret, "ro": "ro-secret-0123456789abcdef0123456789"},
		Commands: map[string]string{"ops": "*", "ci": "index_defer, index_build"},
		Window:   5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSignKnownVector pins the signature to HMAC-SHA256 as RFC 4231
// defines it (test case 2), so ctl, the runner and `openssl dgst -hmac`
// agree.
func TestSignKnownVector(t *testing.T) {
	got := Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	if want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func headers(key, sig string) []kgo.RecordHeader {
	var hs []kgo.RecordHeader
	if key != "-" {
		hs = append(hs, kgo.RecordHeader{Key: HeaderKey, Value: []byte(key)})
	}
	if sig != "-" {
		hs = append(hs, kgo.RecordHeader{Key: HeaderSignature, Value: []byte(sig)})
	}
	return hs
}

func TestVerify(t *testing.T) {
	v := testVerifier(t)
	value := []byte(`{"id":"b1","type":"index_build","collection":"m","issued_at":"2026-11-29T06:00:00Z"}`)
	good := Sign([]byte(ciSecret), value)
	tests := []struct {
		name    string
		headers []kgo.RecordHeader
		value   []byte
		reason  Reason // "" = ok
		msg     string
	}{
		{name: "signed", headers: headers("ci", good), value: value},
		{name: "upper-case hex", headers: headers("ci", strings.ToUpper(good)), value: value},
		{name: "no headers", value: value, reason: ReasonUnsigned, msg: "not signed"},
		{name: "key without signature", headers: headers("ci", "-"), value: value, reason: ReasonUnsigned},
		{name: "signature without key", headers: headers("-", good), value: value, reason: ReasonUnsigned},
		{name: "unknown key", headers: headers("admin", good), value: value, reason: ReasonUnknownKey, msg: `unknown key "admin"`},
		{name: "other key's secret", headers: headers("ops", good), value: value, reason: ReasonBadSignature, msg: "does not match"},
		{name: "value changed", headers: headers("ci", good), value: []byte(strings.Replace(string(value), "b1", "b2", 1)), reason: ReasonBadSignature},
		{name: "trailing newline", headers: headers("ci", good), value: append(append([]byte{}, value...), '\n'), reason: ReasonBadSignature},
		{name: "not hex", headers: headers("ci", "zz"+good[2:]), value: value, reason: ReasonBadSignature, msg: "64 hex digits"},
		{name: "short", headers: headers("ci", good[:62]), value: value, reason: ReasonBadSignature},
		{name: "empty", headers: headers("ci", ""), value: value, reason: ReasonBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := v.Verify(tc.headers, tc.value)
			if tc.reason == "" {
				if err != nil || id != "ci" {
					t.Fatalf("Verify = %q, %v; want ci", id, err)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Reason != tc.reason || !strings.Contains(ae.Msg, tc.msg) {
				t.Fatalf("Verify error = %#v, want reason %s with %q", err, tc.reason, tc.msg)
			}
			for _, s := range []string{ciSecret, opsSecret, good, Sign([]byte(opsSecret), tc.value)} {
				if strings.Contains(strings.ToLower(ae.Msg), s) {
					t.Fatalf("error message shows a secret or a signature: %s", ae.Msg)
				}
			}
		})
	}
}

func TestPermit(t *testing.T) {
	v := testVerifier(t)
	at := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		key    string
		value  string
		recKey string
		reason Reason
		msg    string
	}{
		{name: "permitted type", key: "ci", value: `{"id":"b1","type":"index_build","collection":"m","issued_at":"2026-11-29T06:00:00Z"}`},
		{name: "star", key: "ops", value: `{"id":"r1","type":"restore","collection":"m","issued_at":"2026-11-29T06:00:00Z"}`},
		{name: "star, unknown type", key: "ops", value: `{"id":"x1","type":"compact","issued_at":"2026-11-29T06:00:00Z"}`},
		{name: "not permitted", key: "ci", value: `{"id":"r1","type":"restore","collection":"m","issued_at":"2026-11-29T06:00:00Z"}`,
			reason: ReasonNotPermitted, msg: `key "ci" may not send "restore" (it may send: index_defer, index_build)`},
		{name: "cancel not permitted", key: "ci", value: `{"id":"c1","type":"cancel","target":"b1","issued_at":"2026-11-29T06:00:00Z"}`,
			reason: ReasonNotPermitted},
		{name: "key without commands", key: "ro", value: `{"id":"b1","type":"index_build","collection":"m","issued_at":"2026-11-29T06:00:00Z"}`,
			reason: ReasonNotPermitted, msg: "it may send: no command type"},
		{name: "id only in the record key", key: "ci", recKey: "b1", value: `{"type":"index_build","collection":"m","issued_at":"2026-11-29T06:00:00Z"}`,
			reason: ReasonIncomplete, msg: "must carry its id in the value"},
		{name: "no issued_at", key: "ci", value: `{"id":"b1","type":"index_build","collection":"m"}`,
			reason: ReasonIncomplete, msg: "no issued_at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var k []byte
			if tc.recKey != "" {
				k = []byte(tc.recKey)
			}
			c, err := schemas.DecodeCommand(k, []byte(tc.value))
			if err != nil {
				t.Fatal(err)
			}
			err = v.Permit(tc.key, c, []byte(tc.value))
			if err == nil {
				err = v.Fresh(tc.key, c, at)
			}
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Reason != tc.reason || !strings.Contains(ae.Msg, tc.msg) {
				t.Fatalf("error = %v, want reason %s with %q", err, tc.reason, tc.msg)
			}
		})
	}
}

func TestFresh(t *testing.T) {
	v := testVerifier(t)
	issued := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	c := schemas.Command{ID: "b1", Type: schemas.CommandIndexBuild, IssuedAt: issued}
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"at issue", issued, true},
		{"window later", issued.Add(5 * time.Minute), true},
		{"window earlier (sender's clock ahead)", issued.Add(-5 * time.Minute), true},
		{"after the window", issued.Add(5*time.Minute + time.Second), false},
		{"before the window", issued.Add(-5*time.Minute - time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Fresh("ci", c, tc.at)
			var ae *Error
			if tc.ok != (err == nil) || (err != nil && (!errors.As(err, &ae) || ae.Reason != ReasonExpired)) {
				t.Fatalf("Fresh at %s = %v, want ok=%v", tc.at, err, tc.ok)
			}
		})
	}
}

func TestRecordTime(t *testing.T) {
	now := time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC)
	appended := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	fetched := &kgo.Record{Timestamp: appended, Attrs: kgo.NewRecordAttrs(kgo.RecordAttrsOpts{TimestampType: 1})}
	if got := RecordTime(fetched, now); !got.Equal(appended) {
		t.Errorf("LogAppendTime record: %s, want the broker's %s", got, appended)
	}
	created := &kgo.Record{Timestamp: appended}
	if got := RecordTime(created, now); !got.Equal(now) {
		t.Errorf("CreateTime record: %s, want now %s", got, now)
	}
}

func TestSigner(t *testing.T) {
	cfg := config.ControlAuth{Keys: map[string]config.Secret{"ops": opsSecret}, Window: time.Minute}
	s, err := NewSigner(cfg, "")
	if err != nil || s.KeyID() != "ops" {
		t.Fatalf("NewSigner = %v, %v", s, err)
	}
	now := time.Date(2026, 11, 29, 6, 0, 0, 500, time.UTC)
	value, hs, err := s.Sign([]byte(`{"id":"b1","type":"index_build","collection":"m"}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(value), `"issued_at":"2026-11-29T06:00:00Z"`) {
		t.Errorf("signed value %s lacks issued_at", value)
	}
	v, err := New(config.ControlAuth{Keys: cfg.Keys, Commands: map[string]string{"ops": "*"}, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(hs, value)
	if err != nil || id != "ops" {
		t.Fatalf("Verify of a signed value = %q, %v", id, err)
	}
	// An issued_at the sender chose is kept, byte for byte.
	mine := []byte(`{"id":"b2","type":"index_build","collection":"m","issued_at":"2026-11-29T05:59:00Z"}`)
	if got, _, err := s.Sign(mine, now); err != nil || string(got) != string(mine) {
		t.Errorf("Sign changed a value with issued_at: %s, %v", got, err)
	}
	if _, _, err := s.Sign([]byte(`{"type":"index_build"}`), now); err == nil {
		t.Error("Sign accepted a value without id")
	}

	two := config.ControlAuth{Keys: map[string]config.Secret{"ops": opsSecret, "ci": ciSecret}}
	if _, err := NewSigner(two, ""); err == nil || !strings.Contains(err.Error(), "ci, ops") {
		t.Errorf("NewSigner with two keys and no choice: %v", err)
	}
	if s, err := NewSigner(two, "ci"); err != nil || s.KeyID() != "ci" {
		t.Errorf("NewSigner(ci) = %v, %v", s, err)
	}
	if _, err := NewSigner(two, "admin"); err == nil || !strings.Contains(err.Error(), "KQ__CONTROL__AUTH__KEYS__ADMIN") {
		t.Errorf("NewSigner(unknown) = %v", err)
	}
	if s, err := NewSigner(config.ControlAuth{}, ""); s != nil || err != nil {
		t.Errorf("NewSigner without keys = %v, %v; want nil, nil", s, err)
	}
}

func TestNewWithoutKeys(t *testing.T) {
	v, err := New(config.ControlAuth{Window: time.Minute})
	if v != nil || err != nil {
		t.Fatalf("New without keys = %v, %v; want nil, nil", v, err)
	}
	if got := testVerifier(t).Idle(); len(got) != 1 || got[0] != "ro" {
		t.Errorf("Idle = %v, want [ro]", got)
	}
}

// FuzzVerify: whatever the headers and value, Verify never panics, accepts
// only the signature of the value with the named key's secret, and never
// puts a secret or the expected signature into its error.
func FuzzVerify(f *testing.F) {
	value := []byte(`{"id":"b1","type":"index_build","collection":"m","issued_at":"2026-11-29T06:00:00Z"}`)
	f.Add("ci", Sign([]byte(ciSecret), value), value)
	f.Add("ci", "00", value)
	f.Add("", "", []byte(nil))
	f.Add("ops", strings.Repeat("g", 64), value)
	v := testVerifier(f)
	f.Fuzz(func(t *testing.T, keyID, sig string, value []byte) {
		id, err := v.Verify(headers(keyID, sig), value)
		secrets := map[string]string{"ops": opsSecret, "ci": ciSecret, "ro": "ro-secret-0123456789abcdef0123456789"}
		if err == nil {
			if id != keyID || !strings.EqualFold(strings.TrimSpace(sig), Sign([]byte(secrets[keyID]), value)) {
				t.Fatalf("accepted key %q signature %q for %q", keyID, sig, value)
			}
			return
		}
		var ae *Error
		if !errors.As(err, &ae) {
			t.Fatalf("error %v is not an *Error", err)
		}
		for _, s := range secrets {
			if strings.Contains(keyID, s) {
				continue // the message quotes the key id the record named
			}
			if strings.Contains(ae.Msg, s) || strings.Contains(ae.Msg, Sign([]byte(s), value)) {
				t.Fatalf("error shows a secret or a signature: %s", ae.Msg)
			}
		}
	})
}
