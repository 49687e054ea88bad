package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// TestBackupAndRestore backs a collection up with the group's offsets and
// restores it into a new collection: the manifest records the committed
// offsets (before) and end offsets (after), its objects match their
// SHA-256, Qdrant keeps no snapshot file, and the restored collection holds
// exactly the backed-up points.
func TestBackupAndRestore(t *testing.T) {
	for _, storeKind := range []string{"file", "s3"} {
		t.Run(storeKind, func(t *testing.T) {
			var opts []worldOpt
			if storeKind == "s3" {
				opts = append(opts, withS3Store())
			}
			w := newWorld(t, opts...)
			var recs []rec
			for i := range 40 {
				recs = append(recs, upsert(i, 1))
			}
			recs = append(recs, upsert(3, 2), tombstone(4))
			w.produce(recs...)
			w.apply(collection)
			// Records the group has not applied yet: beyond the committed
			// offsets, within the end offsets.
			w.produce(upsert(100, 1), upsert(101, 1))

			s := &fakeSession{}
			res, err := w.run(schemas.CommandBackup, "b-1", collection, "", s)
			if err != nil {
				t.Fatal(err)
			}
			r := res.(BackupResult)
			if r.BackupID != "b-1" || r.Snapshots != 1 || r.Bytes <= 0 || r.Points != 39 || r.QdrantVersion != qdrantmem.Version {
				t.Fatalf("result %+v", r)
			}
			m := mustManifest(t, w.st, collection, "b-1")
			if m.CommandID != "b-1" || m.Collection != collection || len(m.Snapshots) != 1 || m.Snapshots[0].PeerID != w.q.PeerID() {
				t.Fatalf("manifest %+v", m)
			}
			for _, p := range m.Offsets.Topics[0].Partitions {
				wantEnd := map[int32]int64{0: 22, 1: 22}[p.Partition]
				if p.Committed != 21 || p.End != wantEnd {
					t.Fatalf("offsets of partition %d: %+v, want committed 21 and end %d", p.Partition, p, wantEnd)
				}
			}
			if got := w.objects(""); !slices.Equal(got, []string{"collections/movies/b-1/" + m.Snapshots[0].Key[len("collections/movies/b-1/"):], "collections/movies/b-1/manifest.json"}) {
				t.Fatalf("store holds %v", got)
			}
			if left := w.nodeSnapshots(collection); len(left) != 0 {
				t.Fatalf("Qdrant still holds snapshots %v", left)
			}

			res, err = w.run(schemas.CommandRestore, "r-1", collection, `{"target": "restored"}`, &fakeSession{})
			if err != nil {
				t.Fatal(err)
			}
			rr := res.(RestoreResult)
			if rr.BackupID != "b-1" || rr.Target != "restored" || rr.Bytes != r.Bytes || rr.Replay != nil {
				t.Fatalf("restore result %+v", rr)
			}
			if d := diffPoints(model(recs...), w.points("restored")); d != "" {
				t.Fatalf("restored collection:\n%s", d)
			}
			if left := w.nodeSnapshots("restored"); len(left) != 0 {
				t.Fatalf("the uploaded snapshot file stayed on the node: %v", left)
			}
			// Restoring again into the same target needs overwrite.
			_, err = w.run(schemas.CommandRestore, "r-2", collection, `{"target": "restored"}`, &fakeSession{})
			if code(err) != schemas.ErrTargetExists {
				t.Fatalf("restore into an existing target: %v", err)
			}
			if _, err := w.run(schemas.CommandRestore, "r-3", collection, `{"target": "restored", "overwrite": true}`, &fakeSession{}); err != nil {
				t.Fatal(err)
			}
			// A backup id that exists is refused to another command.
			if _, err := w.run(schemas.CommandBackup, "b-2", collection, `{"backup_id": "b-1"}`, &fakeSession{}); code(err) != schemas.ErrInvalidParameters {
				t.Fatalf("reused backup id: %v", err)
			}
			// The same command again (its final status lost) answers its result.
			res2, err := w.run(schemas.CommandBackup, "b-1", collection, "", &fakeSession{})
			if err != nil || res2.(BackupResult) != r {
				t.Fatalf("re-run of a finished backup: %+v, %v", res2, err)
			}
		})
	}
}

// TestBackupResumesAfterHandover stops a backup mid-download with a
// handover (a replica killed or giving the command up) and resumes it from
// its checkpoint: it reuses the snapshot Qdrant already made, ends with one
// manifest and leaves nothing behind.
func TestBackupResumesAfterHandover(t *testing.T) {
	w := newWorld(t)
	for i := range 30 {
		w.produce(upsert(i, 1))
	}
	w.apply(collection)
	w.q.Hang(qdrantmem.RouteGetSnapshot)
	ctx, cancel := context.WithCancelCause(t.Context())
	s := &fakeSession{}
	done := make(chan error, 1)
	go func() {
		_, err := w.runCtx(ctx, schemas.CommandBackup, "b-h", collection, "", s)
		done <- err
	}()
	waitFor(t, func() bool { return w.q.CallCount(qdrantmem.RouteGetSnapshot) > 0 })
	cancel(job.ErrHandover)
	if err := <-done; !errors.Is(err, job.ErrHandover) {
		t.Fatalf("handed over backup: %v", err)
	}
	w.q.Unhang(qdrantmem.RouteGetSnapshot)
	if left := w.nodeSnapshots(collection); len(left) != 1 {
		t.Fatalf("a handover must leave the snapshot for the next owner; node has %v", left)
	}

	if _, err := w.run(schemas.CommandBackup, "b-h", collection, "", s.resumed()); err != nil {
		t.Fatal(err)
	}
	if n := w.q.CallCount(qdrantmem.RouteCreateSnapshot); n != 1 {
		t.Fatalf("%d snapshots created, want 1 (the resumed backup reuses it)", n)
	}
	if left := w.nodeSnapshots(collection); len(left) != 0 {
		t.Fatalf("snapshots left on the node: %v", left)
	}
	if got := w.objects(""); len(got) != 2 {
		t.Fatalf("store holds %v, want the snapshot and the manifest", got)
	}
}

// TestBackupCancelCleansUp cancels a backup mid-upload: no object, no
// unfinished upload and no snapshot on the node remain.
func TestBackupCancelCleansUp(t *testing.T) {
	w := newWorld(t)
	for i := range 30 {
		w.produce(upsert(i, 1))
	}
	w.apply(collection)
	w.q.Hang(qdrantmem.RouteGetSnapshot)
	ctx, cancel := context.WithCancelCause(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := w.runCtx(ctx, schemas.CommandBackup, "b-c", collection, "", &fakeSession{})
		done <- err
	}()
	waitFor(t, func() bool { return w.q.CallCount(qdrantmem.RouteGetSnapshot) > 0 })
	cancel(job.ErrCancelled)
	if err := <-done; !errors.Is(err, job.ErrCancelled) {
		t.Fatalf("cancelled backup: %v", err)
	}
	w.q.Unhang(qdrantmem.RouteGetSnapshot)
	if got := w.objects(""); len(got) != 0 {
		t.Fatalf("store holds %v after a cancel", got)
	}
	if left := w.nodeSnapshots(collection); len(left) != 0 {
		t.Fatalf("snapshots left on the node after a cancel: %v", left)
	}
}

// TestBackupChecksumMismatch corrupts the snapshot file on the node after
// Qdrant computed its checksum: the backup fails checksum_mismatch and
// stores nothing.
func TestBackupChecksumMismatch(t *testing.T) {
	w := newWorld(t)
	for i := range 30 {
		w.produce(upsert(i, 1))
	}
	w.apply(collection)
	w.q.Hang(qdrantmem.RouteGetSnapshot)
	done := make(chan error, 1)
	go func() {
		_, err := w.run(schemas.CommandBackup, "b-x", collection, "", &fakeSession{})
		done <- err
	}()
	waitFor(t, func() bool { return w.q.CallCount(qdrantmem.RouteGetSnapshot) > 0 })
	dir, _ := w.q.SnapshotsDir()
	files, _ := filepath.Glob(filepath.Join(dir, collection, "*.snapshot"))
	if len(files) != 1 {
		t.Fatalf("snapshot files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	w.q.Unhang(qdrantmem.RouteGetSnapshot)
	if err := <-done; code(err) != schemas.ErrChecksumMismatch {
		t.Fatalf("backup of a corrupt snapshot: %v (code %s)", err, code(err))
	}
	if got := w.objects(""); len(got) != 0 {
		t.Fatalf("store holds %v", got)
	}
}

func TestBackupErrors(t *testing.T) {
	w := newWorld(t)
	if _, err := w.run(schemas.CommandBackup, "b-n", "nope", "", &fakeSession{}); code(err) != schemas.ErrCollectionNotFound {
		t.Fatalf("backup of a missing collection: %v", err)
	}
	if _, err := w.run(schemas.CommandRestore, "r-n", collection, "", &fakeSession{}); code(err) != schemas.ErrBackupNotFound {
		t.Fatalf("restore without a backup: %v", err)
	}
	if _, err := w.run(schemas.CommandRestore, "r-n2", collection, `{"backup_id": "nope", "target": "x"}`, &fakeSession{}); code(err) != schemas.ErrBackupNotFound {
		t.Fatalf("restore of a missing backup: %v", err)
	}
	w.h.o.Store = nil
	if _, err := w.run(schemas.CommandBackup, "b-s", collection, "", &fakeSession{}); code(err) != schemas.ErrUnsupported {
		t.Fatalf("backup without a store: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
