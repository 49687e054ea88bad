package control

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// offsetRef is a control record whose command must become final before
// the partition is committed past it.
type offsetRef struct {
	offs      *offsets
	partition int32
	offset    int64
}

// handle decides what to do with one control record. It runs on the
// dispatcher goroutine, between a poll and AllowRebalance, so the epoch
// does not change under it.
func (r *Runner) handle(ctx context.Context, rec *kgo.Record) {
	r.mu.Lock()
	ep := r.ep
	ep.offsets.add(rec.Partition, rec.Offset)
	r.mu.Unlock()
	ref := offsetRef{offs: ep.offsets, partition: rec.Partition, offset: rec.Offset}
	log := r.log.With("partition", rec.Partition, "offset", rec.Offset)

	cmd, err := schemas.DecodeCommand(rec.Key, rec.Value)
	if err != nil {
		r.rejectMalformed(ctx, ref, cmd, err)
		return
	}
	log = log.With("id", cmd.ID, "type", cmd.Type)

	r.mu.Lock()
	if e := r.active[cmd.ID]; e != nil {
		e.refs = append(e.refs, ref)
		r.mu.Unlock()
		log.Info("duplicate of a command in flight; it runs once")
		return
	}
	fin, isFinal := r.finals.get(cmd.ID)
	r.mu.Unlock()
	var prev *schemas.Status
	if !isFinal {
		if ent, ok := r.follower.View().Get(cmd.ID); ok {
			if ent.Latest.State.Final() {
				fin, isFinal = ent.Latest, true
			} else {
				prev = &ent.Latest
			}
		}
	}
	if isFinal {
		log.Info("command already final; re-publishing its final status", "state", fin.State)
		r.republish(ctx, ref, fin)
		return
	}

	h, ok := r.handlers[cmd.Type]
	switch {
	case !ok && !cmd.Type.Known():
		r.reject(ctx, ref, cmd, schemas.ErrUnknownType, fmt.Sprintf("unknown command type %q; known types: %s", cmd.Type, knownTypes()))
		return
	case !ok:
		r.reject(ctx, ref, cmd, schemas.ErrUnsupported, fmt.Sprintf("command type %q is not supported by this version of kafka-qdrant", cmd.Type))
		return
	}
	if err := h.Validate(cmd); err != nil {
		se := job.StatusErrorOf(err, schemas.ErrInvalidParameters)
		r.reject(ctx, ref, cmd, se.Code, se.Message)
		return
	}
	r.enqueue(ctx, ep, ref, cmd, h, prev)
}

func knownTypes() string {
	var s []string
	for _, t := range schemas.CommandTypes() {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

// rejectMalformed publishes the failed status of a record that is not a
// valid command. Its id is the one salvaged from the record, unless that is
// missing or belongs to another command: then a generated id is used (and
// logged), so a typo never overwrites the state of a real command.
func (r *Runner) rejectMalformed(ctx context.Context, ref offsetRef, cmd schemas.Command, err error) {
	se := job.StatusErrorOf(err, schemas.ErrInvalidCommand)
	if cmd.ID != "" {
		r.mu.Lock()
		_, inFlight := r.active[cmd.ID]
		fin, isFinal := r.finals.get(cmd.ID)
		r.mu.Unlock()
		if !isFinal {
			if ent, ok := r.follower.View().Get(cmd.ID); ok {
				fin, isFinal = ent.Latest, ent.Latest.State.Final()
				inFlight = inFlight || !isFinal
			}
		}
		switch {
		case isFinal && fin.State == schemas.StateFailed && fin.Error != nil && fin.Error.Message == se.Message:
			// The same bad record again (redelivered): same answer.
			r.republish(ctx, ref, fin)
			return
		case inFlight || isFinal:
			se.Message = fmt.Sprintf("%s (command id %q belongs to another command; this status is published under a generated id)", se.Message, cmd.ID)
			cmd.ID = ""
		}
	}
	if cmd.ID == "" {
		cmd.ID = "kq-invalid-" + uuid.NewString()
		r.log.Warn("malformed command without a usable id; its failed status gets a generated id",
			"generated_id", cmd.ID, "partition", ref.partition, "offset", ref.offset, "err", se.Message)
	}
	r.reject(ctx, ref, cmd, se.Code, se.Message)
}

// reject publishes a failed status for a command that does not run.
func (r *Runner) reject(ctx context.Context, ref offsetRef, cmd schemas.Command, code, msg string) {
	st := r.status(cmd, schemas.StateFailed)
	st.Error = &schemas.StatusError{Code: code, Message: msg}
	if err := r.publish(ctx, st); err != nil {
		r.log.Warn("rejected command's status not published; it will be redelivered", "id", cmd.ID, "err", err)
		return
	}
	r.log.Warn("command rejected", "id", cmd.ID, "type", cmd.Type, "code", code, "err", msg)
	r.m.total.WithLabelValues(typeLabel(cmd.Type), string(schemas.StateFailed)).Inc()
	r.mu.Lock()
	r.finals.put(st)
	ref.offs.markDone(ref.partition, ref.offset)
	r.mu.Unlock()
	r.kickCommit()
}

// republish publishes a known final status again for a duplicate command.
func (r *Runner) republish(ctx context.Context, ref offsetRef, fin schemas.Status) {
	if err := r.publish(ctx, fin); err != nil {
		r.log.Warn("final status not re-published; the command will be redelivered", "id", fin.CommandID, "err", err)
		return
	}
	r.mu.Lock()
	r.finals.put(fin)
	ref.offs.markDone(ref.partition, ref.offset)
	r.mu.Unlock()
	r.kickCommit()
}

// enqueue accepts a valid command: it joins its collection's queue and
// starts when it reaches the head. A command resumed from a previous owner
// (prev != nil) is not accepted again.
func (r *Runner) enqueue(ctx context.Context, ep *epoch, ref offsetRef, cmd schemas.Command, h job.Handler, prev *schemas.Status) {
	e := &execution{cmd: cmd, h: h, prev: prev, ep: ep, refs: []offsetRef{ref}, done: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancelCause(ep.runCtx)
	e.key = "c:" + cmd.Collection
	if cmd.Collection == "" || cmd.Type == schemas.CommandCancel {
		e.key = "id:" + cmd.ID // not serialized with anything
	}
	if prev == nil {
		if err := r.publish(ctx, r.status(cmd, schemas.StateAccepted)); err != nil {
			r.log.Warn("accepted status not published; the command will be redelivered", "id", cmd.ID, "err", err)
			return
		}
	} else {
		r.log.Info("resuming a command left unfinished by another owner", "id", cmd.ID, "previous_replica", prev.Replica, "previous_state", prev.State)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ep != r.ep {
		return // handed over meanwhile; redelivered to the next owner
	}
	r.active[cmd.ID] = e
	r.queues[e.key] = append(r.queues[e.key], e)
	if len(r.queues[e.key]) == 1 {
		r.startLocked(e)
	} else {
		r.log.Info("command queued behind another on the same collection", "id", cmd.ID, "collection", cmd.Collection,
			"behind", r.queues[e.key][0].cmd.ID)
	}
}
