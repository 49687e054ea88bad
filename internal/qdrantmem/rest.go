package qdrantmem

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// restRoute is one REST endpoint. Its pattern (a net/http ServeMux pattern
// such as "GET /collections/{collection_name}") is also its name for
// FailNext, SetLatency, Hang and CallCount.
type restRoute struct {
	pattern string
	// public routes need no API key: Qdrant's whitelist is "/", "/healthz",
	// "/readyz" and "/livez" (src/actix/mod.rs).
	public  bool
	handler func(w http.ResponseWriter, r *http.Request, start time.Time)
}

// restRouteSets lists the route groups the REST handler serves. A file adds
// its group from init (see rest_service.go), so new endpoints — snapshots,
// for instance — come in a new file without touching this one.
var restRouteSets []func(*Server) []restRoute

// nodeRouteSets lists the route groups that belong to one node of a
// Cluster (snapshots, cluster info); a plain Server is one node.
var nodeRouteSets []func(*node) []restRoute

// RESTHandler returns the REST API as an http.Handler (what StartREST
// serves), for mounting on a caller-owned server.
func (s *Server) RESTHandler() http.Handler { return s.restHandler(s.local()) }

// restHandler serves the shared routes and the routes of node n.
func (s *Server) restHandler(n *node) http.Handler {
	mux := http.NewServeMux()
	for _, set := range restRouteSets {
		for _, rt := range set(s) {
			mux.HandleFunc(rt.pattern, s.restEndpoint(rt))
		}
	}
	for _, set := range nodeRouteSets {
		for _, rt := range set(n) {
			mux.HandleFunc(rt.pattern, s.restEndpoint(rt))
		}
	}
	return mux
}

// restEndpoint wraps a route with the fault and auth pipeline.
func (s *Server) restEndpoint(rt restRoute) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if err := s.admit(r.Context(), rt.pattern, rt.public, r.Header.Get); err != nil {
			var ae *authError
			if errors.As(err, &ae) {
				// src/actix/auth.rs: HttpResponse::Unauthorized().body(e).
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(ae.msg))
				return
			}
			st := status.Convert(err)
			writeRESTError(w, start, httpStatusOf(st.Code()), st.Message())
			return
		}
		rt.handler(w, r, start)
	}
}

// httpStatusOf maps an injected gRPC code to the HTTP status Qdrant uses for
// the StorageError with that gRPC code (src/actix/helpers.rs, conversions.rs).
func httpStatusOf(c codes.Code) int {
	switch c {
	case codes.InvalidArgument:
		return http.StatusBadRequest
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.DeadlineExceeded:
		return http.StatusRequestTimeout
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable, codes.Canceled:
		return http.StatusServiceUnavailable
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.Unimplemented:
		return http.StatusNotImplemented
	default:
		return http.StatusInternalServerError
	}
}

// restOK is ApiResponse with status Ok (lib/api/src/rest/models.rs); usage
// is omitted as Qdrant omits an empty one.
type restOK struct {
	Result any     `json:"result"`
	Status string  `json:"status"`
	Time   float64 `json:"time"`
}

// restErr is ApiResponse with status Error(msg), serialised {"error": msg}.
type restErr struct {
	Status struct {
		Error string `json:"error"`
	} `json:"status"`
	Time float64 `json:"time"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRESTResult(w http.ResponseWriter, start time.Time, result any) {
	writeJSON(w, http.StatusOK, restOK{Result: result, Status: "ok", Time: elapsed(start)})
}

func writeRESTError(w http.ResponseWriter, start time.Time, code int, msg string) {
	var body restErr
	body.Status.Error = msg
	body.Time = elapsed(start)
	writeJSON(w, code, body)
}

// writeAPIError sends e with the HTTP status of its StorageError kind.
func writeAPIError(w http.ResponseWriter, start time.Time, e *apiError) {
	writeRESTError(w, start, e.httpStatus(), e.msg)
}
