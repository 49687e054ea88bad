package connector_test

import (
	"context"
	"log/slog"
	"os"
	"os/signal"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/connector"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// Example wires one member of the data consumer group by hand, as
// internal/app does: a Qdrant writer as the Sink, the base Kafka options,
// and Run until the first interrupt (which drains and commits).
func Example() {
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{"localhost:9092"}
	cfg.Kafka.DLQTopic = "vectors.dlq"
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	reg := prometheus.NewRegistry()

	qc, err := sink.NewClient(cfg.Qdrant)
	if err != nil {
		log.Error("qdrant client", "err", err)
		return
	}
	defer qc.Close()
	writer := sink.NewWriter(sink.PooledPoints(qc), qc.GetCollectionsClient(), sink.WriterConfig{
		Retry: cfg.Qdrant.Retry, Timeout: cfg.Qdrant.Timeout, Logger: log, Registerer: reg,
	})
	kopts, err := kafkaclient.Options(cfg.Kafka)
	if err != nil {
		log.Error("kafka options", "err", err)
		return
	}
	c, err := connector.New(connector.Config{
		Kafka: cfg.Kafka, Routing: cfg.Routing, Record: cfg.Record, Batch: cfg.Batch,
		ClientOpts: kopts, Sink: writer, Logger: log, Registerer: reg,
		DrainTimeout: cfg.Shutdown.Timeout,
	})
	if err != nil {
		log.Error("connector", "err", err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := c.Run(ctx); err != nil {
		log.Error("run", "err", err)
	}
}
