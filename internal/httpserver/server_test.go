package httpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_qdrant_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	var notReady atomic.Value
	notReady.Store("waiting for assignment")
	ready := func() error {
		if s := notReady.Load().(string); s != "" {
			return errors.New(s)
		}
		return nil
	}
	s, err := New("127.0.0.1:0", reg, slog.New(slog.DiscardHandler), ready)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	base := "http://" + s.Addr()

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "waiting for assignment") {
		t.Errorf("/readyz = %d %q, want 503 with the reason", code, body)
	}
	notReady.Store("")
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d after ready, want 200", code)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "kafka_qdrant_test_total 3") {
		t.Errorf("/metrics = %d, body lacks the counter:\n%s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after Run returned")
	}
}

func TestListenErrorNamesKey(t *testing.T) {
	_, err := New("not-an-address", prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "http.listen") {
		t.Fatalf("err = %v, want one naming http.listen", err)
	}
}
