package readiness

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestProber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var qdrantErr atomic.Pointer[error]
		set := func(err error) { qdrantErr.Store(&err) }
		set(errors.New("qdrant rejected the API key (qdrant.api_key): Invalid API key or JWT"))
		var kafkaCalls atomic.Int32
		p := New(15*time.Second, 5*time.Second, slog.New(slog.DiscardHandler),
			Check{Name: "qdrant", Run: func(context.Context) error { return *qdrantErr.Load() }},
			Check{Name: "kafka", Run: func(context.Context) error { kafkaCalls.Add(1); return nil }},
		)
		if err := p.Ready(); err == nil || !strings.Contains(err.Error(), "qdrant: not checked yet") ||
			!strings.Contains(err.Error(), "kafka: not checked yet") {
			t.Fatalf("Ready before the first run = %v, want both not checked yet", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		synctest.Wait()
		err := p.Ready()
		if err == nil || !strings.Contains(err.Error(), "qdrant: qdrant rejected the API key") || strings.Contains(err.Error(), "kafka") {
			t.Fatalf("Ready after the first run = %v, want only the qdrant rejection", err)
		}

		// The key is fixed: ready after the next run, not before.
		set(nil)
		time.Sleep(14 * time.Second)
		synctest.Wait()
		if p.Ready() == nil {
			t.Fatal("ready before the next run")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if err := p.Ready(); err != nil {
			t.Fatalf("Ready after the next run = %v", err)
		}
		if n := kafkaCalls.Load(); n != 2 {
			t.Errorf("kafka checked %d times in 15s, want 2 (at start, after one interval)", n)
		}
		cancel()
		<-done
	})
}

func TestProberTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(time.Minute, 5*time.Second, slog.New(slog.DiscardHandler),
			Check{Name: "qdrant", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go p.Run(ctx)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if err := p.Ready(); err == nil || !strings.Contains(err.Error(), "qdrant: no answer within 5s") {
			t.Fatalf("Ready = %v, want a timeout of the hanging check", err)
		}
	})
}
