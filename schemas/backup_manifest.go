package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// ManifestVersion is the version of BackupManifest this build writes and
// reads.
const ManifestVersion = 1

// Backup kinds (BackupManifest.Kind).
const (
	// BackupKindCollection: one collection, a snapshot per Qdrant node
	// holding its shards, and the Kafka offsets to replay from.
	BackupKindCollection = "collection"
	// BackupKindStorage: a full-storage snapshot of a single-node Qdrant
	// (restored with Qdrant's --storage-snapshot, not by restore).
	BackupKindStorage = "storage"
)

// BackupManifest describes one complete backup. It is the JSON object the
// backup writes last, with a conditional create, at
// <collection>/<backup_id>/manifest.json in the backup store (storage
// backups: _storage/<backup_id>/manifest.json), so a manifest exists only
// for a backup whose every object was stored and verified (version 1,
// backup_manifest.v1.schema.json).
type BackupManifest struct {
	Version  int    `json:"version"`
	BackupID string `json:"backup_id"`
	Kind     string `json:"kind"`
	// Collection is the backed-up collection (collection backups).
	Collection string `json:"collection,omitempty"`
	// CommandID is the backup command that wrote it.
	CommandID string `json:"command_id"`
	// Replica is the connector replica that wrote it.
	Replica string `json:"replica"`
	// Started is when the backup captured its offsets; Completed when it
	// wrote the manifest.
	Started   time.Time `json:"started"`
	Completed time.Time `json:"completed"`
	// QdrantVersion is the version the first node reported.
	QdrantVersion string `json:"qdrant_version"`
	// CollectionConfig is Qdrant's configuration of the collection (the
	// "config" of GET /collections/{name}) at backup time.
	CollectionConfig json.RawMessage `json:"collection_config,omitempty"`
	// PointsCount is Qdrant's points_count of the collection when the
	// snapshots were taken (approximate while writes go on).
	PointsCount int64 `json:"points_count"`
	// Snapshots are the stored snapshot objects, one per Qdrant node that
	// held shards of the collection (one for a storage backup).
	Snapshots []BackupSnapshot `json:"snapshots"`
	// Offsets is the Kafka position of the backup (collection backups).
	Offsets *BackupOffsets `json:"offsets,omitempty"`
}

// BackupSnapshot is one snapshot object of a backup.
type BackupSnapshot struct {
	// Node is the REST URL of the Qdrant node the snapshot was taken on;
	// PeerID its peer id.
	Node   string `json:"node"`
	PeerID uint64 `json:"peer_id"`
	// Shards are the shard ids whose data the snapshot holds.
	Shards []uint32 `json:"shards"`
	// Name is Qdrant's name of the snapshot file.
	Name string `json:"name"`
	// Key is the object key in the backup store.
	Key  string `json:"key"`
	Size int64  `json:"size"`
	// SHA256 is the lowercase hex SHA-256 of the object, equal to the
	// checksum Qdrant reported for the snapshot.
	SHA256 string `json:"sha256"`
}

// BackupOffsets is where the backup stands in the Kafka topics whose
// records may route to the collection. Replaying every partition from
// Committed applies every record the snapshots may lack (replay is
// idempotent); records from End on were certainly not in them.
type BackupOffsets struct {
	// Group is the data consumer group whose offsets were captured.
	Group string `json:"group"`
	// Topics are sorted by name, partitions by number.
	Topics []TopicOffsets `json:"topics"`
}

// TopicOffsets are the offsets of one topic.
type TopicOffsets struct {
	Topic      string             `json:"topic"`
	Partitions []PartitionOffsets `json:"partitions"`
}

// PartitionOffsets are the offsets of one partition.
type PartitionOffsets struct {
	Partition int32 `json:"partition"`
	// Committed is the data group's committed offset, read before the
	// first snapshot was created; -1 when the group had committed
	// nothing (replay from the log start).
	Committed int64 `json:"committed"`
	// End is the partition's end offset, read after the last snapshot
	// was created.
	End int64 `json:"end"`
}

var (
	backupIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	sha256Pattern   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// CheckBackupID reports whether id is a valid backup id: 1 to 128
// letters, digits, '.', '_' or '-', starting with a letter or digit (safe
// in object keys and file names).
func CheckBackupID(id string) error {
	if !backupIDPattern.MatchString(id) {
		return fmt.Errorf("backup id %.140q must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// Encode returns the manifest's JSON, indented for people reading the
// store.
func (m BackupManifest) Encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(m, "", "  ")
}

// DecodeBackupManifest decodes and validates a manifest. Unknown fields
// are ignored (manifests of newer builds with the same version stay
// readable); a version other than ManifestVersion is an error.
func DecodeBackupManifest(b []byte) (BackupManifest, error) {
	var m BackupManifest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("decoding backup manifest: %s", describeJSONError(err))
	}
	if m.Version != ManifestVersion {
		return m, fmt.Errorf("backup manifest version %d is not supported (this build reads version %d)", m.Version, ManifestVersion)
	}
	return m, m.Validate()
}

// Validate checks what every manifest must hold.
func (m BackupManifest) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m.Version != ManifestVersion {
		add("version %d, want %d", m.Version, ManifestVersion)
	}
	if err := CheckBackupID(m.BackupID); err != nil {
		errs = append(errs, err)
	}
	switch m.Kind {
	case BackupKindCollection:
		if m.Collection == "" {
			add("a collection backup needs collection")
		}
		if m.Offsets == nil {
			add("a collection backup needs offsets")
		}
	case BackupKindStorage:
		if len(m.Snapshots) != 1 {
			add("a storage backup has exactly one snapshot, got %d", len(m.Snapshots))
		}
	default:
		add("kind %q is not %q or %q", m.Kind, BackupKindCollection, BackupKindStorage)
	}
	if m.CommandID == "" {
		add("command_id is empty")
	}
	if m.Started.IsZero() || m.Completed.Before(m.Started) {
		add("started %s and completed %s are not in order", m.Started, m.Completed)
	}
	if len(m.Snapshots) == 0 {
		add("no snapshots")
	}
	for i, s := range m.Snapshots {
		if s.Key == "" || s.Name == "" || s.Node == "" {
			add("snapshots[%d]: node, name and key must be set", i)
		}
		if s.Size < 0 || !sha256Pattern.MatchString(s.SHA256) {
			add("snapshots[%d]: size %d and sha256 %q must be a size and lowercase hex SHA-256", i, s.Size, s.SHA256)
		}
	}
	if o := m.Offsets; o != nil {
		for _, t := range o.Topics {
			for _, p := range t.Partitions {
				if p.Committed < -1 || p.End < 0 || (p.Committed >= 0 && p.Committed > p.End) {
					add("offsets of %s[%d]: committed %d, end %d", t.Topic, p.Partition, p.Committed, p.End)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid backup manifest %s: %w", m.BackupID, err)
	}
	return nil
}
