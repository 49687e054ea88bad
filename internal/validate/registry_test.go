package validate

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// TestCheckRegistry: the registry answers with the right token; a wrong
// token or no server is a failed check naming the registry.
func TestCheckRegistry(t *testing.T) {
	r := srfake.New(srfake.WithAuth("Bearer right"))
	t.Cleanup(r.Close)
	c := config.Default().SchemaRegistry
	c.URL, c.BearerToken = r.URL(), "right"
	detail, err := checkRegistry(context.Background(), c)
	if err != nil || !strings.Contains(detail, "answers (0 subjects), bearer token") {
		t.Fatalf("right token: %q, %v", detail, err)
	}
	c.BearerToken = "wrong"
	if _, err := checkRegistry(context.Background(), c); err == nil || !strings.Contains(err.Error(), "schema registry "+r.URL()) {
		t.Fatalf("wrong token: %v, want a failure naming the registry", err)
	}
	c.URL = "http://" + closedAddr(t)
	if _, err := checkRegistry(context.Background(), c); err == nil {
		t.Fatal("no server: no error")
	}
}
