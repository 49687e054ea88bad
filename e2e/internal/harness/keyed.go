package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// KeyedQdrant is a Qdrant that requires an API key, with a client that
// sends it.
type KeyedQdrant struct {
	QdrantEnv
	Client *qdrant.Client
}

// KeyedQdrant returns the environment's Qdrant when it has an API key
// (KQ_E2E_QDRANT_API_KEY), else starts `kafka-qdrant dev qdrant --api-key`
// with a random key for this scenario (stopped when the test ends).
func (s *Scenario) KeyedQdrant(ctx context.Context) KeyedQdrant {
	s.T.Helper()
	e := s.Env
	if e.Qdrant.APIKey != "" {
		return KeyedQdrant{QdrantEnv: e.Qdrant, Client: e.QdrantClient}
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		s.T.Fatal(err)
	}
	key := hex.EncodeToString(b)
	grpcAddr, err := freeAddr()
	if err != nil {
		s.T.Fatal(err)
	}
	restAddr, err := freeAddr()
	if err != nil {
		s.T.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	p, _, err := StartProcess(sctx, "qdrant-keyed", filepath.Join(s.LogDir, "qdrant-keyed.log"), "ready",
		e.Binary, "dev", "qdrant", "--grpc", grpcAddr, "--rest", restAddr, "--api-key", key)
	if err != nil {
		s.T.Fatal(err)
	}
	s.T.Cleanup(func() { p.Stop(10 * time.Second) })
	c, err := NewQdrantClient(grpcAddr, key, false)
	if err != nil {
		s.T.Fatal(err)
	}
	s.T.Cleanup(func() { c.Close() })
	return KeyedQdrant{
		QdrantEnv: QdrantEnv{Kind: "embedded", GRPC: grpcAddr, REST: "http://" + restAddr, APIKey: key},
		Client:    c,
	}
}

// Validate runs `kafka-qdrant validate --config` on cfg (written into the
// scenario's log dir as name.yaml) and returns its exit code and output.
func (s *Scenario) Validate(ctx context.Context, name string, cfg ReplicaConfig, extraArgs ...string) (int, string) {
	s.T.Helper()
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		s.T.Fatal(err)
	}
	path := filepath.Join(s.LogDir, name+".yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		s.T.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	args := append([]string{"validate", "--config", path}, extraArgs...)
	out, err := exec.CommandContext(ctx, s.Env.Binary, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	s.T.Fatalf("running validate: %v\n%s", err, out)
	return 0, ""
}

// Readyz returns the status code and body of the replica's /readyz.
func (r *Replica) Readyz(ctx context.Context) (int, string, error) {
	code, body, err := httpGet(ctx, "http://"+r.HTTP+"/readyz")
	if err != nil {
		return 0, "", fmt.Errorf("GET /readyz of %s: %w", r.Name, err)
	}
	return code, body, nil
}
