// Package control is the control plane of a replica: it consumes commands
// from the control topic, executes them with registered handlers
// (job.Handler; index_defer and index_build are built in, backup and
// restore drop in) and publishes every state change to the status topic,
// keyed by command id.
//
// Lifecycle of a command on the replica that owns the control partition:
//
//	record ──control.auth (auth.Verifier)? refused ──────────► failed/unauthorized under
//	   │                                                        its generated id; nothing else
//	   ├──decode──► bad? ─────────────────────────────────────► failed (error.code says why)
//	   │ known final id? ──────────────────────────────────► final status re-published
//	   │ same id in flight? ───────────────────────────────► joins it (runs once)
//	   ▼
//	accepted ──(its collection's queue)──► running ──► succeeded | failed | cancelled
//	                                          │  progress (async, coalesced), checkpoints
//	                                          └─ handover (shutdown, revoke, loss, fenced):
//	                                             nothing final; the next owner resumes it
//
// Ownership (Runner.poll, prepare, handover; ownership.go):
//
//	onAssigned ─► epoch n ─► prepare: transactional producer "<group>.control"
//	              InitProducerID (fences every former owner) ─► Sync the status
//	              view to its last stable offset ─► ready: handle records, sweep
//	onRevoked ─► handover: cancel (job.ErrHandover), wait, commit, close producer
//	onLost    ─► handover without commit
//	producer fenced or in an unknown transaction state ─► new group session
//	Abort (second signal) ─► the handover stops waiting; nothing more committed
//
// The group member (options, the control records' offsets, commits, the
// revoke and loss protocol, Abort, Ready) is internal/groupmember, shared
// with the data path: each control record is a piece of work in its
// tracker, done when the record's command is final (offsets.go).
//
// Design: why every status event is a short transaction. The status topic
// is compacted by command id, so a single late write of a former owner
// after a final (a late "running", a second, different final) becomes the
// command's state once the topic is cleaned. Kafka can refuse those writes
// itself: all replicas share one transactional id; the owner of an epoch
// initializes it before acting, which bumps the producer epoch at the
// transaction coordinator, aborts the former owner's open transaction and
// makes every later write of the former owner fail (PRODUCER_FENCED).
// Readers (the status view, ctl, kcat's librdkafka default) read at
// read_committed. Events of a long command must be visible while it runs,
// so they cannot wait for one long transaction: the epoch's publisher
// writes whatever is queued in one short transaction (a few milliseconds)
// and acknowledges each item once it committed. Progress is published the
// same way (outside transactions it would not be fenced, and a late
// progress event after a final is exactly the defect), but asynchronously:
// one slot per command, built when the transaction is written, so a newer
// progress replaces an unpublished one and a handler never waits for
// Kafka. Control offsets stay group commits: committing them in the
// transaction would need franz-go's GroupTransactSession, which commits
// every polled offset, while ours stop at the first command that is not
// final (long jobs run beside short ones); the coordinator refuses a group
// commit of a stale generation, so a former owner cannot move them either.
// A final and its offset are not atomic, which is harmless: a final whose
// offset was not committed is found in the status view by the next owner
// and re-published, not run again.
//
// Invariants:
//   - At most one replica makes status events visible for the control
//     partition: the one that initialized the transactional id last, which
//     is the group's current owner (an owner initializes it before handling
//     anything, and a replica only initializes it after an assignment).
//   - The control topic has one partition, consumed by the group
//     "<kafka.group>.control"; an epoch starts on assignment and ends on
//     revoke, loss, shutdown, or when its producer is fenced.
//   - Every Kafka call of the dispatcher loop is bounded by callTimeout (a
//     quarter of the session timeout, 1s..10s); a record whose status
//     could not be published stays pending, in order, and is handled again
//     after the next poll. The group client's heartbeats are not retried
//     past callTimeout, so a replica cut off from Kafka loses the
//     partition (its commands are cancelled with job.ErrHandover) before
//     its session expires and another replica can take over.
//   - The control offset is committed only past records whose command
//     reached a final state that Kafka acknowledged on the status topic (the
//     tracker's commit point is the first record not final), so a crash
//     mid-command re-delivers it and the next owner resumes it (the status
//     view says it was running, and its last checkpoint).
//   - A command id runs at most once to a final state: finals are looked up
//     in this replica's memory and in the status view (caught up with the
//     status topic after fencing and before each batch of commands) and are
//     re-published, not re-run. No event of a command follows its final
//     (a cancel's claimed target stays in flight until its final is
//     recorded; progress of an ending execution is dropped).
//   - Commands on the same collection run one at a time, in topic order;
//     commands on different collections (and cancels) run concurrently. A
//     command joins one queue per collection it touches (its own, and
//     what its handler's Touches names: a restore's target and alias) and
//     starts when it heads them all (queues.go).
//   - Owner tasks (RunnerConfig.OwnerTasks: the backup schedule) run on
//     the owner only: started when an ownership epoch is ready, cancelled
//     when it ends, awaited by its handover.
//   - With control.auth, a record runs nothing and touches no other command
//     unless signed by a key that may send its type; the issued_at window
//     is checked only for ids never seen, so a command accepted once is
//     never refused on redelivery (auth package).
//   - Every malformed or unknown command gets a failed status under its id,
//     or under schemas.InvalidCommandID of the record (the same on every
//     replica) when it has no usable id; status events are clipped to fit a
//     Kafka message; the runner never stops on bad input.
//   - Finished commands older than control.status_retention are tombstoned
//     by the owner (at takeover and hourly), except the newest succeeded
//     index_defer of a collection that no succeeded index_build followed,
//     and any command whose control record the control group has not
//     committed past (the next owner reads it again and must find it
//     final: retention.go, uncommittedIDs).
package control
