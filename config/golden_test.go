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

// goodChecks holds the expected struct excerpt of some good files; every
// good file must also load and validate.
var goodChecks = map[string]func(t *testing.T, c Config){
	"empty.yaml": func(t *testing.T, c Config) {
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("empty file: got %+v, want Default()", c)
		}
	},
	"empty_sections.yaml": func(t *testing.T, c Config) {
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("empty sections: got %+v, want Default()", c)
		}
	},
	"minimal.yaml": func(t *testing.T, c Config) {
		want := Default()
		want.Kafka.Brokers = []string{"kafka-1:9092", "kafka-2:9092"}
		want.Qdrant.GRPC = "qdrant:6334"
		want.Qdrant.REST = "http://qdrant:6333"
		if !reflect.DeepEqual(c, want) {
			t.Errorf("got %+v\nwant %+v", c, want)
		}
	},
	"full.yaml": func(t *testing.T, c Config) {
		want := Config{
			Kafka: Kafka{
				Brokers: []string{"b1:9092", "b2:9092", "b3:9092"}, Group: "ingest",
				Topics: []string{"movies", "app.events", "clicks"}, DLQTopic: "ingest.dlq", ClientID: "kq-ingest",
				DialTimeout: 5 * time.Second, CommitInterval: 500 * time.Millisecond,
				SessionTimeout: 30 * time.Second, RebalanceTimeout: 2 * time.Minute,
				FetchMaxBytes: 16_000_000,
				FetchMaxWait:  250 * time.Millisecond,
				SASL:          SASL{Mechanism: "SCRAM-SHA-512", Username: "kq", Password: "hunter2"},
			},
			Qdrant: Qdrant{
				GRPC: "qdrant.internal:6334", REST: "https://qdrant.internal:6333", APIKey: "qdrant-key",
				Timeout: 10 * time.Second,
				Retry:   Retry{InitialBackoff: 50 * time.Millisecond, MaxBackoff: 5 * time.Second},
				Fencing: true, FencingEpoch: 2, MaxRequestBytes: 8 << 20,
			},
			Routing: Routing{
				Collection: "default_coll",
				Topics: map[string]Route{"movies": {Collection: "films"},
					"app.events": {Collection: "events", Format: "protobuf"}, "clicks": {Format: "json"}},
			},
			Record: Record{Format: "registry", IDField: "key", VectorField: "embedding", PayloadField: "doc", MaxBytes: 512 << 10,
				DeleteField: "delete", KeyID: "strict"},
			Batch: Batch{
				MaxRecords: 1000, MaxBytes: 8 << 20, Linger: 50 * time.Millisecond, MaxInflightBytes: 1 << 30,
				MaxDecodedBytes: 512 << 20, MaxInflightPerPartition: 8,
			},
			Control: Control{Enabled: true, Topic: "kq.control", StatusTopic: "kq.status", StatusRetention: 72 * time.Hour,
				Auth: ControlAuth{
					Keys:     map[string]Secret{"ops": "0123456789abcdef0123456789abcdef-ops", "ci": "0123456789abcdef0123456789abcdef-ci"},
					Commands: map[string]string{"ops": "*", "ci": "index_defer, index_build,cancel"},
					Window:   2 * time.Minute,
				}},
			Backup: Backup{
				Store: "s3://backups/qdrant",
				S3: S3{Endpoint: "http://minio:9000", Region: "us-east-1", PathStyle: true,
					AccessKeyID: "minio", SecretAccessKey: "minio-secret"},
				Schedule:  "6h",
				Retention: Retention{KeepLast: 7, MaxAge: 168 * time.Hour},
			},
			HTTP:     HTTP{Listen: "127.0.0.1:9464"},
			Log:      Log{Level: "debug", Format: "text"},
			Shutdown: Shutdown{Timeout: time.Minute},
			SchemaRegistry: SchemaRegistry{URL: "https://sr.internal:8081", Username: "kq", Password: "sr-secret",
				Timeout: 5 * time.Second},
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("got  %#v\nwant %#v", c, want)
		}
		// Secrets are read in full (only printing redacts them).
		if c.Kafka.SASL.Password.Reveal() != "hunter2" || c.Qdrant.APIKey.Reveal() != "qdrant-key" {
			t.Errorf("secrets not loaded: %q %q", c.Kafka.SASL.Password.Reveal(), c.Qdrant.APIKey.Reveal())
		}
	},
	"topic_regex.yaml": func(t *testing.T, c Config) {
		if c.Kafka.Topics != nil || c.Kafka.TopicRegex != `^vectors\..+` {
			t.Errorf("topics %q regex %q: want the default topics dropped", c.Kafka.Topics, c.Kafka.TopicRegex)
		}
		if got := c.Routing.Topics["vectors.movies"].Collection; got != "movies" {
			t.Errorf("routing.topics[vectors.movies] = %q, want movies (dotted map key kept whole)", got)
		}
	},
	"units.yaml": func(t *testing.T, c Config) {
		if want := []string{"k1:9092", "k2:9092"}; !reflect.DeepEqual(c.Kafka.Brokers, want) {
			t.Errorf("brokers %q, want %q", c.Kafka.Brokers, want)
		}
		got := []ByteSize{c.Kafka.FetchMaxBytes, c.Record.MaxBytes, c.Batch.MaxBytes, c.Batch.MaxInflightBytes}
		want := []ByteSize{1 << 20, 2_000_000, 1_000_000_000, 2 << 30}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("byte sizes %v, want %v", got, want)
		}
		if c.Batch.Linger != 0 {
			t.Errorf("linger %s, want 0", c.Batch.Linger)
		}
	},
}

func TestGoodConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f, nil, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if check, ok := goodChecks[filepath.Base(f)]; ok {
				check(t, c)
			}
		})
	}
	for name := range goodChecks {
		if _, err := os.Stat(filepath.Join("testdata/good", name)); err != nil {
			t.Errorf("goodChecks names a missing file: %v", err)
		}
	}
}

// TestBadConfigs loads and validates every testdata/bad file; the error
// must contain each "# want: " line of the file's header.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var wants []string
			for line := range strings.Lines(string(raw)) {
				if w, ok := strings.CutPrefix(line, "# want: "); ok {
					wants = append(wants, strings.TrimSpace(w))
				}
			}
			if len(wants) == 0 {
				t.Fatal("no '# want: ' header")
			}
			c, err := Load(f, nil, nil)
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatalf("no error, want %q", wants)
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
			// A field error must not drag unrelated ones along.
			var v ValidationError
			if errors.As(err, &v) && len(v) != len(wants) {
				t.Errorf("got %d problems, want %d:\n%v", len(v), len(wants), err)
			}
		})
	}
}
