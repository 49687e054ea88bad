package control_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control"
)

// A replica wires the runner with its config, the base Kafka options and
// the Qdrant client, and runs it until a signal.
func ExampleNewRunner() {
	cfg := config.Default()
	qc, err := qdrant.NewClient(&qdrant.Config{Host: "localhost", Port: 6334})
	if err != nil {
		log.Fatal(err)
	}
	r, err := control.NewRunner(control.RunnerConfig{
		Config:     cfg,
		KafkaOpts:  []kgo.Opt{kgo.SeedBrokers(cfg.Kafka.Brokers...)}, // kafkaclient.Options(cfg.Kafka) in main
		Qdrant:     qc,
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := r.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
