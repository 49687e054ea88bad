// Package devenv is `kafka-qdrant dev`: an embedded Kafka broker (kfake,
// persisted to a data dir), the in-memory Qdrant API server, an embedded
// Schema Registry (franz-go's srfake, its schemas saved in the data dir)
// and the connector, on one machine with no infrastructure. The data topic
// is read as JSON, <topic>.protobuf as record.v1 Protobuf and
// <topic>.registry in the Schema Registry wire format, all into the one
// collection.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/app"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
)

// StartKafka starts a single-broker kfake cluster on addr (its host must be
// 127.0.0.1; port 0 picks one). With dataDir set, topics, records and
// committed offsets persist across restarts. Topics are created with the
// given partition counts if missing.
func StartKafka(addr, dataDir string, topics map[string]int32) (*kfake.Cluster, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafka address %q: %w", addr, err)
	}
	if host != "127.0.0.1" && host != "localhost" && host != "" {
		return nil, fmt.Errorf("kafka address %q: the embedded broker listens on 127.0.0.1 only", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("kafka address %q: bad port", addr)
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.DefaultNumPartitions(1),
		kfake.AllowAutoTopicCreation()}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("kafka data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting embedded kafka: %w", err)
	}
	if len(topics) > 0 {
		if err := createTopics(c.ListenAddrs(), topics); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func createTopics(brokers []string, topics map[string]int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for t, n := range topics {
		resp, err := adm.CreateTopic(ctx, n, 1, nil, t)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", t, err)
		}
	}
	return nil
}

// StartQdrant starts the in-memory Qdrant API server: gRPC on grpcAddr and
// REST on restAddr (either may use port 0). It returns the bound addresses.
func StartQdrant(grpcAddr, restAddr string, opts ...qdrantmem.Option) (*qdrantmem.Server, string, string, error) {
	s := qdrantmem.New(opts...)
	g, err := s.Start(grpcAddr)
	if err != nil {
		return nil, "", "", fmt.Errorf("in-memory qdrant grpc: %w", err)
	}
	r := ""
	if restAddr != "" {
		if r, err = s.StartREST(restAddr); err != nil {
			s.Stop()
			return nil, "", "", fmt.Errorf("in-memory qdrant rest: %w", err)
		}
	}
	return s, g, r, nil
}

// Options configure `kafka-qdrant dev`.
type Options struct {
	DataDir    string
	KafkaAddr  string
	QdrantGRPC string
	QdrantREST string
	// RegistryAddr is the embedded Schema Registry's listen address.
	RegistryAddr string
	HTTPListen   string
	Topic        string
	Partitions   int
	Dimension    int
	Group        string
	LogLevel     string
}

// DefaultOptions are the documented defaults of `kafka-qdrant dev`.
func DefaultOptions() Options {
	return Options{
		DataDir:      ".dev-data",
		KafkaAddr:    "127.0.0.1:9092",
		QdrantGRPC:   "127.0.0.1:6334",
		QdrantREST:   "127.0.0.1:6333",
		RegistryAddr: "127.0.0.1:8081",
		HTTPListen:   "127.0.0.1:9464",
		Topic:        "vectors",
		Partitions:   4,
		Dimension:    4,
		Group:        "kafka-qdrant",
		LogLevel:     "info",
	}
}

// Run starts everything, prints how to use it to out, and runs the
// connector until ctx ends.
func Run(ctx, hard context.Context, o Options, log *slog.Logger, out io.Writer) error {
	dlq := o.Topic + ".dlq"
	pbTopic, regTopic := o.Topic+".protobuf", o.Topic+".registry"
	kc, err := StartKafka(o.KafkaAddr, filepath.Join(o.DataDir, "kafka"), map[string]int32{
		o.Topic: int32(o.Partitions), pbTopic: int32(o.Partitions), regTopic: int32(o.Partitions), dlq: 1,
	})
	if err != nil {
		return err
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	reg, err := StartRegistry(o.RegistryAddr, filepath.Join(o.DataDir, "schema-registry.json"))
	if err != nil {
		return err
	}
	defer reg.Close()

	qs, grpcAddr, restAddr, err := StartQdrant(o.QdrantGRPC, o.QdrantREST)
	if err != nil {
		return err
	}
	defer qs.Stop()
	if err := ensureCollection(ctx, grpcAddr, o.Topic, o.Dimension); err != nil {
		return err
	}
	// The in-memory Qdrant starts empty on every run while the embedded
	// broker keeps its data: forget the group's offsets so the topic is
	// replayed into Qdrant from the start.
	if err := resetGroup(ctx, brokers, o.Group); err != nil {
		return err
	}

	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.Group = o.Group
	cfg.Kafka.Topics = []string{o.Topic, pbTopic, regTopic}
	cfg.Routing.Topics = map[string]config.Route{
		pbTopic:  {Collection: o.Topic, Format: "protobuf"},
		regTopic: {Collection: o.Topic, Format: "registry"},
	}
	cfg.SchemaRegistry.URL = reg.URL()
	cfg.Kafka.DLQTopic = dlq
	cfg.Kafka.SessionTimeout = 10 * time.Second
	cfg.Qdrant.GRPC = grpcAddr
	cfg.Qdrant.REST = "http://" + restAddr
	cfg.Backup.Store = "file://" + mustAbs(filepath.Join(o.DataDir, "backups"))
	cfg.HTTP.Listen = o.HTTPListen
	cfg.Shutdown.Timeout = 10 * time.Second
	if err := cfg.Validate(); err != nil {
		return err
	}

	return app.Run(ctx, hard, app.Options{Config: cfg, Logger: log, OnListening: func(httpAddr string) {
		o.HTTPListen = httpAddr
		printUsage(out, brokers[0], o, dlq, grpcAddr, restAddr, reg.URL())
	}})
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func ensureCollection(ctx context.Context, grpcAddr, name string, dim int) error {
	host, portStr, _ := net.SplitHostPort(grpcAddr)
	port, _ := strconv.Atoi(portStr)
	qc, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: port})
	if err != nil {
		return err
	}
	defer qc.Close()
	exists, err := qc.CollectionExists(ctx, name)
	if err != nil {
		return fmt.Errorf("checking collection %s: %w", name, err)
	}
	if exists {
		return nil
	}
	err = qc.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{
			Size: uint64(dim), Distance: qdrant.Distance_Cosine,
		}),
	})
	if err != nil {
		return fmt.Errorf("creating collection %s: %w", name, err)
	}
	return nil
}

func resetGroup(ctx context.Context, brokers []string, group string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := adm.DeleteGroups(rctx, group)
	if err != nil {
		return fmt.Errorf("resetting consumer group %s: %w", group, err)
	}
	_ = resp // a group that does not exist yet is fine
	return nil
}

func printUsage(w io.Writer, broker string, o Options, dlq, grpcAddr, restAddr, registry string) {
	vec := "[0.1, 0.2, 0.3, 0.4]"
	if o.Dimension != 4 {
		vec = fmt.Sprintf("<%d numbers>", o.Dimension)
	}
	fmt.Fprintf(w, `
kafka-qdrant dev is up.
  Kafka (embedded):   %s   topic %q (%d partitions), DLQ %q, data in %s
  Qdrant (in-memory): gRPC %s, REST http://%s   collection %q (dim %d, cosine)
  Schema Registry:    %s (embedded)
  Metrics:            http://%s/metrics   health: /healthz /readyz

Produce a record (key = point id):
  echo '42|{"vector": %s, "payload": {"title": "Alien", "year": 1979}}' | kcat -P -b %s -t %s -K'|'
Delete it (tombstone):
  echo '42|' | kcat -P -b %s -t %s -K'|' -Z
Binary records, into the same collection (README: Record format):
  topic %q: a serialized kafka_qdrant.record.v1.Record (schemas/record.v1.proto)
  topic %q: Avro, Protobuf or JSON from a Schema Registry serializer (%s)
Read the DLQ with its error headers:
  kcat -C -b %s -t %s -e -f 'offset %%o key %%k headers %%h\n%%s\n'
Send a control command and follow it (ctl, or raw kcat on the control and status topics):
  kafka-qdrant ctl --set kafka.brokers=%s index-build %s --wait
  echo 'ib-1|{"id": "ib-1", "type": "index_build", "collection": "%s"}' | kcat -P -b %s -t kafka-qdrant.control -K'|'
  kcat -C -b %s -t kafka-qdrant.status -e -f '%%k %%s\n'
Back up into %s, restore into a new collection with a replay, list the backups:
  kafka-qdrant ctl --set kafka.brokers=%s backup %s --wait
  kafka-qdrant ctl --set kafka.brokers=%s restore %s --into %s_restored --replay --wait
  kafka-qdrant ctl --set kafka.brokers=%s backups %s

Stop with Ctrl-C.
`, broker, o.Topic, o.Partitions, dlq, o.DataDir,
		grpcAddr, restAddr, o.Topic, o.Dimension, registry, o.HTTPListen,
		vec, broker, o.Topic, broker, o.Topic,
		o.Topic+".protobuf", o.Topic+".registry", registry,
		broker, dlq,
		broker, o.Topic, o.Topic, broker, broker,
		filepath.Join(o.DataDir, "backups"), broker, o.Topic, broker, o.Topic, o.Topic, broker, o.Topic)
}
