package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const (
	kafkaPassword = "kafka-pa55word"
	qdrantKey     = "qdrant-api-key-123"
	s3Secret      = "s3-secret-key-xyz"
	authSecret    = "control-auth-secret-0123456789abcdef"
)

func configWithSecrets() Config {
	c := Default()
	c.Kafka.SASL = SASL{Mechanism: "PLAIN", Username: "user", Password: kafkaPassword}
	c.Qdrant.APIKey = qdrantKey
	c.Backup.S3.AccessKeyID = "AKIA"
	c.Backup.S3.SecretAccessKey = s3Secret
	c.Control.Auth.Keys = map[string]Secret{"ops": authSecret}
	return c
}

// TestSecretsNeverPrinted renders a Config with secrets through every path
// a config reaches a log or a terminal; none may show a secret, and each
// must show the redaction marker.
func TestSecretsNeverPrinted(t *testing.T) {
	c := configWithSecrets()
	render := map[string]func() string{
		"fmt %v":  func() string { return fmt.Sprintf("%v", c) },
		"fmt %+v": func() string { return fmt.Sprintf("%+v", c) },
		"fmt %#v": func() string { return fmt.Sprintf("%#v", c) },
		"fmt %q secret": func() string {
			return fmt.Sprintf("%q %q %q", c.Kafka.SASL.Password, c.Qdrant.APIKey, c.Backup.S3.SecretAccessKey)
		},
		"fmt %x secret": func() string {
			return fmt.Sprintf("%x %X %d", c.Kafka.SASL.Password, c.Qdrant.APIKey, c.Backup.S3.SecretAccessKey)
		},
		"fmt pointer %+v": func() string { return fmt.Sprintf("%+v", &c) },
		"json": func() string {
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		},
		"slog json": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c,
				"password", c.Kafka.SASL.Password, slog.Any("key", c.Qdrant.APIKey), "s3", c.Backup.S3)
			return buf.String()
		},
		"slog text": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c,
				"password", c.Kafka.SASL.Password, slog.Any("key", c.Qdrant.APIKey), "s3", c.Backup.S3)
			return buf.String()
		},
	}
	for name, r := range render {
		t.Run(name, func(t *testing.T) {
			out := r()
			for _, s := range []string{kafkaPassword, qdrantKey, s3Secret, authSecret} {
				if strings.Contains(out, s) {
					t.Errorf("output shows secret %q:\n%s", s, out)
				}
			}
			// Hex output would leak the bytes in another form.
			if strings.Contains(out, fmt.Sprintf("%x", kafkaPassword)) {
				t.Errorf("output shows the hex of a secret:\n%s", out)
			}
			if !strings.Contains(out, redacted) {
				t.Errorf("output has no %q marker:\n%s", redacted, out)
			}
		})
	}
}

func TestSecretValues(t *testing.T) {
	tests := []struct {
		name   string
		s      Secret
		shown  string
		reveal string
	}{
		{"set", "hunter2", redacted, "hunter2"},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.String(); got != tt.shown {
				t.Errorf("String %q, want %q", got, tt.shown)
			}
			if got := fmt.Sprint(tt.s); got != tt.shown {
				t.Errorf("Sprint %q, want %q", got, tt.shown)
			}
			if got := tt.s.LogValue().String(); got != tt.shown {
				t.Errorf("LogValue %q, want %q", got, tt.shown)
			}
			if b, _ := tt.s.MarshalText(); string(b) != tt.shown {
				t.Errorf("MarshalText %q, want %q", b, tt.shown)
			}
			if b, _ := json.Marshal(tt.s); string(b) != fmt.Sprintf("%q", tt.shown) {
				t.Errorf("JSON %s, want %q", b, tt.shown)
			}
			if got := tt.s.Reveal(); got != tt.reveal {
				t.Errorf("Reveal %q, want %q", got, tt.reveal)
			}
		})
	}
}
