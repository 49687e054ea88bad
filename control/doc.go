// Package control is the control plane of a replica: it consumes commands
// from the control topic, executes them with registered handlers
// (job.Handler; index_defer and index_build are built in, backup and
// restore drop in later) and publishes every state change to the status
// topic, keyed by command id.
//
// Lifecycle of a command on the replica that owns the control partition:
//
//	record ──decode──► bad? ───────────────────────────────► failed (error.code says why)
//	   │ known final id? ──────────────────────────────────► final status re-published
//	   │ same id in flight? ───────────────────────────────► joins it (runs once)
//	   ▼
//	accepted ──(its collection's queue)──► running ──► succeeded | failed | cancelled
//	                                          │  progress events while running
//	                                          └─ handover (shutdown, revoke, loss):
//	                                             nothing final; the next owner resumes it
//
// Invariants:
//   - Exactly one replica executes a command: the control topic has one
//     partition, consumed by the group "<kafka.group>.control".
//   - The control offset is committed only past records whose command
//     reached a final state that Kafka acknowledged on the status topic, so
//     a crash mid-command re-delivers it and the next owner resumes it
//     (the status view says it was running and who ran it).
//   - A command id runs at most once to a final state: finals are looked up
//     in this replica's memory and in the status view (caught up with the
//     status topic before each batch of commands) and are re-published, not
//     re-run.
//   - Commands on the same collection run one at a time, in topic order;
//     commands on different collections (and cancels) run concurrently.
//   - Every malformed or unknown command gets a failed status under its id
//     (or a generated one, logged); the runner never stops on bad input.
package control
