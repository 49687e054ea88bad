package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Replica is one `kafka-qdrant run` process.
type Replica struct {
	*Process
	// HTTP is the host:port of its /metrics, /healthz and /readyz server.
	HTTP string
	// ConfigPath is its generated config file.
	ConfigPath string
}

// ReplicaConfig is a replica's configuration as nested maps, written to a
// YAML file (JSON is YAML). Set changes one dotted key.
type ReplicaConfig map[string]any

// Set sets a dotted key ("kafka.session_timeout") to v.
func (c ReplicaConfig) Set(key string, v any) {
	parts := strings.Split(key, ".")
	m := map[string]any(c)
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// Get returns the value at a dotted key, or nil.
func (c ReplicaConfig) Get(key string) any {
	var cur any = map[string]any(c)
	for _, p := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// StartReplica writes cfg (with http.listen set to a free port) into dir and
// starts `kafka-qdrant run --config` on it. It does not wait for readiness.
func StartReplica(ctx context.Context, bin, dir, name string, cfg ReplicaConfig) (*Replica, error) {
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg.Set("http.listen", httpAddr)
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding config of %s: %w", name, err)
	}
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing config of %s: %w", name, err)
	}
	p, _, err := StartProcess(ctx, name, filepath.Join(dir, name+".log"), "", bin, "run", "--config", path)
	if err != nil {
		return nil, err
	}
	return &Replica{Process: p, HTTP: httpAddr, ConfigPath: path}, nil
}

// WaitReady polls GET /readyz until it answers 200 (the replica has been
// assigned partitions), the process exits, or timeout passes.
func (r *Replica) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + r.HTTP + "/readyz"
	var last string
	for {
		if r.Exited() {
			return fmt.Errorf("%s exited before it was ready (%s); log tail:\n%s", r.Name, r.exitDescription(), Tail(r.LogPath, 30))
		}
		code, body, err := httpGet(ctx, url)
		switch {
		case err != nil:
			last = err.Error()
		case code == http.StatusOK:
			return nil
		default:
			last = fmt.Sprintf("%d %s", code, strings.TrimSpace(body))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to be ready: %w (last /readyz: %s); log tail:\n%s", r.Name, ctx.Err(), last, Tail(r.LogPath, 30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Metrics returns the /metrics text.
func (r *Replica) Metrics(ctx context.Context) (string, error) {
	code, body, err := httpGet(ctx, "http://"+r.HTTP+"/metrics")
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("GET /metrics of %s: status %d", r.Name, code)
	}
	return body, nil
}

func httpGet(ctx context.Context, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, string(b), err
}
