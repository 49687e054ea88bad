package config

import (
	"slices"
	"testing"
)

func TestRoute(t *testing.T) {
	r := Routing{Collection: "def", Topics: map[string]Route{"movies": {Collection: "films"}, "clicks": {Format: "protobuf"}}}
	for _, tc := range []struct{ topic, override, want string }{
		{"movies", "", "films"}, {"other", "", "def"}, {"movies", "x", "x"},
		{"clicks", "", "def"}, // an entry of a format only keeps the default collection
	} {
		if got := r.Route(tc.topic, tc.override); got != tc.want {
			t.Errorf("Route(%q, %q) = %q, want %q", tc.topic, tc.override, got, tc.want)
		}
	}
	if got := (Routing{}).Route("t", ""); got != "t" {
		t.Errorf("no routing: %q, want the topic", got)
	}
	if r.MayRoute("movies", "def") || !r.MayRoute("other", "def") {
		t.Error("MayRoute without overrides")
	}
	r.AllowRecordOverride = true
	if !r.MayRoute("movies", "anything") {
		t.Error("MayRoute with overrides allows every collection")
	}
}

func TestBackupCollections(t *testing.T) {
	c := Default()
	c.Kafka.Topics = []string{"movies", "raw", "users"}
	c.Routing.Topics = map[string]Route{"movies": {Collection: "films"}, "extra": {Collection: "films"},
		"clicks": {Format: "registry"}}
	if got, want := c.BackupCollections(), []string{"clicks", "films", "raw", "users"}; !slices.Equal(got, want) {
		t.Errorf("from routing: %v, want %v", got, want)
	}
	c.Backup.Collections = []string{"b", "a", "b"}
	if got, want := c.BackupCollections(), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("listed: %v, want %v", got, want)
	}
}
