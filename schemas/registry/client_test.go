package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

const (
	payloadSchema = `{"type": "record", "name": "Payload", "namespace": "example.v1", "fields": [{"name": "title", "type": "string"}]}`
	pointSchema   = `{"type": "record", "name": "Point", "namespace": "example.v1", "fields": [
  {"name": "id", "type": "long"},
  {"name": "vector", "type": {"type": "array", "items": "float"}},
  {"name": "payload", "type": "example.v1.Payload"}]}`
)

// seed registers Payload (id 1) and Point (id 2, referencing Payload).
func seed(r *srfake.Registry) {
	r.SeedSchema("payload", 1, 1, sr.Schema{Schema: payloadSchema})
	r.SeedSchema("point-value", 1, 2, sr.Schema{Schema: pointSchema, References: []sr.SchemaReference{
		{Name: "example.v1.Payload", Subject: "payload", Version: 1},
	}})
	// Schema 3 references a subject the registry then answers not found
	// for (as after a hard delete).
	r.SeedSchema("gone", 1, 5, sr.Schema{Schema: payloadSchema})
	r.SeedSchema("broken-value", 1, 3, sr.Schema{Schema: pointSchema, References: []sr.SchemaReference{
		{Name: "example.v1.Payload", Subject: "gone", Version: 1},
	}})
	r.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
		if !strings.HasPrefix(req.URL.Path, "/subjects/gone/") {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error_code": 40401, "message": "Subject 'gone' not found."}`))
		return true
	})
	r.SeedSchema("proto-value", 1, 4, sr.Schema{Type: sr.TypeProtobuf, Schema: "syntax = \"proto3\";\nmessage M { uint64 id = 1; }\n"})
}

func TestSchemaByID(t *testing.T) {
	r := srfake.New()
	t.Cleanup(r.Close)
	seed(r)
	reg := prometheus.NewRegistry()
	c, err := New(Config{URL: r.URL(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	got, err := c.SchemaByID(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != schemas.SchemaAvro || got.Schema != pointSchema || len(got.References) != 1 ||
		got.References[0].Name != "example.v1.Payload" || got.References[0].Schema.Schema != payloadSchema {
		t.Fatalf("schema 2: %+v", got)
	}
	if p, err := c.SchemaByID(ctx, 4); err != nil || p.Type != schemas.SchemaProtobuf {
		t.Fatalf("schema 4: %+v, %v", p, err)
	}
	for _, id := range []int{99, 3} { // no such id; a reference to no such subject
		if _, err := c.SchemaByID(ctx, id); !errors.Is(err, schemas.ErrSchemaNotFound) {
			t.Fatalf("schema %d: error %v, want ErrSchemaNotFound", id, err)
		}
	}
	if n := testutil.ToFloat64(c.requests.WithLabelValues("not_found")); n != 2 {
		t.Fatalf("not_found requests %v, want 2", n)
	}
	if n := testutil.ToFloat64(c.requests.WithLabelValues("ok")); n != 4 {
		t.Fatalf("ok requests %v, want 4 (schemas 2, 4 and 3, and 2's reference)", n)
	}
}

// TestUnavailableIsNotNotFound: failures that do not say the schema is
// missing (no server, a 5xx, a 404 of another path, refused credentials)
// are never ErrSchemaNotFound, so their records are retried, not
// dead-lettered.
func TestUnavailableIsNotNotFound(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	plain404 := httptest.NewServer(http.NotFoundHandler()) // a wrong URL path: 404 without a registry error code
	t.Cleanup(plain404.Close)
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(fail.Close)
	authed := srfake.New(srfake.WithAuth("Bearer right"))
	t.Cleanup(authed.Close)
	seed(authed)

	for name, cfg := range map[string]Config{
		"connection refused": {URL: down.URL},
		"plain 404":          {URL: plain404.URL},
		"503":                {URL: fail.URL},
		"no credentials":     {URL: authed.URL()},
		"wrong credentials":  {URL: authed.URL(), BearerToken: "wrong"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Timeout = 2 * time.Second
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SchemaByID(context.Background(), 2)
			if err == nil || errors.Is(err, schemas.ErrSchemaNotFound) {
				t.Fatalf("error %v, want a failure that is not ErrSchemaNotFound", err)
			}
		})
	}
	c, err := New(Config{URL: authed.URL(), BearerToken: "right"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SchemaByID(context.Background(), 2); err != nil {
		t.Fatalf("with the right token: %v", err)
	}
}

func TestBasicAuthAndTLS(t *testing.T) {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("kq:secret"))
	r := srfake.NewRegistry(srfake.WithAuth(want))
	seed(r)
	ts := httptest.NewTLSServer(r.Handler())
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())

	c, err := New(Config{URL: ts.URL, Username: "kq", Password: "secret", TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SchemaByID(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	// Without the CA the server is not trusted.
	c, err = New(Config{URL: ts.URL, Username: "kq", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SchemaByID(context.Background(), 2); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server: error %v, want a certificate error", err)
	}
}

// TestDecodeThroughRegistry: a value framed with a schema id is decoded
// with the schema the registry serves, references included.
func TestDecodeThroughRegistry(t *testing.T) {
	r := srfake.New()
	t.Cleanup(r.Close)
	seed(r)
	c, err := New(Config{URL: r.URL()})
	if err != nil {
		t.Fatal(err)
	}
	value, err := os.ReadFile("testdata/point.bin") // Point{id: 42, vector: [1, 2], payload: {title: "Alien"}}, schema id 2
	if err != nil {
		t.Fatal(err)
	}
	d := schemas.NewFormatDecoder(schemas.FormatRegistry, schemas.DecoderConfig{}, schemas.NewSchemaCache(c, schemas.DecoderConfig{}))
	rec, err := d.Decode(context.Background(), nil, value)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := rec.PayloadMap()
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID.GetNum() != 42 || len(rec.Vectors.GetVector().GetDense().GetData()) != 2 ||
		payload["title"].GetStringValue() != "Alien" {
		t.Fatalf("decoded %v", rec)
	}
}
