package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
