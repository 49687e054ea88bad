package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
)

// TestRunWiresEverything runs one replica from a config: records reach
// Qdrant through the writer (with qdrant.fencing, so each point carries its
// offset), the control plane answers on the status topic, /readyz and
// /metrics serve, and cancelling the context drains and returns nil.
func TestRunWiresEverything(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "vectors"), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ts := qdrantmem.NewTestServer(t)
	qs := ts.Server

	cfg := config.Default()
	cfg.Kafka.Brokers = kc.ListenAddrs()
	cfg.Kafka.CommitInterval = 50 * time.Millisecond
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Qdrant.GRPC = ts.GRPC
	cfg.Qdrant.REST = ts.REST
	cfg.Qdrant.Fencing = true
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Shutdown.Timeout = 5 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	qc := ts.Client
	ctx := context.Background()
	if err := qc.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "vectors",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Dot})}); err != nil {
		t.Fatal(err)
	}

	httpAddr, stop := running(t, cfg)

	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Kafka.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx,
		&kgo.Record{Topic: "vectors", Key: []byte("7"), Value: []byte(`{"vector": [1, 2, 3, 4], "payload": {"a": 1}}`)},
		&kgo.Record{Topic: cfg.Control.Topic, Key: []byte("c1"), Value: []byte(`{"id": "c1", "type": "index_defer", "collection": "vectors"}`)},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "point 7 with its offset", func() bool {
		pts, err := qs.Points("vectors")
		if err != nil || len(pts) != 1 {
			return false
		}
		p := pts["n:7"]
		_, fenced := p.GetPayload()["_kq_offset"]
		return p != nil && p.GetPayload()["a"].GetIntegerValue() == 1 && fenced
	})
	waitFor(t, "control command c1 succeeded on the status topic", func() bool {
		return statusContains(t, cfg, "c1", `"state":"succeeded"`)
	})
	waitFor(t, "/readyz 200 and metrics served", func() bool {
		return get(t, "http://"+httpAddr+"/readyz") == 200 &&
			strings.Contains(body(t, "http://"+httpAddr+"/metrics"), "kafka_qdrant_records_upserted_total 1")
	})
	stop()
}

// running runs the replica of cfg and returns its HTTP address once it
// listens, and stop, which cancels it and requires Run to return nil
// within 30 s.
func running(t *testing.T, cfg config.Config) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrC := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, context.Background(), Options{Config: cfg, Logger: slog.New(slog.DiscardHandler),
			ExtraKafkaOpts: []kgo.Opt{kgo.MetadataMinAge(50 * time.Millisecond)},
			OnListening:    func(a string) { addrC <- a }})
	}()
	select {
	case addr = <-addrC:
	case err := <-done:
		cancel()
		t.Fatalf("Run = %v before listening", err)
	}
	return addr, func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run = %v after a graceful stop, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
}

func statusContains(t *testing.T, cfg config.Config, key, want string) bool {
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Kafka.Brokers...), kgo.ConsumeTopics(cfg.Control.StatusTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return false
		}
		for _, r := range fs.Records() {
			if string(r.Key) == key && strings.Contains(string(r.Value), want) {
				return true
			}
		}
	}
}

func get(t *testing.T, url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func body(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReadyzSaysWhyCredentialsAreRejected: a replica whose API key Qdrant
// rejects, or whose SASL password Kafka rejects, is not ready and /readyz
// says why. Before, a replica with a wrong Qdrant key was ready as soon as
// it joined the group (the version call needs no key, and with no records
// nothing failed).
func TestReadyzSaysWhyCredentialsAreRejected(t *testing.T) {
	tests := []struct {
		name     string
		kafka    []kfake.Opt
		mutate   func(*config.Config)
		joins    bool   // the replica still joins the group (Kafka accepted it)
		wantBody string // a reason /readyz must give
	}{
		{"wrong qdrant.api_key", nil, func(c *config.Config) { c.Qdrant.APIKey = "wrong" }, true,
			"qdrant: qdrant rejected the API key (qdrant.api_key): Invalid API key or JWT"},
		{"no qdrant.api_key", nil, func(c *config.Config) { c.Qdrant.APIKey = "" }, true,
			"qdrant: qdrant requires an API key and qdrant.api_key is empty"},
		{"wrong kafka.sasl.password",
			[]kfake.Opt{kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "kq", "right")},
			func(c *config.Config) {
				c.Kafka.SASL = config.SASL{Mechanism: "SCRAM-SHA-512", Username: "kq", Password: "wrong"}
			}, false,
			`SASL SCRAM-SHA-512 authentication as "kq" failed`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kc, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(2, "vectors"), kfake.AllowAutoTopicCreation()}, tc.kafka...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer kc.Close()
			ts := qdrantmem.NewTestServer(t, qdrantmem.WithAPIKey("right"))

			cfg := config.Default()
			cfg.Kafka.Brokers = kc.ListenAddrs()
			cfg.Kafka.SessionTimeout = 6 * time.Second
			cfg.Kafka.DialTimeout = 2 * time.Second
			cfg.Qdrant.GRPC = ts.GRPC
			cfg.Qdrant.REST = ts.REST
			cfg.Qdrant.APIKey = "right"
			cfg.Control.Enabled = false
			cfg.HTTP.Listen = "127.0.0.1:0"
			cfg.Shutdown.Timeout = 5 * time.Second
			tc.mutate(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}

			addr, stop := running(t, cfg)
			url := "http://" + addr + "/readyz"
			// Wait until the reason shows and, when Kafka accepts the
			// replica, until it joined: then the reason is the only one.
			waitFor(t, "/readyz to give the reason", func() bool {
				b := body(t, url)
				return strings.Contains(b, tc.wantBody) && (!tc.joins || !strings.Contains(b, "not yet assigned"))
			})
			if code := get(t, url); code != http.StatusServiceUnavailable {
				t.Errorf("/readyz = %d, want 503", code)
			}
			if b := body(t, url); strings.Contains(b, "right") || strings.Contains(b, "wrong") {
				t.Errorf("/readyz shows a secret: %s", b)
			}
			stop()
		})
	}
}

// Issue 7 item 4: with qdrant.fencing, a Qdrant older than 1.15.4 (which
// ignores update_filter on upserts) stops the replica at start with an
// error naming the key, before anything is consumed.
func TestRunRefusesFencingOnOldQdrant(t *testing.T) {
	ts := qdrantmem.NewTestServer(t, qdrantmem.WithVersion("1.15.3"))
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{"127.0.0.1:1"} // never reached
	cfg.Kafka.Topics = []string{"vectors"}
	cfg.Qdrant.GRPC = ts.GRPC
	cfg.Qdrant.REST = ts.REST
	cfg.Qdrant.Fencing = true
	cfg.HTTP.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := Run(ctx, context.Background(), Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "qdrant.fencing") || !strings.Contains(err.Error(), "1.15.3") {
		t.Fatalf("Run = %v, want the refusal of Qdrant 1.15.3 for qdrant.fencing", err)
	}
}

// TestReadyzWaitsForTheControlGroup: with the control plane enabled, a
// replica is ready only once its control runner joined the control group
// too. Before, a replica that could not join it (here the coordinator
// refuses the group: no ACL on "<group>.control") reported ready while
// no command could ever run.
func TestReadyzWaitsForTheControlGroup(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "vectors"), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ts := qdrantmem.NewTestServer(t)
	cfg := config.Default()
	cfg.Kafka.Brokers = kc.ListenAddrs()
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Qdrant.GRPC = ts.GRPC
	cfg.Qdrant.REST = ts.REST
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Shutdown.Timeout = 5 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	controlGroup := cfg.Kafka.Group + ".control"
	var allow atomic.Bool
	kc.ControlKey(int16(kmsg.JoinGroup), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		req := kreq.(*kmsg.JoinGroupRequest)
		if req.Group != controlGroup || allow.Load() {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil, true
	})

	addr, stop := running(t, cfg)
	url := "http://" + addr + "/readyz"
	dataJoined := func(b string) bool {
		for _, l := range strings.Split(b, "\n") {
			if strings.TrimPrefix(l, "not ready: ") == "not yet assigned by the consumer group "+cfg.Kafka.Group {
				return false
			}
		}
		return true
	}
	// The data path joins; the control plane cannot, and says so.
	waitFor(t, "/readyz to name the control group only", func() bool {
		b := body(t, url)
		return dataJoined(b) && strings.Contains(b, "control plane: not yet assigned by the consumer group "+controlGroup) &&
			!strings.Contains(b, "qdrant:") && !strings.Contains(b, "kafka:")
	})
	if code := get(t, url); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d while the control group refuses the replica, want 503", code)
	}
	allow.Store(true)
	waitFor(t, "/readyz 200 once the control group took the replica", func() bool { return get(t, url) == http.StatusOK })
	stop()
}
