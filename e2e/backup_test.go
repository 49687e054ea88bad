package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/tcpproxy"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// history records every record produced per id, with where it landed, so a
// test can say what a collection may hold at any offset.
type history struct {
	m     *harness.Model
	dim   int
	byKey map[string][]version // point key → versions in offset order
}

// version is the state of a point after one record: nil point for a delete.
type version struct {
	partition int32
	offset    int64
	point     *harness.Point
}

// newHistory follows a scenario's records; their vectors have the
// scenario's dimension.
func newHistory(s *harness.Scenario) *history {
	return &history{m: harness.NewModel(), dim: s.Dim, byKey: map[string][]version{}}
}

// vector is vec(i, ver) repeated to the dimension.
func (h *history) vector(i, ver int) []float32 {
	v := vec(i, ver)
	for len(v) < h.dim {
		v = append(v, v[len(v)%4])
	}
	return v[:h.dim]
}

// produce produces n upserts cycling over ids, version ver, and records them.
func (h *history) produce(ctx context.Context, t *testing.T, s *harness.Scenario, ids, n, ver int) {
	t.Helper()
	recs := make([]harness.Record, n)
	keys := make([]string, n)
	points := make([]harness.Point, n)
	for j := range n {
		i := j % ids
		id := harness.NumID(uint64(i))
		recs[j] = h.m.Upsert(id, h.vector(i, ver), payload(i, ver))
		keys[j] = id.PointKey()
		points[j] = h.m.Points()[keys[j]]
	}
	produced := s.Produce(ctx, recs)
	for j, p := range produced {
		pt := points[j]
		h.byKey[keys[j]] = append(h.byKey[keys[j]], version{partition: p.Partition, offset: p.Offset, point: &pt})
	}
}

// allowed reports whether got is the state of key at some offset of its
// partition in [from, to]: after every record below that offset.
func (h *history) allowed(key string, got *harness.Point, committed, end map[int32]int64) bool {
	vs := h.byKey[key]
	var state *harness.Point // before any record
	var candidates []*harness.Point
	for i, v := range vs {
		if v.offset >= committed[v.partition] && (len(candidates) == 0) {
			candidates = append(candidates, state)
		}
		state = v.point
		if v.offset >= committed[v.partition] && v.offset < end[v.partition] {
			candidates = append(candidates, state)
		}
		if i == len(vs)-1 && len(candidates) == 0 {
			candidates = append(candidates, state)
		}
	}
	for _, c := range candidates {
		switch {
		case c == nil && got == nil:
			return true
		case c != nil && got != nil && len(harness.Diff(map[string]harness.Point{key: *c}, map[string]harness.Point{key: *got}, 1)) == 0:
			return true
		}
	}
	return false
}

// manifestOffsets reads the committed and end offsets of a backup of the
// scenario's topic.
func manifestOffsets(t *testing.T, m schemas.BackupManifest, topic string) (committed, end map[int32]int64) {
	t.Helper()
	committed, end = map[int32]int64{}, map[int32]int64{}
	for _, tp := range m.Offsets.Topics {
		if tp.Topic != topic {
			continue
		}
		for _, p := range tp.Partitions {
			committed[p.Partition], end[p.Partition] = max(p.Committed, 0), p.End
		}
	}
	return committed, end
}

func readManifest(ctx context.Context, t *testing.T, st store.Store, collection, id string) schemas.BackupManifest {
	t.Helper()
	rc, _, err := st.Get(ctx, "collections/"+collection+"/"+id+"/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var m schemas.BackupManifest
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// ctlOK runs ctl and requires its command to succeed; it returns the
// final status.
func ctlOK(ctx context.Context, t *testing.T, s *harness.Scenario, args ...string) schemas.Status {
	t.Helper()
	code, events := s.Ctl(ctx, args...)
	final, err := harness.Final(events)
	if code != 0 || err != nil || final.State != schemas.StateSucceeded {
		t.Fatalf("ctl %v: exit %d, final %+v (%v)", args, code, final, err)
	}
	return final
}

func result[T any](t testing.TB, st schemas.Status) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(st.Result, &v); err != nil {
		t.Fatalf("result %s: %v", st.Result, err)
	}
	return v
}

// TestBackupWhileProducing backs a collection up while records stream in,
// restores it into a new collection, and checks every id against the
// backup's offsets: each holds what the topic said at some offset between
// the committed offsets (read before the snapshot) and the end offsets
// (read after it). With nothing produced meanwhile, a second backup
// restores exactly the final content.
func TestBackupWhileProducing(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 3})
	ctx := testContext(t, 4*time.Minute)
	s.Start(ctx, "r0", nil)
	h := newHistory(s)
	h.produce(ctx, t, s, 300, 1500, 0)
	s.WaitCommittedAtEnd(ctx, time.Minute)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for ver := 1; ver <= 4; ver++ {
			h.produce(ctx, t, s, 300, 600, ver)
			time.Sleep(200 * time.Millisecond)
		}
	}()
	final := ctlOK(ctx, t, s, "backup", s.Collection, "--id", "backup-live", "--wait")
	<-done
	res := result[backup.BackupResult](t, final)
	st := s.BackupStore(ctx)
	m := readManifest(ctx, t, st, s.Collection, res.BackupID)
	committed, end := manifestOffsets(t, m, s.Topic)

	ctlOK(ctx, t, s, "restore", s.Collection, "--into", s.Collection+"-r1", "--wait")
	got, err := harness.ReadPoints(ctx, s.Env.QdrantClient, s.Collection+"-r1")
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for key := range h.byKey {
		var p *harness.Point
		if v, ok := got[key]; ok {
			p = &v
		}
		if !h.allowed(key, p, committed, end) {
			bad = append(bad, key)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%d ids hold a state the topic never had between the backup's offsets (committed %v, end %v), e.g. %v", len(bad), committed, end, bad[:min(5, len(bad))])
	}

	// Quiet: the next backup restores exactly the final content.
	s.WaitCommittedAtEnd(ctx, time.Minute)
	ctlOK(ctx, t, s, "backup", s.Collection, "--id", "backup-quiet", "--wait")
	ctlOK(ctx, t, s, "restore", s.Collection, "--backup", "backup-quiet", "--into", s.Collection+"-r2", "--wait")
	got, err = harness.ReadPoints(ctx, s.Env.QdrantClient, s.Collection+"-r2")
	if err != nil {
		t.Fatal(err)
	}
	if d := harness.Diff(h.m.Points(), got, 10); len(d) > 0 {
		t.Fatalf("restore of a quiet backup differs from the topic:\n  %s", strings.Join(d, "\n  "))
	}
	if n := s.UnfinishedUploads(ctx); n != 0 {
		t.Fatalf("%d unfinished uploads in the store", n)
	}
}

// TestRestoreReplayAndUntil restores with a replay up to the data group and
// to a point in time between two waves of records.
func TestRestoreReplayAndUntil(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 3})
	ctx := testContext(t, 4*time.Minute)
	s.Start(ctx, "r0", nil)
	h := newHistory(s)
	h.produce(ctx, t, s, 200, 400, 0)
	s.WaitCommittedAtEnd(ctx, time.Minute)
	ctlOK(ctx, t, s, "backup", s.Collection, "--id", "b1", "--wait")
	h.produce(ctx, t, s, 200, 300, 1)
	s.WaitCommittedAtEnd(ctx, time.Minute)
	atWave2 := h.m.Points()
	time.Sleep(1100 * time.Millisecond)
	until := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond)
	h.produce(ctx, t, s, 200, 300, 2)
	s.WaitCommittedAtEnd(ctx, time.Minute)

	final := ctlOK(ctx, t, s, "restore", s.Collection, "--into", s.Collection+"-now", "--replay", "--wait")
	if r := result[backup.RestoreResult](t, final); r.Replay == nil || r.Replay.Records != 600 {
		t.Fatalf("replay result %+v", r.Replay)
	}
	got, err := harness.ReadPoints(ctx, s.Env.QdrantClient, s.Collection+"-now")
	if err != nil {
		t.Fatal(err)
	}
	if d := harness.Diff(h.m.Points(), got, 10); len(d) > 0 {
		t.Fatalf("restore with replay differs from the topic:\n  %s", strings.Join(d, "\n  "))
	}

	ctlOK(ctx, t, s, "restore", s.Collection, "--into", s.Collection+"-pit", "--replay", "--until", until.Format(time.RFC3339Nano), "--wait")
	got, err = harness.ReadPoints(ctx, s.Env.QdrantClient, s.Collection+"-pit")
	if err != nil {
		t.Fatal(err)
	}
	if d := harness.Diff(atWave2, got, 10); len(d) > 0 {
		t.Fatalf("point-in-time restore differs from the topic at %s:\n  %s", until, strings.Join(d, "\n  "))
	}
}

// slowQdrantREST starts a replica whose REST calls go through a proxy the
// test can stall (a snapshot download hangs mid-stream).
func slowQdrantREST(ctx context.Context, t *testing.T, s *harness.Scenario, name string) (*harness.Replica, *tcpproxy.Proxy) {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(s.Env.Qdrant.REST, "http://"), "https://")
	proxy, err := tcpproxy.Listen(host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	cfg := s.Config()
	scheme := "http://"
	if strings.HasPrefix(s.Env.Qdrant.REST, "https://") {
		scheme = "https://"
	}
	cfg.Set("qdrant.rest", scheme+proxy.Addr())
	cfg.Set("qdrant.timeout", "60s")
	return s.Start(ctx, name, cfg), proxy
}

// loadPoints produces n records and waits until they are applied.
func loadPoints(ctx context.Context, t *testing.T, s *harness.Scenario, h *history, n int) {
	t.Helper()
	h.produce(ctx, t, s, n, n, 0)
	s.WaitCommittedAtEnd(ctx, 2*time.Minute)
}

// TestBackupCancelMidDownload cancels a backup whose snapshot download
// hangs: the command ends cancelled and leaves no object, no unfinished
// upload and no snapshot on Qdrant.
func TestBackupCancelMidDownload(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2, Dim: 64})
	ctx := testContext(t, 4*time.Minute)
	_, proxy := slowQdrantREST(ctx, t, s, "r0")
	loadPoints(ctx, t, s, newHistory(s), 3000)

	// The snapshot's download (about 1 MB) hangs after 256 KiB.
	proxy.StallAfter(256 << 10)
	if code, _ := s.Ctl(ctx, "backup", s.Collection, "--id", "b-cancel"); code != 0 {
		t.Fatalf("sending the backup: exit %d", code)
	}
	stalled(ctx, t, proxy)
	if code, _ := s.Ctl(ctx, "cancel", "b-cancel"); code != 0 {
		t.Fatalf("sending the cancel: exit %d", code)
	}
	// Only the download hangs: the clean-up reaches Qdrant meanwhile.
	final := waitStatus(ctx, t, s, "b-cancel", func(st schemas.Status) bool { return st.State.Final() })
	proxy.Resume()
	if final.State != schemas.StateCancelled {
		t.Fatalf("cancelled backup ended %s", final.State)
	}
	assertNoLeftovers(ctx, t, s)
}

// assertNoLeftovers checks the store holds no object without manifest, no
// unfinished upload, and Qdrant keeps no snapshot of the collection.
func assertNoLeftovers(ctx context.Context, t *testing.T, s *harness.Scenario) {
	t.Helper()
	st := s.BackupStore(ctx)
	objs, err := st.List(ctx, "collections/"+s.Collection+"/")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string][]string{}
	for _, o := range objs {
		parts := strings.Split(o.Key, "/")
		dirs[parts[2]] = append(dirs[parts[2]], parts[3])
	}
	for id, files := range dirs {
		if !slices.Contains(files, "manifest.json") {
			t.Errorf("backup %s has objects %v and no manifest", id, files)
		}
	}
	if n := s.UnfinishedUploads(ctx); n != 0 {
		t.Errorf("%d unfinished uploads", n)
	}
	snaps, err := s.Env.QdrantClient.ListSnapshots(ctx, s.Collection)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 0 {
		t.Errorf("Qdrant keeps snapshots %v", snaps)
	}
}

// waitStatus follows a command until cond holds for its latest status.
func waitStatus(ctx context.Context, t *testing.T, s *harness.Scenario, id string, cond func(schemas.Status) bool) schemas.Status {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		_, events := s.Ctl(ctx, "status", id)
		if len(events) > 0 && cond(events[len(events)-1]) {
			return events[len(events)-1]
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("status of %s did not reach the expected state", id)
	return schemas.Status{}
}

// TestRestoreCorruptObject: a snapshot object that changed in the store
// fails the restore with checksum_mismatch and leaves no target.
func TestRestoreCorruptObject(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2})
	ctx := testContext(t, 3*time.Minute)
	s.Start(ctx, "r0", nil)
	loadPoints(ctx, t, s, newHistory(s), 500)
	final := ctlOK(ctx, t, s, "backup", s.Collection, "--id", "b-corrupt", "--wait")
	st := s.BackupStore(ctx)
	m := readManifest(ctx, t, st, s.Collection, result[backup.BackupResult](t, final).BackupID)
	corruptObject(ctx, t, s, st, m.Snapshots[0].Key)

	code, events := s.Ctl(ctx, "restore", s.Collection, "--into", s.Collection+"-bad", "--wait")
	last, err := harness.Final(events)
	if code != 1 || err != nil || last.State != schemas.StateFailed || last.Error == nil || last.Error.Code != schemas.ErrChecksumMismatch {
		t.Fatalf("restore of a corrupt object: exit %d, %+v", code, last)
	}
	if exists, _ := s.Env.QdrantClient.CollectionExists(ctx, s.Collection+"-bad"); exists {
		t.Fatal("the failed restore left its target collection")
	}
}

// corruptObject flips a byte in the middle of an object, keeping its
// stored SHA-256.
func corruptObject(ctx context.Context, t *testing.T, s *harness.Scenario, st store.Store, key string) {
	t.Helper()
	rc, obj, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, obj.Size)
	if _, err := io.ReadFull(rc, b); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	b[len(b)/2] ^= 0xff
	if err := s.RewriteObject(ctx, key, b, obj.SHA256); err != nil {
		t.Fatal(err)
	}
}

// TestScheduledBackupsAndRetention runs a 20 s schedule with keep_last 2
// over four slots: one backup per slot (ids per slot), two kept.
func TestScheduledBackupsAndRetention(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2})
	ctx := testContext(t, 4*time.Minute)
	scheduled := func() harness.ReplicaConfig {
		c := s.Config()
		c.Set("backup.schedule", "20s")
		c.Set("backup.retention.keep_last", 2)
		return c
	}
	// Two replicas run the schedule: the ids per slot make each slot's
	// backup run once.
	s.Start(ctx, "r0", scheduled())
	s.Start(ctx, "r1", scheduled())
	loadPoints(ctx, t, s, newHistory(s), 200)
	start := time.Now().Truncate(20 * time.Second)
	time.Sleep(time.Until(start.Add(80 * time.Second)))

	st := s.BackupStore(ctx)
	var slots []string
	for i := range 4 {
		b, _ := backup.SlotCommands(s.Collection, start.Add(time.Duration(i)*20*time.Second))
		slots = append(slots, b.ID)
	}
	// Every slot's backup ran exactly once; prune keeps the newest two.
	code, events := s.Ctl(ctx, "list", "--limit", "1000")
	if code != 0 {
		t.Fatalf("ctl list: exit %d", code)
	}
	ran := map[string]int{}
	for _, ev := range events {
		if ev.Type == schemas.CommandBackup && ev.State == schemas.StateSucceeded {
			ran[ev.CommandID]++
		}
	}
	for _, id := range slots[:3] {
		if ran[id] != 1 {
			t.Errorf("scheduled backup %s: %d succeeded statuses, want 1 (ran: %v)", id, ran[id], ran)
		}
	}
	entries, err := st.List(ctx, "collections/"+s.Collection+"/")
	if err != nil {
		t.Fatal(err)
	}
	manifests := 0
	for _, o := range entries {
		if strings.HasSuffix(o.Key, "/manifest.json") {
			manifests++
		}
	}
	if manifests != 2 {
		t.Fatalf("%d complete backups in the store, want 2 (keep_last)", manifests)
	}
}

// finals counts the final status events of id on the status topic.
func finals(ctx context.Context, t *testing.T, s *harness.Scenario, id string) []schemas.Status {
	t.Helper()
	msgs, err := harness.KcatConsumeAll(ctx, s.Env.Kafka.Brokers, s.StatusTopic)
	if err != nil {
		t.Fatal(err)
	}
	var out []schemas.Status
	for _, m := range msgs {
		if m.Key == nil || *m.Key != id || m.Payload == nil {
			continue
		}
		st, err := schemas.DecodeStatus([]byte(*m.Payload))
		if err == nil && st.State.Final() {
			out = append(out, st)
		}
	}
	return out
}

// TestBackupAndRestoreSurviveKill SIGKILLs the replica running a backup
// (its download hung) and then one running a restore (its upload hung):
// another replica resumes each from its checkpoints, each ends succeeded
// exactly once, and nothing is left behind.
func TestBackupAndRestoreSurviveKill(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2, Dim: 64})
	ctx := testContext(t, 5*time.Minute)
	h := newHistory(s)
	for _, step := range []struct{ name, id string }{{"backup", "b-kill"}, {"restore", "r-kill"}} {
		victim, proxy := slowQdrantREST(ctx, t, s, "victim-"+step.name)
		if step.name == "backup" {
			loadPoints(ctx, t, s, h, 3000)
		}
		// The download (backup) or upload (restore) hangs mid-stream.
		proxy.StallAfter(256 << 10)
		args := []string{"backup", s.Collection, "--id", step.id}
		if step.name == "restore" {
			args = []string{"restore", s.Collection, "--backup", "b-kill", "--into", s.Collection + "-r", "--id", step.id}
		}
		if code, _ := s.Ctl(ctx, args...); code != 0 {
			t.Fatalf("sending %s: exit %d", step.id, code)
		}
		stalled(ctx, t, proxy)
		// A standby joins, then the owner dies mid-transfer.
		s.Start(ctx, "standby-"+step.name, nil)
		if err := victim.Signal(sigKill); err != nil {
			t.Fatal(err)
		}
		proxy.Resume()
		final := waitStatus(ctx, t, s, step.id, func(st schemas.Status) bool { return st.State.Final() })
		if final.State != schemas.StateSucceeded {
			t.Fatalf("%s after the kill: %+v", step.id, final)
		}
		if n := len(finals(ctx, t, s, step.id)); n != 1 {
			t.Fatalf("%s has %d final statuses, want 1", step.id, n)
		}
	}
	assertNoLeftovers(ctx, t, s)
	got, err := harness.ReadPoints(ctx, s.Env.QdrantClient, s.Collection+"-r")
	if err != nil {
		t.Fatal(err)
	}
	if d := harness.Diff(h.m.Points(), got, 10); len(d) > 0 {
		t.Fatalf("restored collection differs:\n  %s", strings.Join(d, "\n  "))
	}
}

var sigKill = syscall.SIGKILL

// stalled waits until the proxy holds a response.
func stalled(ctx context.Context, t *testing.T, p *tcpproxy.Proxy) {
	t.Helper()
	waitUntil(ctx, t, 2*time.Minute, "a transfer to hang", func() error {
		if !p.Stalled() {
			return fmt.Errorf("not stalled")
		}
		return nil
	})
}
