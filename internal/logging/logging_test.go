package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

func TestNew(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(config.Log{Level: "warn", Format: "json"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("quiet")
	log.Warn("loud", "secret", config.Secret("hunter2"))
	out := buf.String()
	if strings.Contains(out, "quiet") {
		t.Errorf("info logged at level warn: %s", out)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rec); err != nil {
		t.Fatalf("not one JSON line: %q", out)
	}
	if rec["msg"] != "loud" || strings.Contains(out, "hunter2") {
		t.Errorf("record %v (secrets must not be logged)", rec)
	}

	buf.Reset()
	text, err := New(config.Log{Level: "debug", Format: "text"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	text.Debug("hello", "k", 1)
	if !strings.Contains(buf.String(), "msg=hello k=1") {
		t.Errorf("text output %q", buf.String())
	}
}

func TestNewRejectsBadValuesNamingTheKey(t *testing.T) {
	for _, c := range []struct {
		cfg config.Log
		key string
	}{
		{config.Log{Level: "loud", Format: "json"}, "log.level"},
		{config.Log{Level: "info", Format: "xml"}, "log.format"},
	} {
		if _, err := New(c.cfg, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("New(%+v) = %v, want an error naming %s", c.cfg, err, c.key)
		}
	}
}
