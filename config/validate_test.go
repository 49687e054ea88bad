package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestValidate mutates Default() and checks the exact keys reported.
func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(c *Config)
		wantKeys []string
	}{
		{"default is valid", func(*Config) {}, nil},
		{"regex instead of topics is valid", func(c *Config) { c.Kafka.Topics, c.Kafka.TopicRegex = nil, "^v" }, nil},
		{"lower-case SASL mechanism is valid", func(c *Config) {
			c.Kafka.SASL = SASL{Mechanism: "scram-sha-256", Username: "u", Password: "p"}
		}, nil},
		{"control disabled needs no control topics", func(c *Config) { c.Control = Control{} }, nil},
		{"empty collection_field without record override", func(c *Config) {
			c.Record.CollectionField, c.Routing.AllowRecordOverride = "", false
		}, nil},
		{"every problem is reported, in key order", func(c *Config) {
			c.Kafka.Brokers = nil
			c.Kafka.Group = ""
			c.Qdrant.Timeout = 0
			c.Batch.MaxRecords = 0
			c.Log.Format = "xml"
		}, []string{"kafka.brokers", "kafka.group", "qdrant.timeout", "batch.max_records", "log.format"}},
		{"duplicate topic", func(c *Config) { c.Kafka.Topics = []string{"a", "b", "a"} }, []string{"kafka.topics[2]"}},
		{"bad regex hides relations to it", func(c *Config) {
			c.Kafka.Topics, c.Kafka.TopicRegex = nil, "(["
			c.Routing.Topics = routes(map[string]string{"x": "y"})
		}, []string{"kafka.topic_regex"}},
		{"control topic matches the regex", func(c *Config) {
			c.Kafka.Topics, c.Kafka.TopicRegex = nil, "^kafka-qdrant\\."
		}, []string{"control.topic", "control.status_topic"}},
		{"control topic equals the DLQ", func(c *Config) { c.Kafka.DLQTopic = "kafka-qdrant.status" },
			[]string{"control.status_topic"}},
		{"routing checks each entry", func(c *Config) {
			c.Kafka.Topics = []string{"a", "b"}
			c.Routing.Topics = routes(map[string]string{"a": "ok", "b": "", "c": "ok", "d:": "x"})
		}, []string{"routing.topics.b", "routing.topics.c", "routing.topics.d:"}},
		{"inflight below record size", func(c *Config) { c.Record.MaxBytes = 512 << 20 },
			[]string{"batch.max_inflight_bytes"}},
		{"zero byte sizes", func(c *Config) {
			c.Kafka.FetchMaxBytes, c.Record.MaxBytes, c.Batch.MaxBytes = 0, 0, 0
		}, []string{"kafka.fetch_max_bytes", "record.max_bytes", "batch.max_bytes"}},
		{"zero Kafka durations", func(c *Config) {
			c.Kafka.DialTimeout, c.Kafka.CommitInterval, c.Kafka.SessionTimeout, c.Kafka.RebalanceTimeout = 0, 0, -time.Second, 0
		}, []string{"kafka.dial_timeout", "kafka.commit_interval", "kafka.session_timeout", "kafka.rebalance_timeout"}},
		{"S3 endpoint must be a URL", func(c *Config) { c.Backup.S3.Endpoint = "minio:9000" }, []string{"backup.s3.endpoint"}},
		{"negative max_age", func(c *Config) { c.Backup.Retention.MaxAge = -time.Hour }, []string{"backup.retention.max_age"}},
		{"zero schedule", func(c *Config) { c.Backup.Store, c.Backup.Schedule = "file:///b", "0s" }, []string{"backup.schedule"}},
		{"listen port out of range", func(c *Config) { c.HTTP.Listen = ":70000" }, []string{"http.listen"}},
		{"listen on all interfaces with port 0 is valid", func(c *Config) { c.HTTP.Listen = ":0" }, nil},
		{"collection name with control character", func(c *Config) { c.Routing.Collection = "a\nb" }, []string{"routing.collection"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantKeys == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var v ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("error %v (%T), want a ValidationError", err, err)
			}
			if !reflect.DeepEqual(v.Keys(), tt.wantKeys) {
				t.Errorf("keys %q, want %q; error:\n%v", v.Keys(), tt.wantKeys, err)
			}
		})
	}
}

func TestValidationErrorUnwrap(t *testing.T) {
	c := Default()
	c.Log.Level = "loud"
	err := c.Validate()
	var fe FieldError
	if !errors.As(err, &fe) || fe.Key != "log.level" || !strings.HasPrefix(fe.Msg, "must be one of") {
		t.Fatalf("errors.As FieldError: %#v from %v", fe, err)
	}
	if !errors.Is(err, fe) {
		t.Error("errors.Is does not find the FieldError")
	}
}

// routes maps each topic to a Route of a collection.
func routes(m map[string]string) map[string]Route {
	out := make(map[string]Route, len(m))
	for t, c := range m {
		out[t] = Route{Collection: c}
	}
	return out
}
