package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

var routeType = reflect.TypeFor[Route]()

// routeKeys are the keys of a routing.topics entry written as an object.
var routeKeys = []string{"collection", "format"}

// toRoute reads a routing.topics entry: a collection name (a scalar), an
// object {collection, format}, or, from the environment and --set, such an
// object in YAML flow style ("{collection: c, format: registry}"). The
// error never quotes values.
func toRoute(v any) (Route, error) {
	switch x := v.(type) {
	case Route:
		return x, nil
	case string:
		if !strings.HasPrefix(strings.TrimSpace(x), "{") {
			return Route{Collection: x}, nil
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(x), &m); err != nil {
			return Route{}, fmt.Errorf("starts with { but is not a YAML mapping such as {collection: c, format: json}")
		}
		return routeOf(m)
	case map[string]any:
		return routeOf(x)
	}
	s, err := toString(v)
	if err != nil {
		return Route{}, fmt.Errorf("must be a collection name or a mapping with %s, got %s", strings.Join(routeKeys, " and "), describe(v))
	}
	return Route{Collection: s}, nil
}

func routeOf(m map[string]any) (Route, error) {
	var r Route
	for k, v := range m {
		s, err := toString(v)
		if err != nil {
			return Route{}, fmt.Errorf("%s: %w", k, err)
		}
		switch k {
		case "collection":
			r.Collection = s
		case "format":
			r.Format = s
		default:
			return Route{}, fmt.Errorf("unknown key %q: want %s", k, strings.Join(routeKeys, " or "))
		}
	}
	return r, nil
}

// String returns the collection name when the route has no format, else
// the route in YAML flow style, as a layer can set it.
func (r Route) String() string {
	if r.Format == "" {
		return r.Collection
	}
	if r.Collection == "" {
		return "{format: " + r.Format + "}"
	}
	return "{collection: " + r.Collection + ", format: " + r.Format + "}"
}

// convertEntry converts one entry of a map key (elem is its value type).
func convertEntry(elem reflect.Type, v any) (any, error) {
	if elem == routeType {
		return toRoute(v)
	}
	return toString(v)
}

// entryFields lists the keys an object entry of a map of elem may have.
func entryFields(elem reflect.Type) []string {
	if elem == routeType {
		return slices.Clone(routeKeys)
	}
	return nil
}
