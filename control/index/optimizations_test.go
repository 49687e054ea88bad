package index

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

var errUnknownShape = errors.New("unknown shape")

func TestRESTOptimizations(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		want      Activity
		wantErr   error
		wantCode  string
		transient bool
	}{
		{name: "idle", status: 200, body: `{"result":{"summary":{"queued_optimizations":0,"queued_segments":0,"queued_points":0,"idle_segments":3},"running":[]},"status":"ok","time":0.001}`},
		{name: "busy", status: 200, body: `{"result":{"summary":{"queued_optimizations":2,"queued_points":145000},"running":[{"optimizer":"indexing"}]}}`,
			want: Activity{Running: 1, Queued: 2, QueuedPoints: 145000}},
		// Qdrant 1.16.3 answered {ongoing, completed, pending}: read it, not as idle.
		{name: "1.16 shape busy", status: 200, body: `{"result":{"ongoing":[{"name":"Segment Optimizing","started_at":"2026-01-01T00:00:00Z"}],"pending":{"optimizations":2,"segments":3,"points":5000}},"status":"ok","time":0.001}`,
			want: Activity{Running: 1, Queued: 2, QueuedPoints: 5000}},
		{name: "1.16 shape idle", status: 200, body: `{"result":{"ongoing":[],"pending":{"optimizations":0,"segments":0,"points":0}},"status":"ok","time":0.001}`},
		{name: "unknown shape is an error, not idle", status: 200, body: `{"result":{"whatever":1},"status":"ok"}`, wantErr: errUnknownShape},
		{name: "no such route", status: 404, body: ``, wantErr: ErrNoOptimizationsAPI},
		{name: "no such collection", status: 404, body: `{"status":{"error":"Not found: Collection ` + "`movies`" + ` doesn't exist!"},"time":0}`, wantCode: schemas.ErrCollectionNotFound},
		{name: "server error is transient", status: 503, body: `overloaded`, transient: true},
		{name: "forbidden is not", status: 403, body: `{"status":{"error":"forbidden"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/collections/movies/optimizations" || r.Header.Get("api-key") != "k" {
					http.Error(w, "bad request "+r.URL.Path, 400)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := &RESTOptimizations{BaseURL: srv.URL + "/", APIKey: "k"}
			got, err := c.Optimizations(t.Context(), "movies")
			switch {
			case tc.wantErr == errUnknownShape:
				if err == nil || !strings.Contains(err.Error(), "neither summary nor ongoing") {
					t.Fatalf("err = %v, want an unknown-shape error", err)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.wantCode != "":
				wantCode(t, err, tc.wantCode, false)
			case tc.status/100 != 2:
				if err == nil || (policyOf(err).Retry != job.NoRetry) != tc.transient {
					t.Fatalf("err = %v, transient = %v; want an error with transient %v", err, (policyOf(err).Retry != job.NoRetry), tc.transient)
				}
			default:
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
			}
		})
	}
}

// FuzzRESTOptimizations: any answer decodes to activity or an error, never
// a panic, and a decoded answer names what it counted.
func FuzzRESTOptimizations(f *testing.F) {
	f.Add(200, `{"result":{"summary":{"queued_optimizations":2,"queued_points":145000},"running":[{"optimizer":"indexing"}]}}`)
	f.Add(200, `{"result":{"ongoing":[{}],"pending":{"optimizations":1,"points":5}}}`)
	f.Add(200, `{"result":{}}`)
	f.Add(404, `{"status":{"error":"Not found: Collection`+"`x`"+` doesn't exist!"}}`)
	f.Add(500, `boom`)
	f.Fuzz(func(t *testing.T, code int, body string) {
		if code < 200 || code > 599 { // 1xx are informational: the server sends 200 after them
			return
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		a, err := (&RESTOptimizations{BaseURL: srv.URL}).Optimizations(t.Context(), "x")
		if err == nil && (a.Running < 0 || code/100 != 2) {
			t.Fatalf("code %d body %q: %+v without error", code, body, a)
		}
	})
}
