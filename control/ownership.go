package control

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
)

// epoch is one period of ownership of the control partition(s): it starts
// when the group assigns them, becomes ready once this replica fenced every
// former owner (its transactional producer is initialized) and caught up
// with the status topic, and ends on revoke, loss, shutdown or fencing.
// Executions, offsets and the publisher belong to an epoch.
type epoch struct {
	n       uint64
	offsets *offsets
	// runCtx is the parent of the epoch's executions; it is cancelled
	// with job.ErrHandover when the epoch ends.
	runCtx    context.Context
	runCancel context.CancelCauseFunc
	// ended is closed when the epoch ends.
	ended chan struct{}
	// tasks are the epoch's owner tasks (startOwnerTasks).
	tasks sync.WaitGroup

	// Guarded by Runner.mu.
	assigned   bool
	assignedAt time.Time  // when the group assigned the epoch
	prepareErr error      // why the last take-over attempt failed
	pub        *publisher // set once ready
	endCause   error
	// deadline is when the handover of the epoch gives up waiting (zero
	// while the epoch is current).
	deadline time.Time
}

func newEpoch(n uint64, assigned bool) *epoch {
	e := &epoch{n: n, offsets: newOffsets(), ended: make(chan struct{}), assigned: assigned, assignedAt: time.Now()}
	e.runCtx, e.runCancel = context.WithCancelCause(context.Background())
	return e
}

// ownerError wraps why an epoch ended in job.ErrNotOwner.
func ownerError(why string) error {
	return fmt.Errorf("%w (%s)", job.ErrNotOwner, why)
}

// current returns the runner's epoch.
func (r *Runner) current() *epoch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ep
}

// epochErr is nil while ep is the runner's ready epoch, else an error
// wrapping job.ErrNotOwner.
func (r *Runner) epochErr(ep *epoch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case ep.endCause != nil:
		return ep.endCause
	case ep != r.ep || !ep.assigned:
		return ownerError("not the current ownership epoch")
	case ep.pub == nil:
		return ownerError("ownership epoch not ready")
	}
	return ep.pub.err()
}

// ownerToken is the job.Token of an execution.
type ownerToken struct {
	r  *Runner
	ep *epoch
}

// errNotMember means the coordinator does not count this replica (with its
// generation) as a member of the control group any more.
var errNotMember = errors.New("not a member of the control group's current generation")

// Check confirms with the group coordinator that this replica is still a
// member of the group's current generation (so the coordinator cannot
// have given the partition to anyone else), and that the epoch is current
// and its producer not fenced. Transport failures are retried until the
// coordinator answers, the epoch ends (the group client gives up on a
// failing heartbeat well before the session expires) or ctx ends.
func (t ownerToken) Check(ctx context.Context) error {
	b := job.Backoff{Initial: 50 * time.Millisecond, Max: time.Second}
	for {
		if err := t.r.epochErr(t.ep); err != nil {
			return err
		}
		err := t.r.confirmMembership(ctx)
		switch {
		case err == nil:
			return t.r.epochErr(t.ep)
		case errors.Is(err, errNotMember):
			return fmt.Errorf("%w: %w", job.ErrNotOwner, err)
		case ctx.Err() != nil:
			return context.Cause(ctx)
		}
		t.r.log.Warn("confirming ownership of the control partition", "err", err)
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.ep.ended:
		case <-time.After(b.Next()):
		}
	}
}

// confirmMembership sends a heartbeat with the group client's member id and
// generation. REBALANCE_IN_PROGRESS still confirms membership: the
// partition is ours until our revoke callback ran.
func (r *Runner) confirmMembership(ctx context.Context) error {
	cl := r.client()
	if cl == nil {
		return errNotMember
	}
	for range 3 {
		member, gen := cl.GroupMetadata()
		if member == "" || gen < 0 {
			return errNotMember
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.MemberID, req.Generation = Group(r.cfg.Config.Kafka.Group), member, gen
		rctx, cancel := context.WithTimeout(ctx, r.callTimeout)
		resp, err := req.RequestWith(rctx, r.probe)
		cancel()
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		err = kerr.ErrorForCode(resp.ErrorCode)
		switch {
		case err == nil, errors.Is(err, kerr.RebalanceInProgress):
			return nil
		case errors.Is(err, kerr.IllegalGeneration):
			if _, now := cl.GroupMetadata(); now != gen {
				continue // a rebalance completed meanwhile: ask again with the new generation
			}
			// A rebalance is completing and the group client has not
			// learnt the new generation yet: not an answer. Were we out
			// of the group, the client's own heartbeat ends the epoch.
			return fmt.Errorf("heartbeat: %w", err)
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID), errors.Is(err, kerr.GroupIDNotFound):
			return fmt.Errorf("%w: %w", errNotMember, err)
		}
		return fmt.Errorf("heartbeat: %w", err)
	}
	return fmt.Errorf("%w: the generation kept changing", errNotMember)
}
