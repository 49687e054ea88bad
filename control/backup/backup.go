package backup

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// BackupResult is the result of backup and backup_storage.
type BackupResult struct {
	BackupID      string `json:"backup_id"`
	Collection    string `json:"collection,omitempty"`
	Manifest      string `json:"manifest"`
	Snapshots     int    `json:"snapshots"`
	Bytes         int64  `json:"bytes"`
	Points        int64  `json:"points_count"`
	QdrantVersion string `json:"qdrant_version"`
}

// backupState is a backup's checkpoint: what is done, so that the next
// owner of the command resumes instead of starting over, and cleans up
// exactly what this backup made when it fails.
type backupState struct {
	BackupID string    `json:"backup_id"`
	Started  time.Time `json:"started"`
	Topics   []string  `json:"topics"`
	// Committed are the data group's offsets, read before any snapshot.
	Committed     *schemas.BackupOffsets `json:"committed,omitempty"`
	QdrantVersion string                 `json:"qdrant_version,omitempty"`
	// Nodes are the nodes holding shards, found once.
	Nodes []nodeState `json:"nodes,omitempty"`
}

// nodeState is one node's part of a backup.
type nodeState struct {
	URL    string   `json:"url"`
	PeerID uint64   `json:"peer_id"`
	Shards []uint32 `json:"shards"`
	// Snapshot, Checksum and Size describe the node's snapshot once
	// created; Stored is set once it is in the store, Cleaned once the
	// node's copy is deleted.
	Snapshot string `json:"snapshot,omitempty"`
	Checksum string `json:"checksum,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Stored   bool   `json:"stored,omitempty"`
	Cleaned  bool   `json:"cleaned,omitempty"`
}

// source is what differs between a collection and a storage backup.
type source struct {
	op         string // metrics label and messages: backup, backup_storage
	collection string // "" for storage
	create     func(n *sink.SnapshotClient, ctx context.Context) (sink.SnapshotDescription, error)
	list       func(n *sink.SnapshotClient, ctx context.Context) ([]sink.SnapshotDescription, error)
	download   func(n *sink.SnapshotClient, ctx context.Context, name string) (*sink.Download, error)
	remove     func(n *sink.SnapshotClient, ctx context.Context, name string) error
}

func collectionSource(collection string) source {
	return source{
		op: "backup", collection: collection,
		create: func(n *sink.SnapshotClient, ctx context.Context) (sink.SnapshotDescription, error) {
			return n.CreateSnapshot(ctx, collection)
		},
		list: func(n *sink.SnapshotClient, ctx context.Context) ([]sink.SnapshotDescription, error) {
			return n.ListSnapshots(ctx, collection)
		},
		download: func(n *sink.SnapshotClient, ctx context.Context, name string) (*sink.Download, error) {
			return n.DownloadSnapshot(ctx, collection, name)
		},
		remove: func(n *sink.SnapshotClient, ctx context.Context, name string) error {
			return n.DeleteSnapshot(ctx, collection, name)
		},
	}
}

func storageSource() source {
	return source{
		op:       "backup_storage",
		create:   (*sink.SnapshotClient).CreateFullSnapshot,
		list:     (*sink.SnapshotClient).ListFullSnapshots,
		download: (*sink.SnapshotClient).DownloadFullSnapshot,
		remove:   (*sink.SnapshotClient).DeleteFullSnapshot,
	}
}

func (h *handlers) validateBackup(cmd schemas.Command) error {
	_, err := schemas.BackupParamsOf(cmd)
	return err
}

func (h *handlers) validateBackupStorage(cmd schemas.Command) error {
	if _, err := schemas.BackupParamsOf(cmd); err != nil {
		return err
	}
	if n := len(h.o.Nodes); n != 1 {
		return job.Errorf(schemas.ErrInvalidParameters, false,
			"backup_storage needs a single-node Qdrant (Qdrant restores full-storage snapshots on one node only); qdrant.nodes lists %d", n)
	}
	return nil
}

func (h *handlers) runBackup(ctx context.Context, cmd schemas.Command, s job.Reporter) (any, error) {
	return h.timed(ctx, "backup", cmd.Collection, func() (BackupResult, error) {
		return h.backup(ctx, cmd, s, collectionSource(cmd.Collection))
	})
}

func (h *handlers) runBackupStorage(ctx context.Context, cmd schemas.Command, s job.Reporter) (any, error) {
	return h.timed(ctx, "backup_storage", "", func() (BackupResult, error) {
		return h.backup(ctx, cmd, s, storageSource())
	})
}

// timed runs one attempt of a backup and records its metrics.
func (h *handlers) timed(ctx context.Context, op, collection string, run func() (BackupResult, error)) (any, error) {
	start := h.o.Clock.Now()
	res, err := run()
	if err != nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	end := h.o.Clock.Now()
	h.m.observe(op, start, end, err)
	if err != nil {
		return nil, err
	}
	if collection != "" {
		h.m.lastSuccess.WithLabelValues(collection).Set(float64(end.Unix()))
	}
	return res, nil
}

// backup takes a backup:
//
//	offsets ─▶ nodes ─▶ per node: create ─▶ download ═▶ store (SHA-256) ─▶ delete on node
//	   ─▶ end offsets ─▶ manifest (create, last) ─▶ succeeded
//
// Each arrow is a checkpoint; a resumed command skips what is done. A
// failure or cancel removes what the backup made (store objects, unfinished
// uploads, node snapshots); a handover leaves them to the next owner.
func (h *handlers) backup(ctx context.Context, cmd schemas.Command, s job.Reporter, src source) (res BackupResult, err error) {
	if err := h.needStore(cmd); err != nil {
		return res, err
	}
	p, err := schemas.BackupParamsOf(cmd)
	if err != nil {
		return res, err
	}
	var st backupState
	resumed, err := loadState(s, &st)
	if err != nil {
		return res, err
	}
	if !resumed {
		st.BackupID = p.BackupID
	}
	mkey := manifestKey(src.collection, st.BackupID)
	// A manifest written by this command means an earlier attempt
	// finished all but its final status.
	if m, err := readManifest(ctx, h.o.Store, mkey); err == nil {
		if m.CommandID != cmd.ID {
			return res, job.Errorf(schemas.ErrInvalidParameters, false, "backup %s of %q already exists (written by command %s)", st.BackupID, src.collection, m.CommandID)
		}
		return resultOf(m, mkey), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return res, fail(ctx, "reading the manifest", err)
	}

	defer func() {
		if err != nil && !errors.Is(context.Cause(ctx), job.ErrHandover) && !errors.Is(err, job.ErrHandover) {
			h.cleanup(s, src, &st)
		}
	}()

	if !resumed {
		// Leftovers of an attempt that died before its first checkpoint.
		if err := h.o.retry(ctx, "aborting unfinished uploads", func(ctx context.Context) error {
			_, err := h.o.Store.AbortUploads(ctx, backupDir(src.collection, st.BackupID))
			return err
		}); err != nil {
			return res, err
		}
	}
	if st.Committed == nil {
		if err := h.captureOffsets(ctx, src, &st); err != nil {
			return res, err
		}
		if err := checkpoint(ctx, s, st); err != nil {
			return res, err
		}
	}
	if st.Nodes == nil {
		if err := h.findNodes(ctx, src, &st); err != nil {
			return res, err
		}
		if err := checkpoint(ctx, s, st); err != nil {
			return res, err
		}
	}
	var done atomic.Int64
	for i := range st.Nodes {
		if st.Nodes[i].Stored {
			done.Add(st.Nodes[i].Size)
		}
	}
	for i := range st.Nodes {
		if err := h.backupNode(ctx, s, src, &st, i, &done); err != nil {
			return res, err
		}
	}

	// Everything is stored: record the end offsets and write the manifest.
	s.Progress(h.backupProgress(&st, done.Load(), "writing the manifest"))
	m, err := h.buildManifest(ctx, cmd, src, &st)
	if err != nil {
		return res, err
	}
	b, err := m.Encode()
	if err != nil {
		return res, job.Errorf(schemas.ErrInternal, false, "encoding the manifest: %w", err)
	}
	if err := s.Owner().Check(ctx); err != nil {
		return res, err
	}
	err = h.o.retry(ctx, "writing the manifest", func(ctx context.Context) error {
		err := h.o.Store.Create(ctx, mkey, b)
		if errors.Is(err, store.ErrExists) {
			// A retried create whose first try landed.
			if got, rerr := readManifest(ctx, h.o.Store, mkey); rerr == nil && got.CommandID == cmd.ID {
				return nil
			}
			return job.Errorf(schemas.ErrInvalidParameters, false, "backup %s of %q was written by another command meanwhile", st.BackupID, src.collection)
		}
		return err
	})
	if err != nil {
		return res, err
	}
	h.m.bytes.WithLabelValues(src.op).Add(float64(done.Load()))
	return resultOf(m, mkey), nil
}

func resultOf(m schemas.BackupManifest, key string) BackupResult {
	r := BackupResult{BackupID: m.BackupID, Collection: m.Collection, Manifest: key, Snapshots: len(m.Snapshots),
		Points: m.PointsCount, QdrantVersion: m.QdrantVersion}
	for _, sn := range m.Snapshots {
		r.Bytes += sn.Size
	}
	return r
}

// captureOffsets records the data group's committed offsets for the topics
// whose records may go to the collection: replaying from them re-applies
// everything a snapshot taken afterwards may lack.
func (h *handlers) captureOffsets(ctx context.Context, src source, st *backupState) error {
	if src.collection != "" {
		var exists bool
		if err := h.o.retry(ctx, "checking the collection", func(ctx context.Context) (err error) {
			exists, err = h.o.Qdrant.CollectionExists(ctx, src.collection)
			return err
		}); err != nil {
			return err
		}
		if !exists {
			return job.Errorf(schemas.ErrCollectionNotFound, false, "collection %q does not exist", src.collection)
		}
	}
	kv, err := newKafkaView(h.o.KafkaOpts, h.o.Config)
	if err != nil {
		return fail(ctx, "connecting to Kafka", err)
	}
	defer kv.close()
	var committed offsets
	err = h.o.retry(ctx, "reading the committed offsets", func(ctx context.Context) error {
		topics, err := kv.topicsFor(ctx, src.collection)
		if err != nil {
			return err
		}
		st.Topics = topics
		committed, err = kv.committed(ctx, topics)
		return err
	})
	if err != nil {
		return err
	}
	st.Started = h.o.Clock.Now().UTC()
	st.Committed = manifestOffsets(h.o.Config.Kafka.Group, committed, nil)
	return nil
}

// findNodes asks every node which shards of the collection it holds and
// keeps those holding any (a storage backup: the single node).
func (h *handlers) findNodes(ctx context.Context, src source, st *backupState) error {
	st.Nodes = []nodeState{}
	return h.o.retry(ctx, "finding the nodes holding the collection", func(ctx context.Context) error {
		st.Nodes = st.Nodes[:0]
		v, err := h.o.Nodes[0].Version(ctx)
		if err != nil {
			return err
		}
		st.QdrantVersion = v
		for _, n := range h.o.Nodes {
			if src.collection == "" {
				st.Nodes = append(st.Nodes, nodeState{URL: n.BaseURL()})
				continue
			}
			info, err := n.Cluster(ctx, src.collection)
			if err != nil {
				return err
			}
			ns := nodeState{URL: n.BaseURL(), PeerID: info.PeerID}
			for _, sh := range info.LocalShards {
				ns.Shards = append(ns.Shards, sh.ShardID)
			}
			if len(ns.Shards) > 0 {
				slices.Sort(ns.Shards)
				st.Nodes = append(st.Nodes, ns)
			}
		}
		if len(st.Nodes) == 0 {
			return job.Errorf(schemas.ErrQdrant, false, "no node of qdrant.nodes holds a shard of %q", src.collection)
		}
		return nil
	})
}

func (h *handlers) node(url string) *sink.SnapshotClient {
	for _, n := range h.o.Nodes {
		if n.BaseURL() == url {
			return n
		}
	}
	return nil
}

// backupNode takes, stores and removes node i's snapshot.
func (h *handlers) backupNode(ctx context.Context, s job.Reporter, src source, st *backupState, i int, done *atomic.Int64) error {
	ns := &st.Nodes[i]
	if ns.Stored && ns.Cleaned {
		return nil
	}
	n := h.node(ns.URL)
	if n == nil {
		return job.Errorf(schemas.ErrInvalidParameters, false, "node %s of this backup is no longer in qdrant.nodes", ns.URL)
	}
	if !ns.Stored {
		if ns.Snapshot != "" && !h.snapshotExists(ctx, src, n, ns.Snapshot) {
			ns.Snapshot = "" // lost (node restarted, someone deleted it): take another
		}
		if ns.Snapshot == "" {
			s.Progress(h.backupProgress(st, done.Load(), "creating a snapshot on "+ns.URL))
			var d sink.SnapshotDescription
			if err := h.o.retry(ctx, "creating a snapshot on "+ns.URL, func(ctx context.Context) (err error) {
				d, err = src.create(n, ctx)
				return err
			}); err != nil {
				return err
			}
			if d.Checksum == "" {
				return job.Errorf(schemas.ErrQdrant, false, "snapshot %s on %s has no checksum", d.Name, ns.URL)
			}
			ns.Snapshot, ns.Checksum, ns.Size = d.Name, d.Checksum, d.Size
			if err := checkpoint(ctx, s, *st); err != nil {
				return err
			}
		}
		key := h.objectKey(src, st, ns)
		if err := h.o.retry(ctx, "storing "+ns.Snapshot, func(ctx context.Context) error {
			return h.transfer(ctx, s, src, st, n, ns, key, done)
		}); err != nil {
			return err
		}
		ns.Stored = true
		if err := checkpoint(ctx, s, *st); err != nil {
			return err
		}
	}
	if err := s.Owner().Check(ctx); err != nil {
		return err
	}
	if err := h.o.retry(ctx, "deleting "+ns.Snapshot+" on "+ns.URL, func(ctx context.Context) error {
		if err := src.remove(n, ctx, ns.Snapshot); err != nil && sink.StatusOf(err) != 404 {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	ns.Cleaned = true
	return checkpoint(ctx, s, *st)
}

func (h *handlers) objectKey(src source, st *backupState, ns *nodeState) string {
	return snapshotKey(src.collection, st.BackupID, ns.PeerID)
}

// snapshotExists reports whether the node still lists the snapshot; when
// it cannot tell, it says yes and lets the download find out.
func (h *handlers) snapshotExists(ctx context.Context, src source, n *sink.SnapshotClient, name string) bool {
	ds, err := src.list(n, ctx)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(ds, func(d sink.SnapshotDescription) bool { return d.Name == name })
}

// transfer streams a node's snapshot into the store: download ═▶ Put,
// which checks the bytes against Qdrant's checksum and stores it with the
// object. One attempt; a transient failure starts it over.
func (h *handlers) transfer(ctx context.Context, s job.Reporter, src source, st *backupState, n *sink.SnapshotClient, ns *nodeState, key string, done *atomic.Int64) error {
	dl, err := src.download(n, ctx, ns.Snapshot)
	if err != nil {
		return err
	}
	defer dl.Close()
	base := done.Load()
	cr := &countingReader{r: dl, every: 8 << 20, progress: func(n int64) {
		s.Progress(h.backupProgress(st, base+n, "storing "+ns.Snapshot))
	}}
	if _, err := h.o.Store.Put(ctx, key, cr, ns.Size, ns.Checksum); err != nil {
		if errors.Is(err, store.ErrChecksumMismatch) {
			return job.Errorf(schemas.ErrChecksumMismatch, true, "snapshot %s from %s does not match Qdrant's checksum: %w", ns.Snapshot, ns.URL, err)
		}
		return err
	}
	done.Store(base + cr.n)
	return nil
}

func (h *handlers) backupProgress(st *backupState, bytes int64, detail string) schemas.Progress {
	var total int64
	stored := 0
	for _, ns := range st.Nodes {
		total += ns.Size
		if ns.Stored {
			stored++
		}
	}
	return schemas.Progress{Done: bytes, Total: total, Detail: detail,
		Data: mustJSON(map[string]any{"backup_id": st.BackupID, "bytes": bytes, "nodes_done": stored, "nodes": len(st.Nodes)})}
}

// buildManifest reads the end offsets and the collection's configuration
// and assembles the manifest.
func (h *handlers) buildManifest(ctx context.Context, cmd schemas.Command, src source, st *backupState) (schemas.BackupManifest, error) {
	m := schemas.BackupManifest{
		Version: schemas.ManifestVersion, BackupID: st.BackupID, Collection: src.collection, CommandID: cmd.ID,
		Replica: h.o.Replica, Started: st.Started, QdrantVersion: st.QdrantVersion, Kind: schemas.BackupKindStorage,
	}
	if src.collection != "" {
		m.Kind = schemas.BackupKindCollection
		if err := h.o.retry(ctx, "reading the collection", func(ctx context.Context) error {
			info, err := h.node(st.Nodes[0].URL).CollectionInfo(ctx, src.collection)
			m.CollectionConfig, m.PointsCount = info.Config, info.PointsCount
			return err
		}); err != nil {
			return m, err
		}
	}
	kv, err := newKafkaView(h.o.KafkaOpts, h.o.Config)
	if err != nil {
		return m, fail(ctx, "connecting to Kafka", err)
	}
	defer kv.close()
	var end offsets
	if err := h.o.retry(ctx, "reading the end offsets", func(ctx context.Context) (err error) {
		end, err = kv.end(ctx, st.Topics)
		return err
	}); err != nil {
		return m, err
	}
	m.Offsets = manifestOffsets(st.Committed.Group, committedOf(st.Committed), end)
	for _, ns := range st.Nodes {
		m.Snapshots = append(m.Snapshots, schemas.BackupSnapshot{Node: ns.URL, PeerID: ns.PeerID, Shards: ns.Shards,
			Name: ns.Snapshot, Key: h.objectKey(src, st, &ns), Size: ns.Size, SHA256: ns.Checksum})
	}
	m.Completed = h.o.Clock.Now().UTC()
	return m, nil
}

// cleanup removes what a failed or cancelled backup made: unfinished
// uploads and stored objects under its directory (never a manifest: it is
// written last) and the snapshots it created on the nodes. It runs on a
// fresh context and only while this replica still owns the command.
func (h *handlers) cleanup(s job.Reporter, src source, st *backupState) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := h.o.Log.With("backup_id", st.BackupID, "collection", src.collection)
	if err := s.Owner().Check(ctx); err != nil {
		log.Warn("not cleaning up a failed backup: no longer the owner", "err", err)
		return
	}
	dir := backupDir(src.collection, st.BackupID)
	if _, err := h.o.Store.AbortUploads(ctx, dir); err != nil {
		log.Warn("cleanup: aborting unfinished uploads", "err", err)
	}
	var keys []string
	for i := range st.Nodes {
		keys = append(keys, h.objectKey(src, st, &st.Nodes[i]))
	}
	if err := h.o.Store.Delete(ctx, keys...); err != nil {
		log.Warn("cleanup: deleting stored snapshots", "err", err)
	}
	for _, ns := range st.Nodes {
		if ns.Snapshot == "" || ns.Cleaned {
			continue
		}
		if n := h.node(ns.URL); n != nil {
			if err := src.remove(n, ctx, ns.Snapshot); err != nil && sink.StatusOf(err) != 404 {
				log.Warn("cleanup: deleting the snapshot on the node", "node", ns.URL, "snapshot", ns.Snapshot, "err", err)
			}
		}
	}
}

// countingReader counts bytes, reports every `every` bytes and keeps the
// last read error that is not io.EOF.
type countingReader struct {
	r        io.Reader
	n, last  int64
	every    int64
	progress func(n int64)
	err      error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	if c.progress != nil && c.n-c.last >= c.every {
		c.last = c.n
		c.progress(c.n)
	}
	return n, err
}
