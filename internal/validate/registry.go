package validate

import (
	"context"
	"fmt"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/registry"
)

// checkRegistry reaches schema_registry.url with its credentials. Its
// schemas are not checked: which ids records name is not known in
// advance.
func checkRegistry(ctx context.Context, c config.SchemaRegistry) (string, error) {
	rc, err := registry.FromConfig(c, nil)
	if err != nil {
		return "", err
	}
	n, err := rc.Ping(ctx)
	if err != nil {
		return "", fmt.Errorf("schema registry %s: %w", c.URL, err)
	}
	return fmt.Sprintf("%s answers (%d subjects)%s", c.URL, n, describeRegistryAuth(c)), nil
}

func describeRegistryAuth(c config.SchemaRegistry) string {
	switch {
	case c.BearerToken != "":
		return ", bearer token"
	case c.Username != "":
		return fmt.Sprintf(", as %q", c.Username)
	}
	return ""
}
