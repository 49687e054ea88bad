package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/connector"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/s3test"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// fakeSession is the control plane's side of one command for the tests:
// checkpoints are JSON kept across "attempts" (a new fakeSession built
// from the old one's last checkpoint), ownership can be taken away.
type fakeSession struct {
	mu          sync.Mutex
	progress    []schemas.Progress
	checkpoints [][]byte
	lost        bool
}

func (f *fakeSession) Progress(p schemas.Progress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.progress = append(f.progress, p)
}

func (f *fakeSession) Previous() *schemas.Status { return nil }

func (f *fakeSession) Checkpoint(_ context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkpoints = append(f.checkpoints, b)
	return nil
}

func (f *fakeSession) Restore(v any) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.checkpoints) == 0 {
		return false, nil
	}
	return true, json.Unmarshal(f.checkpoints[len(f.checkpoints)-1], v)
}

var errNotOwner = fmt.Errorf("fake session lost the control partition: %w", job.ErrNotOwner)

// Owner is the fake's ownership token: it fails once lost is set.
func (f *fakeSession) Owner() job.Token { return fakeToken{f} }

type fakeToken struct{ f *fakeSession }

func (t fakeToken) Check(context.Context) error {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if t.f.lost {
		return errNotOwner
	}
	return nil
}

// resumed is the session of the next attempt: it sees the checkpoints.
func (f *fakeSession) resumed() *fakeSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &fakeSession{checkpoints: append([][]byte(nil), f.checkpoints...)}
}

// world is one test's servers and handlers.
type world struct {
	t      *testing.T
	kafka  *kfake.Cluster
	kopts  []kgo.Opt
	kcl    *kgo.Client
	adm    *kadm.Client
	q      *qdrantmem.TestServer
	st     store.Store
	cfg    config.Config
	h      *handlers
	writer *sink.Writer
	clock  *testClock
	reg    *prometheus.Registry
}

const (
	topic      = "movies"
	collection = "movies"
	group      = "kq"
	dim        = 4
)

type worldOpt func(*worldConfig)

type worldConfig struct {
	storeURL string
	qopts    []qdrantmem.Option
	// aliased: the data path writes to alias "movies" of collection
	// "movies_v1" instead of a collection "movies".
	aliased bool
	// edit changes the replicas' configuration.
	edit func(*config.Config)
}

func withConfig(edit func(*config.Config)) worldOpt { return func(c *worldConfig) { c.edit = edit } }

func withAlias() worldOpt { return func(c *worldConfig) { c.aliased = true } }

func withS3Store() worldOpt {
	return func(c *worldConfig) { c.storeURL = "s3" }
}

// testClock is a settable clock for manifests and retention.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now()
	}
	return c.now
}

func (c *testClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func newWorld(t *testing.T, opts ...worldOpt) *world {
	t.Helper()
	var wc worldConfig
	for _, o := range opts {
		o(&wc)
	}
	w := &world{t: t, clock: &testClock{}, reg: prometheus.NewRegistry()}
	var err error
	w.kafka, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topic), kfake.SeedTopics(1, "other"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.kafka.Close)
	w.kopts = []kgo.Opt{kgo.SeedBrokers(w.kafka.ListenAddrs()...), kgo.MetadataMinAge(50 * time.Millisecond)}
	w.kcl, err = kgo.NewClient(append(w.kopts, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.kcl.Close)
	w.adm = kadm.NewClient(w.kcl)
	w.q = qdrantmem.NewTestServer(t, wc.qopts...)
	if wc.aliased {
		w.createCollection(collection + "_v1")
		if err := w.q.Client.CreateAlias(t.Context(), collection, collection+"_v1"); err != nil {
			t.Fatal(err)
		}
	} else {
		w.createCollection(collection)
	}

	w.cfg = config.Default()
	w.cfg.Kafka.Group = group
	w.cfg.Kafka.Topics = []string{topic}
	w.cfg.Qdrant.REST = w.q.REST
	w.cfg.Qdrant.Timeout = 10 * time.Second
	w.cfg.Routing.AllowRecordOverride = false
	if wc.edit != nil {
		wc.edit(&w.cfg)
	}
	switch wc.storeURL {
	case "s3":
		srv := s3test.Start(t)
		bucket := fmt.Sprintf("kq-backup-%d", time.Now().UnixNano())
		w.cfg.Backup.Store = "s3://" + bucket + "/prod"
		w.cfg.Backup.S3 = config.S3{Endpoint: srv.Endpoint, Region: srv.Region, PathStyle: true, AccessKeyID: srv.AccessKey, SecretAccessKey: config.Secret(srv.SecretKey)}
		createBucket(t, srv, bucket)
	default:
		w.cfg.Backup.Store = "file://" + t.TempDir() + "/backups"
	}
	w.st, err = store.Open(t.Context(), w.cfg.Backup)
	if err != nil {
		t.Fatal(err)
	}
	w.writer = sink.NewWriter(sink.PooledPoints(w.q.Client), w.q.Client.GetCollectionsClient(), sink.WriterConfig{})
	o, err := Options{
		Config: w.cfg, Store: w.st, Qdrant: w.q.Client, KafkaOpts: w.kopts, Writer: w.writer,
		Replica: "test", Clock: w.clock, Registerer: w.reg, Log: slog.New(slog.DiscardHandler),
		RetryFor: 2 * time.Second, RetryInitial: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	w.h = &handlers{o: o, m: newMetrics(w.reg)}
	return w
}

func (w *world) createCollection(name string) {
	w.t.Helper()
	err := w.q.Client.CreateCollection(w.t.Context(), &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: qdrant.Distance_Dot}),
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// rec is one data record of the model: key (the point id), value (nil: a
// tombstone), partition.
type rec struct {
	id        int
	value     []byte
	partition int32
	ts        time.Time
}

func upsert(id, version int) rec {
	v := fmt.Sprintf(`{"id": %d, "vector": [%d, 1, 2, 3], "payload": {"version": %d}}`, id, version, version)
	return rec{id: id, value: []byte(v), partition: int32(id % 2)}
}

func tombstone(id int) rec { return rec{id: id, partition: int32(id % 2)} }

// produce writes records to the data topic and returns their offsets.
func (w *world) produce(recs ...rec) {
	w.t.Helper()
	for _, r := range recs {
		kr := &kgo.Record{Topic: topic, Partition: r.partition, Key: []byte(fmt.Sprint(r.id)), Value: r.value}
		if !r.ts.IsZero() {
			kr.Timestamp = r.ts
		}
		if err := w.kcl.ProduceSync(w.t.Context(), kr).FirstErr(); err != nil {
			w.t.Fatal(err)
		}
	}
}

// apply plays the data path: it consumes every partition up to its end,
// writes the records to coll with the writer and commits the group's
// offsets there.
func (w *world) apply(coll string) {
	w.t.Helper()
	ends, err := w.adm.ListEndOffsets(w.t.Context(), topic)
	if err != nil {
		w.t.Fatal(err)
	}
	committed, err := w.adm.FetchOffsets(w.t.Context(), group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = nil, nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	decs, err := connector.NewDecoders(w.cfg.Record, w.cfg.Routing, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	dec := decs.For(topic)
	commit := kadm.Offsets{}
	ends.Each(func(lo kadm.ListedOffset) {
		from := int64(0)
		if o, ok := committed.Lookup(lo.Topic, lo.Partition); ok && o.At >= 0 {
			from = o.At
		}
		if from >= lo.Offset {
			return
		}
		var ops []sink.Op
		for _, r := range w.read(lo.Partition, from, lo.Offset) {
			d, err := dec.Decode(w.t.Context(), r.Key, r.Value)
			if err != nil {
				w.t.Fatal(err)
			}
			ops = append(ops, sink.Op{Record: &d, Offset: r.Offset})
		}
		if rej, err := w.writer.Write(w.t.Context(), coll, ops); err != nil || len(rej) > 0 {
			w.t.Fatalf("apply: %v %v", rej, err)
		}
		commit.Add(kadm.Offset{Topic: lo.Topic, Partition: lo.Partition, At: lo.Offset})
	})
	if len(commit) > 0 {
		if _, err := w.adm.CommitOffsets(w.t.Context(), group, commit); err != nil {
			w.t.Fatal(err)
		}
	}
}

// read returns the records of a partition in [from, to).
func (w *world) read(partition int32, from, to int64) []*kgo.Record {
	w.t.Helper()
	cl, err := kgo.NewClient(append(w.kopts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(from)}}))...)
	if err != nil {
		w.t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(w.t.Context(), 10*time.Second)
	defer cancel()
	for int64(len(out)) < to-from {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			w.t.Fatalf("reading %s[%d] %d..%d: got %d", topic, partition, from, to, len(out))
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < to {
				out = append(out, r)
			}
		})
	}
	return out
}

// points returns a collection's points as id → payload version.
func (w *world) points(coll string) map[string]int64 {
	w.t.Helper()
	pts, err := w.q.Points(coll)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]int64{}
	for k, p := range pts {
		out[k] = p.GetPayload()["version"].GetIntegerValue()
	}
	return out
}

// model is what a collection holds after the records.
func model(recs ...rec) map[string]int64 {
	out := map[string]int64{}
	for _, r := range recs {
		k := fmt.Sprintf("n:%d", r.id)
		if r.value == nil {
			delete(out, k)
			continue
		}
		var v struct {
			Payload struct {
				Version int64 `json:"version"`
			} `json:"payload"`
		}
		_ = json.Unmarshal(r.value, &v)
		out[k] = v.Payload.Version
	}
	return out
}

func diffPoints(want, got map[string]int64) string {
	var lines []string
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			lines = append(lines, fmt.Sprintf("%s: want %d, got %d (present %v)", k, v, g, ok))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("%s: unexpected (version %d)", k, v))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (w *world) run(typ schemas.CommandType, id, coll string, params string, s *fakeSession) (any, error) {
	w.t.Helper()
	return w.runCtx(w.t.Context(), typ, id, coll, params, s)
}

// backUp backs the collection up as command id, which must succeed.
func (w *world) backUp(id string) {
	w.t.Helper()
	if _, err := w.run(schemas.CommandBackup, id, collection, "", &fakeSession{}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) runCtx(ctx context.Context, typ schemas.CommandType, id, coll string, params string, s *fakeSession) (any, error) {
	w.t.Helper()
	cmd := schemas.Command{ID: id, Type: typ, Collection: coll}
	if params != "" {
		cmd.Params = json.RawMessage(params)
	}
	hs := w.h.table()
	h := hs[typ]
	if err := h.Validate(cmd); err != nil {
		return nil, err
	}
	return h.Run(ctx, cmd, s)
}

// code is the status error code err ends a command with.
func code(err error) string {
	if err == nil {
		return ""
	}
	return job.StatusErrorOf(err, schemas.ErrInternal).Code
}

// objects lists the store's keys under prefix.
func (w *world) objects(prefix string) []string {
	w.t.Helper()
	objs, err := w.st.List(w.t.Context(), prefix)
	if err != nil {
		w.t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

// nodeSnapshots lists the collection snapshots on the Qdrant node.
func (w *world) nodeSnapshots(coll string) []string {
	w.t.Helper()
	c, err := sink.NewSnapshotClient(w.q.REST, w.cfg.Qdrant)
	if err != nil {
		w.t.Fatal(err)
	}
	ds, err := c.ListSnapshots(w.t.Context(), coll)
	if err != nil && sink.StatusOf(err) != 404 {
		w.t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Name)
	}
	return names
}

func mustManifest(t *testing.T, st store.Store, coll, id string) schemas.BackupManifest {
	t.Helper()
	m, err := readManifest(t.Context(), st, manifestKey(coll, id))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func createBucket(t *testing.T, srv s3test.Server, bucket string) {
	t.Helper()
	c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")})
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
}

// offsetsAt is offset n of every partition of the data topic.
func offsetsAt(w *world, n int64) kadm.Offsets {
	o := kadm.Offsets{}
	for p := range int32(2) {
		o.Add(kadm.Offset{Topic: topic, Partition: p, At: n})
	}
	return o
}
