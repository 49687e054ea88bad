package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

func TestExitCodesAndMessages(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("batch:\n  max_records: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(dir, "typo.yaml")
	if err := os.WriteFile(typo, []byte("kafka:\n  brokrs: [a:9092]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		wantOut    string
		wantErrOut string
	}{
		{"no args", nil, exitUsage, "", "Usage:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"version", []string{"version"}, exitOK, "kafka-qdrant ", ""},
		{"help", []string{"help"}, exitOK, "Usage:", ""},
		{"run with invalid value names the key", []string{"run", "--config", badYAML}, exitUsage, "", "batch.max_records"},
		{"run with unknown key names it", []string{"run", "--config", typo}, exitUsage, "", "kafka.brokrs"},
		{"run with bad --set", []string{"run", "--set", "batch.linger=soon"}, exitUsage, "", "batch.linger"},
		{"validate with missing file", []string{"validate", "--config", filepath.Join(dir, "nope.yaml")}, exitUsage, "", "nope.yaml"},
		{"validate --offline dials nothing", []string{"validate", "--offline", "--set", "kafka.brokers=127.0.0.1:1", "--set", "qdrant.grpc=127.0.0.1:1"},
			exitOK, "ok   config", ""},
		{"validate --offline names a bad key", []string{"validate", "--offline", "--config", badYAML}, exitUsage, "", "batch.max_records"},
		{"validate --offline checks TLS files", []string{"validate", "--offline", "--set", "kafka.tls.enabled=true", "--set", "kafka.tls.ca_file=" + filepath.Join(dir, "nope.pem")},
			exitUsage, "", "kafka.tls.ca_file"},
		{"run with bad flag", []string{"run", "--bogus"}, exitUsage, "", "bogus"},
		{"dev with bad partitions", []string{"dev", "--partitions", "0"}, exitUsage, "", "--partitions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d (stderr: %s)", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout %q does not contain %q", out.String(), tc.wantOut)
			}
			if !strings.Contains(errOut.String(), tc.wantErrOut) {
				t.Errorf("stderr %q does not contain %q", errOut.String(), tc.wantErrOut)
			}
		})
	}
}

// TestLimitMemory: run makes the configured memory budget the runtime's
// soft memory limit, unless GOMEMLIMIT sets one.
func TestLimitMemory(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	cfg := config.Default()
	cfg.Batch.MaxInflightBytes = 64 * config.MiB
	log := slog.New(slog.DiscardHandler)

	t.Setenv("GOMEMLIMIT", "")
	limitMemory(cfg, log)
	want := int64(64+16+2*32+128) * int64(config.MiB)
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Errorf("limit = %d, want the budget %d", got, want)
	}

	debug.SetMemoryLimit(prev)
	t.Setenv("GOMEMLIMIT", "1GiB") // the runtime read it at start; run leaves it alone
	limitMemory(cfg, log)
	if got := debug.SetMemoryLimit(-1); got != prev {
		t.Errorf("with GOMEMLIMIT set the limit changed to %d", got)
	}
}
