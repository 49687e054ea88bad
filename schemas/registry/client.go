package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Config configures a Client.
type Config struct {
	// URL is the registry's base URL, http(s)://host:port[/path].
	URL string
	// Username and Password enable HTTP basic authentication.
	Username, Password string
	// BearerToken, when set, is sent as Authorization: Bearer (and
	// Username and Password are not used).
	BearerToken string
	// TLS configures https (nil: the system roots).
	TLS *tls.Config
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// Registerer receives the client's metrics (nil: none).
	Registerer prometheus.Registerer
}

// Client finds schemas by id. It is safe for concurrent use.
type Client struct {
	cl       *sr.Client
	requests *prometheus.CounterVec
}

// maxReferenceDepth bounds how deep references are followed.
const maxReferenceDepth = 32

// New returns a Client of cfg. It does not contact the registry.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("schema registry: no URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg.TLS
	opts := []sr.ClientOpt{
		sr.URLs(cfg.URL),
		sr.HTTPClient(&http.Client{Timeout: cfg.Timeout, Transport: tr}),
		sr.UserAgent("kafka-qdrant"),
	}
	switch {
	case cfg.BearerToken != "":
		opts = append(opts, sr.BearerToken(cfg.BearerToken))
	case cfg.Username != "" || cfg.Password != "":
		opts = append(opts, sr.BasicAuth(cfg.Username, cfg.Password))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	c := &Client{cl: cl, requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kafka_qdrant_schema_registry_requests_total",
		Help: "Schema Registry requests (a schema by id or a reference by subject and version; each is fetched once), by result: ok, not_found, error.",
	}, []string{"result"})}
	for _, r := range []string{"ok", "not_found", "error"} {
		c.requests.WithLabelValues(r)
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(c.requests); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// SchemaByID returns the schema registered under id, with its references
// resolved (schemas.SchemaSource).
func (c *Client) SchemaByID(ctx context.Context, id int) (schemas.RegisteredSchema, error) {
	s, err := c.cl.SchemaByID(ctx, id)
	if err = c.classify(err); err != nil {
		return schemas.RegisteredSchema{}, fmt.Errorf("schema id %d: %w", id, err)
	}
	return c.resolve(ctx, s, 0)
}

// resolve converts s, fetching the schemas it references.
func (c *Client) resolve(ctx context.Context, s sr.Schema, depth int) (schemas.RegisteredSchema, error) {
	out := schemas.RegisteredSchema{Type: s.Type.String(), Schema: s.Schema}
	if len(s.References) > 0 && depth >= maxReferenceDepth {
		return out, fmt.Errorf("%w: references nest more than %d levels", schemas.ErrSchemaNotFound, maxReferenceDepth)
	}
	for _, ref := range s.References {
		ss, err := c.cl.SchemaByVersion(ctx, ref.Subject, ref.Version)
		if err = c.classify(err); err != nil {
			return out, fmt.Errorf("reference %q (subject %q, version %d): %w", ref.Name, ref.Subject, ref.Version, err)
		}
		rs, err := c.resolve(ctx, ss.Schema, depth+1)
		if err != nil {
			return out, err
		}
		out.References = append(out.References, schemas.Reference{Name: ref.Name, Schema: rs})
	}
	return out, nil
}

// classify counts a request's result and turns the registry's own "not
// found" answers into schemas.ErrSchemaNotFound.
func (c *Client) classify(err error) error {
	if err == nil {
		c.requests.WithLabelValues("ok").Inc()
		return nil
	}
	var re *sr.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		switch re.ErrorCode {
		case sr.ErrSubjectNotFound.Code, sr.ErrVersionNotFound.Code, sr.ErrSchemaNotFound.Code:
			c.requests.WithLabelValues("not_found").Inc()
			return fmt.Errorf("%w (%s)", schemas.ErrSchemaNotFound, strings.TrimSpace(re.Error()))
		}
	}
	c.requests.WithLabelValues("error").Inc()
	return err
}

// FromConfig returns a Client of the schema_registry section (which
// Validate accepted), with its metrics on reg.
func FromConfig(c config.SchemaRegistry, reg prometheus.Registerer) (*Client, error) {
	t, err := c.TLS.Build()
	if err != nil {
		return nil, fmt.Errorf("schema_registry.tls: %w", err)
	}
	return New(Config{
		URL: c.URL, Username: c.Username, Password: c.Password.Reveal(), BearerToken: c.BearerToken.Reveal(),
		TLS: t, Timeout: c.Timeout, Registerer: reg,
	})
}

// Ping asks the registry for its subjects with the configured credentials
// (a check for `kafka-qdrant validate`) and returns how many there are.
func (c *Client) Ping(ctx context.Context) (int, error) {
	subjects, err := c.cl.Subjects(ctx)
	if err != nil {
		return 0, err
	}
	return len(subjects), nil
}
