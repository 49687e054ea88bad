package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
)

// ownerLog records the owner tasks of several runners: who runs, whether
// two ever ran at once, and why each stopped.
type ownerLog struct {
	mu       sync.Mutex
	running  map[string]bool
	starts   []string
	overlaps []string
	causes   map[string][]error
}

func (l *ownerLog) task(replica string) OwnerTask {
	return OwnerTask{Name: "probe", Run: func(ctx context.Context) error {
		l.mu.Lock()
		for other, on := range l.running {
			if on {
				l.overlaps = append(l.overlaps, fmt.Sprintf("%s started while %s ran", replica, other))
			}
		}
		l.running[replica] = true
		l.starts = append(l.starts, replica)
		l.mu.Unlock()
		<-ctx.Done()
		l.mu.Lock()
		l.running[replica] = false
		l.causes[replica] = append(l.causes[replica], context.Cause(ctx))
		l.mu.Unlock()
		return nil
	}}
}

func (l *ownerLog) waitRunning(t *testing.T, replica string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l.mu.Lock()
		on := l.running[replica]
		l.mu.Unlock()
		if on {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the owner task never ran on %s", replica)
		}
		time.Sleep(10 * time.Millisecond) // polling the recorder, bounded by the deadline
	}
}

// TestOwnerTasks: an owner task runs on the owner of the control partition
// only, one replica at a time: it starts when a replica's ownership is
// ready, stops (cause ErrHandover) when it ends — a graceful stop or a
// replica cut off from Kafka — and starts on the next owner.
func TestOwnerTasks(t *testing.T) {
	e := newEnv(t)
	l := &ownerLog{running: map[string]bool{}, causes: map[string][]error{}}
	with := func(replica string) func(*RunnerConfig) {
		return func(c *RunnerConfig) { c.OwnerTasks = []OwnerTask{l.task(replica)} }
	}
	a := e.startRunner("kq-a", with("kq-a"))
	l.waitRunning(t, "kq-a")
	b := e.startRunner("kq-b", with("kq-b"))
	e.waitMembers(2)

	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	l.waitRunning(t, "kq-b")
	e.startRunner("kq-c", with("kq-c"))
	e.waitMembers(2)
	b.dialer.sever()
	l.waitRunning(t, "kq-c")
	if err := b.stop(t); err != nil {
		t.Logf("cut-off runner returned %v", err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.overlaps) > 0 {
		t.Fatalf("owner tasks overlapped: %v", l.overlaps)
	}
	if !slices.Equal(l.starts, []string{"kq-a", "kq-b", "kq-c"}) {
		t.Fatalf("owner task starts %v, want kq-a, kq-b, kq-c", l.starts)
	}
	for _, r := range []string{"kq-a", "kq-b"} {
		if len(l.causes[r]) != 1 || !errors.Is(l.causes[r][0], job.ErrHandover) {
			t.Fatalf("%s's task stopped with %v, want one stop with ErrHandover", r, l.causes[r])
		}
	}
}
