package backoff

import (
	"context"
	"testing"
	"time"
)

func TestCeilingDoublesToMax(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Ceiling(); got != w*time.Millisecond {
			t.Fatalf("attempt %d: ceiling %v, want %v", i, got, w*time.Millisecond)
		}
		b.Next()
	}
	if b.Attempts() != len(want) {
		t.Fatalf("Attempts = %d, want %d", b.Attempts(), len(want))
	}
	b.Reset()
	if got := b.Ceiling(); got != 100*time.Millisecond {
		t.Fatalf("after Reset: ceiling %v", got)
	}
}

func TestNextIsFullJitterWithinBounds(t *testing.T) {
	var asked []time.Duration
	b := Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond,
		Jitter: func(n time.Duration) time.Duration { asked = append(asked, n); return n - 1 }}
	for range 4 {
		if d := b.Next(); d < 0 || d >= 40*time.Millisecond {
			t.Fatalf("delay %v out of [0, 40ms)", d)
		}
	}
	want := []time.Duration{10, 20, 40, 40}
	for i := range want {
		if asked[i] != want[i]*time.Millisecond {
			t.Fatalf("jitter asked for %v, want %v", asked, want)
		}
	}
	// Real jitter: many draws stay within [0, ceiling] and are not all equal.
	r := Backoff{Initial: time.Millisecond, Max: time.Millisecond}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := r.Next()
		if d < 0 || d >= time.Millisecond {
			t.Fatalf("delay %v out of [0, 1ms)", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct delays in 200 draws: no jitter", len(seen))
	}
}

func TestZeroValueUsesDefaults(t *testing.T) {
	var b Backoff
	if got := b.Ceiling(); got != DefaultInitial {
		t.Fatalf("ceiling %v, want %v", got, DefaultInitial)
	}
	for range 20 {
		b.Next()
	}
	if got := b.Ceiling(); got != DefaultMax {
		t.Fatalf("ceiling %v after 20 attempts, want %v", got, DefaultMax)
	}
}

func TestSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep = %v, want context.Canceled", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Sleep did not return on cancel")
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v", err)
	}
}
