// Package job is the contract between the control-plane runner and the
// command handlers it executes (index_defer, index_build, backup,
// backup_storage, restore, list_backups, prune_backups): the Handler
// interface, the Reporter (progress, checkpoints, the ownership Token),
// coded errors that become a status event's error, and the retry/poll
// timing helpers handlers share, among them the one policy for failed
// Qdrant calls (QdrantPolicy, its table in qdrant.go: what sink's tables
// mean for a command) and the retry budget that applies a policy (Budget).
//
// Invariants a Handler relies on and must keep:
//
//   - Validate has no side effects and is called before Run; a command
//     that fails it never runs.
//   - Run may be called again for the same command after an interruption
//     (a replica crashed, was cut off, or handed the command over):
//     Reporter.Previous returns the last status the earlier attempt
//     published and Reporter.Restore its last checkpoint. Run must be safe
//     to repeat; state it cannot re-derive from the outside world (the
//     settings before it changed them, a deadline, snapshot names, upload
//     ids) goes into Checkpoint BEFORE the step that makes it
//     unrecoverable.
//   - Before each destructive step the handler calls Owner().Check; a
//     replica that lost the control partition then stops instead of acting
//     beside the new owner. Whatever it publishes after the new owner took
//     over is rejected by Kafka (transactional fencing), so a stale
//     replica can waste work but never make a second outcome visible.
//   - Progress never blocks: a handler's poll loop and its own timeout keep
//     running while Kafka is unreachable.
//   - Run returns promptly once ctx ends. The cause (context.Cause) says
//     why: ErrCancelled (a cancel command; the command ends cancelled) or
//     ErrHandover (the replica is giving the command up; nothing final is
//     published and the next owner resumes it).
//   - A returned *Error carries the status error's code and retryability;
//     an error wrapping ErrNotOwner is a hand-over; any other error is
//     reported as "internal".
package job
