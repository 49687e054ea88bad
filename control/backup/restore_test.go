package backup

import (
	"context"
	"errors"
	"fmt"
	"google.golang.org/protobuf/proto"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/connector"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

func versions(ids []int, version int) []rec {
	var out []rec
	for _, id := range ids {
		out = append(out, upsert(id, version))
	}
	return out
}

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestRestoreReplay: a restore with replay re-applies what the data group
// applied after the backup (updates, deletes, new points) and nothing it
// has not applied yet.
func TestRestoreReplay(t *testing.T) {
	w := newWorld(t)
	recs1 := versions(span(0, 20), 1)
	w.produce(recs1...)
	w.apply(collection)
	w.backUp("b-1")
	recs2 := append(versions(span(0, 10), 2), tombstone(10), tombstone(11), tombstone(12))
	recs2 = append(recs2, versions(span(20, 25), 1)...)
	w.produce(recs2...)
	w.apply(collection)
	w.produce(upsert(30, 1), upsert(0, 3)) // not applied by the group yet

	res, err := w.run(schemas.CommandRestore, "r-1", collection, `{"target": "replayed", "replay": true}`, &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.(RestoreResult)
	if r.Replay == nil || r.Replay.Records != int64(len(recs2)) || r.Replay.Rejected != 0 {
		t.Fatalf("replay result %+v", r.Replay)
	}
	want := model(append(slices.Clone(recs1), recs2...)...)
	if d := diffPoints(want, w.points("replayed")); d != "" {
		t.Fatalf("replayed collection:\n%s", d)
	}
}

// TestRestoreUntil restores a collection as it was at a time between two
// waves of records.
func TestRestoreUntil(t *testing.T) {
	w := newWorld(t)
	now := time.Now()
	stamp := func(recs []rec, ts time.Time) []rec {
		for i := range recs {
			recs[i].ts = ts.Add(time.Duration(i) * time.Millisecond)
		}
		return recs
	}
	recs1 := stamp(versions(span(0, 10), 1), now.Add(-time.Hour))
	w.produce(recs1...)
	w.apply(collection)
	w.backUp("b-1")
	recs2 := stamp(append(versions(span(0, 5), 2), tombstone(9)), now.Add(time.Hour))
	recs3 := stamp(versions(span(0, 10), 3), now.Add(2*time.Hour))
	w.produce(recs2...)
	w.produce(recs3...)
	w.apply(collection)

	until := now.Add(90 * time.Minute).UTC().Format(time.RFC3339Nano)
	if _, err := w.run(schemas.CommandRestore, "r-1", collection, `{"target": "pit", "replay": true, "until": "`+until+`"}`, &fakeSession{}); err != nil {
		t.Fatal(err)
	}
	want := model(append(slices.Clone(recs1), recs2...)...)
	if d := diffPoints(want, w.points("pit")); d != "" {
		t.Fatalf("point-in-time collection:\n%s", d)
	}

	before := now.Add(-30 * time.Minute).UTC().Format(time.RFC3339Nano)
	_, err := w.run(schemas.CommandRestore, "r-2", collection, `{"target": "pit2", "replay": true, "until": "`+before+`"}`, &fakeSession{})
	if code(err) != schemas.ErrBackupNotFound {
		t.Fatalf("until before every backup: %v", err)
	}
	inside := now.Add(-time.Hour).Add(3 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	_, err = w.run(schemas.CommandRestore, "r-3", collection, `{"backup_id": "b-1", "target": "pit3", "replay": true, "until": "`+inside+`"}`, &fakeSession{})
	if code(err) != schemas.ErrInvalidParameters || !strings.Contains(err.Error(), "inside backup b-1") {
		t.Fatalf("until inside the backup: %v", err)
	}
}

// TestRestoreCorruptObject: a corrupt snapshot object fails the restore
// with checksum_mismatch and the half-made target is removed — when the
// store knows the object's SHA-256 and when only Qdrant checks it.
func TestRestoreCorruptObject(t *testing.T) {
	w := newWorld(t)
	w.produce(versions(span(0, 20), 1)...)
	w.apply(collection)
	w.backUp("b-1")
	m := mustManifest(t, w.st, collection, "b-1")
	root := strings.TrimPrefix(w.cfg.Backup.Store, "file://")
	obj := filepath.Join(root, m.Snapshots[0].Key)
	b, _ := os.ReadFile(obj)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(obj, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"with the store's SHA-256", "checked by Qdrant"} {
		if name == "checked by Qdrant" {
			_ = os.Remove(obj + ".sha256")
		}
		_, err := w.run(schemas.CommandRestore, "r-"+name[:4], collection, `{"target": "corrupt"}`, &fakeSession{})
		if code(err) != schemas.ErrChecksumMismatch {
			t.Fatalf("%s: %v (code %s)", name, err, code(err))
		}
		if exists, _ := w.q.Client.CollectionExists(t.Context(), "corrupt"); exists {
			t.Fatalf("%s: the failed restore left its target", name)
		}
	}
}

// TestRestoreReplayDecodesAsTheDataPath: the replay decodes records with
// the data path's decoder configuration, record.delete_field and
// record.key_id included.
func TestRestoreReplayDecodesAsTheDataPath(t *testing.T) {
	w := newWorld(t, withConfig(func(c *config.Config) {
		c.Record.DeleteField = "gone"
		c.Record.KeyID = "key"
	}))
	recs1 := versions(span(0, 10), 1)
	w.produce(recs1...)
	w.apply(collection)
	w.backUp("b-1")
	gone := rec{id: 3, value: []byte(`{"id": 3, "gone": true}`), partition: 1}
	// key_id key: the record key (4) is the point id, not the value's id.
	moved := rec{id: 4, value: []byte(`{"id": 999, "vector": [1, 1, 2, 3], "payload": {"version": 7}}`), partition: 0}
	w.produce(gone, moved)
	w.apply(collection)
	res, err := w.run(schemas.CommandRestore, "r-1", collection, `{"target": "replayed", "replay": true}`, &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(RestoreResult); r.Replay.Records != 2 || r.Replay.Rejected != 0 {
		t.Fatalf("replay result %+v", r.Replay)
	}
	want := model(recs1...)
	delete(want, "n:3")
	want["n:4"] = 7
	if d := diffPoints(want, w.points("replayed")); d != "" {
		t.Fatalf("replayed collection:\n%s", d)
	}
}

// TestRestoreReplayDecodesTheTopicsFormat: a topic in the protobuf format
// (record.v1) is replayed with the data path's decoder of that format, not
// read as JSON (every record was rejected and the target stayed at the
// backup's content).
func TestRestoreReplayDecodesTheTopicsFormat(t *testing.T) {
	w := newWorld(t, withConfig(func(c *config.Config) { c.Record.Format = "protobuf" }))
	pb := func(id, version int) rec {
		v, err := proto.Marshal(&recordpb.Record{
			Id:     &recordpb.Record_Num{Num: uint64(id)},
			Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: []float32{float32(version), 1, 2, 3}}},
			Payload: map[string]*recordpb.Value{
				"version": {Kind: &recordpb.Value_IntegerValue{IntegerValue: int64(version)}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return rec{id: id, value: v, partition: int32(id % 2)}
	}
	for id := range 6 {
		w.produce(pb(id, 1))
	}
	w.apply(collection)
	w.backUp("b-1")
	w.produce(pb(2, 5), pb(3, 6))
	w.apply(collection)
	res, err := w.run(schemas.CommandRestore, "r-1", collection, `{"target": "replayed", "replay": true}`, &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(RestoreResult); r.Replay.Records != 2 || r.Replay.Rejected != 0 {
		t.Fatalf("replay result %+v", r.Replay)
	}
	want := map[string]int64{"n:0": 1, "n:1": 1, "n:2": 5, "n:3": 6, "n:4": 1, "n:5": 1}
	if d := diffPoints(want, w.points("replayed")); d != "" {
		t.Fatalf("replayed collection:\n%s", d)
	}
}

// TestRestoreReplayGap: the backup's offsets were deleted by retention; a
// replay cannot reproduce the topic and fails replay_gap before uploading.
func TestRestoreReplayGap(t *testing.T) {
	w := newWorld(t)
	w.produce(versions(span(0, 10), 1)...)
	w.apply(collection)
	w.backUp("b-1")
	w.produce(versions(span(0, 10), 2)...)
	w.apply(collection)
	resp, err := w.adm.DeleteRecords(t.Context(), offsetsAt(w, 8))
	if err != nil || resp.Error() != nil {
		t.Fatalf("DeleteRecords: %v %v", err, resp.Error())
	}
	_, err = w.run(schemas.CommandRestore, "r-1", collection, `{"target": "gap", "replay": true}`, &fakeSession{})
	if code(err) != schemas.ErrReplayGap {
		t.Fatalf("replay over deleted records: %v", err)
	}
	if exists, _ := w.q.Client.CollectionExists(t.Context(), "gap"); exists {
		t.Fatal("the failed restore left its target")
	}
}

// sessionPauses is the status topic as the data path sees it, for a
// fakeSession: the data pause its latest progress carries.
type sessionPauses struct{ s *fakeSession }

func (p sessionPauses) DataPauses(now time.Time) []schemas.DataPause {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if len(p.s.progress) == 0 {
		return nil
	}
	last := p.s.progress[len(p.s.progress)-1]
	if dp, ok := schemas.PauseOf(schemas.Status{State: schemas.StateRunning, Progress: &last}); ok && now.Before(dp.Until) {
		return []schemas.DataPause{dp}
	}
	return nil
}

func (sessionPauses) SyncStatus(context.Context) error { return nil }

// runConnectors runs n data path replicas (connectors of the data group,
// writing with the world's writer) following the session's pauses, until
// the test ends.
func (w *world) runConnectors(n int, s *fakeSession) {
	w.t.Helper()
	cfg := w.cfg
	cfg.Kafka.CommitInterval = 50 * time.Millisecond
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Batch.Linger = 5 * time.Millisecond
	cfg.Batch.MaxRecords = 8
	for i := range n {
		c, err := connector.New(connector.Config{
			Kafka: cfg.Kafka, Routing: cfg.Routing, Record: cfg.Record, Batch: cfg.Batch,
			ClientOpts: w.kopts, Sink: w.writer, Pauses: sessionPauses{s},
			Logger: slog.New(slog.DiscardHandler).With("replica", i),
		})
		if err != nil {
			w.t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = c.Run(ctx) }()
		w.t.Cleanup(func() { cancel(); <-done })
	}
}

// committedAtEnd waits until the data group committed every record.
func (w *world) committedAtEnd() {
	w.t.Helper()
	waitFor(w.t, func() bool {
		ends, err := w.adm.ListEndOffsets(w.t.Context(), topic)
		if err != nil {
			return false
		}
		got, err := w.adm.FetchOffsets(w.t.Context(), group)
		if err != nil {
			return false
		}
		at := true
		ends.Each(func(o kadm.ListedOffset) {
			if c, ok := got.Lookup(o.Topic, o.Partition); !ok || c.At != o.Offset {
				at = false
			}
		})
		return at
	})
}

// TestRestoreAliasSwitch restores into a new collection with replay while
// records keep coming, and switches the alias two data path replicas (real
// connectors) write to: the restore pauses them, they acknowledge in their
// commits, and in the end the new collection holds exactly what the topic
// says — every record applied before the backup, replayed, applied during
// the pause and after the switch, none lost, none older over a newer one.
func TestRestoreAliasSwitch(t *testing.T) {
	w := newWorld(t, withAlias())
	s := &fakeSession{}
	w.runConnectors(2, s)
	var all []rec
	for i := range 30 {
		all = append(all, upsert(i, 1))
	}
	w.produce(all...)
	w.committedAtEnd()
	w.backUp("b-1")

	// A producer keeps writing until told to stop, through the restore
	// and its switch: mostly new points (so a lost write shows), and
	// deletes and newer versions of recent ones (so an older write over a
	// newer one shows).
	stop := make(chan struct{})
	produced := make(chan []rec)
	go func() {
		var recs []rec
		defer func() { produced <- recs }()
		for k := 0; ; k++ {
			batch := []rec{upsert(1000+k, 1)}
			if k%5 == 4 {
				batch = append(batch, tombstone(1000+k-3))
			}
			if k%7 == 6 {
				batch = append(batch, upsert(1000+k-2, 2))
			}
			for _, r := range batch {
				kr := &kgo.Record{Topic: topic, Partition: r.partition, Key: []byte(fmt.Sprint(r.id)), Value: r.value}
				if err := w.kcl.ProduceSync(context.Background(), kr).FirstErr(); err != nil {
					t.Error(err)
					return
				}
				recs = append(recs, r)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // some records before the restore starts

	res, err := w.run(schemas.CommandRestore, "r-1", collection, `{"target": "movies_v2", "replay": true, "alias": "movies"}`, s)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // some records after the switch
	close(stop)
	all = append(all, <-produced...)
	w.committedAtEnd()

	r := res.(RestoreResult)
	if r.Alias != "movies" || r.PreviousTarget != "movies_v1" || r.PauseSeconds <= 0 || r.Replay.Records == 0 {
		t.Fatalf("result %+v, replay %+v", r, r.Replay)
	}
	t.Logf("%d records produced; %d replayed; data path paused %.3fs", len(all), r.Replay.Records, r.PauseSeconds)
	if d := diffPoints(model(all...), w.points("movies_v2")); d != "" {
		t.Fatalf("the alias's new collection differs from the topic:\n%s", d)
	}
	if d := diffPoints(model(all...), w.points("movies")); d != "" {
		t.Fatalf("read through the alias:\n%s", d)
	}
	// The pause was lifted: the session's last event carries none.
	if ps := (sessionPauses{s}).DataPauses(time.Now()); len(ps) != 0 {
		t.Fatalf("pause still in force after the restore: %+v", ps)
	}
}

// TestRestoreAliasSwitchNeedsThePause: when no data path replica
// acknowledges the pause (none runs, or an older version), the restore
// fails with timeout, retryable, without switching the alias, and lifts
// the pause.
func TestRestoreAliasSwitchNeedsThePause(t *testing.T) {
	w := newWorld(t, withAlias())
	w.produce(versions(span(0, 10), 1)...)
	w.apply(collection + "_v1")
	w.backUp("b-1")
	w.h.o.PauseTimeout = 500 * time.Millisecond
	s := &fakeSession{}
	_, err := w.run(schemas.CommandRestore, "r-1", collection, `{"target": "movies_v2", "replay": true, "alias": "movies"}`, s)
	var je *job.Error
	if !errors.As(err, &je) || je.Code != schemas.ErrTimeout || !je.Retryable || !strings.Contains(err.Error(), "movies[0]") {
		t.Fatalf("restore without a pausing data path: %v", err)
	}
	aliases, aerr := w.q.Client.ListAliases(t.Context())
	if aerr != nil || len(aliases) != 1 || aliases[0].GetCollectionName() != "movies_v1" {
		t.Fatalf("aliases after the failed switch: %v %v", aliases, aerr)
	}
	if ps := (sessionPauses{s}).DataPauses(time.Now()); len(ps) != 0 {
		t.Fatalf("pause still in force after the failure: %+v", ps)
	}
}

// TestRestoreAliasChecks: an alias the data path writes to switches only
// after a replay to now of the same records; an alias it does not write
// switches without a pause.
func TestRestoreAliasChecks(t *testing.T) {
	w := newWorld(t, withAlias())
	w.produce(versions(span(0, 10), 1)...)
	w.apply(collection + "_v1")
	w.backUp("b-1")
	for name, params := range map[string]string{
		"no replay":   `{"target": "t1", "alias": "movies"}`,
		"other alias": `{"target": "t3", "alias": "other", "replay": true}`,
	} {
		if name == "other alias" {
			// The data path writes "other" (its own topic), not what
			// the replay applies.
			if err := w.q.Client.CreateAlias(t.Context(), "other", collection+"_v1"); err != nil {
				t.Fatal(err)
			}
			w.h.o.Config.Routing.Topics = map[string]config.Route{"other": {Collection: "other"}}
			w.h.o.Config.Kafka.Topics = []string{topic, "other"}
		}
		_, err := w.run(schemas.CommandRestore, "r-"+name, collection, params, &fakeSession{})
		if code(err) != schemas.ErrInvalidParameters || !strings.Contains(err.Error(), "the data path writes to") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// "readers" is an alias nobody writes to: no pause, no data path needed.
	res, err := w.run(schemas.CommandRestore, "r-readers", collection, `{"target": "t4", "alias": "readers"}`, &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(RestoreResult); r.Alias != "readers" || r.PauseSeconds != 0 {
		t.Fatalf("result %+v", r)
	}
	aliases, _ := w.q.Client.ListAliases(t.Context())
	found := false
	for _, a := range aliases {
		found = found || a.GetAliasName() == "readers" && a.GetCollectionName() == "t4"
	}
	if !found {
		t.Fatalf("aliases %v", aliases)
	}
}
