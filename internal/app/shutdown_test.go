package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
)

// TestShutdownBoundedByTimeout: on the first signal the whole shutdown,
// the last offset commit and the control plane included, ends within
// shutdown.timeout even when nothing cooperates: Qdrant hangs the batch in
// flight and the broker never answers an offset commit.
func TestShutdownBoundedByTimeout(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "vectors"), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ts := qdrantmem.NewTestServer(t)
	qs := ts.Server

	const timeout = 2 * time.Second
	cfg := config.Default()
	cfg.Kafka.Brokers = kc.ListenAddrs()
	cfg.Kafka.CommitInterval = 50 * time.Millisecond
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Qdrant.GRPC = ts.GRPC
	cfg.Qdrant.REST = ts.REST
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Shutdown.Timeout = timeout
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := ts.Client.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "vectors",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Dot})}); err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, context.Background(), Options{Config: cfg, Logger: slog.New(slog.DiscardHandler),
			ExtraKafkaOpts: []kgo.Opt{kgo.MetadataMinAge(50 * time.Millisecond)}})
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Kafka.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(key string) {
		t.Helper()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "vectors", Key: []byte(key),
			Value: []byte(`{"vector": [1, 2, 3, 4]}`)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// No offset commit is ever answered, so the mark of point 1 is still
	// to be committed at shutdown; then the batch of point 2 hangs in
	// Qdrant.
	never := make(chan struct{})
	defer close(never)
	kc.ControlKey(int16(kmsg.OffsetCommit), func(kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		kc.SleepControl(func() { <-never })
		return nil, nil, false
	})
	produce("1")
	waitFor(t, "point 1 applied", func() bool {
		pts, err := qs.Points("vectors")
		return err == nil && len(pts) == 1
	})
	qs.Hang("/qdrant.Points/UpdateBatch")
	defer qs.Unhang("/qdrant.Points/UpdateBatch")
	produce("2")
	time.Sleep(200 * time.Millisecond) // the batch of point 2 is in flight

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		took := time.Since(start)
		t.Logf("Run returned after %s: %v", took.Round(time.Millisecond), err)
		if slack := time.Second; took > timeout+slack {
			t.Fatalf("shutdown took %s, want at most shutdown.timeout (%s) plus %s", took.Round(time.Millisecond), timeout, slack)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return within 60 s of the first signal")
	}
}
