package control

import (
	"context"
	"runtime/debug"
	"time"
)

// OwnerTask is work that runs on one replica at a time: the owner of the
// control partition (RunnerConfig.OwnerTasks). The backup schedule is one.
type OwnerTask struct {
	// Name names the task in logs.
	Name string
	// Run runs until ctx ends. ctx ends, with cause job.ErrHandover, when
	// the ownership epoch it was started for ends (revoke, loss, fencing,
	// shutdown); Run must then return promptly. Its error is logged.
	Run func(ctx context.Context) error
}

// startOwnerTasks starts every owner task for the ready epoch ep, each in
// its own goroutine with ep's context: they run while this replica owns
// the control partition and are cancelled when the epoch ends. A new
// epoch (ownership regained) starts them again. Shutdown waits for them as
// for executions (r.wg), and the handover of the epoch waits for them
// (awaitOwnerTasks) before the partition can go to another replica.
func (r *Runner) startOwnerTasks(ep *epoch) {
	for _, t := range r.cfg.OwnerTasks {
		r.wg.Add(1)
		ep.tasks.Add(1)
		go func() {
			defer r.wg.Done()
			defer ep.tasks.Done()
			defer func() {
				if p := recover(); p != nil {
					r.log.Error("owner task panicked", "task", t.Name, "panic", p, "stack", string(debug.Stack()))
				}
			}()
			r.log.Info("owner task started", "task", t.Name, "epoch", ep.n)
			err := t.Run(ep.runCtx)
			switch {
			case ep.runCtx.Err() != nil:
				r.log.Info("owner task stopped: ownership ended", "task", t.Name, "epoch", ep.n)
			case err != nil:
				r.log.Error("owner task failed; it starts again with the next ownership", "task", t.Name, "epoch", ep.n, "err", err)
			default:
				r.log.Info("owner task ended", "task", t.Name, "epoch", ep.n)
			}
		}()
	}
}

// awaitOwnerTasks waits until the owner tasks of the ended epoch ep
// returned, or deadline: after a revoke, the next owner starts its tasks
// only once these stopped.
func (r *Runner) awaitOwnerTasks(ep *epoch, deadline time.Time) {
	done := make(chan struct{})
	go func() { ep.tasks.Wait(); close(done) }()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		r.log.Error("owner tasks did not stop within the handover timeout", "epoch", ep.n)
	case <-r.gm.Context().Done(): // Abort
	}
}
