package harness

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// RegistryEnv is the run's Schema Registry: the one KQ_E2E_SCHEMA_REGISTRY
// names (a base URL; KQ_E2E_SCHEMA_REGISTRY_USERNAME and _PASSWORD for
// basic authentication), or else franz-go's in-memory registry served from
// the test process on a loopback port. Tests register their schemas under
// subjects named after the scenario, so they share it.
type RegistryEnv struct {
	Kind     string // external or embedded
	URL      string
	Username string
	Password string
	// Client registers schemas.
	Client *sr.Client
}

var (
	registryOnce sync.Once
	registryEnv  *RegistryEnv
	registryErr  error
)

// SchemaRegistry returns the run's registry, starting the in-memory one
// on first use (it lives as long as the test process).
func SchemaRegistry() (*RegistryEnv, error) {
	registryOnce.Do(func() {
		r := &RegistryEnv{Kind: "external", URL: os.Getenv("KQ_E2E_SCHEMA_REGISTRY"),
			Username: os.Getenv("KQ_E2E_SCHEMA_REGISTRY_USERNAME"), Password: os.Getenv("KQ_E2E_SCHEMA_REGISTRY_PASSWORD")}
		if r.URL == "" {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				registryErr = err
				return
			}
			srv := &http.Server{Handler: srfake.NewRegistry().Handler(), ReadHeaderTimeout: 10 * time.Second}
			go func() { _ = srv.Serve(l) }()
			r.Kind, r.URL = "embedded", "http://"+l.Addr().String()
		}
		opts := []sr.ClientOpt{sr.URLs(r.URL)}
		if r.Username != "" {
			opts = append(opts, sr.BasicAuth(r.Username, r.Password))
		}
		r.Client, registryErr = sr.NewClient(opts...)
		registryEnv = r
	})
	return registryEnv, registryErr
}

// Register registers schema under subject and returns its id.
func (r *RegistryEnv) Register(ctx context.Context, subject string, schema sr.Schema) (int, error) {
	ss, err := r.Client.CreateSchema(ctx, subject, schema)
	if err != nil {
		return 0, fmt.Errorf("registering %s: %w", subject, err)
	}
	return ss.ID, nil
}

// HostPort is the host:port of the registry's URL, for a proxy in front of
// it.
func (r *RegistryEnv) HostPort() (string, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return "", err
	}
	if u.Port() != "" {
		return u.Host, nil
	}
	if u.Scheme == "https" {
		return u.Host + ":443", nil
	}
	return u.Host + ":80", nil
}

// Configure points a replica at the registry through addr (host:port:
// the registry itself, or a proxy in front of it).
func (r *RegistryEnv) Configure(c ReplicaConfig, addr string) error {
	u, err := url.Parse(r.URL)
	if err != nil {
		return err
	}
	if u.Scheme == "https" && addr != u.Host {
		c.Set("schema_registry.tls.enabled", true)
		c.Set("schema_registry.tls.server_name", u.Hostname())
	}
	u.Host = addr
	c.Set("schema_registry.url", u.String())
	if r.Username != "" {
		c.Set("schema_registry.username", r.Username)
		c.Set("schema_registry.password", r.Password)
	}
	return nil
}
