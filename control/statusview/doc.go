// Package statusview keeps an in-memory view of the status topic: the
// latest status event of every command, built by a Follower that consumes
// the (compacted) topic from its start.
//
// Both the runner and `kafka-qdrant ctl` use it: the runner to know which
// commands already ended (idempotency by id), which were left running by a
// replica that is gone (resume), and what index_defer recorded; ctl to show
// and wait for statuses.
//
// Invariants:
//   - A final state is sticky: once a command is succeeded, failed or
//     cancelled in the view, later non-final events for it (a zombie
//     replica's progress) do not change its state; a later final event
//     (a re-publication) replaces it.
//   - Follower.Sync returns only after the view holds every event that was
//     in the topic when Sync was called (read-your-writes for anything
//     published and acknowledged before).
package statusview
