package config

import (
	"reflect"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// TestExampleYAML keeps example.yaml complete and true: it sets every key
// of Config (found by reflection, so a new field without documentation
// fails here) to its default.
func TestExampleYAML(t *testing.T) {
	c, err := Load("example.yaml", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Routing.Topics) == 0 {
		c.Routing.Topics = nil // "topics: {}" decodes to an empty map, the default is nil
	}
	if len(c.Qdrant.Nodes) == 0 {
		c.Qdrant.Nodes = nil // "nodes: []" likewise
	}
	if len(c.Control.Auth.Keys) == 0 {
		c.Control.Auth.Keys = nil
	}
	if len(c.Control.Auth.Commands) == 0 {
		c.Control.Auth.Commands = nil
	}
	if len(c.Backup.Collections) == 0 {
		c.Backup.Collections = nil
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("example.yaml values differ from Default():\n got %+v\nwant %+v", c, Default())
	}

	k := koanf.New(".")
	if err := k.Load(file.Provider("example.yaml"), yaml.Parser()); err != nil {
		t.Fatal(err)
	}
	keys := leafKeys()
	if len(keys) < 50 {
		t.Fatalf("schema has only %d keys: reflection walk broken?", len(keys))
	}
	for _, key := range keys {
		if !k.Exists(key) {
			t.Errorf("example.yaml does not document key %s", key)
		}
	}
}

func TestDefaultValidates(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}
