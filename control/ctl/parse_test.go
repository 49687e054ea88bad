package ctl

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func TestParseSend(t *testing.T) {
	dir := t.TempDir()
	withID := filepath.Join(dir, "with-id.json")
	noID := filepath.Join(dir, "no-id.json")
	notObj := filepath.Join(dir, "array.json")
	_ = os.WriteFile(withID, []byte(`{"id":"bk-1","type":"backup","collection":"movies"}`), 0o600)
	_ = os.WriteFile(noID, []byte(`{"type":"index_defer","collection":"movies","params":{"mode":"threshold0"}}`), 0o600)
	_ = os.WriteFile(notObj, []byte(`[1]`), 0o600)

	tests := []struct {
		name      string
		args      []string
		wantValue string // exact JSON; "" to skip
		wantID    string // regexp
		wait      bool
		limit     time.Duration
		wantErr   string // usage error substring
	}{
		{name: "index-defer default mode", args: []string{"index-defer", "movies", "--id", "d1"},
			wantValue: `{"id":"d1","type":"index_defer","collection":"movies","params":{"mode":"hnsw_m0"}}`, wantID: "^d1$"},
		{name: "index-defer threshold0, flags first", args: []string{"index-defer", "--mode", "threshold0", "movies"},
			wantID: `^index_defer-movies-[0-9a-f]{8}$`},
		{name: "index-build with settings and timeout", args: []string{"index-build", "movies", "--m", "32", "--ef-construct", "200", "--indexing-threshold", "20000", "--timeout", "10m", "--wait", "--id", "b1"},
			wantValue: `{"id":"b1","type":"index_build","collection":"movies","params":{"m":32,"ef_construct":200,"indexing_threshold":20000,"timeout":"10m0s"}}`,
			wantID:    "^b1$", wait: true, limit: 10*time.Minute + waitGrace},
		{name: "index-build bare", args: []string{"index-build", "my collection"},
			wantID: `^index_build-my-collection-[0-9a-f]{8}$`},
		{name: "cancel", args: []string{"cancel", "b1", "--id", "c1", "--wait", "--timeout", "5s"},
			wantValue: `{"id":"c1","type":"cancel","target":"b1"}`, wantID: "^c1$", wait: true, limit: 5 * time.Second},
		{name: "send file with id", args: []string{"send", withID},
			wantValue: `{"id":"bk-1","type":"backup","collection":"movies"}`, wantID: "^bk-1$"},
		{name: "send file without id gets one", args: []string{"send", noID, "--id", "x9"},
			wantValue: `{"collection":"movies","id":"x9","params":{"mode":"threshold0"},"type":"index_defer"}`, wantID: "^x9$"},
		{name: "send: --id conflicts with the file", args: []string{"send", withID, "--id", "other"}, wantErr: `--id "other" differs from the id "bk-1"`},
		{name: "send: not an object", args: []string{"send", notObj}, wantErr: "not a JSON object"},
		{name: "send: missing file", args: []string{"send", filepath.Join(dir, "nope.json")}, wantErr: "reading command"},
		{name: "missing argument", args: []string{"index-build"}, wantErr: "takes exactly one argument, got 0"},
		{name: "extra argument", args: []string{"cancel", "a", "b"}, wantErr: "takes exactly one argument, got 2"},
		{name: "bad m", args: []string{"index-build", "movies", "--m", "x"}, wantErr: "want a non-negative integer"},
		{name: "m zero is checked locally", args: []string{"index-build", "movies", "--m", "0"}, wantErr: "m must be >= 1"},
		{name: "bad mode is checked locally", args: []string{"index-defer", "movies", "--mode", "fast"}, wantErr: `mode "fast" is not one of`},
		{name: "bad timeout", args: []string{"index-build", "movies", "--timeout", "soon"}, wantErr: "non-negative duration"},
		{name: "bad id", args: []string{"cancel", "b1", "--id", "has space"}, wantErr: "--id: id \"has space\""},
		{name: "bad output", args: []string{"cancel", "b1", "--output", "yaml"}, wantErr: "--output must be text or json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			req, err := parseSend(tc.args[0], tc.args[1:], &stderr)
			if tc.wantErr != "" {
				var ue *usageError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(tc.wantID).MatchString(req.cmd.ID) {
				t.Fatalf("id %q does not match %s", req.cmd.ID, tc.wantID)
			}
			if tc.wantValue != "" && string(req.value) != tc.wantValue {
				t.Fatalf("value\n%s\nwant\n%s", req.value, tc.wantValue)
			}
			if _, err := schemas.DecodeCommand([]byte(req.cmd.ID), req.value); err != nil && tc.args[0] != "send" {
				t.Fatalf("sent value does not decode: %v", err)
			}
			if req.wait != tc.wait || req.limit != tc.limit {
				t.Fatalf("wait %v limit %s, want %v %s", req.wait, req.limit, tc.wait, tc.limit)
			}
			var obj map[string]any
			if err := json.Unmarshal(req.value, &obj); err != nil || obj["id"] != req.cmd.ID {
				t.Fatalf("value %s does not carry id %s", req.value, req.cmd.ID)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, ExitUsage, "usage: kafka-qdrant ctl"},
		{[]string{"--help"}, ExitOK, "index-build COLLECTION"},
		{[]string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{[]string{"status", "a", "b"}, ExitUsage, "at most one command id"},
		{[]string{"status", "--wait"}, ExitUsage, "--wait needs one"},
		{[]string{"list", "x"}, ExitUsage, "takes no arguments"},
		{[]string{"index-build"}, ExitUsage, "exactly one argument"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		code := Run(t.Context(), tc.args, Env{Stdout: &out, Stderr: &errOut})
		if code != tc.code || !strings.Contains(errOut.String(), tc.out) {
			t.Errorf("ctl %v = %d, stderr %q; want %d containing %q", tc.args, code, errOut.String(), tc.code, tc.out)
		}
	}
}
