package sink

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

func TestBackoffCeilingsDoubleUpToCap(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Retry
		want []time.Duration // ceilings (jitter returns ceiling-1)
	}{
		{"doubles then caps", config.Retry{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second},
			[]time.Duration{100, 200, 400, 800, 1000, 1000, 1000}},
		{"zero config uses defaults", config.Retry{},
			[]time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000}},
		{"cap below initial is raised to initial", config.Retry{InitialBackoff: 500 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
			[]time.Duration{500, 500, 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := newFakeClock()
			b := newBackoff(context.Background(), tt.cfg, fc.clock())
			for i, ms := range tt.want {
				want := ms*time.Millisecond - 1
				if got := b.Wait(0); got != want {
					t.Fatalf("retry %d: delay %v, want %v", i, got, want)
				}
			}
			if b.Retries() != len(tt.want) {
				t.Fatalf("Retries = %d, want %d", b.Retries(), len(tt.want))
			}
		})
	}
}

// Many retries must not overflow the doubling.
func TestBackoffNoOverflowAfterManyRetries(t *testing.T) {
	fc := newFakeClock()
	b := newBackoff(context.Background(), config.Retry{InitialBackoff: time.Millisecond, MaxBackoff: time.Minute}, fc.clock())
	for range 200 {
		b.Next(0)
	}
	if got := b.Next(0); got != time.Minute-1 {
		t.Fatalf("delay after 200 retries = %v, want %v", got, time.Minute-1)
	}
}

func TestBackoffFullJitterRange(t *testing.T) {
	fc := newFakeClock()
	var asked []time.Duration
	fc.jitterFn = func(n time.Duration) time.Duration { asked = append(asked, n); return 0 }
	b := newBackoff(context.Background(), config.Retry{InitialBackoff: time.Second, MaxBackoff: 4 * time.Second}, fc.clock())
	for range 4 {
		if d := b.Wait(0); d != 0 {
			t.Fatalf("delay %v, want 0 (jitter may pick zero)", d)
		}
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}; !slices.Equal(asked, want) {
		t.Fatalf("jitter ranges %v, want %v", asked, want)
	}
	// The real jitter stays in [0, n).
	for range 1000 {
		if d := realClock.jitter(10); d < 0 || d >= 10 {
			t.Fatalf("real jitter %v outside [0, 10)", d)
		}
	}
}

func TestBackoffHintIsAFloor(t *testing.T) {
	fc := newFakeClock()
	b := newBackoff(context.Background(), config.Retry{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}, fc.clock())
	if d := b.Wait(7 * time.Second); d != 7*time.Second {
		t.Fatalf("delay with a 7s hint = %v, want 7s", d)
	}
	if d := b.Wait(time.Millisecond); d != 200*time.Millisecond-1 {
		t.Fatalf("delay with a hint below the backoff = %v, want the backoff", d)
	}
	if got := fc.slept(); !slices.Equal(got, []time.Duration{7 * time.Second, 200*time.Millisecond - 1}) {
		t.Fatalf("slept %v", got)
	}
}

func TestBackoffStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fc := newFakeClock()
	fc.onSleep = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	b := newBackoff(ctx, config.Retry{}, fc.clock())
	loops := 0
	for b.Ongoing() {
		loops++
		b.Wait(0)
	}
	if loops != 3 {
		t.Fatalf("loop ran %d times, want 3", loops)
	}
	if b.Err() != context.Canceled {
		t.Fatalf("Err = %v, want context.Canceled", b.Err())
	}
}

// The real sleep returns early, with the context's error, on cancellation.
func TestRealSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := realClock.sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("sleep on a cancelled context blocked")
	}
	if err := realClock.sleep(context.Background(), time.Microsecond); err != nil {
		t.Fatalf("short sleep = %v, want nil", err)
	}
}
