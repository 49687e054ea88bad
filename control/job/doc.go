// Package job is the contract between the control-plane runner and the
// command handlers it executes (index_defer, index_build now; backup and
// restore later): the Handler interface, the progress Reporter, coded
// errors that become a status event's error, and the retry/poll timing
// helpers handlers share.
//
// Invariants a Handler relies on and must keep:
//
//   - Validate has no side effects and is called before Run; a command
//     that fails it never runs.
//   - Run may be called again for the same command after an interruption
//     (a replica crashed or handed the command over): Reporter.Previous then
//     returns the last status the earlier attempt published. Run must be
//     safe to repeat.
//   - Run returns promptly once ctx ends. The cause (context.Cause) says
//     why: ErrCancelled (a cancel command; the command ends cancelled) or
//     ErrHandover (the replica is giving the command up; nothing final is
//     published and the next owner resumes it).
//   - A returned *Error carries the status error's code and retryability;
//     any other error is reported as "internal".
package job
