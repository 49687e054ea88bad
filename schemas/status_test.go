package schemas

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestStateFinal(t *testing.T) {
	want := map[State]bool{StateAccepted: false, StateRunning: false, StateSucceeded: true, StateFailed: true, StateCancelled: true}
	for _, s := range States() {
		if s.Final() != want[s] {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
		delete(want, s)
	}
	if len(want) != 0 {
		t.Errorf("States() misses %v", want)
	}
}

func TestStatusEncodeMatchesContract(t *testing.T) {
	ts := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s := Status{CommandID: "bk-1", Type: CommandBackup, State: StateRunning,
		Progress: &Progress{Done: 1, Total: 3, Detail: "node 2/3 uploaded"}, Replica: "kq-7f9c", Time: ts}
	b, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"command_id":"bk-1","type":"backup","state":"running","progress":{"done":1,"total":3,"detail":"node 2/3 uploaded"},"result":null,"error":null,"replica":"kq-7f9c","time":"2026-11-21T10:00:00Z"}`
	if string(b) != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", b, want)
	}
	back, err := DecodeStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.CommandID != "bk-1" || back.State != StateRunning || back.Progress.Total != 3 || !back.Time.Equal(ts) || back.Result != nil {
		t.Fatalf("round trip = %+v", back)
	}
}

// A status event always fits in a Kafka message: free text quoting a
// malformed record is clipped; an oversized result is refused.
func TestStatusEncodeBounds(t *testing.T) {
	huge := strings.Repeat("é", 1<<20)
	s := Status{CommandID: "kq-invalid-1", Type: CommandType(huge), Collection: huge, State: StateFailed,
		Error: &StatusError{Code: ErrInvalidCommand, Message: huge}, Progress: &Progress{Detail: huge},
		Record: &RecordRef{Key: huge, ID: huge}, Replica: "r", Time: time.Unix(0, 0)}
	b, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 16<<10 {
		t.Fatalf("encoded %d bytes; free text was not clipped", len(b))
	}
	back, err := DecodeStatus(b)
	if err != nil || !strings.HasSuffix(back.Error.Message, "…") || !utf8.ValidString(back.Record.Key) || len(back.Collection) > MaxRefLength {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	s = Status{CommandID: "a", State: StateSucceeded, Result: json.RawMessage(`"` + strings.Repeat("x", MaxStatusBytes) + `"`), Time: time.Unix(0, 0)}
	if _, err := s.Encode(); !errors.Is(err, ErrStatusTooLarge) {
		t.Fatalf("oversized result: %v, want ErrStatusTooLarge", err)
	}
}

func TestDecodeStatus(t *testing.T) {
	tests := []struct {
		name, value, wantErr string
	}{
		{name: "failed with error", value: `{"command_id":"a","type":"x","state":"failed","progress":null,"result":null,"error":{"code":"unknown_type","message":"m","retryable":false},"replica":"r","time":"2026-01-01T00:00:00Z"}`},
		{name: "unknown fields ignored", value: `{"command_id":"a","type":"x","state":"accepted","time":"2026-01-01T00:00:00Z","future":1}`},
		{name: "empty", value: ``, wantErr: "empty"},
		{name: "not JSON", value: `nope`, wantErr: "invalid JSON"},
		{name: "no id", value: `{"state":"running","time":"2026-01-01T00:00:00Z"}`, wantErr: "no command_id"},
		{name: "no time", value: `{"command_id":"a","state":"running"}`, wantErr: "no time"},
		{name: "unknown state", value: `{"command_id":"a","state":"done","time":"2026-01-01T00:00:00Z"}`, wantErr: `unknown state "done"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeStatus([]byte(tc.value))
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add([]byte(`{"command_id":"a","type":"x","state":"failed","time":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, value []byte) {
		s, err := DecodeStatus(value)
		if err != nil {
			return
		}
		b, err := s.Encode()
		if err != nil {
			t.Fatalf("decoded status does not encode: %v", err)
		}
		if _, err := DecodeStatus(b); err != nil {
			t.Fatalf("re-encoded status does not decode: %v\n%s", err, b)
		}
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			t.Fatal("encoding is not JSON")
		}
	})
}
