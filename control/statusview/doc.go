// Package statusview keeps an in-memory view of the status topic: the
// latest status event of every command, built by a Follower that reads the
// (compacted) topic from its start at read_committed.
//
// Both the runner and `kafka-qdrant ctl` use it: the runner to know which
// commands already ended (idempotency by id), which were left running by a
// replica that is gone (resume, with their last checkpoint), what the
// pending index_defer of a collection recorded, and what retention may
// tombstone; ctl to show and wait for statuses.
//
//	Follower.Run ─► one reader per partition: raw Fetch (read_committed)
//	    at its own position ─► kgo.ProcessFetchPartition ─► applyLatest ─► View
//	    position = the offset after the last batch read, records or markers,
//	    or the last stable offset when nothing is left below it
//	Follower.Sync ─► ListOffsets (last stable offset) ─► wait until position ≥ it
//
// Invariants:
//   - Events are ordered by their position in the topic, never by their
//     time (replicas' clocks differ): Entry.At, List, LatestFinal.
//   - A final state is sticky: once a command is succeeded, failed or
//     cancelled in the view, later non-final events for it (a stale
//     replica's progress written before fencing existed) do not change its
//     state; a later final event (a re-publication) replaces it.
//   - Follower.Sync returns only after the view holds every committed event
//     that was in the topic when Sync was called (read-your-writes for
//     anything published and acknowledged before). It ends also when the
//     tail holds no records: transaction markers, an aborted transaction,
//     records deleted with DeleteRecords, or a tombstone compacted away.
//   - Only a key's last event of a fetch (and the last final before a later
//     non-final one) is decoded, the others could not change the view:
//     catching up decodes about one event per command.
package statusview
