package backup

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
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
	if _, err := w.run(schemas.CommandBackup, "b-1", collection, "", &fakeSession{}); err != nil {
		t.Fatal(err)
	}
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
	if _, err := w.run(schemas.CommandBackup, "b-1", collection, "", &fakeSession{}); err != nil {
		t.Fatal(err)
	}
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
	if _, err := w.run(schemas.CommandBackup, "b-1", collection, "", &fakeSession{}); err != nil {
		t.Fatal(err)
	}
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

// TestRestoreReplayGap: the backup's offsets were deleted by retention; a
// replay cannot reproduce the topic and fails replay_gap before uploading.
func TestRestoreReplayGap(t *testing.T) {
	w := newWorld(t)
	w.produce(versions(span(0, 10), 1)...)
	w.apply(collection)
	if _, err := w.run(schemas.CommandBackup, "b-1", collection, "", &fakeSession{}); err != nil {
		t.Fatal(err)
	}
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

// fakeDataPath plays the data path's side of an alias switch: on Pause it
// finishes the records in flight (applies and commits them, to the alias's
// old collection) and from then on applies nothing until resume.
type fakeDataPath struct {
	w               *world
	mu              sync.Mutex
	paused, resumed int
}

func (f *fakeDataPath) Pause(ctx context.Context, topics []string) (func(context.Context) error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(topics, []string{topic}) {
		f.w.t.Errorf("Pause(%v)", topics)
	}
	f.paused++
	f.w.apply(collection)
	return func(context.Context) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.resumed++
		return nil
	}, nil
}

// TestRestoreAliasSwitch restores into a new collection with replay and
// switches the alias the data path writes to: every record ends in the new
// collection — applied before the backup, replayed, applied during the
// pause, applied after the switch — and the data path was paused once.
func TestRestoreAliasSwitch(t *testing.T) {
	dp := &fakeDataPath{}
	w := newWorld(t, withAlias(), withDataPath(dp))
	dp.w = w
	recs1 := versions(span(0, 20), 1)
	w.produce(recs1...)
	w.apply(collection)
	if _, err := w.run(schemas.CommandBackup, "b-1", collection, "", &fakeSession{}); err != nil {
		t.Fatal(err)
	}
	recs2 := append(versions(span(0, 10), 2), tombstone(15))
	w.produce(recs2...)
	w.apply(collection)
	recs3 := append(versions(span(5, 12), 3), tombstone(0)) // in flight when the pause comes
	w.produce(recs3...)

	res, err := w.run(schemas.CommandRestore, "r-1", collection, `{"target": "movies_v2", "replay": true, "alias": "movies"}`, &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.(RestoreResult)
	if dp.paused != 1 || dp.resumed != 1 || r.Alias != "movies" || r.PreviousTarget != "movies_v1" || r.Replay.Records != int64(len(recs2)+len(recs3)) {
		t.Fatalf("paused %d resumed %d, result %+v replay %+v", dp.paused, dp.resumed, r, r.Replay)
	}
	recs4 := append(versions(span(0, 3), 4), tombstone(7), upsert(40, 1))
	w.produce(recs4...)
	w.apply(collection) // the data path after the switch: into movies_v2

	all := slices.Concat(recs1, recs2, recs3, recs4)
	if d := diffPoints(model(all...), w.points("movies_v2")); d != "" {
		t.Fatalf("the alias's new collection:\n%s", d)
	}
	if d := diffPoints(model(all...), w.points("movies")); d != "" {
		t.Fatalf("read through the alias:\n%s", d)
	}

	// Without a data path that can pause, the command is refused up front.
	w.h.o.DataPath = nil
	_, err = w.run(schemas.CommandRestore, "r-2", collection, `{"target": "movies_v3", "replay": true, "alias": "movies"}`, &fakeSession{})
	if code(err) != schemas.ErrUnsupported {
		t.Fatalf("alias switch without a pausing data path: %v", err)
	}
}
