package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// env is one test's world: a kfake cluster, the in-memory Qdrant and the
// clients to drive and inspect them.
type env struct {
	t       testing.TB
	kafka   *kfake.Cluster
	brokers []string
	qs      *qdrantmem.Server
	qaddr   string
	qc      *qdrant.Client
	prod    *kgo.Client
	adm     *kadm.Client
	topic   string
	group   string
	dlq     string
	// wrapSink, when set, wraps the Qdrant writer of members started
	// from now on (fault injection per collection).
	wrapSink func(Sink) Sink
	// logs, when set, also receives what members started after log.
	logs *logCapture
}

const testDim = 4

// producerBatchMax bounds the record batches tests produce: a fetch returns
// at least one whole batch per partition, whatever kafka.fetch_max_bytes.
const producerBatchMax = 16 << 10

func newEnv(t *testing.T, partitions int32) *env { return newEnvTB(t, partitions) }

func newEnvTB(t testing.TB, partitions int32) *env {
	t.Helper()
	e := &env{t: t, topic: "vectors", group: "kq-test", dlq: "vectors.dlq"}
	var err error
	e.kafka, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, e.topic), kfake.SeedTopics(1, e.dlq))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.kafka.Close)
	e.brokers = e.kafka.ListenAddrs()
	ts := qdrantmem.NewTestServer(t)
	e.qs, e.qaddr, e.qc = ts.Server, ts.GRPC, ts.Client
	e.createCollection(e.topic, testDim)
	e.prod, err = kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.MetadataMinAge(50*time.Millisecond),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0),
		kgo.ProducerBatchMaxBytes(producerBatchMax),
		// Uncompressed, so that fetched bytes and held bytes compare
		// (TestBackpressureBoundsMemory).
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.prod.Close)
	e.adm = kadm.NewClient(e.prod)
	return e
}

func (e *env) createCollection(name string, dim uint64) {
	e.t.Helper()
	err := e.qc.CreateCollection(context.Background(), &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: qdrant.Distance_Cosine}),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// testConfig is a connector config with small batches and fast commits.
func (e *env) testConfig() Config {
	c := config.Default()
	c.Kafka.Brokers = e.brokers
	c.Kafka.Group = e.group
	c.Kafka.Topics = []string{e.topic}
	c.Kafka.DLQTopic = e.dlq
	c.Kafka.CommitInterval = 50 * time.Millisecond
	c.Kafka.SessionTimeout = 6 * time.Second
	c.Kafka.RebalanceTimeout = 10 * time.Second
	c.Batch.MaxRecords = 100
	c.Batch.Linger = 5 * time.Millisecond
	return Config{
		Kafka: c.Kafka, Routing: c.Routing, Record: c.Record, Batch: c.Batch,
		DrainTimeout: 5 * time.Second,
	}
}

// member is one running connector instance.
type member struct {
	c      *Connector
	cancel context.CancelFunc
	done   chan error
	reg    *prometheus.Registry
	closeQ func()
	once   sync.Once
}

func (e *env) start(cfg Config) *member {
	e.t.Helper()
	m := e.startPaused(cfg)
	m.go_()
	return m
}

// startPaused builds a member without running it, so a test can set hooks.
func (e *env) startPaused(cfg Config) *member {
	return e.startWithHooks(cfg, testHooks{})
}

func (e *env) startWithHooks(cfg Config, hooks testHooks) *member {
	e.t.Helper()
	reg := prometheus.NewRegistry()
	qcfg := config.Default().Qdrant
	qcfg.GRPC = e.qaddr
	qcfg.Retry = config.Retry{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	qcfg.Timeout = 5 * time.Second
	qc, err := sink.NewClient(qcfg)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg.Sink = sink.NewWriter(sink.PooledPoints(qc), qc.GetCollectionsClient(), sink.WriterConfig{
		Retry: qcfg.Retry, Timeout: qcfg.Timeout, Registerer: reg, Logger: testLogger(),
	})
	if e.wrapSink != nil {
		cfg.Sink = e.wrapSink(cfg.Sink)
	}
	cfg.Registerer = reg
	cfg.Logger = testLogger()
	if e.logs != nil {
		cfg.Logger = slog.New(&logTee{Handler: cfg.Logger.Handler(), c: e.logs})
	}
	if hooks.beforeCommit != nil {
		cfg.Logger = slog.New(&commitObserver{Handler: cfg.Logger.Handler(), fn: hooks.beforeCommit})
	}
	cfg.ClientOpts = append(cfg.ClientOpts, kgo.SeedBrokers(e.brokers...), kgo.MetadataMinAge(50*time.Millisecond),
		kgo.ClientID("kq-test"))
	cfg.testHooks = hooks
	c, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	m := &member{c: c, done: make(chan error, 1), reg: reg, closeQ: func() { qc.Close() }}
	e.t.Cleanup(func() { m.stop(e.t) })
	return m
}

func (m *member) go_() {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		m.done <- m.c.Run(ctx)
		m.closeQ()
	}()
}

// stop drains the member gracefully and waits for Run to return.
func (m *member) stop(t testing.TB) {
	m.once.Do(func() {
		if m.cancel == nil {
			return
		}
		m.cancel()
		select {
		case err := <-m.done:
			if err != nil {
				t.Errorf("connector Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("connector did not stop within 30s")
		}
	})
}

// gaugeValue reads a gauge (summed over labels) from a registry.
func gaugeValue(t testing.TB, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				v += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				v += m.GetCounter().GetValue()
			}
		}
	}
	return v
}

// commitObserver passes every commit to fn before it is sent: the
// member logs "committing offsets" at debug level with the offsets.
type commitObserver struct {
	slog.Handler
	fn func(map[string]map[int32]kgo.EpochOffset)
}

func (o *commitObserver) Enabled(context.Context, slog.Level) bool { return true }

func (o *commitObserver) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "committing offsets" {
		r.Attrs(func(a slog.Attr) bool {
			if offs, ok := a.Value.Any().(map[string]map[int32]kgo.EpochOffset); ok && a.Key == "offsets" {
				o.fn(offs)
			}
			return true
		})
	}
	if !o.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return o.Handler.Handle(ctx, r)
}

func (o *commitObserver) WithAttrs(as []slog.Attr) slog.Handler {
	return &commitObserver{Handler: o.Handler.WithAttrs(as), fn: o.fn}
}

func (o *commitObserver) WithGroup(name string) slog.Handler {
	return &commitObserver{Handler: o.Handler.WithGroup(name), fn: o.fn}
}

func testLogger() *slog.Logger {
	if os.Getenv("KQ_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// point is the expected final state of one id.
type point struct {
	vec []float32
	seq int64 // payload "seq"
}

// produce writes records synchronously to a given partition.
func (e *env) produce(recs ...*kgo.Record) {
	e.t.Helper()
	for _, r := range recs {
		if r.Topic == "" {
			r.Topic = e.topic
		}
	}
	if err := e.prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		e.t.Fatal(err)
	}
}

func upsertValue(id uint64, vec []float32, seq int64) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "vector": vec, "payload": map[string]any{"seq": seq}})
	return b
}

func vecFor(id uint64, seq int64) []float32 {
	return []float32{float32(id%97) + 1, float32(seq%89) + 1, 1, float32(id%5) + 0.5}
}

// waitFor polls cond until it returns nil or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s: %v", d, what, err)
}

// committedEqualsEnd reports whether the group's committed offsets equal
// the log end offsets of every partition of the topic.
func (e *env) committedEqualsEnd() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ends, err := e.adm.ListEndOffsets(ctx, e.topic)
	if err != nil {
		return err
	}
	committed, err := e.adm.FetchOffsets(ctx, e.group)
	if err != nil {
		return err
	}
	var mismatch error
	ends.Each(func(lo kadm.ListedOffset) {
		c, ok := committed.Lookup(lo.Topic, lo.Partition)
		if lo.Offset == 0 && !ok {
			return
		}
		if !ok || c.At != lo.Offset {
			mismatch = fmt.Errorf("partition %d: committed %d, end %d", lo.Partition, c.At, lo.Offset)
		}
	})
	return mismatch
}

// committedOffsets returns partition -> committed offset (-1 if none).
func (e *env) committedOffsets() map[int32]int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := map[int32]int64{}
	committed, err := e.adm.FetchOffsets(ctx, e.group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return out // the group has not joined yet: nothing committed
	}
	if err != nil {
		e.t.Fatal(err)
	}
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Topic == e.topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// contentEquals compares Qdrant's points with want (id -> point; ids not in
// want must be absent).
func (e *env) contentEquals(collection string, want map[uint64]point) error {
	got, err := e.qs.Points(collection)
	if err != nil {
		return err
	}
	if len(got) != len(want) {
		return fmt.Errorf("collection %s has %d points, want %d", collection, len(got), len(want))
	}
	for id, w := range want {
		p, ok := got[fmt.Sprintf("n:%d", id)]
		if !ok {
			return fmt.Errorf("point %d missing", id)
		}
		seq := p.GetPayload()["seq"].GetIntegerValue()
		if seq != w.seq {
			return fmt.Errorf("point %d: payload seq %d, want %d", id, seq, w.seq)
		}
		dense := p.GetVectors().GetVector().GetDense().GetData()
		if dense == nil {
			dense = p.GetVectors().GetVector().GetData()
		}
		if !sameDirection(dense, w.vec) {
			return fmt.Errorf("point %d: vector %v, want %v", id, dense, w.vec)
		}
	}
	return nil
}

// sameDirection compares vectors up to normalisation (cosine collections
// store normalised vectors).
func sameDirection(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	na, nb := norm(a), norm(b)
	for i := range a {
		d := a[i]/na - b[i]/nb
		if d > 1e-4 || d < -1e-4 {
			return false
		}
	}
	return true
}

func norm(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return 1
	}
	return float32(math.Sqrt(s))
}

// dlqRecords reads every record of the DLQ topic.
func (e *env) dlqRecords() []*kgo.Record {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(e.dlq),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ends, err := e.adm.ListEndOffsets(ctx, e.dlq)
	if err != nil {
		e.t.Fatal(err)
	}
	var total int64
	ends.Each(func(lo kadm.ListedOffset) { total += lo.Offset })
	var out []*kgo.Record
	for int64(len(out)) < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("reading DLQ: got %d of %d records", len(out), total)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// logCapture keeps the messages and attributes members log (at info and
// above), one line per record.
type logCapture struct {
	mu    sync.Mutex
	lines []string
}

func (c *logCapture) contains(parts ...string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return true
		}
	}
	return false
}

// logTee passes records on to Handler and writes them to c.
type logTee struct {
	slog.Handler
	c     *logCapture
	attrs []slog.Attr
}

func (t *logTee) Enabled(context.Context, slog.Level) bool { return true }

func (t *logTee) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		var b strings.Builder
		b.WriteString(r.Level.String() + " " + r.Message)
		for _, a := range t.attrs {
			b.WriteString(" " + a.String())
		}
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.String())
			return true
		})
		t.c.mu.Lock()
		t.c.lines = append(t.c.lines, b.String())
		t.c.mu.Unlock()
	}
	if !t.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return t.Handler.Handle(ctx, r)
}

func (t *logTee) WithAttrs(as []slog.Attr) slog.Handler {
	return &logTee{Handler: t.Handler.WithAttrs(as), c: t.c, attrs: append(slices.Clip(t.attrs), as...)}
}

func (t *logTee) WithGroup(name string) slog.Handler {
	return &logTee{Handler: t.Handler.WithGroup(name), c: t.c, attrs: t.attrs}
}
