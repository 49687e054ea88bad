package control

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/control/auth"
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

// handle decides what to do with one control record of the ready epoch
// ep. It runs on the dispatcher goroutine, between a poll and
// AllowRebalance, so the epoch does not change under it. It returns false
// when a status could not be published (Kafka trouble): the record stays
// pending and is handled again later, in order.
//
// With control.auth, a record is authorized before anything else can
// happen for it (auth.Verifier): its signature before it is decoded, its
// id, issued_at and type right after, and its issued_at window only when
// its id is new; a refused record goes to rejectUnauthorized and touches
// no other command.
func (r *Runner) handle(ep *epoch, rec *kgo.Record) bool {
	ref := offsetRef{offs: ep.offsets, partition: rec.Partition, offset: rec.Offset}
	log := r.log.With("partition", rec.Partition, "offset", rec.Offset)
	v := r.cfg.verifier

	var keyID string
	if v != nil {
		var err error
		if keyID, err = v.Verify(rec.Headers, rec.Value); err != nil {
			return r.rejectUnauthorized(ep, ref, rec, err)
		}
	}
	cmd, err := schemas.DecodeCommand(rec.Key, rec.Value)
	if err != nil {
		return r.rejectMalformed(ep, ref, rec, cmd, err)
	}
	log = log.With("id", cmd.ID, "type", cmd.Type)
	if v != nil {
		if err := v.Permit(keyID, cmd, rec.Value); err != nil {
			return r.rejectUnauthorized(ep, ref, rec, err)
		}
		log = log.With("key", keyID)
	}

	r.mu.Lock()
	if e := r.active[cmd.ID]; e != nil {
		e.refs = append(e.refs, ref)
		r.mu.Unlock()
		log.Info("duplicate of a command in flight; it runs once")
		return true
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
		return r.republish(ep, ref, fin)
	}
	// A command accepted before (prev: a previous owner published its
	// accepted or running status) is not judged by its window again: a
	// redelivery after a crash resumes it however old it is.
	if v != nil && prev == nil {
		if err := v.Fresh(keyID, cmd, auth.RecordTime(rec, r.cfg.Clock.Now())); err != nil {
			return r.rejectUnauthorized(ep, ref, rec, err)
		}
	}

	h, ok := r.handlers[cmd.Type]
	switch {
	case !ok && !cmd.Type.Known():
		return r.reject(ep, ref, cmd, nil, schemas.ErrUnknownType, fmt.Sprintf("unknown command type %.60q; known types: %s", cmd.Type, knownTypes()))
	case !ok:
		return r.reject(ep, ref, cmd, nil, schemas.ErrUnsupported, fmt.Sprintf("command type %q is not supported by this version of kafka-qdrant", cmd.Type))
	}
	if err := h.Validate(cmd); err != nil {
		se := job.StatusErrorOf(err, schemas.ErrInvalidParameters)
		return r.reject(ep, ref, cmd, nil, se.Code, se.Message)
	}
	return r.enqueue(ep, ref, cmd, h, prev)
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
// missing or belongs to another command: then the status goes under an id
// generated from the record's position and content (the same on every
// replica, so a redelivered record gets the same answer) and names the
// record, so a typo never overwrites the state of a real command and
// `ctl --wait` can still find its answer.
func (r *Runner) rejectMalformed(ep *epoch, ref offsetRef, rec *kgo.Record, cmd schemas.Command, err error) bool {
	se := job.StatusErrorOf(err, schemas.ErrInvalidCommand)
	salvaged := cmd.ID
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
			return r.republish(ep, ref, fin)
		case inFlight || isFinal:
			se.Message = fmt.Sprintf("%s (command id %q belongs to another command; this status is published under a generated id)", se.Message, cmd.ID)
			cmd.ID = ""
		}
	}
	var src *schemas.RecordRef
	if cmd.ID == "" {
		cmd.ID = schemas.InvalidCommandID(rec.Partition, rec.Offset, rec.Key, rec.Value)
		src = &schemas.RecordRef{Partition: rec.Partition, Offset: rec.Offset, Key: string(rec.Key), ID: salvaged}
		if fin, ok := r.knownFinal(cmd.ID); ok {
			return r.republish(ep, ref, fin)
		}
		r.log.Warn("malformed command without a usable id; its failed status gets a generated id",
			"generated_id", cmd.ID, "partition", ref.partition, "offset", ref.offset, "err", schemas.Clip(se.Message, 500))
	}
	return r.reject(ep, ref, cmd, src, se.Code, se.Message)
}

// rejectUnauthorized publishes the failed status (code unauthorized) of a
// record control.auth refused. The status always goes under the record's
// generated id (schemas.InvalidCommandID), naming the record and the id it
// claimed: an unauthorized record can neither take an id nor touch the
// status of the command that has it, and a redelivered one gets the same
// answer. The reason is logged with the key id, never a secret.
func (r *Runner) rejectUnauthorized(ep *epoch, ref offsetRef, rec *kgo.Record, err error) bool {
	var ae *auth.Error
	if !errors.As(err, &ae) {
		ae = &auth.Error{Reason: auth.ReasonBadSignature, Msg: err.Error()}
	}
	claimed, _ := schemas.DecodeCommand(rec.Key, rec.Value) // for the status's type and the record's id; may be partial
	id := schemas.InvalidCommandID(rec.Partition, rec.Offset, rec.Key, rec.Value)
	if fin, ok := r.knownFinal(id); ok {
		return r.republish(ep, ref, fin)
	}
	r.log.Warn("unauthorized command refused; nothing done", "reason", ae.Reason, "key", ae.Key,
		"claimed_id", schemas.Clip(claimed.ID, 200), "generated_id", id, "partition", rec.Partition, "offset", rec.Offset,
		"err", schemas.Clip(ae.Msg, 500))
	cmd := schemas.Command{ID: id, Type: claimed.Type, Collection: claimed.Collection}
	src := &schemas.RecordRef{Partition: rec.Partition, Offset: rec.Offset, Key: string(rec.Key), ID: claimed.ID}
	if !r.reject(ep, ref, cmd, src, schemas.ErrUnauthorized, ae.Msg) {
		return false
	}
	r.m.unauthorized.WithLabelValues(string(ae.Reason)).Inc()
	return true
}

// knownFinal looks id up in this runner's finals and the status view.
func (r *Runner) knownFinal(id string) (schemas.Status, bool) {
	r.mu.Lock()
	fin, ok := r.finals.get(id)
	r.mu.Unlock()
	if ok {
		return fin, true
	}
	if ent, found := r.follower.View().Get(id); found && ent.Latest.State.Final() {
		return ent.Latest, true
	}
	return schemas.Status{}, false
}

// reject publishes a failed status for a command that does not run.
func (r *Runner) reject(ep *epoch, ref offsetRef, cmd schemas.Command, src *schemas.RecordRef, code, msg string) bool {
	st := r.status(cmd, schemas.StateFailed)
	st.Error = &schemas.StatusError{Code: code, Message: msg}
	st.Record = src
	if err := r.publishNow(context.Background(), ep, st); err != nil {
		r.log.Warn("rejected command's status not published; handling it again", "id", cmd.ID, "err", err)
		return false
	}
	r.log.Warn("command rejected", "id", cmd.ID, "type", schemas.Clip(string(cmd.Type), 100), "code", code, "err", schemas.Clip(msg, 500))
	r.m.total.WithLabelValues(typeLabel(cmd.Type), string(schemas.StateFailed)).Inc()
	r.answered(ref, st)
	return true
}

// republish publishes a known final status again for a duplicate command.
func (r *Runner) republish(ep *epoch, ref offsetRef, fin schemas.Status) bool {
	pub := r.publisherOf(ep)
	var err error
	if pub == nil {
		err = ownerError("ownership epoch not ready")
	} else if b, eerr := fin.Encode(); eerr != nil {
		err = eerr
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), r.callTimeout)
		err = pub.publish(ctx, fin.CommandID, b)
		cancel()
	}
	if err != nil {
		r.log.Warn("final status not re-published; handling the command again", "id", fin.CommandID, "err", err)
		return false
	}
	r.answered(ref, fin)
	return true
}

// answered records that the control record at ref was answered by the
// published final status fin: its offset may be committed.
func (r *Runner) answered(ref offsetRef, fin schemas.Status) {
	r.mu.Lock()
	r.finals.put(fin)
	ref.offs.markDone(ref.partition, ref.offset)
	r.mu.Unlock()
	r.kickCommit()
}

// enqueue accepts a valid command: it joins the queues of the collections
// it touches and starts when it heads all of them (queueLocked). A command
// resumed from a previous owner (prev != nil) is not accepted again.
func (r *Runner) enqueue(ep *epoch, ref offsetRef, cmd schemas.Command, h job.Handler, prev *schemas.Status) bool {
	e := newExecution(cmd, h, prev, ep, ref)
	if prev == nil {
		if err := r.publishNow(context.Background(), ep, r.status(cmd, schemas.StateAccepted)); err != nil {
			r.log.Warn("accepted status not published; handling the command again", "id", cmd.ID, "err", err)
			return false
		}
	} else {
		r.log.Info("resuming a command left unfinished by another owner", "id", cmd.ID, "previous_replica", prev.Replica, "previous_state", prev.State)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ep != r.ep {
		return true // handed over meanwhile; redelivered to the next owner
	}
	r.active[cmd.ID] = e
	r.queueLocked(e)
	return true
}
