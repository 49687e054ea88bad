package devenv

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Registry is the embedded Schema Registry of `kafka-qdrant dev`:
// franz-go's in-memory registry (the REST API producers' serializers use to
// register schemas), whose schemas are saved to a file after every
// registration and loaded at start, so that the records of the embedded
// broker, which keeps its data, still find theirs after a restart.
type Registry struct {
	reg  *srfake.Registry
	srv  *http.Server
	addr string
	file string
}

// StartRegistry serves the registry on addr (port 0 picks one), keeping
// its schemas in file (empty: in memory only).
func StartRegistry(addr, file string) (*Registry, error) {
	r := &Registry{reg: srfake.NewRegistry(), file: file}
	if err := r.load(); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	r.addr = l.Addr().String()
	r.srv = &http.Server{Handler: r.saving(r.reg.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

// URL is the registry's base URL.
func (r *Registry) URL() string { return "http://" + r.addr }

// Close stops serving.
func (r *Registry) Close() { _ = r.srv.Close() }

// saved is one registered schema as the file keeps it.
type saved struct {
	Subject string    `json:"subject"`
	Version int       `json:"version"`
	ID      int       `json:"id"`
	Schema  sr.Schema `json:"schema"`
}

// saving wraps the registry's handler: after a schema was registered it
// saves them all.
func (r *Registry) saving(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, req)
		if r.file != "" && req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, "/subjects/") &&
			strings.HasSuffix(req.URL.Path, "/versions") && rec.status == http.StatusOK {
			if err := r.save(); err != nil {
				fmt.Fprintf(os.Stderr, "kafka-qdrant dev: saving the schema registry: %v\n", err)
			}
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// save writes every schema of the registry to the file, read through its
// own REST API.
func (r *Registry) save() error {
	w := httptest.NewRecorder()
	r.reg.Handler().ServeHTTP(w, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/schemas", nil))
	var all []sr.SubjectSchema
	if err := json.Unmarshal(w.Body.Bytes(), &all); err != nil {
		return err
	}
	out := make([]saved, len(all))
	for i, s := range all {
		out[i] = saved{Subject: s.Subject, Version: s.Version, ID: s.ID, Schema: s.Schema}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	tmp := r.file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.file)
}

// load registers the schemas of the file, those referenced first (they
// have the lower ids).
func (r *Registry) load() error {
	if r.file == "" {
		return nil
	}
	b, err := os.ReadFile(r.file)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(filepath.Dir(r.file), 0o755)
	}
	if err != nil {
		return err
	}
	var all []saved
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("schema registry file %s: %w", r.file, err)
	}
	slices.SortFunc(all, func(a, b saved) int { return cmp.Compare(a.ID, b.ID) })
	for _, s := range all {
		if err := seed(r.reg, s); err != nil {
			return fmt.Errorf("schema registry file %s: %w", r.file, err)
		}
	}
	return nil
}

// seed registers one saved schema; srfake panics on a reference it does
// not hold.
func seed(reg *srfake.Registry, s saved) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("schema id %d (subject %s version %d): %v", s.ID, s.Subject, s.Version, p)
		}
	}()
	reg.SeedSchema(s.Subject, s.Version, s.ID, s.Schema)
	return nil
}
