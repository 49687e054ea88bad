package qdrantmem

import (
	"net/http"
	"time"
)

func init() { restRouteSets = append(restRouteSets, (*Server).serviceRoutes) }

// serviceRoutes are Qdrant's service endpoints (src/actix/api/service_api.rs).
func (s *Server) serviceRoutes() []restRoute {
	return []restRoute{
		{pattern: "GET /{$}", public: true, handler: s.restRoot},
		{pattern: "GET /healthz", public: true, handler: restHealthz},
		{pattern: "GET /livez", public: true, handler: restHealthz},
		{pattern: "GET /readyz", public: true, handler: restReadyz},
	}
}

// restRoot answers VersionInfo (lib/api/src/rest/models.rs); commit is
// omitted, as in a build without GIT_COMMIT_ID.
func (s *Server) restRoot(w http.ResponseWriter, _ *http.Request, _ time.Time) {
	writeJSON(w, http.StatusOK, struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	}{versionTitle, s.opts.version})
}

func restHealthz(w http.ResponseWriter, _ *http.Request, _ time.Time) {
	writeText(w, "healthz check passed")
}

// restReadyz: a single in-memory node is always ready.
func restReadyz(w http.ResponseWriter, _ *http.Request, _ time.Time) {
	writeText(w, "all shards are ready")
}

func writeText(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}
