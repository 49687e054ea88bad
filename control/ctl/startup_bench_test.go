package ctl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// BenchmarkStartupWithFinishedCommands measures the control plane's start
// on a status topic holding 100,000 finished commands (3 events each, as
// before compaction: accepted, running with progress, final): the time
// until a new runner owns the control partition (status view loaded,
// former owners fenced) and the time `ctl status ID` takes (its own
// client reads the whole topic). kfake, one partition.
//
//	go test -run '^$' -bench StartupWithFinishedCommands -benchtime 1x ./control/ctl/
func BenchmarkStartupWithFinishedCommands(b *testing.B) {
	const commands = 100_000
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer kc.Close()
	cfg := config.Default()
	cfg.Kafka.Brokers, cfg.Kafka.Group, cfg.Kafka.SessionTimeout = kc.ListenAddrs(), "kq", 3*time.Second
	opts := []kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...), kgo.MetadataMinAge(20 * time.Millisecond)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := control.EnsureTopics(b.Context(), opts, cfg.Control.Topic, cfg.Control.StatusTopic, quiet); err != nil {
		b.Fatal(err)
	}
	prod, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic(cfg.Control.StatusTopic), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	now := time.Now().UTC()
	var bytesOnTopic int
	for lo := 0; lo < commands; lo += 5000 {
		var recs []*kgo.Record
		for i := lo; i < min(commands, lo+5000); i++ {
			id := fmt.Sprintf("index_build-movies-%08d", i)
			base := schemas.Status{CommandID: id, Type: schemas.CommandIndexBuild, Collection: "movies", Replica: "kq-bench", Time: now}
			acc, run, fin := base, base, base
			acc.State = schemas.StateAccepted
			run.State = schemas.StateRunning
			run.Progress = &schemas.Progress{Done: 42000, Detail: "yellow: 42000 vectors indexed (Qdrant's count: optimized segments, dense and sparse), 100000 points, 7 segments, 2 optimizations running, 0 queued",
				Data: []byte(`{"status":"yellow","optimizer":"ok","points":100000,"indexed_vectors":42000,"segments":7,"update_queue":0,"optimizations_running":2,"optimizations_queued":0}`)}
			fin.State = schemas.StateSucceeded
			fin.Result = []byte(`{"applied":{"m":16,"ef_construct":null,"indexing_threshold":null},"sources":{"m":"recorded"},"changed":true,"points":100000,"indexed_vectors":100000,"segments":7,"polls":42}`)
			for _, s := range []schemas.Status{acc, run, fin} {
				v, err := s.Encode()
				if err != nil {
					b.Fatal(err)
				}
				bytesOnTopic += len(v)
				recs = append(recs, &kgo.Record{Key: []byte(id), Value: v})
			}
		}
		if err := prod.ProduceSync(b.Context(), recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	ts := qdrantmem.NewTestServer(b)
	b.ResetTimer()
	for range b.N {
		reg := prometheus.NewRegistry()
		r, err := control.NewRunner(control.RunnerConfig{Config: cfg, KafkaOpts: opts, Qdrant: ts.Client, Registerer: reg,
			Logger: quiet, Replica: "kq-bench", HandoverTimeout: 2 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(ctx) }()
		for owner(b, reg) != 1 {
			if time.Since(start) > time.Minute {
				b.Fatal("the runner did not take the control partition over within a minute")
			}
			time.Sleep(5 * time.Millisecond) // polling a gauge
		}
		joined := time.Since(start)
		if n := r.View().Len(); n != commands {
			b.Fatalf("view holds %d commands, want %d", n, commands)
		}

		var out, errOut bytes.Buffer
		start = time.Now()
		code := Run(b.Context(), []string{"status", "index_build-movies-00099999"}, Env{KafkaOpts: opts, Control: cfg.Control, Stdout: &out, Stderr: &errOut})
		status := time.Since(start)
		if code != ExitOK || !strings.Contains(out.String(), "succeeded") {
			b.Fatalf("ctl status = %d\n%s%s", code, out.String(), errOut.String())
		}
		cancel()
		<-done
		b.ReportMetric(joined.Seconds(), "join-s")
		b.ReportMetric(status.Seconds(), "ctl-status-s")
	}
	b.ReportMetric(float64(bytesOnTopic)/(1<<20), "topic-MiB")
}

func owner(b *testing.B, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "kafka_qdrant_control_owner" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}
