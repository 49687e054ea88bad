package control

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// manualClock drives the in-memory Qdrant's indexing model: indexing only
// progresses when a test advances it.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// severableDialer lets a test cut a client off Kafka, as a crash or a
// network partition would. sever closes open connections and refuses new
// dials: nothing the client does afterwards reaches the broker. freeze
// makes requests of the given API keys hang (as on a partitioned network
// where packets are dropped) until thaw, their write deadline, or the
// connection closing; other requests go through.
type severableDialer struct {
	mu      sync.Mutex
	dead    bool
	conns   []*faultConn
	refused int // dials refused while severed
	frozen  map[int16]bool
	thawed  chan struct{} // closed by thaw
}

func (d *severableDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		d.refused++
		return nil, errors.New("severed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err != nil {
		return nil, err
	}
	fc := &faultConn{Conn: c, d: d, closed: make(chan struct{}), deadlineSet: make(chan struct{})}
	d.conns = append(d.conns, fc)
	return fc, nil
}

func (d *severableDialer) sever() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = true
	for _, c := range d.conns {
		_ = c.Close()
	}
}

func (d *severableDialer) refusedDials() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refused
}

func (d *severableDialer) heal() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = false
	d.conns = nil
}

// freeze makes requests with these API keys hang.
func (d *severableDialer) freeze(keys ...kmsg.Key) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.frozen == nil {
		d.frozen = map[int16]bool{}
		d.thawed = make(chan struct{})
	}
	for _, k := range keys {
		d.frozen[int16(k)] = true
	}
}

// thaw lets every frozen request through.
func (d *severableDialer) thaw() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.frozen != nil {
		d.frozen = nil
		close(d.thawed)
	}
}

// waitFrozen returns the channel to wait on when key is frozen, else nil.
func (d *severableDialer) waitFrozen(key int16) <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.frozen[key] {
		return d.thawed
	}
	return nil
}

// frozenKeys are the requests that make a replica's ownership and writes
// visible: cut off, it can still read, but never commit, heartbeat or
// produce.
var frozenKeys = []kmsg.Key{kmsg.Produce, kmsg.Heartbeat, kmsg.JoinGroup, kmsg.SyncGroup, kmsg.LeaveGroup,
	kmsg.OffsetCommit, kmsg.InitProducerID, kmsg.AddPartitionsToTxn, kmsg.AddOffsetsToTxn, kmsg.EndTxn, kmsg.TxnOffsetCommit}

// faultConn is a connection whose requests can hang (severableDialer.freeze).
// kgo writes each request with one Write: size (int32), API key (int16).
type faultConn struct {
	net.Conn
	d           *severableDialer
	closeOnce   sync.Once
	closed      chan struct{}
	mu          sync.Mutex
	deadline    time.Time
	deadlineSet chan struct{} // closed and replaced when the write deadline changes
}

func (c *faultConn) Write(b []byte) (int, error) {
	if len(b) >= 6 {
		if thawed := c.d.waitFrozen(int16(binary.BigEndian.Uint16(b[4:6]))); thawed != nil {
			for {
				c.mu.Lock()
				dl, changed := c.deadline, c.deadlineSet
				c.mu.Unlock()
				var expire <-chan time.Time
				if !dl.IsZero() {
					t := time.NewTimer(time.Until(dl))
					defer t.Stop()
					expire = t.C
				}
				select {
				case <-thawed:
				case <-c.closed:
					return 0, net.ErrClosed
				case <-expire:
					return 0, os.ErrDeadlineExceeded
				case <-changed:
					continue
				}
				break
			}
		}
	}
	return c.Conn.Write(b)
}

func (c *faultConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	close(c.deadlineSet)
	c.deadlineSet = make(chan struct{})
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *faultConn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *faultConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// env is one kfake cluster, one in-memory Qdrant and the test's own
// clients to them.
type env struct {
	t                 *testing.T
	kc                *kfake.Cluster // nil on a real broker
	ctlTopic, stTopic string
	brokers           []string
	qs                *qdrantmem.Server
	qc                *qdrant.Client
	clock             *manualClock
	rest              string
	prod              *kgo.Client
	log               *statusLog
	cfg               config.Config
	// prefix starts the names of the test's collections on a real Qdrant
	// (coll); "" on the in-memory one.
	prefix string
}

const (
	controlTopic = "kq.control"
	statusTopic  = "kq.status"
)

func quietLogger() *slog.Logger {
	if os.Getenv("KQ_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newEnv(t *testing.T) *env {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	e := setupEnv(t, kc.ListenAddrs(), controlTopic, statusTopic, "kq", nil)
	e.kc = kc
	return e
}

// newRealEnv is newEnv on the real broker(s) of KQ_E2E_KAFKA_BROKERS, with
// topics and group named after the test run; the status topic is created
// with statusConfigs. It skips when no broker is configured. With
// KQ_E2E_QDRANT_GRPC it uses that Qdrant (useRealQdrant).
func newRealEnv(t *testing.T, statusConfigs map[string]*string) *env {
	t.Helper()
	brokers := os.Getenv(e2eBrokersEnv)
	if brokers == "" {
		t.Skipf("%s is not set: no real Kafka broker", e2eBrokersEnv)
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	run := "kq-e2e-" + hex.EncodeToString(suffix[:])
	e := setupEnv(t, strings.Split(brokers, ","), run+".control", run+".status", run, statusConfigs)
	e.useRealQdrant(run)
	// Real brokers refuse sessions below group.min.session.timeout.ms.
	e.cfg.Kafka.SessionTimeout = 6 * time.Second
	e.cfg.Kafka.RebalanceTimeout = 10 * time.Second
	return e
}

func setupEnv(t *testing.T, brokers []string, ctlTopic, stTopic, group string, statusConfigs map[string]*string) *env {
	t.Helper()
	clock := &manualClock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	ts := qdrantmem.NewTestServer(t, qdrantmem.WithClock(clock), qdrantmem.WithIndexingRate(1000), qdrantmem.WithCPUs(2))
	qs, qc, rest := ts.Server, ts.Client, strings.TrimPrefix(ts.REST, "http://")

	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.Group = group
	cfg.Kafka.SessionTimeout = time.Second
	cfg.Kafka.RebalanceTimeout = 5 * time.Second
	cfg.Control.Topic, cfg.Control.StatusTopic = ctlTopic, stTopic
	cfg.Qdrant.REST = "http://" + rest
	cfg.Qdrant.Retry = config.Retry{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	cfg.Qdrant.Timeout = 5 * time.Second

	e := &env{t: t, brokers: brokers, ctlTopic: ctlTopic, stTopic: stTopic, qs: qs, qc: qc, clock: clock, rest: rest, cfg: cfg}
	ctx := t.Context()
	admCl, err := kgo.NewClient(e.kafkaOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	if statusConfigs != nil {
		if _, err := kadm.NewClient(admCl).CreateTopic(ctx, 1, -1, statusConfigs, stTopic); err != nil {
			t.Fatal(err)
		}
	}
	if err := EnsureTopics(ctx, e.kafkaOpts(), ctlTopic, stTopic, quietLogger()); err != nil {
		t.Fatal(err)
	}
	e.prod, err = kgo.NewClient(append(e.kafkaOpts(), kgo.DefaultProduceTopic(ctlTopic))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.prod.Close)
	e.log = newStatusLog(t, e.kafkaOpts(), stTopic)
	return e
}

func (e *env) kafkaOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(e.brokers...), kgo.MetadataMinAge(20 * time.Millisecond),
		kgo.MetadataMaxAge(time.Second), kgo.HeartbeatInterval(100 * time.Millisecond)}
	if os.Getenv("KQ_TEST_KGO_LOG") != "" {
		opts = append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelInfo, nil)))
	}
	return append(opts, extra...)
}

// runner is a started Runner.
type runner struct {
	r      *Runner
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
	dialer *severableDialer
}

// startRunner starts a runner named replica; mod adjusts its config.
func (e *env) startRunner(replica string, mod ...func(*RunnerConfig)) *runner {
	e.t.Helper()
	return e.startRunnerWith(&severableDialer{}, replica, mod...)
}

// startRunnerWith is startRunner with the runner's dialer given.
func (e *env) startRunnerWith(d *severableDialer, replica string, mod ...func(*RunnerConfig)) *runner {
	e.t.Helper()
	reg := prometheus.NewRegistry()
	rc := RunnerConfig{
		Config: e.cfg, KafkaOpts: e.kafkaOpts(kgo.Dialer(d.dial)), Qdrant: e.qc,
		Registerer: reg, Logger: quietLogger().With("test_replica", replica), Replica: replica,
		ProgressInterval: -1, PollInterval: 10 * time.Millisecond, MaxPollInterval: 40 * time.Millisecond,
		HandoverTimeout: 3 * time.Second,
	}
	for _, m := range mod {
		m(&rc)
	}
	r, err := NewRunner(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rn := &runner{r: r, reg: reg, cancel: cancel, done: make(chan error, 1), dialer: d}
	go func() { rn.done <- r.Run(ctx) }()
	e.t.Cleanup(func() { rn.stop(e.t) })
	return rn
}

// stop cancels the runner and waits for Run to return (bounded).
func (rn *runner) stop(t *testing.T) error {
	rn.cancel()
	select {
	case err, ok := <-rn.done:
		if ok {
			close(rn.done)
		}
		return err
	case <-time.After(20 * time.Second):
		t.Errorf("runner did not stop within 20s")
		_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		return nil
	}
}

// send produces a command value (with key, may be nil) to the control topic.
func (e *env) send(key string, value string) {
	e.t.Helper()
	rec := &kgo.Record{Value: []byte(value)}
	if key != "" {
		rec.Key = []byte(key)
	}
	if err := e.prod.ProduceSync(e.t.Context(), rec).FirstErr(); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) sendCmd(c schemas.Command) {
	e.t.Helper()
	b, _ := json.Marshal(c)
	e.send(c.ID, string(b))
}

// createCollection makes a collection of n 4-dim points that indexes above
// a 1 kB threshold, so indexing n vectors takes n/1000 clock seconds on the
// in-memory Qdrant. name is used as given (see coll); on a real Qdrant it
// is deleted at the end of the test.
func (e *env) createCollection(name string, n int) {
	e.t.Helper()
	ctx := e.t.Context()
	if e.qs == nil {
		_ = e.qc.DeleteCollection(ctx, name)
		e.t.Cleanup(func() { _ = e.qc.DeleteCollection(context.Background(), name) })
	}
	err := e.qc.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName:   name,
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(1))},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	pts := make([]*qdrant.PointStruct, 0, n)
	for i := range n {
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i + 1)), Vectors: qdrant.NewVectors(1, float32(i%7)+1, 2, 3)})
	}
	wait := true
	if _, err := e.qc.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: name, Points: pts, Wait: &wait}); err != nil {
		e.t.Fatal(err)
	}
	// Let the initial build finish.
	if e.qs == nil {
		e.waitGreen(name)
		return
	}
	e.clock.Advance(time.Duration(n) * time.Millisecond * 2)
}

// addPoints upserts n 4-dim points with ids from first.
func (e *env) addPoints(name string, first, n int) {
	e.t.Helper()
	pts := make([]*qdrant.PointStruct, 0, n)
	for i := range n {
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(first + i)), Vectors: qdrant.NewVectors(1, float32(i%7)+1, 2, 3)})
	}
	if _, err := e.qc.Upsert(e.t.Context(), &qdrant.UpsertPoints{CollectionName: name, Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) hnswM(name string) uint64 {
	e.t.Helper()
	info, err := e.qc.GetCollectionInfo(e.t.Context(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.GetConfig().GetHnswConfig().GetM()
}

// statusLog records every event of the status topic, in order.
type statusLog struct {
	t     *testing.T
	cl    *kgo.Client
	topic string
	mu    sync.Mutex
	all   []schemas.Status
	next  int64 // offset after the last record or control marker read
	// tombstones are the ids whose last record is a tombstone.
	tombstones map[string]bool
	tick       chan struct{}
}

func newStatusLog(t *testing.T, opts []kgo.Opt, topic string) *statusLog {
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		t.Fatal(err)
	}
	l := &statusLog{t: t, cl: cl, topic: topic, tick: make(chan struct{}), tombstones: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil || fs.IsClientClosed() {
				return
			}
			l.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				l.next = r.Offset + 1
				if r.Attrs.IsControl() {
					return
				}
				if r.Value == nil {
					l.tombstones[string(r.Key)] = true
					return
				}
				delete(l.tombstones, string(r.Key))
				s, err := schemas.DecodeStatus(r.Value)
				if err != nil {
					t.Errorf("undecodable status event %s: %v", r.Value, err)
					return
				}
				if string(r.Key) != s.CommandID {
					t.Errorf("status event key %q != command_id %q", r.Key, s.CommandID)
				}
				l.all = append(l.all, s)
			})
			close(l.tick)
			l.tick = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
	return l
}

// endOffset is the status topic's last stable offset.
func (l *statusLog) endOffset() int64 {
	l.t.Helper()
	ends, err := kadm.NewClient(l.cl).ListCommittedOffsets(l.t.Context(), l.topic)
	if err != nil {
		l.t.Fatal(err)
	}
	end, _ := ends.Lookup(l.topic, 0)
	return end.Offset
}

// syncEnd waits (up to 20s) until the log holds every committed event of
// the status topic.
func (l *statusLog) syncEnd() {
	l.t.Helper()
	end := struct{ Offset int64 }{l.endOffset()}
	deadline := time.After(20 * time.Second)
	for {
		l.mu.Lock()
		next, tick := l.next, l.tick
		l.mu.Unlock()
		if next >= end.Offset {
			return
		}
		select {
		case <-tick:
		case <-deadline:
			l.t.Fatalf("status log at %d, end %d", next, end.Offset)
		}
	}
}

// events returns the events of id (all ids when id is "").
func (l *statusLog) events(id string) []schemas.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []schemas.Status
	for _, s := range l.all {
		if id == "" || s.CommandID == id {
			out = append(out, s)
		}
	}
	return out
}

// waitFor waits (up to 20s) until cond holds for the events of id.
func (l *statusLog) waitFor(id, what string, cond func([]schemas.Status) bool) []schemas.Status {
	l.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		l.mu.Lock()
		tick := l.tick
		l.mu.Unlock()
		evs := l.events(id)
		if cond(evs) {
			return evs
		}
		select {
		case <-tick:
		case <-deadline:
			l.t.Fatalf("timed out waiting for %s of %q; events:\n%s", what, id, dump(evs))
		}
	}
}

// waitFinal waits for the first final event of id.
func (l *statusLog) waitFinal(id string) schemas.Status {
	l.t.Helper()
	evs := l.waitFor(id, "a final state", func(evs []schemas.Status) bool { return finals(evs) > 0 })
	for _, s := range evs {
		if s.State.Final() {
			return s
		}
	}
	panic("unreachable")
}

// waitState waits for an event of id in state st whose detail contains sub.
func (l *statusLog) waitState(id string, st schemas.State, pred func(schemas.Status) bool) schemas.Status {
	l.t.Helper()
	var got schemas.Status
	l.waitFor(id, string(st), func(evs []schemas.Status) bool {
		for _, s := range evs {
			if s.State == st && (pred == nil || pred(s)) {
				got = s
				return true
			}
		}
		return false
	})
	return got
}

func finals(evs []schemas.Status) int {
	n := 0
	for _, s := range evs {
		if s.State.Final() {
			n++
		}
	}
	return n
}

func count(evs []schemas.Status, st schemas.State) int {
	n := 0
	for _, s := range evs {
		if s.State == st {
			n++
		}
	}
	return n
}

func dump(evs []schemas.Status) string {
	var s string
	for _, e := range evs {
		b, _ := json.Marshal(e)
		s += string(b) + "\n"
	}
	return s
}

// committed returns the control group's committed offset of partition 0
// (-1 when none).
func (e *env) committed() int64 {
	e.t.Helper()
	adm := kadm.NewClient(e.prod)
	offs, err := adm.FetchOffsets(e.t.Context(), Group(e.cfg.Kafka.Group))
	if err != nil {
		e.t.Fatal(err)
	}
	o, ok := offs.Lookup(e.ctlTopic, 0)
	if !ok {
		return -1
	}
	return o.At
}

// endOffset is the control topic's end offset.
func (e *env) endOffset() int64 {
	e.t.Helper()
	ends, err := kadm.NewClient(e.prod).ListEndOffsets(e.t.Context(), e.ctlTopic)
	if err != nil {
		e.t.Fatal(err)
	}
	o, _ := ends.Lookup(e.ctlTopic, 0)
	return o.Offset
}

// waitCommitted waits until the control group committed offset want.
func (e *env) waitCommitted(want int64) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := e.committed()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("committed offset %d, want %d", got, want)
		}
		time.Sleep(20 * time.Millisecond) // polling Kafka's state, bounded by the deadline
	}
}

func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

var _ = fmt.Sprintf
