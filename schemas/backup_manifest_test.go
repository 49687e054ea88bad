package schemas

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBackupManifestSchemaMatchesTypes(t *testing.T) {
	s := loadSchema(t, "backup_manifest.v1.schema.json")
	if got, want := keys(at(t, s, "properties")), jsonFields(BackupManifest{}); !slices.Equal(got, want) {
		t.Errorf("manifest properties = %v, BackupManifest fields = %v", got, want)
	}
	item := at(t, s, "properties", "snapshots", "items").(map[string]any)
	if got, want := keys(at(t, item, "properties")), jsonFields(BackupSnapshot{}); !slices.Equal(got, want) {
		t.Errorf("snapshot properties = %v, BackupSnapshot fields = %v", got, want)
	}
	if got, want := strs(t, at(t, item, "required")), jsonFields(BackupSnapshot{}); !slices.Equal(got, want) {
		t.Errorf("snapshot required = %v, want every field %v", got, want)
	}
	offs := at(t, s, "properties", "offsets").(map[string]any)
	if got, want := keys(at(t, offs, "properties")), jsonFields(BackupOffsets{}); !slices.Equal(got, want) {
		t.Errorf("offsets properties = %v, BackupOffsets fields = %v", got, want)
	}
	topic := at(t, offs, "properties", "topics", "items").(map[string]any)
	if got, want := keys(at(t, topic, "properties")), jsonFields(TopicOffsets{}); !slices.Equal(got, want) {
		t.Errorf("topic properties = %v, TopicOffsets fields = %v", got, want)
	}
	part := at(t, topic, "properties", "partitions", "items").(map[string]any)
	if got, want := keys(at(t, part, "properties")), jsonFields(PartitionOffsets{}); !slices.Equal(got, want) {
		t.Errorf("partition properties = %v, PartitionOffsets fields = %v", got, want)
	}
	if got, want := strs(t, at(t, s, "properties", "kind", "enum")), []string{BackupKindCollection, BackupKindStorage}; !slices.Equal(got, want) {
		t.Errorf("kind enum = %v, want %v", got, want)
	}
	if got := at(t, s, "properties", "backup_id", "pattern").(string); got != backupIDPattern.String() {
		t.Errorf("backup_id pattern = %s, backupIDPattern = %s", got, backupIDPattern)
	}
	if got := at(t, item, "properties", "sha256", "pattern").(string); got != sha256Pattern.String() {
		t.Errorf("sha256 pattern = %s, sha256Pattern = %s", got, sha256Pattern)
	}
	if got := int(at(t, s, "properties", "version", "const").(float64)); got != ManifestVersion {
		t.Errorf("version const = %d, ManifestVersion = %d", got, ManifestVersion)
	}
	// Every required property is always encoded (not omitempty).
	b, err := validManifest().Encode()
	if err != nil {
		t.Fatal(err)
	}
	var enc map[string]any
	if err := json.Unmarshal(b, &enc); err != nil {
		t.Fatal(err)
	}
	for _, req := range strs(t, at(t, s, "required")) {
		if _, ok := enc[req]; !ok {
			t.Errorf("required %q missing from an encoded manifest", req)
		}
	}
	for i, ex := range at(t, s, "examples").([]any) {
		b, _ := json.Marshal(ex)
		if _, err := DecodeBackupManifest(b); err != nil {
			t.Errorf("example %d: %v", i, err)
		}
	}
}

func validManifest() BackupManifest {
	t0 := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	return BackupManifest{
		Version: ManifestVersion, BackupID: "b-1", Kind: BackupKindCollection, Collection: "movies",
		CommandID: "b-1", Replica: "r", Started: t0, Completed: t0.Add(time.Minute), QdrantVersion: "1.18.3",
		Snapshots: []BackupSnapshot{{Node: "http://q:6333", PeerID: 7, Shards: []uint32{0}, Name: "n.snapshot", Key: "movies/b-1/7.snapshot", Size: 10, SHA256: strings.Repeat("a", 64)}},
		Offsets:   &BackupOffsets{Group: "g", Topics: []TopicOffsets{{Topic: "movies", Partitions: []PartitionOffsets{{Partition: 0, Committed: -1, End: 3}}}}},
	}
}

func TestBackupManifestRoundTripAndRejects(t *testing.T) {
	m := validManifest()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBackupManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Started.Equal(m.Started) || !reflect.DeepEqual(got.Snapshots, m.Snapshots) || got.Offsets.Topics[0].Partitions[0] != m.Offsets.Topics[0].Partitions[0] {
		t.Fatalf("round trip changed the manifest: %+v", got)
	}
	bad := func(name, want string, edit func(*BackupManifest)) {
		t.Run(name, func(t *testing.T) {
			m := validManifest()
			edit(&m)
			b, _ := json.Marshal(m)
			_, err := DecodeBackupManifest(b)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want it to contain %q", err, want)
			}
		})
	}
	bad("newer version", "version 2 is not supported", func(m *BackupManifest) { m.Version = 2 })
	bad("bad id", "backup id", func(m *BackupManifest) { m.BackupID = "a/b" })
	bad("unknown kind", `kind "x"`, func(m *BackupManifest) { m.Kind = "x" })
	bad("no offsets", "needs offsets", func(m *BackupManifest) { m.Offsets = nil })
	bad("upper-case sha", "lowercase hex SHA-256", func(m *BackupManifest) { m.Snapshots[0].SHA256 = strings.Repeat("A", 64) })
	bad("no snapshots", "no snapshots", func(m *BackupManifest) { m.Snapshots = nil })
	bad("committed after end", "committed 9, end 3", func(m *BackupManifest) { m.Offsets.Topics[0].Partitions[0].Committed = 9 })
	if _, err := DecodeBackupManifest([]byte("[1]")); err == nil || !strings.Contains(err.Error(), "decoding backup manifest") {
		t.Fatalf("array: %v", err)
	}
}

func FuzzDecodeBackupManifest(f *testing.F) {
	b, _ := validManifest().Encode()
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeBackupManifest(data)
		if err != nil {
			return
		}
		// Whatever it accepts is valid and encodes back to an equal manifest.
		out, err := m.Encode()
		if err != nil {
			t.Fatalf("accepted manifest does not encode: %v", err)
		}
		again, err := DecodeBackupManifest(out)
		if err != nil || !reflect.DeepEqual(again.Snapshots, m.Snapshots) || again.BackupID != m.BackupID {
			t.Fatalf("round trip: %v", err)
		}
	})
}
