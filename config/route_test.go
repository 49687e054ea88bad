package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestLoadRouteObjects: a routing.topics entry is a collection name or an
// object {collection, format}, in every layer (objects in YAML flow style
// from the environment and --set), and a later layer replaces an entry.
func TestLoadRouteObjects(t *testing.T) {
	path := writeFile(t, `kafka: {topics: [a, b, c, d, app.events]}
routing:
  topics:
    a: {collection: from-file, format: protobuf}
    b: from-file
    c: {format: registry}
schema_registry: {url: "http://sr:8081"}
`)
	c, err := Load(path,
		[]string{"KQ__ROUTING__TOPICS__B={collection: from-env, format: json}"},
		[]string{"routing.topics.d=plain", "routing.topics.app.events={ format: registry }"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[string]Route{
		"a":          {Collection: "from-file", Format: "protobuf"},
		"b":          {Collection: "from-env", Format: "json"},
		"c":          {Format: "registry"},
		"d":          {Collection: "plain"},
		"app.events": {Format: "registry"},
	}
	if !reflect.DeepEqual(c.Routing.Topics, want) {
		t.Errorf("routing.topics %v, want %v", c.Routing.Topics, want)
	}
	for topic, format := range map[string]string{"a": "protobuf", "c": "registry", "d": "json", "zzz": "json"} {
		if got := c.FormatOf(topic); got != format {
			t.Errorf("FormatOf(%s) = %s, want %s", topic, got, format)
		}
	}
}

func TestLoadRouteErrors(t *testing.T) {
	cases := []struct {
		name string
		sets []string
		env  []string
		want string
	}{
		{"flow mapping that does not parse", []string{"routing.topics.a={collection: [}"}, nil,
			"routing.topics.a: starts with { but is not a YAML mapping"},
		{"unknown key from env", nil, []string{"KQ__ROUTING__TOPICS__A={colection: x}"},
			`routing.topics.a: unknown key "colection": want collection or format (from environment variable`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("", c.env, c.sets)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestRouteString(t *testing.T) {
	for r, want := range map[Route]string{
		{Collection: "c"}:                     "c",
		{Format: "registry"}:                  "{format: registry}",
		{Collection: "c", Format: "protobuf"}: "{collection: c, format: protobuf}",
	} {
		if got := r.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", r, got, want)
		}
		back, err := toRoute(want)
		if err != nil || back != r {
			t.Errorf("toRoute(%q) = %#v, %v; want %#v", want, back, err, r)
		}
	}
}
