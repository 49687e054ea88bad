package validate

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
)

func TestCheck(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "vectors", "vectors.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	qaddr := qdrantmem.NewTestServer(t).GRPC
	closed := closedAddr(t)

	base := func() config.Config {
		c := config.Default()
		c.Kafka.Brokers = kc.ListenAddrs()
		c.Kafka.DLQTopic = "vectors.dlq"
		c.Kafka.DialTimeout = 2 * time.Second
		c.Qdrant.GRPC = qaddr
		c.Qdrant.Timeout = 2 * time.Second
		c.Backup.Store = "file://" + t.TempDir()
		return c
	}
	tests := []struct {
		name    string
		mutate  func(*config.Config)
		wantErr []string // substrings; none: success
		wantOut []string
	}{
		{"all reachable", func(*config.Config) {}, nil, []string{"ok   kafka", "ok   qdrant", "version " + qdrantmem.Version, "ok   backup"}},
		{"missing topics", func(c *config.Config) { c.Kafka.Topics = []string{"nope"}; c.Kafka.DLQTopic = "nodlq" },
			[]string{"kafka", "nope", "nodlq (kafka.dlq_topic)"}, []string{"FAIL kafka"}},
		{"qdrant unreachable", func(c *config.Config) { c.Qdrant.GRPC = closed }, []string{"qdrant", closed}, []string{"FAIL qdrant"}},
		{"backup store is a file", func(c *config.Config) { c.Backup.Store = "file:///etc/hostname" }, []string{"not a directory"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.mutate(&cfg)
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := Check(ctx, cfg, &out, slog.New(slog.DiscardHandler))
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("Check = %v\n%s", err, out.String())
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Check error %v does not mention %q", err, w)
				}
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q lacks %q", out.String(), w)
				}
			}
		})
	}
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
