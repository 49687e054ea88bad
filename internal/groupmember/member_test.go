package groupmember

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

const (
	topic = "t"
	group = "g"
)

// world is a kfake cluster with a two-partition topic.
type world struct {
	t       *testing.T
	cluster *kfake.Cluster
	adm     *kadm.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &world{t: t, cluster: c, adm: kadm.NewClient(cl)}
}

// committed returns the group's committed offsets of the topic.
func (w *world) committed() map[int32]int64 {
	w.t.Helper()
	resp, err := w.adm.FetchOffsets(context.Background(), group)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out
}

// calls records what the member told its handler.
type calls struct {
	mu       sync.Mutex
	assigned []map[string][]int32
	revoked  []map[string][]int32
	lost     []map[string][]int32
	joined   chan struct{}
}

// testMember is a member with a client in the group, owning both
// partitions once started.
type testMember struct {
	*Member
	cl    *kgo.Client
	calls *calls
	reg   *prometheus.Registry
}

// join builds a member whose Revoke handler is revoke (nil: commit at
// once), and waits until it owns both partitions.
func (w *world) join(revoke func(parts map[string][]int32, commit func(time.Time) error)) *testMember {
	w.t.Helper()
	c := &calls{joined: make(chan struct{}, 16)}
	if revoke == nil {
		revoke = func(_ map[string][]int32, commit func(time.Time) error) { _ = commit(time.Now().Add(5 * time.Second)) }
	}
	reg := prometheus.NewRegistry()
	m, err := New(Config{
		Group: group, Kafka: config.Kafka{SessionTimeout: 6 * time.Second, RebalanceTimeout: 10 * time.Second},
		CommitInterval: time.Hour, Role: "test", CommitsMetric: "kafka_qdrant_offset_commits_total", Registerer: reg,
	}, Handler{
		Assigned: func(parts map[string][]int32) {
			c.mu.Lock()
			c.assigned = append(c.assigned, parts)
			c.mu.Unlock()
			c.joined <- struct{}{}
		},
		Revoke: func(parts map[string][]int32, commit func(time.Time) error) {
			c.mu.Lock()
			c.revoked = append(c.revoked, parts)
			c.mu.Unlock()
			revoke(parts, commit)
		},
		Lost: func(parts map[string][]int32) {
			c.mu.Lock()
			c.lost = append(c.lost, parts)
			c.mu.Unlock()
		},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := m.Ready(); err == nil {
		w.t.Fatal("Ready before joining")
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(w.cluster.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.MetadataMinAge(50 * time.Millisecond)}, m.Options()...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(cl.Close)
	tm := &testMember{Member: m, cl: cl, calls: c, reg: reg}
	deadline := time.After(20 * time.Second)
	for len(m.Owned()[topic]) < 2 {
		select {
		case <-c.joined:
		case <-deadline:
			w.t.Fatalf("member owns %v after 20s, want both partitions", m.Owned())
		}
	}
	if err := m.Ready(); err != nil {
		w.t.Fatalf("Ready after joining: %v", err)
	}
	return tm
}

// commits reads kafka_qdrant_offset_commits_total{result} from the
// member's registry.
func (m *testMember) commits(result string) float64 {
	mfs, err := m.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kafka_qdrant_offset_commits_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return mt.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}

// TestRevoke: the points of revoked partitions are committed before the
// revoke returns, whether or not the handler calls commit, and nothing
// is committed for them afterwards.
func TestRevoke(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(parts map[string][]int32, commit func(time.Time) error)
	}{
		{name: "the handler commits", revoke: nil},
		{name: "the handler commits twice", revoke: func(_ map[string][]int32, commit func(time.Time) error) {
			_ = commit(time.Now().Add(5 * time.Second))
			_ = commit(time.Now().Add(5 * time.Second))
		}},
		{name: "the handler forgets to commit", revoke: func(map[string][]int32, func(time.Time) error) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			m := w.join(tc.revoke)
			a := m.Take(topic, 0, eo(0), eo(10))
			b := m.Take(topic, 1, eo(0), eo(10))
			later := m.Take(topic, 0, eo(10), eo(20))
			a.Done()
			b.DoneUpTo(eo(4))
			m.Revoke(map[string][]int32{topic: {0}, "other": {3}})
			if got := w.committed(); !maps.Equal(got, map[int32]int64{0: 10}) {
				t.Fatalf("committed %v when Revoke returned, want t/0 at 10", got)
			}
			if got := m.calls.revoked; len(got) != 1 || !slices.Equal(got[0][topic], []int32{0}) || len(got[0]) != 1 {
				t.Fatalf("handler revoked %v, want only the owned t/0", got)
			}
			later.Done() // too late: not owned any more
			if err := m.commitPending(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := w.committed(); !maps.Equal(got, map[int32]int64{0: 10, 1: 4}) {
				t.Fatalf("committed %v, want t/0 still at 10 and t/1 at 4", got)
			}
			m.Revoke(map[string][]int32{topic: {0}}) // no longer owned: nothing to do
			if n := len(m.calls.revoked); n != 1 {
				t.Fatalf("handler called for %d revokes, want 1", n)
			}
			if ok := m.commits("ok"); ok != 2 {
				t.Fatalf("%v commits counted ok, want 2", ok)
			}
		})
	}
}

// TestRevokeByTheGroup: a second member joining takes a partition over;
// the first one's revoke commits it before the rebalance goes on.
func TestRevokeByTheGroup(t *testing.T) {
	w := newWorld(t)
	a := w.join(nil)
	works := map[int32]*Work{0: a.Take(topic, 0, eo(0), eo(7)), 1: a.Take(topic, 1, eo(0), eo(9))}
	works[0].Done()
	works[1].Done()
	b := &calls{joined: make(chan struct{}, 16)}
	mb, err := New(Config{Group: group, Kafka: config.Kafka{SessionTimeout: 6 * time.Second, RebalanceTimeout: 10 * time.Second}}, Handler{
		Assigned: func(parts map[string][]int32) {
			if len(parts[topic]) > 0 {
				b.joined <- struct{}{}
			}
		},
		Revoke: func(map[string][]int32, func(time.Time) error) {},
		Lost:   func(map[string][]int32) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	clb, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(w.cluster.ListenAddrs()...), kgo.ConsumeTopics(topic)}, mb.Options()...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer clb.Close()
	select {
	case <-b.joined:
	case <-time.After(30 * time.Second):
		t.Fatal("the second member got nothing within 30s")
	}
	a.calls.mu.Lock()
	revoked := a.calls.revoked
	a.calls.mu.Unlock()
	if len(revoked) != 1 || len(revoked[0][topic]) != 1 {
		t.Fatalf("first member revoked %v, want one partition", revoked)
	}
	p := revoked[0][topic][0]
	want := map[int32]int64{0: 7, 1: 9}[p]
	if got := w.committed(); got[p] != want {
		t.Fatalf("committed %v: the revoked t/%d is not at %d", got, p, want)
	}
	if owned := a.Owned()[topic]; len(owned) != 1 || owned[0] == p {
		t.Fatalf("first member owns %v after revoking t/%d", owned, p)
	}
}

// TestLose: lost partitions are disowned before the handler hears of
// them; nothing is committed for them, not even marks made afterwards.
func TestLose(t *testing.T) {
	w := newWorld(t)
	m := w.join(nil)
	a := m.Take(topic, 0, eo(0), eo(10))
	b := m.Take(topic, 1, eo(0), eo(10))
	a.Done()
	var pendingInLost map[string]map[int32]kgo.EpochOffset
	m.h.Lost = func(parts map[string][]int32) {
		pendingInLost = m.Pending()
		b.Done() // the work ends while being abandoned
	}
	m.Lose(map[string][]int32{topic: {0, 1}})
	if len(pendingInLost) != 0 {
		t.Fatalf("pending %v while the handler abandons the lost work, want nothing", pendingInLost)
	}
	if err := m.commitPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Revoke(map[string][]int32{topic: {0, 1}})
	if got := w.committed(); len(got) != 0 {
		t.Fatalf("committed %v for lost partitions, want nothing", got)
	}
}

// TestCommitErrors: a partition the coordinator refuses is an error,
// counted, and its point is committed again at the next round.
func TestCommitErrors(t *testing.T) {
	w := newWorld(t)
	m := w.join(nil)
	m.Take(topic, 0, eo(0), eo(5)).Done()
	m.Take(topic, 1, eo(0), eo(6)).Done()
	w.cluster.ControlKey(int16(kmsg.OffsetCommit), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.OffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				if rp.Partition == 1 {
					sp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	err := m.commitPending(context.Background())
	if !errors.Is(err, kerr.OffsetMetadataTooLarge) {
		t.Fatalf("commit error %v, want OFFSET_METADATA_TOO_LARGE of t/1", err)
	}
	if m.commits("error") != 1 || m.commits("ok") != 0 {
		t.Fatalf("commits counted error=%v ok=%v, want 1 and 0", m.commits("error"), m.commits("ok"))
	}
	if p := m.Pending()[topic]; len(p) != 2 {
		t.Fatalf("pending %v after a failed commit, want both partitions again", p)
	}
	go m.RunCommits(t.Context())
	m.Kick()
	deadline := time.Now().Add(10 * time.Second)
	for !maps.Equal(w.committed(), map[int32]int64{0: 5, 1: 6}) {
		if time.Now().After(deadline) {
			t.Fatalf("committed %v 10s after a kick, want t/0 at 5 and t/1 at 6", w.committed())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAbort: after Abort nothing is committed, not even by a revoke, and
// Context is done.
func TestAbort(t *testing.T) {
	w := newWorld(t)
	m := w.join(nil)
	m.Take(topic, 0, eo(0), eo(10)).Done()
	m.Abort()
	select {
	case <-m.Context().Done():
	default:
		t.Fatal("Context not done after Abort")
	}
	if err := m.commitPending(context.Background()); !errors.Is(err, errAborted) {
		t.Fatalf("commit after Abort: %v, want errAborted", err)
	}
	m.Revoke(map[string][]int32{topic: {0, 1}})
	if got := w.committed(); len(got) != 0 {
		t.Fatalf("committed %v after Abort, want nothing", got)
	}
	if m.commits("ok")+m.commits("error") != 0 {
		t.Fatal("a refused commit after Abort was counted")
	}
}

// TestLeave: leaving revokes (and commits) what is owned; afterwards the
// member owns nothing and is not ready.
func TestLeave(t *testing.T) {
	w := newWorld(t)
	m := w.join(nil)
	m.Take(topic, 1, eo(0), eo(3)).Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Leave(ctx, m.cl); err != nil {
		t.Fatal(err)
	}
	if got := w.committed(); !maps.Equal(got, map[int32]int64{1: 3}) {
		t.Fatalf("committed %v after leaving, want t/1 at 3", got)
	}
	if len(m.Owned()) != 0 {
		t.Fatalf("owns %v after leaving", m.Owned())
	}
	if err := m.Ready(); err == nil {
		t.Fatal("ready after leaving")
	}
}

func TestNewRequiresAHandler(t *testing.T) {
	if _, err := New(Config{Group: group}, Handler{}); err == nil {
		t.Fatal("New accepted a Handler without functions")
	}
	if _, err := New(Config{}, Handler{Assigned: func(map[string][]int32) {}}); err == nil {
		t.Fatal("New accepted a Config without Group")
	}
}

// commitHangs makes the broker never answer a commit (until the test
// ends), has m commit partition 0 with a CommitTimeout of a minute, and
// returns once that commit is in flight.
func (w *world) commitHangs(t *testing.T, m *testMember) {
	t.Helper()
	m.cfg.CommitTimeout = time.Minute
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	inFlight := make(chan struct{}, 1)
	w.cluster.ControlKey(int16(kmsg.OffsetCommit), func(kmsg.Request) (kmsg.Response, error, bool) {
		w.cluster.KeepControl()
		select {
		case inFlight <- struct{}{}:
		default:
		}
		w.cluster.SleepControl(func() { <-never })
		return nil, nil, false
	})
	m.Take(topic, 0, eo(0), eo(10)).Done()
	go m.RunCommits(t.Context())
	m.Kick()
	select {
	case <-inFlight:
	case <-time.After(10 * time.Second):
		t.Fatal("no commit sent within 10s of a kick")
	}
}

// TestAbortEndsACommitInFlight: a broker that never answers a commit holds
// a periodic commit (and the commit lock) until CommitTimeout; Abort ends
// it at once, so a loss and leaving do not wait for it.
func TestAbortEndsACommitInFlight(t *testing.T) {
	w := newWorld(t)
	m := w.join(nil)
	w.commitHangs(t, m)
	start := time.Now()
	m.Abort()
	m.Lose(map[string][]int32{topic: {0}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = m.Leave(ctx, m.cl)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("loss and leave took %s after Abort with a commit in flight", took)
	}
}

// TestLoseDoesNotWaitForACommitInFlight: a periodic commit the broker does
// not answer holds the commit lock until CommitTimeout; a loss preempts it
// (the lost partitions must stop at once) instead of waiting, and the
// preempted commit is not counted as a failure.
func TestLoseDoesNotWaitForACommitInFlight(t *testing.T) {
	w := newWorld(t)
	m := w.join(nil)
	w.commitHangs(t, m)
	lost := make(chan struct{})
	go func() {
		m.Lose(map[string][]int32{topic: {0, 1}})
		close(lost)
	}()
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("the loss waited more than 5s for a commit in flight")
	}
	if p := m.Pending(); len(p) != 0 {
		t.Fatalf("pending %v after the loss", p)
	}
	if n := m.commits("error"); n != 0 {
		t.Fatalf("the preempted commit was counted as %v failures", n)
	}
}

// TestCommitPartition: one partition committed now, with what PreCommit
// adds (the data pause's metadata) — at its commit point, also when that
// was committed already; at the fallback's offset when no work was taken;
// not at all when not owned.
func TestCommitPartition(t *testing.T) {
	w := newWorld(t)
	m := w.join(nil)
	m.cfg.PreCommit = func(req *kmsg.OffsetCommitRequest) error {
		for i := range req.Topics {
			for j := range req.Topics[i].Partitions {
				meta := "held"
				req.Topics[i].Partitions[j].Metadata = &meta
			}
		}
		return nil
	}
	m.Take(topic, 0, eo(0), eo(10)).Done()
	if err := m.commitPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	noFallback := func(context.Context) (int64, error) { return 0, errors.New("fallback called") }
	tests := []struct {
		name      string
		partition int32
		fallback  func(context.Context) (int64, error)
		want      int64
		owned     bool
		wantErr   bool
	}{
		{"committed already: again, with the metadata", 0, noFallback, 10, true, false},
		{"no work taken: what the group has", 1, func(context.Context) (int64, error) { return 42, nil }, 42, true, false},
		{"no work taken, fallback fails", 1, func(context.Context) (int64, error) { return 0, errors.New("no answer") }, 0, true, true},
		{"not owned", 7, noFallback, 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, owned, err := m.CommitPartition(context.Background(), topic, tc.partition, tc.fallback)
			if owned != tc.owned || (err != nil) != tc.wantErr || (err == nil && owned && at.Offset != tc.want) {
				t.Fatalf("CommitPartition = %d, owned %v, err %v; want %d, %v, error %v", at.Offset, owned, err, tc.want, tc.owned, tc.wantErr)
			}
		})
	}
	resp, err := w.adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 10, 1: 42} {
		o, ok := resp.Lookup(topic, p)
		if !ok || o.At != want || o.Metadata != "held" {
			t.Errorf("t/%d committed %+v, want %d with metadata held", p, o, want)
		}
	}
}
