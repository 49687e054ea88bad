package job

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func TestPollerGrowsAndResets(t *testing.T) {
	p := Poller{Min: 100 * time.Millisecond, Max: 400 * time.Millisecond}
	check := func(changed bool, cur time.Duration) {
		t.Helper()
		d := p.Next(changed)
		if p.cur != cur || d < cur/2 || d > cur {
			t.Fatalf("Next(%v) = %s with cur %s; want cur %s and delay in [cur/2, cur]", changed, d, p.cur, cur)
		}
	}
	check(false, 100*time.Millisecond) // first poll
	check(false, 150*time.Millisecond)
	check(false, 225*time.Millisecond)
	check(false, 337500*time.Microsecond)
	check(false, 400*time.Millisecond) // capped
	check(false, 400*time.Millisecond)
	check(true, 100*time.Millisecond) // progress: back to Min
}

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := Sleep(t.Context(), RealClock, time.Minute); err != nil || time.Since(start) != time.Minute {
			t.Fatalf("Sleep = %v after %s", err, time.Since(start))
		}
		ctx, cancel := context.WithCancelCause(t.Context())
		go func() {
			time.Sleep(time.Second)
			cancel(ErrCancelled)
		}()
		start = time.Now()
		if err := Sleep(ctx, RealClock, time.Hour); !errors.Is(err, ErrCancelled) || time.Since(start) != time.Second {
			t.Fatalf("Sleep on cancel = %v after %s, want ErrCancelled after 1s", err, time.Since(start))
		}
	})
}

func TestStatusErrorOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want schemas.StatusError
	}{
		{"job error", Errorf(schemas.ErrTimeout, true, "waited %s", time.Second), schemas.StatusError{Code: "timeout", Message: "waited 1s", Retryable: true}},
		{"wrapped job error", fmt.Errorf("x: %w", Errorf(schemas.ErrQdrant, false, "boom")), schemas.StatusError{Code: "qdrant_error", Message: "x: boom"}},
		{"command error", &schemas.CommandError{Code: schemas.ErrInvalidParameters, Err: errors.New("bad m")}, schemas.StatusError{Code: "invalid_parameters", Message: "bad m"}},
		{"plain error", errors.New("oops"), schemas.StatusError{Code: "internal", Message: "oops"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StatusErrorOf(tc.err, schemas.ErrInternal); *got != tc.want {
				t.Fatalf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}
