package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFile writes a config file into a temp dir and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	file := "batch: {max_records: 100}\nkafka: {group: from-file, brokers: [file:9092]}\n"
	env := []string{"KQ__BATCH__MAX_RECORDS=200", "KQ__KAFKA__GROUP=from-env", "KQ__KAFKA__BROKERS=env:9092"}
	sets := []string{"batch.max_records=300", "kafka.group=from-set", "kafka.brokers=set:9092"}
	tests := []struct {
		name             string
		file             bool
		env, sets        bool
		wantRecords      int
		wantGroup        string
		wantBrokerPrefix string
	}{
		{"default only", false, false, false, 512, "kafka-qdrant", "localhost"},
		{"file over default", true, false, false, 100, "from-file", "file"},
		{"env over default", false, true, false, 200, "from-env", "env"},
		{"env over file", true, true, false, 200, "from-env", "env"},
		{"set over default", false, false, true, 300, "from-set", "set"},
		{"set over file", true, false, true, 300, "from-set", "set"},
		{"set over env and file", true, true, true, 300, "from-set", "set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			var environ, s []string
			if tt.file {
				path = writeFile(t, file)
			}
			if tt.env {
				environ = env
			}
			if tt.sets {
				s = sets
			}
			c, err := Load(path, environ, s)
			if err != nil {
				t.Fatal(err)
			}
			if c.Batch.MaxRecords != tt.wantRecords || c.Kafka.Group != tt.wantGroup {
				t.Errorf("max_records %d group %q, want %d %q", c.Batch.MaxRecords, c.Kafka.Group, tt.wantRecords, tt.wantGroup)
			}
			if want := []string{tt.wantBrokerPrefix + ":9092"}; !reflect.DeepEqual(c.Kafka.Brokers, want) {
				t.Errorf("brokers %q, want %q (lists are replaced, not appended)", c.Kafka.Brokers, want)
			}
			// Keys no layer sets keep their defaults.
			if c.Batch.MaxBytes != Default().Batch.MaxBytes {
				t.Errorf("batch.max_bytes %v, want default", c.Batch.MaxBytes)
			}
		})
	}
}

func TestLoadEnv(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",                     // no prefix: ignored
		"KQ_KAFKA__GROUP=single-underscore", // not the KQ__ prefix: ignored
		"KQ__KAFKA__BROKERS=a:9092,b:9092",
		"KQ__KAFKA__DLQ_TOPIC=vectors.dlq",
		"KQ__KAFKA__SASL__PASSWORD=p=ss",
		"KQ__QDRANT__API_KEY=qk",
		"KQ__QDRANT__RETRY__MAX_BACKOFF=3s",
		"KQ__ROUTING__TOPICS__ORDERS=orders_v2",
		"KQ__ROUTING__TOPICS__MY_TOPIC=mine",
		"KQ__ROUTING__TOPICS__APP.EVENTS=events", // dots in a map key stay in the key
		"KQ__CONTROL__ENABLED=false",
		"KQ__BATCH__LINGER=250ms",
		"KQ__BATCH__MAX_BYTES=8MiB",
		"KQ__Log__Level=debug", // lower-cased
	}
	c, err := Load("", environ, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Kafka.Brokers = []string{"a:9092", "b:9092"}
	want.Kafka.DLQTopic = "vectors.dlq"
	want.Kafka.SASL.Password = "p=ss"
	want.Qdrant.APIKey = "qk"
	want.Qdrant.Retry.MaxBackoff = 3 * time.Second
	want.Routing.Topics = routes(map[string]string{"orders": "orders_v2", "my_topic": "mine", "app.events": "events"})
	want.Control.Enabled = false
	want.Batch.Linger = 250 * time.Millisecond
	want.Batch.MaxBytes = 8 << 20
	want.Log.Level = "debug"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %#v\nwant %#v", c, want)
	}
	if c.Kafka.SASL.Password.Reveal() != "p=ss" {
		t.Errorf("password %q, want p=ss (value split on the first '=')", c.Kafka.SASL.Password.Reveal())
	}
}

func TestLoadSet(t *testing.T) {
	c, err := Load("", nil, []string{
		"kafka.brokers=a:9092,b:9092",
		"routing.topics.orders=orders_v2",
		"routing.topics.app.events=events", // below a map key the rest is the map key
		"qdrant.api_key=k=v",
		"kafka.sasl.mechanism=PLAIN",
		"backup.retention.keep_last=4",
		"backup.s3.path_style=true",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a:9092", "b:9092"}; !reflect.DeepEqual(c.Kafka.Brokers, want) {
		t.Errorf("brokers %q, want %q", c.Kafka.Brokers, want)
	}
	if want := routes(map[string]string{"orders": "orders_v2", "app.events": "events"}); !reflect.DeepEqual(c.Routing.Topics, want) {
		t.Errorf("routing.topics %q, want %q", c.Routing.Topics, want)
	}
	if c.Qdrant.APIKey.Reveal() != "k=v" || c.Kafka.SASL.Mechanism != "PLAIN" ||
		c.Backup.Retention.KeepLast != 4 || !c.Backup.S3.PathStyle {
		t.Errorf("got api_key %q mechanism %q keep_last %d path_style %v",
			c.Qdrant.APIKey.Reveal(), c.Kafka.SASL.Mechanism, c.Backup.Retention.KeepLast, c.Backup.S3.PathStyle)
	}
}

func TestLoadMapMergesAcrossLayers(t *testing.T) {
	path := writeFile(t, "kafka: {topics: [a, b, c]}\nrouting:\n  topics: {a: from-file, b: from-file}\n")
	c, err := Load(path, []string{"KQ__ROUTING__TOPICS__B=from-env", "KQ__ROUTING__TOPICS__C=from-env"},
		[]string{"routing.topics.c=from-set"})
	if err != nil {
		t.Fatal(err)
	}
	want := routes(map[string]string{"a": "from-file", "b": "from-env", "c": "from-set"})
	if !reflect.DeepEqual(c.Routing.Topics, want) {
		t.Errorf("routing.topics %q, want %q", c.Routing.Topics, want)
	}
}

// TestLoadAuthKeysFromEnv: control.auth secrets come from KQ__ variables
// (the variable's name is lower-cased into the key id) and merge with the
// file's keys and commands.
func TestLoadAuthKeysFromEnv(t *testing.T) {
	path := writeFile(t, "control:\n  auth:\n    keys: {ci: from-file-0123456789abcdef0123456789}\n    commands: {ops: \"*\", ci: index_build}\n")
	c, err := Load(path, []string{"KQ__CONTROL__AUTH__KEYS__OPS=from-env-0123456789abcdef0123456789"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Secret{"ci": "from-file-0123456789abcdef0123456789", "ops": "from-env-0123456789abcdef0123456789"}
	if !reflect.DeepEqual(c.Control.Auth.Keys, want) {
		t.Errorf("control.auth.keys %v, want %v", c.Control.Auth.Keys, want)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestLoadTopicRegexDropsDefaultTopics(t *testing.T) {
	tests := []struct {
		name       string
		environ    []string
		sets       []string
		wantTopics []string
	}{
		{"regex from env", []string{"KQ__KAFKA__TOPIC_REGEX=^v"}, nil, nil},
		{"regex from set", nil, []string{"kafka.topic_regex=^v"}, nil},
		{"regex and topics both set keep both", nil, []string{"kafka.topic_regex=^v", "kafka.topics=x"}, []string{"x"}},
		{"empty regex keeps default", []string{"KQ__KAFKA__TOPIC_REGEX="}, nil, []string{"vectors"}},
		{"topics emptied by env", []string{"KQ__KAFKA__TOPICS="}, nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", tt.environ, tt.sets)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Kafka.Topics, tt.wantTopics) {
				t.Errorf("topics %#v, want %#v", c.Kafka.Topics, tt.wantTopics)
			}
		})
	}
}

// TestLoadRejects checks that every layer rejects unknown keys and bad
// values with a FieldError naming the key and the layer.
func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		environ  []string
		sets     []string
		wantKeys []string
		wantMsgs []string
	}{
		{name: "unknown key in file", file: "kafka:\n  brokrs: [a:9092]\n",
			wantKeys: []string{"kafka.brokrs"}, wantMsgs: []string{"unknown key (in file "}},
		{name: "unknown key in env", environ: []string{"KQ__KAFKA__BROKRS=a:9092"},
			wantKeys: []string{"kafka.brokrs"}, wantMsgs: []string{"unknown key (from environment variable KQ__KAFKA__BROKRS)"}},
		{name: "unknown section in env", environ: []string{"KQ__KAFAK__BROKERS=a:9092"},
			wantKeys: []string{"kafak.brokers"}, wantMsgs: []string{"unknown key"}},
		{name: "unknown key in set", sets: []string{"kafka.brokrs=a:9092"},
			wantKeys: []string{"kafka.brokrs"}, wantMsgs: []string{"unknown key (from --set kafka.brokrs)"}},
		{name: "key below a leaf in set", sets: []string{"kafka.group.name=x"},
			wantKeys: []string{"kafka.group.name"}, wantMsgs: []string{"unknown key"}},
		{name: "section in env", environ: []string{"KQ__KAFKA=x"},
			wantKeys: []string{"kafka"}, wantMsgs: []string{"is a section, not a key"}},
		{name: "map itself in set", sets: []string{"routing.topics=a"},
			wantKeys: []string{"routing.topics"}, wantMsgs: []string{"is a map; set one entry, e.g. routing.topics.<name>"}},
		{name: "set without =", sets: []string{"kafka.group"},
			wantKeys: []string{"kafka.group"}, wantMsgs: []string{"want --set key=value"}},
		{name: "bad int in env", environ: []string{"KQ__BATCH__MAX_RECORDS=lots"},
			wantKeys: []string{"batch.max_records"}, wantMsgs: []string{`invalid integer "lots" (from environment variable KQ__BATCH__MAX_RECORDS)`}},
		{name: "duration without unit in set", sets: []string{"batch.linger=20"},
			wantKeys: []string{"batch.linger"}, wantMsgs: []string{"a number needs a unit"}},
		{name: "bad byte size in env", environ: []string{"KQ__BATCH__MAX_BYTES=-1"},
			wantKeys: []string{"batch.max_bytes"}, wantMsgs: []string{"invalid byte size"}},
		{name: "bad bool in set", sets: []string{"control.enabled=maybe"},
			wantKeys: []string{"control.enabled"}, wantMsgs: []string{`invalid boolean "maybe"`}},
		{name: "errors of every layer at once, sorted by key",
			file:     "zzz: 1\n",
			environ:  []string{"KQ__LOG__LEVL=debug"},
			sets:     []string{"batch.max_records=x"},
			wantKeys: []string{"batch.max_records", "log.levl", "zzz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := Load(path, tt.environ, tt.sets)
			var v ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("error %v (%T), want a ValidationError", err, err)
			}
			if !reflect.DeepEqual(v.Keys(), tt.wantKeys) {
				t.Errorf("keys %q, want %q; error:\n%v", v.Keys(), tt.wantKeys, err)
			}
			for _, m := range tt.wantMsgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
		})
	}
}

func TestLoadErrorsDoNotEchoValues(t *testing.T) {
	_, err := Load("", []string{"KQ__QDRANT__APIKEY=s3cr3t-value"}, []string{"kafka.sasl.pasword=s3cr3t-value"})
	if err == nil {
		t.Fatal("no error for misspelled secret keys")
	}
	if strings.Contains(err.Error(), "s3cr3t-value") {
		t.Errorf("error echoes a secret value: %v", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil, nil); err == nil ||
		!strings.Contains(err.Error(), "reading config file") {
		t.Errorf("missing file: error %v, want one naming the file", err)
	}
}
