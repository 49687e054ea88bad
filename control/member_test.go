package control

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// The runner is a groupmember.Member like the data path, and gains what
// the data path had: Ready and Abort.

// waitReady waits (up to 20s) until rn's Ready satisfies ok.
func waitReady(t *testing.T, rn *runner, what string, ok func(error) bool) error {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := rn.r.Ready()
		if ok(err) {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ready never %s; last: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a state, bounded by the deadline
	}
}

// TestRunnerReady: a runner is ready once it joined the control group; an
// owner that cannot take the partition over (its transactional producer
// cannot be initialized) reports it once that lasted a session timeout,
// and is ready again when it took over; a stopped runner is not ready.
func TestRunnerReady(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 10)
	d := &severableDialer{}
	d.freeze(kmsg.InitProducerID)
	rn := e.startRunnerWith(d, "kq-a")
	err := waitReady(t, rn, "reported the failed take-over", func(err error) bool {
		return err != nil && strings.Contains(err.Error(), "without taking it over")
	})
	t.Logf("not ready: %v", err)
	if n := metricValue(t, rn.reg, "kafka_qdrant_control_owner", nil); n != 0 {
		t.Fatalf("control_owner = %v before the take-over", n)
	}
	d.thaw()
	waitReady(t, rn, "ready after the take-over", func(err error) bool { return err == nil })
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")
	e.waitCommitted(1)
	if ok := metricValue(t, rn.reg, "kafka_qdrant_control_offset_commits_total", map[string]string{"result": "ok"}); ok < 1 {
		t.Fatalf("kafka_qdrant_control_offset_commits_total{result=ok} = %v after a commit", ok)
	}
	if err := rn.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := rn.r.Ready(); err == nil || !strings.Contains(err.Error(), "left the consumer group") {
		t.Fatalf("Ready after stopping: %v, want left", err)
	}
}

// stuckHandler runs until released, whatever its context says.
type stuckHandler struct {
	started, release chan struct{}
}

func (h *stuckHandler) Validate(schemas.Command) error { return nil }

func (h *stuckHandler) Run(context.Context, schemas.Command, job.Reporter) (any, error) {
	close(h.started)
	<-h.release
	return nil, job.ErrHandover
}

// TestRunnerAbort: a stopping runner waits up to HandoverTimeout for a
// command that ignores its cancellation; Abort (the second signal) ends
// the wait at once. Nothing final is published and the command's record
// is not committed: the next owner resumes it.
func TestRunnerAbort(t *testing.T) {
	e := newEnv(t)
	h := &stuckHandler{started: make(chan struct{}), release: make(chan struct{})}
	defer close(h.release)
	rn := e.startRunner("kq-a", func(c *RunnerConfig) {
		c.HandoverTimeout = time.Minute
		c.Handlers = map[schemas.CommandType]job.Handler{schemas.CommandBackup: h}
	})
	e.sendCmd(schemas.Command{ID: "stuck-1", Type: schemas.CommandBackup, Collection: "movies"})
	<-h.started
	rn.cancel()
	start := time.Now()
	rn.r.Abort()
	select {
	case <-rn.done:
		close(rn.done) // for the cleanup's stop
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15s of Abort (the handover timeout is a minute)")
	}
	t.Logf("Run returned %s after Abort", time.Since(start).Round(time.Millisecond))
	e.log.syncEnd()
	if evs := e.log.events("stuck-1"); finals(evs) != 0 {
		t.Fatalf("an aborted runner published a final:\n%s", dump(evs))
	}
	if c := e.committed(); c > 0 {
		t.Fatalf("committed offset %d past the unfinished command", c)
	}
}
