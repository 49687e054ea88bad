package schemas

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeCommand(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		value    string
		want     Command
		wantCode string // "" = no error
		wantMsg  string // substring of the error
		wantID   string // id salvaged on error
	}{
		{name: "minimal with id", value: `{"id":"a1","type":"index_defer","collection":"movies"}`,
			want: Command{ID: "a1", Type: CommandIndexDefer, Collection: "movies"}},
		{name: "id from key", key: "k1", value: `{"type":"index_defer","collection":"movies"}`,
			want: Command{ID: "k1", Type: CommandIndexDefer, Collection: "movies"}},
		{name: "key equal to id", key: "a1", value: `{"id":"a1","type":"cancel","target":"b2"}`,
			want: Command{ID: "a1", Type: CommandCancel, Target: "b2"}},
		{name: "params kept raw", value: `{"id":"a1","type":"index_build","collection":"c","params":{"m":16}}`,
			want: Command{ID: "a1", Type: CommandIndexBuild, Collection: "c", Params: json.RawMessage(`{"m":16}`)}},
		{name: "unknown type is not a decode error", value: `{"id":"a1","type":"frobnicate"}`,
			want: Command{ID: "a1", Type: "frobnicate"}},
		{name: "empty value", key: "k9", value: ``, wantCode: ErrInvalidCommand, wantMsg: "empty", wantID: "k9"},
		{name: "invalid JSON", key: "k9", value: `{"id":"a1",`, wantCode: ErrInvalidCommand, wantMsg: "invalid JSON", wantID: "k9"},
		{name: "not an object", value: `[1,2]`, wantCode: ErrInvalidCommand, wantMsg: "JSON object"},
		{name: "unknown field keeps id", value: `{"id":"a1","type":"index_defer","colection":"m"}`,
			wantCode: ErrInvalidCommand, wantMsg: `unknown field "colection"`, wantID: "a1"},
		{name: "wrong field type", value: `{"id":"a1","type":7}`, wantCode: ErrInvalidCommand, wantMsg: `field "type" must be a string`, wantID: "a1"},
		{name: "trailing data", value: `{"id":"a1","type":"cancel","target":"x"} {}`, wantCode: ErrInvalidCommand, wantMsg: "trailing", wantID: "a1"},
		{name: "no id and no key", value: `{"type":"index_defer","collection":"m"}`, wantCode: ErrInvalidCommand, wantMsg: "no id"},
		{name: "key differs from id", key: "k1", value: `{"id":"a1","type":"index_defer","collection":"m"}`,
			wantCode: ErrInvalidCommand, wantMsg: `differs from the command id "a1"`, wantID: "a1"},
		{name: "bad id characters", value: `{"id":"a b","type":"index_defer","collection":"m"}`, wantCode: ErrInvalidCommand, wantMsg: "invalid command id"},
		{name: "id too long", value: `{"id":"` + strings.Repeat("x", MaxIDLength+1) + `","type":"cancel","target":"t"}`,
			wantCode: ErrInvalidCommand, wantMsg: "at most 200"},
		{name: "no type", value: `{"id":"a1"}`, wantCode: ErrInvalidCommand, wantMsg: "has no type", wantID: "a1"},
		{name: "params not an object", value: `{"id":"a1","type":"index_build","collection":"c","params":[1]}`,
			wantCode: ErrInvalidParameters, wantMsg: "params must be a JSON object, got an array", wantID: "a1"},
		{name: "collection missing", value: `{"id":"a1","type":"index_build"}`, wantCode: ErrInvalidParameters, wantMsg: "index_build needs a collection", wantID: "a1"},
		{name: "cancel without target", value: `{"id":"a1","type":"cancel"}`, wantCode: ErrInvalidParameters, wantMsg: "cancel needs a target", wantID: "a1"},
		{name: "empty value, key not an id", key: strings.Repeat("k", 600<<10), value: ``, wantCode: ErrInvalidCommand, wantMsg: "empty"},
		{name: "invalid JSON, key with spaces", key: "a key", value: `{`, wantCode: ErrInvalidCommand, wantMsg: "invalid JSON"},
		{name: "huge key differs from id", key: strings.Repeat("k", 600<<10), value: `{"id":"a1","type":"cancel","target":"x"}`,
			wantCode: ErrInvalidCommand, wantMsg: `record key "` + strings.Repeat("k", 60) + `" differs`, wantID: "a1"},
		{name: "issued_at", value: `{"id":"a1","type":"cancel","target":"b","issued_at":"2026-11-29T06:00:00+01:00"}`,
			want: Command{ID: "a1", Type: CommandCancel, Target: "b", IssuedAt: time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC)}},
		{name: "issued_at not a time", value: `{"id":"a1","type":"cancel","target":"b","issued_at":"yesterday"}`,
			wantCode: ErrInvalidCommand, wantMsg: `field "issued_at" must be an RFC 3339 time`, wantID: "a1"},
		{name: "issued_at a number", value: `{"id":"a1","type":"cancel","target":"b","issued_at":1764396000}`,
			wantCode: ErrInvalidCommand, wantMsg: `field "issued_at" must be an RFC 3339 time such as "2026-11-29T06:00:00Z", got 1764396000`, wantID: "a1"},
		{name: "cancel of itself", value: `{"id":"a1","type":"cancel","target":"a1"}`, wantCode: ErrInvalidParameters, wantMsg: "targets itself", wantID: "a1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var key []byte
			if tc.key != "" {
				key = []byte(tc.key)
			}
			got, err := DecodeCommand(key, []byte(tc.value))
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("DecodeCommand: %v", err)
				}
				if got.ID != tc.want.ID || got.Type != tc.want.Type || got.Collection != tc.want.Collection ||
					got.Target != tc.want.Target || string(got.Params) != string(tc.want.Params) || !got.IssuedAt.Equal(tc.want.IssuedAt) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			var ce *CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *CommandError", err)
			}
			if ce.Code != tc.wantCode || !strings.Contains(ce.Error(), tc.wantMsg) || len(ce.Error()) > 1000 {
				t.Fatalf("error = %s %q, want %s containing %q", ce.Code, ce.Error(), tc.wantCode, tc.wantMsg)
			}
			if got.ID != tc.wantID {
				t.Fatalf("salvaged id = %q, want %q", got.ID, tc.wantID)
			}
		})
	}
}

func TestCommandTypesKnown(t *testing.T) {
	for _, ct := range CommandTypes() {
		if !ct.Known() {
			t.Errorf("%s not known", ct)
		}
	}
	for _, ct := range []CommandType{"", "Backup", "index-build", "frobnicate"} {
		if ct.Known() {
			t.Errorf("%q known", ct)
		}
	}
}

func u64(v uint64) *uint64 { return &v }

func TestIndexParams(t *testing.T) {
	cmd := func(typ CommandType, params string) Command {
		c := Command{ID: "x", Type: typ, Collection: "c"}
		if params != "" {
			c.Params = json.RawMessage(params)
		}
		return c
	}
	t.Run("defer", func(t *testing.T) {
		tests := []struct {
			name, params, wantMode, wantErr string
		}{
			{name: "default mode", params: "", wantMode: DeferHNSWM0},
			{name: "null params", params: "null", wantMode: DeferHNSWM0},
			{name: "threshold0", params: `{"mode":"threshold0"}`, wantMode: DeferThreshold0},
			{name: "unknown mode", params: `{"mode":"m1"}`, wantErr: `mode "m1" is not one of`},
			{name: "unknown param", params: `{"mod":"hnsw_m0"}`, wantErr: `unknown field "mod"`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p, err := IndexDeferParamsOf(cmd(CommandIndexDefer, tc.params))
				if tc.wantErr != "" {
					var ce *CommandError
					if !errors.As(err, &ce) || ce.Code != ErrInvalidParameters || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("err = %v, want invalid_parameters containing %q", err, tc.wantErr)
					}
					return
				}
				if err != nil || p.Mode != tc.wantMode {
					t.Fatalf("got %+v, %v; want mode %s", p, err, tc.wantMode)
				}
			})
		}
	})
	t.Run("build", func(t *testing.T) {
		tests := []struct {
			name, params, wantErr string
			want                  IndexBuildParams
		}{
			{name: "empty", params: ""},
			{name: "all set", params: `{"m":32,"ef_construct":200,"indexing_threshold":20000,"timeout":"1h30m","poll_interval":"250ms"}`,
				want: IndexBuildParams{M: u64(32), EfConstruct: u64(200), IndexingThreshold: u64(20000),
					Timeout: Duration(90 * time.Minute), PollInterval: Duration(250 * time.Millisecond)}},
			{name: "timeout in seconds", params: `{"timeout":1.5}`, want: IndexBuildParams{Timeout: Duration(1500 * time.Millisecond)}},
			{name: "m zero", params: `{"m":0}`, wantErr: "m must be >= 1"},
			{name: "m negative", params: `{"m":-1}`, wantErr: `"m" must be a number`},
			{name: "ef_construct small", params: `{"ef_construct":3}`, wantErr: "ef_construct must be >= 4, got 3"},
			{name: "threshold zero", params: `{"indexing_threshold":0}`, wantErr: "indexing_threshold must be >= 1"},
			{name: "bad timeout", params: `{"timeout":"soon"}`, wantErr: `duration "soon"`},
			{name: "negative timeout", params: `{"timeout":"-1s"}`, wantErr: "timeout must not be negative"},
			{name: "poll too fast", params: `{"poll_interval":"1ms"}`, wantErr: "poll_interval must be >= 10ms"},
			{name: "unknown param", params: `{"ef":100}`, wantErr: `unknown field "ef"`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p, err := IndexBuildParamsOf(cmd(CommandIndexBuild, tc.params))
				if tc.wantErr != "" {
					var ce *CommandError
					if !errors.As(err, &ce) || ce.Code != ErrInvalidParameters || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("err = %v, want invalid_parameters containing %q", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				gotJSON, _ := json.Marshal(p)
				wantJSON, _ := json.Marshal(tc.want)
				if string(gotJSON) != string(wantJSON) {
					t.Fatalf("got %s, want %s", gotJSON, wantJSON)
				}
			})
		}
	})
}

func TestDurationJSONRoundTrip(t *testing.T) {
	for _, d := range []Duration{0, Duration(time.Second), Duration(90 * time.Minute), Duration(1500 * time.Microsecond)} {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("%s -> %s -> %s, %v", d, b, back, err)
		}
	}
}

func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte("k"), []byte(`{"id":"a1","type":"index_build","collection":"c","params":{"m":16}}`))
	f.Add([]byte(nil), []byte(`{"id":"a1","type":"cancel","target":"b"}`))
	f.Add([]byte("x"), []byte(`{"id":`))
	f.Add([]byte(nil), []byte(`null`))
	f.Add([]byte(nil), []byte(`{"id":"a1","type":"cancel","target":"b","issued_at":"2026-11-29T06:00:00Z"}`))
	f.Add([]byte(nil), []byte(`{"id":"a1","type":"cancel","target":"b","issued_at":"2026-13-29T06:00:00Z"}`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		c, err := DecodeCommand(key, value)
		if err != nil {
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Code == "" || ce.Error() == "" {
				t.Fatalf("error %v is not a coded *CommandError", err)
			}
			if c.ID != "" && CheckID(c.ID) != nil && c.ID != string(key) {
				t.Fatalf("salvaged id %q is neither valid nor the key", c.ID)
			}
			return
		}
		if CheckID(c.ID) != nil || c.Type == "" {
			t.Fatalf("accepted command with bad id or type: %+v", c)
		}
		if c.Type == CommandIndexBuild {
			_, _ = IndexBuildParamsOf(c) // must not panic
		}
	})
}
