package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// TestCredentialsRejected: against a Qdrant that requires an API key (the
// environment's when KQ_E2E_QDRANT_API_KEY is set, else an in-memory one
// started with --api-key), `kafka-qdrant validate` passes with the right
// key and fails naming qdrant.api_key with a wrong one (it used to print
// "ok qdrant ... reachable" and exit 0: the version call needs no key), and
// a replica with the wrong key is not ready and says why on /readyz.
func TestCredentialsRejected(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2, DLQ: true})
	ctx := testContext(t, 3*time.Minute)
	q := s.KeyedQdrant(ctx)
	if q.QdrantEnv != s.Env.Qdrant {
		if err := harness.CreateCollection(ctx, q.Client, s.Collection, s.Dim); err != nil {
			t.Fatal(err)
		}
	}
	cfg := s.Config()
	cfg.Set("qdrant.grpc", q.GRPC)
	cfg.Set("qdrant.rest", q.REST)
	cfg.Set("qdrant.api_key", q.APIKey)

	code, out := s.Validate(ctx, "validate-right-key", cfg)
	s.Logf("validate with the right key (exit %d):\n%s", code, out)
	if code != 0 {
		t.Fatalf("validate with the right key exited %d", code)
	}
	for _, want := range []string{"ok   qdrant", "API key accepted", "ok   collections " + s.Collection, "ok   dlq", "ok   control"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q", want)
		}
	}

	cfg.Set("qdrant.api_key", "wrong-"+q.APIKey)
	code, out = s.Validate(ctx, "validate-wrong-key", cfg)
	s.Logf("validate with a wrong key (exit %d):\n%s", code, out)
	if code != 1 || !strings.Contains(out, "FAIL qdrant") || !strings.Contains(out, "rejected the API key (qdrant.api_key)") {
		t.Errorf("validate with a wrong key: exit %d, want 1 and a FAIL naming qdrant.api_key", code)
	}
	if strings.Contains(out, q.APIKey) {
		t.Errorf("validate printed the API key")
	}

	r := s.Launch("wrong-key", cfg)
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, body, err := r.Readyz(ctx)
		// Once the replica is in the group the rejected key is the only
		// reason left.
		if err == nil && code == http.StatusServiceUnavailable && strings.Contains(body, "qdrant rejected the API key (qdrant.api_key)") &&
			!strings.Contains(body, "not yet assigned") {
			s.Logf("/readyz of the replica with a wrong key: %d %s", code, strings.TrimSpace(body))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz of the replica with a wrong key: %d %q (err %v), want 503 naming qdrant.api_key after joining; log tail:\n%s",
				code, body, err, harness.Tail(r.LogPath, 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
