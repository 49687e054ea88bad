package qdrantmem

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// This file keeps the snapshots of one node on disk, as Qdrant's
// SnapshotStorageLocalFS does (lib/collection/src/common/snapshots_manager.rs,
// v1.18.3): collection snapshots in <dir>/<collection>/<name>.snapshot, full
// snapshots in <dir>/<name>.snapshot, each with a <name>.snapshot.checksum
// file holding its lowercase hex SHA-256. Snapshots are files, never held in
// memory, so their size is bounded by the disk.

// node is one Qdrant peer served by this process: its peer id and its
// snapshots directory. A Server is one node; a Cluster adds more nodes that
// share the Server's collections (cluster.go).
type node struct {
	s     *Server
	index int
	id    uint64

	dirOnce sync.Once
	dir     string
	dirErr  error
	ownsDir bool
}

// snapshotState is the snapshot and cluster state of a Server.
type snapshotState struct {
	// nodes is fixed once the Server (or Cluster) is built; nodes[0] is
	// the Server's own.
	nodes []*node
	// placement maps a collection to the peers holding each of its shards
	// (index = shard id). Absent: the default placement, shard i on node
	// i mod len(nodes) (and the next replication_factor-1 nodes). Guarded
	// by Server.mu.
	placement map[*collection][][]uint64
	// bg counts operations running after a wait=false answer.
	bg sync.WaitGroup
}

func newSnapshotState(s *Server) *snapshotState {
	st := &snapshotState{placement: map[*collection][][]uint64{}}
	st.nodes = []*node{newNode(s, 0)}
	return st
}

func newNode(s *Server, index int) *node {
	// Qdrant picks a random non-zero u64 peer id at first start.
	return &node{s: s, index: index, id: rand.Uint64()>>1 | 1}
}

// local is the Server's own node.
func (s *Server) local() *node { return s.snaps.nodes[0] }

// PeerID is the peer id of the Server's own node, as it appears in the
// names of its collection snapshots.
func (s *Server) PeerID() uint64 { return s.local().id }

// SnapshotsDir is the directory holding the Server's snapshots (created on
// first use: WithSnapshotsDir, else a temporary directory removed by Stop).
func (s *Server) SnapshotsDir() (string, error) { return s.local().snapshotsDir() }

func (n *node) snapshotsDir() (string, error) {
	n.dirOnce.Do(func() {
		base := n.s.opts.snapshotsDir
		switch {
		case base == "":
			n.dir, n.dirErr = os.MkdirTemp("", "qdrantmem-snapshots-")
			n.ownsDir = n.dirErr == nil
		case len(n.s.snaps.nodes) > 1:
			n.dir = filepath.Join(base, fmt.Sprintf("node-%d", n.index))
		default:
			n.dir = base
		}
		if n.dirErr == nil {
			n.dirErr = os.MkdirAll(n.dir, 0o755)
		}
		if n.dirErr == nil {
			n.dir, n.dirErr = filepath.Abs(n.dir)
		}
		if n.dirErr != nil {
			n.dirErr = fmt.Errorf("snapshots directory: %w", n.dirErr)
		}
	})
	return n.dir, n.dirErr
}

// removeOwnDir deletes a temporary snapshots directory (Stop).
func (n *node) removeOwnDir() {
	if n.ownsDir {
		_ = os.RemoveAll(n.dir)
	}
}

// ioError is StorageError::from(io::Error): a ServiceError (HTTP 500,
// gRPC Internal).
func ioError(err error) *apiError {
	return serviceError("%v", err)
}

// collectionDir is TableOfContent::snapshots_path_for_collection.
func (n *node) collectionDir(name string) (string, *apiError) {
	dir, err := n.snapshotsDir()
	if err != nil {
		return "", ioError(err)
	}
	return filepath.Join(dir, name), nil
}

// SnapshotDescription is what Qdrant reports about a snapshot file
// (lib/collection/src/operations/snapshot_ops.rs): name, creation time
// (whole seconds, UTC), size in bytes and the SHA-256 from its checksum
// file (absent for an uploaded snapshot, which has none).
type snapshotDescription struct {
	Name         string    `json:"name"`
	CreationTime time.Time `json:"-"`
	Size         int64     `json:"size"`
	Checksum     string    `json:"checksum,omitempty"`
}

func describeSnapshot(path string) (snapshotDescription, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return snapshotDescription{}, err
	}
	d := snapshotDescription{Name: filepath.Base(path), CreationTime: fi.ModTime().UTC().Truncate(time.Second), Size: fi.Size()}
	if b, err := os.ReadFile(path + ".checksum"); err == nil {
		d.Checksum = string(b)
	}
	return d, nil
}

// listSnapshots is SnapshotStorageLocalFS::list_snapshots: the *.snapshot
// files of dir (a missing dir is an empty list). Qdrant returns them in
// directory order; here they are sorted by name.
func listSnapshots(dir string) ([]snapshotDescription, *apiError) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []snapshotDescription{}, nil
	}
	if err != nil {
		return nil, ioError(err)
	}
	out := []snapshotDescription{}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".snapshot" {
			continue
		}
		d, err := describeSnapshot(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// snapshotPath is SnapshotStorageLocalFS::get_snapshot_path: the file must
// exist inside dir and be a regular file; otherwise NotFound
// "Snapshot {name} not found" (CollectionError::not_found as StorageError).
// A missing dir is "Snapshot directory: {dir} not found".
func snapshotPath(dir, name string) (string, *apiError) {
	if _, err := os.Stat(dir); err != nil {
		return "", &apiError{kind: kindNotFound, msg: "Not found: Snapshot directory: " + dir + " not found"}
	}
	notFound := &apiError{kind: kindNotFound, msg: "Not found: Snapshot " + name + " not found"}
	p := filepath.Join(dir, name)
	if name == "" || !strings.HasPrefix(p, dir+string(filepath.Separator)) {
		return "", notFound
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil || !strings.HasPrefix(real, dir+string(filepath.Separator)) {
		return "", notFound
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return "", notFound
	}
	return real, nil
}

// deleteSnapshot is SnapshotStorageLocalFS::delete_snapshot: the file and
// its checksum file (whose absence is ignored).
func deleteSnapshot(path string) *apiError {
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &apiError{kind: kindNotFound, msg: fmt.Sprintf("Not found: Snapshot %q not found", path)}
		}
		return ioError(err)
	}
	_ = os.Remove(path + ".checksum")
	return nil
}

// hashingFile is a file being written whose SHA-256 is computed on the way.
type hashingFile struct {
	f *os.File
	h hash.Hash
	n int64
}

func (hf *hashingFile) Write(p []byte) (int, error) {
	n, err := hf.f.Write(p)
	hf.h.Write(p[:n])
	hf.n += int64(n)
	return n, err
}

func (hf *hashingFile) sum() string { return hex.EncodeToString(hf.h.Sum(nil)) }

// storeSnapshot writes a snapshot file at dir/name through write, then its
// checksum file, as SnapshotStorageLocalFS::store_file does: the data goes
// to a temporary file first and is renamed into place, so a reader never
// sees a partial snapshot.
func storeSnapshot(dir, name string, write func(io.Writer) error) (snapshotDescription, *apiError) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return snapshotDescription{}, serviceError("Can't create directory for snapshots %s. Error: %v", filepath.Base(dir), err)
	}
	f, err := os.CreateTemp(dir, name+"-arc-*.tmp")
	if err != nil {
		return snapshotDescription{}, ioError(err)
	}
	hf := &hashingFile{f: f, h: sha256.New()}
	werr := write(hf)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return snapshotDescription{}, ioError(werr)
	}
	target := filepath.Join(dir, name)
	if err := os.WriteFile(target+".checksum", []byte(hf.sum()), 0o644); err != nil {
		_ = os.Remove(f.Name())
		return snapshotDescription{}, ioError(err)
	}
	if err := os.Rename(f.Name(), target); err != nil {
		_ = os.Remove(f.Name())
		_ = os.Remove(target + ".checksum")
		return snapshotDescription{}, ioError(err)
	}
	d, err := describeSnapshot(target)
	if err != nil {
		return snapshotDescription{}, ioError(err)
	}
	return d, nil
}

// snapshotTime formats a snapshot name's time as chrono's "%Y-%m-%d-%H-%M-%S" (UTC).
func snapshotTime(t time.Time) string { return t.UTC().Format("2006-01-02-15-04-05") }

// createCollectionSnapshot is TableOfContent::create_snapshot and
// Collection::create_snapshot (lib/collection/src/collection/snapshots.rs):
// the snapshot named "{collection}-{peer_id}-{time}.snapshot" holds the
// collection's configuration and the points of the shards this node holds.
// The points are cut under the read lock (they are immutable, so the cut is
// a copy of pointers) and written after it is released, so writes go on
// while the file is written, as Qdrant's proxy segments allow. A second
// snapshot in the same second gets the same name and replaces the first,
// as in Qdrant.
func (n *node) createCollectionSnapshot(name string) (snapshotDescription, *apiError) {
	s := n.s
	s.mu.RLock()
	c, aerr := s.resolve(name)
	if aerr != nil {
		s.mu.RUnlock()
		return snapshotDescription{}, aerr
	}
	cfg := s.collectionInfo(c).GetConfig()
	index := make(map[string]qdrant.FieldType, len(c.payloadIndex))
	for k, t := range c.payloadIndex {
		index[k] = *t
	}
	shards := s.localShards(c, n)
	real := c.name
	now := s.opts.clock.Now()
	s.mu.RUnlock()

	dir, aerr := n.collectionDir(real)
	if aerr != nil {
		return snapshotDescription{}, aerr
	}
	file := fmt.Sprintf("%s-%d-%s.snapshot", real, n.id, snapshotTime(now))
	meta := snapshotMeta{Collection: real, PeerID: n.id, Created: now.UTC().Format(time.RFC3339)}
	return storeSnapshot(dir, file, func(w io.Writer) error {
		return writeSnapshot(w, meta, cfg, index, shards)
	})
}

// localShards cuts the points of the shards of c that node n holds, in
// shard order. The caller holds s.mu.
func (s *Server) localShards(c *collection, n *node) []snapshotShard {
	place := s.placementOf(c)
	var out []snapshotShard
	index := map[uint32]int{}
	for sh, peers := range place {
		if containsPeer(peers, n.id) {
			index[uint32(sh)] = len(out)
			out = append(out, snapshotShard{id: uint32(sh)})
		}
	}
	if len(out) == 0 {
		return nil
	}
	for k, p := range c.points {
		if i, ok := index[shardOf(k, c.params.shardNumber)]; ok {
			out[i].points = append(out[i].points, p)
		}
	}
	return out
}

// fullSnapshotName is FULL_SNAPSHOT_FILE_NAME (lib/storage/src/content_manager/toc/mod.rs).
const fullSnapshotName = "full-snapshot"

// fullSnapshotConfig is SnapshotConfig (lib/storage/src/content_manager/snapshots/mod.rs),
// the config.json of a full snapshot.
type fullSnapshotConfig struct {
	CollectionsMapping map[string]string `json:"collections_mapping"`
	CollectionsAliases map[string]string `json:"collections_aliases"`
}

// createFullSnapshot is _do_create_full_snapshot: a snapshot of every
// collection, taken one by one and moved out of its collection directory
// into a tar named "full-snapshot-{time}.snapshot" with config.json mapping
// each collection to its snapshot file and each alias to its collection.
// Qdrant restores it only at start-up (--storage-snapshot), on a single
// node.
func (n *node) createFullSnapshot() (snapshotDescription, *apiError) {
	s := n.s
	s.mu.RLock()
	names := sortedKeys(s.collections)
	aliases := make(map[string]string, len(s.aliases))
	for a, c := range s.aliases {
		aliases[a] = c
	}
	now := s.opts.clock.Now()
	s.mu.RUnlock()

	cfg := fullSnapshotConfig{CollectionsMapping: map[string]string{}, CollectionsAliases: aliases}
	var files []string
	defer func() {
		for _, f := range files {
			_ = os.Remove(f)
			_ = os.Remove(f + ".checksum")
		}
	}()
	for _, name := range names {
		d, err := n.createCollectionSnapshot(name)
		if err != nil {
			if err.kind == kindNotFound {
				continue // deleted meanwhile
			}
			return snapshotDescription{}, err
		}
		dir, _ := n.collectionDir(name)
		files = append(files, filepath.Join(dir, d.Name))
		cfg.CollectionsMapping[name] = d.Name
	}
	dir, aerr := n.snapshotsDir()
	if aerr != nil {
		return snapshotDescription{}, ioError(aerr)
	}
	file := fmt.Sprintf("%s-%s.snapshot", fullSnapshotName, snapshotTime(now))
	return storeSnapshot(dir, file, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for _, f := range files {
			if err := addTarFile(tw, f); err != nil {
				return err
			}
		}
		b, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: "config.json", Mode: 0o644, Size: int64(len(b)), ModTime: now}); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
		return tw.Close()
	})
}

func addTarFile(tw *tar.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: filepath.Base(path), Mode: 0o644, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// snapshotDescriptionProto is `impl From<SnapshotDescription> for
// grpc::SnapshotDescription`.
func (d snapshotDescription) proto() *qdrant.SnapshotDescription {
	out := &qdrant.SnapshotDescription{Name: d.Name, Size: d.Size, CreationTime: timestampOf(d.CreationTime)}
	if d.Checksum != "" {
		out.Checksum = &d.Checksum
	}
	return out
}
