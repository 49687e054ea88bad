package validate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// QdrantCredentials makes one call that needs the API key (listing the
// collections; Qdrant's health check does not need it). It returns nil when
// Qdrant accepted the call, an error naming qdrant.api_key when Qdrant
// rejected the key (Unauthenticated) or the key's rights (PermissionDenied,
// a read-only or collection-scoped key), and an error naming the address
// otherwise. The readiness probe of a replica runs it too.
func QdrantCredentials(ctx context.Context, cc qdrant.CollectionsClient, q config.Qdrant) error {
	_, err := cc.List(ctx, &qdrant.ListCollectionsRequest{})
	if err == nil {
		return nil
	}
	if e := credentialsError(err, q.APIKey != ""); e != nil {
		return e
	}
	return fmt.Errorf("qdrant %s: listing collections: %w", q.GRPC, err)
}

// credentialsError returns the error to report when err is Qdrant refusing
// the caller, or nil.
func credentialsError(err error, keySet bool) error {
	switch st, _ := status.FromError(err); st.Code() {
	case codes.Unauthenticated:
		if !keySet {
			return fmt.Errorf("qdrant requires an API key and qdrant.api_key is empty: %s", st.Message())
		}
		return fmt.Errorf("qdrant rejected the API key (qdrant.api_key): %s", st.Message())
	case codes.PermissionDenied:
		return fmt.Errorf("qdrant refused the call with this API key (qdrant.api_key lacks the rights): %s", st.Message())
	}
	return nil
}

// checkQdrant reaches Qdrant over gRPC and REST with the configured key and
// checks that every collection the topics are routed to exists and has a
// vector config. topics are the consumed topics (nil when unknown: Kafka
// did not answer).
func checkQdrant(ctx context.Context, cfg config.Config, topics []string, r *reporter) {
	qc, err := sink.NewClient(cfg.Qdrant)
	if err != nil {
		r.fail("qdrant", err)
		return
	}
	defer qc.Close()
	h, err := qc.HealthCheck(ctx)
	if err != nil {
		r.fail("qdrant", fmt.Errorf("health check %s: %w", cfg.Qdrant.GRPC, err))
		return
	}
	if err := QdrantCredentials(ctx, qc.GetCollectionsClient(), cfg.Qdrant); err != nil {
		r.fail("qdrant", err)
		return
	}
	key := "no API key"
	if cfg.Qdrant.APIKey != "" {
		key = "API key accepted"
	}
	r.ok("qdrant", "%s reachable, version %s, %s", cfg.Qdrant.GRPC, h.GetVersion(), key)

	rs := routes(cfg.Routing, topics)
	if cfg.Qdrant.REST != "" {
		probe := "kafka-qdrant"
		if len(rs) > 0 {
			probe = rs[0].collection
		}
		detail, err := checkREST(ctx, cfg.Qdrant, probe)
		r.result("rest", detail, err)
	}
	checkCollections(ctx, qc.GetCollectionsClient(), cfg, topics, rs, r)
}

// checkCollections reports every routed collection.
func checkCollections(ctx context.Context, cc qdrant.CollectionsClient, cfg config.Config, topics []string, rs []route, r *reporter) {
	var notes []string
	if topics == nil && cfg.Kafka.TopicRegex != "" {
		notes = append(notes, "the topics of kafka.topic_regex are unknown without Kafka")
	}
	if cfg.Kafka.TopicRegex != "" && topics != nil {
		notes = append(notes, "topics created later are not covered")
	}
	if cfg.Routing.AllowRecordOverride && cfg.Record.CollectionField != "" {
		notes = append(notes, fmt.Sprintf("collections named by records (%s) are not known in advance", cfg.Record.CollectionField))
	}
	note := ""
	if len(notes) > 0 {
		note = " (" + strings.Join(notes, "; ") + ")"
	}
	if len(rs) == 0 {
		r.ok("collections", "none to check%s", note)
		return
	}
	var found []string
	var problems []error
	for _, rt := range rs {
		resp, err := cc.Get(ctx, &qdrant.GetCollectionInfoRequest{CollectionName: rt.collection})
		from := fmt.Sprintf("for topic %s", strings.Join(rt.topics, ", "))
		if err != nil {
			if st, _ := status.FromError(err); st.Code() == codes.NotFound {
				problems = append(problems, fmt.Errorf("collection %s (%s) does not exist: create it with its vector config", rt.collection, from))
				continue
			}
			if e := credentialsError(err, cfg.Qdrant.APIKey != ""); e != nil {
				problems = append(problems, fmt.Errorf("collection %s (%s): %w", rt.collection, from, e))
				continue
			}
			problems = append(problems, fmt.Errorf("collection %s (%s): %w", rt.collection, from, err))
			continue
		}
		vectors := describeVectors(resp.GetResult().GetConfig().GetParams())
		if vectors == "" {
			problems = append(problems, fmt.Errorf("collection %s (%s) has no vector config", rt.collection, from))
			continue
		}
		found = append(found, fmt.Sprintf("%s (%s: %s)", rt.collection, from, vectors))
	}
	if len(problems) > 0 {
		for _, p := range problems {
			r.fail("collections", p)
		}
		return
	}
	r.ok("collections", "%s%s", strings.Join(found, ", "), note)
}

// describeVectors says what vectors a collection takes, or "" for none.
func describeVectors(p *qdrant.CollectionParams) string {
	var parts []string
	vc := p.GetVectorsConfig()
	if v := vc.GetParams(); v != nil {
		parts = append(parts, fmt.Sprintf("%d-dim %s", v.GetSize(), v.GetDistance()))
	}
	if m := vc.GetParamsMap().GetMap(); len(m) > 0 {
		parts = append(parts, fmt.Sprintf("%d named vectors", len(m)))
	}
	if m := p.GetSparseVectorsConfig().GetMap(); len(m) > 0 {
		parts = append(parts, fmt.Sprintf("%d sparse vectors", len(m)))
	}
	return strings.Join(parts, ", ")
}

// checkREST reaches qdrant.rest (snapshots and optimizer state go through
// it) with the key: GET /collections/{probe}. Qdrant checks the key before
// the route, so 200 and a JSON 404 both mean reachable and accepted.
func checkREST(ctx context.Context, q config.Qdrant, probe string) (string, error) {
	tlsCfg, err := q.TLS.Build()
	if err != nil {
		return "", fmt.Errorf("qdrant.tls: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	hc := &http.Client{Transport: tr, Timeout: q.Timeout}
	defer hc.CloseIdleConnections()
	u := strings.TrimRight(q.REST, "/") + "/collections/" + url.PathEscape(probe)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("qdrant.rest: %w", err)
	}
	if q.APIKey != "" {
		req.Header.Set("api-key", q.APIKey.Reveal())
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("qdrant.rest %s: %w", q.REST, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode == http.StatusUnauthorized && q.APIKey == "":
		return "", fmt.Errorf("qdrant.rest %s requires an API key and qdrant.api_key is empty: %s", q.REST, msg)
	case resp.StatusCode == http.StatusUnauthorized:
		return "", fmt.Errorf("qdrant.rest %s rejected the API key (qdrant.api_key): %s", q.REST, msg)
	case resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("qdrant.rest %s refused the call with this API key (qdrant.api_key lacks the rights): %s", q.REST, msg)
	case resp.StatusCode == http.StatusOK,
		resp.StatusCode == http.StatusNotFound && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
		if q.APIKey == "" {
			return q.REST + " reachable", nil
		}
		return q.REST + " reachable, API key accepted", nil
	}
	return "", fmt.Errorf("qdrant.rest %s: GET %s answered %s: %s", q.REST, req.URL.Path, resp.Status, msg)
}
