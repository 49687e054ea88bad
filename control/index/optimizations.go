package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// RESTOptimizations reads GET {BaseURL}/collections/{c}/optimizations of
// Qdrant's REST API (Qdrant 1.17+). A server without the endpoint answers
// 404 without a collection error; that is ErrNoOptimizationsAPI.
type RESTOptimizations struct {
	// BaseURL is Qdrant's REST URL, e.g. http://localhost:6333.
	BaseURL string
	// APIKey, when set, is sent as the api-key header.
	APIKey string
	// Client defaults to http.DefaultClient.
	Client *http.Client
}

// optimizationsResponse is the part of the answer we read, in either
// shape Qdrant used: {summary, running, ...} since 1.17.0 (commit
// 8fb203eeb5, lib/collection/src/operations/types.rs OptimizationsResponse)
// and {ongoing, completed, pending} in 1.16.3.
type optimizationsResponse struct {
	Result struct {
		Summary *struct {
			QueuedOptimizations int   `json:"queued_optimizations"`
			QueuedPoints        int64 `json:"queued_points"`
		} `json:"summary"`
		Running []json.RawMessage `json:"running"`
		// 1.16.3
		Ongoing *[]json.RawMessage `json:"ongoing"`
		Pending *struct {
			Optimizations int   `json:"optimizations"`
			Points        int64 `json:"points"`
		} `json:"pending"`
	} `json:"result"`
}

// Optimizations implements Optimizations.
func (r *RESTOptimizations) Optimizations(ctx context.Context, collection string) (Activity, error) {
	u := strings.TrimRight(r.BaseURL, "/") + "/collections/" + url.PathEscape(collection) + "/optimizations"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Activity{}, fmt.Errorf("building optimizations request: %w", err)
	}
	if r.APIKey != "" {
		req.Header.Set("api-key", r.APIKey)
	}
	hc := r.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Activity{}, fmt.Errorf("reading optimizations: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		re := sink.ReadRESTError("reading optimizations of "+collection, resp)
		if re.Status == http.StatusNotFound {
			// Qdrant answers a missing collection with a JSON status
			// error; a missing route has no such message.
			if strings.Contains(re.Message, "doesn't exist") || strings.Contains(re.Message, "Not found: Collection") {
				return Activity{}, job.Errorf(schemas.ErrCollectionNotFound, false, "collection %q does not exist", collection)
			}
			return Activity{}, ErrNoOptimizationsAPI
		}
		return Activity{}, re
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return Activity{}, fmt.Errorf("reading optimizations body: %w", err)
	}
	var or optimizationsResponse
	if err := json.Unmarshal(body, &or); err != nil {
		return Activity{}, fmt.Errorf("decoding optimizations: %w", err)
	}
	switch r := or.Result; {
	case r.Summary != nil:
		return Activity{Running: len(r.Running), Queued: r.Summary.QueuedOptimizations, QueuedPoints: r.Summary.QueuedPoints}, nil
	case r.Ongoing != nil:
		a := Activity{Running: len(*r.Ongoing)}
		if r.Pending != nil {
			a.Queued, a.QueuedPoints = r.Pending.Optimizations, r.Pending.Points
		}
		return a, nil
	}
	// Neither shape: not knowing is not "idle".
	return Activity{}, fmt.Errorf("decoding optimizations: neither summary nor ongoing in %s", truncate(string(body), 200))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
