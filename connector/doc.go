// Package connector is the Kafka side of kafka-qdrant: one member of the
// data consumer group, with an ordered pipeline per assigned partition.
//
// Where a record goes:
//
//	kgo poll ──dispatch──▶ partition queue ──nextBatch (Take)──▶ flight ─▶ process:
//	    decode (schemas.FormatDecoder of the topic's format; retried while
//	      the Schema Registry cannot be asked) → route (router) → Sink.Check
//	    → launch a piece (waits while a write in flight holds one of its
//	      point ids) ─go─▶ write (Sink.Write per collection: merge,
//	      UpdateBatch wait=true, retry, bisect)
//	    (the next flight is decoded while the earlier ones are written)
//	flights finish in offset order (finishFlights):
//	    → bad records to the DLQ (deadLetter: ProduceSync, acked; cut to
//	      the DLQ topic's max.message.bytes when they do not fit)
//	    → Work.Done (the batch's range in the member's tracker)
//	      ──RunCommits / revoke──▶ Kafka
//
// The group member itself (options, tracker, commit loop, revoke and loss
// protocol, Abort, Ready) is internal/groupmember, shared with the
// control plane; this package is its Handler.
//
// Invariants:
//   - A partition has up to batch.max_inflight_per_partition batches in
//     flight (flights: taken, not yet finished), and fewer while they hold
//     half its share of batch.max_inflight_bytes. Two writes in flight at
//     once never hold the same point id (idKeys), so they commute and
//     per-id order is Kafka order. Its commit point (the first offset not
//     yet done, groupmember.Tracker) always means "every record below this
//     offset was applied by Qdrant or acknowledged by the DLQ": flights
//     are finished (dead letters, then the mark) in offset order, each
//     once every piece of it is written, and none after a flight that was
//     abandoned. Nothing is committed past a record that is neither.
//   - Marks are accepted only for owned partitions (the member's tracker,
//     under a mutex). Periodic commits and revoke commits are serialised
//     (the member's commitMu), so no commit for a partition lands after
//     its revoke returned.
//   - On revoke: the worker finishes the batches in flight (bounded by
//     3/4 of kafka.rebalance_timeout, or the drain deadline on shutdown),
//     the marks are committed synchronously, then the callback returns.
//     Queued records that no batch took are dropped; the next owner
//     re-reads them. On loss: workers are cancelled, nothing is committed.
//   - Shutdown is bounded by DrainTimeout (shutdown.timeout) from the
//     moment Run's context ends: the revoke flush ends commitReserve
//     before the deadline, the final commit and LeaveGroup at it, and at
//     the deadline everything still running is cancelled (the member's
//     Abort, after which nothing is committed), so nothing unapplied is
//     committed; closing the client is not waited for past it.
//   - Memory, Kafka bytes: dispatch never blocks; the poll loop stops
//     polling while the replica holds batch.max_inflight_bytes, so it
//     holds at most that plus one fetch response (kafka.fetch_max_bytes of
//     compressed batches).
//   - Memory, decoded records: a partition holds at most its share of
//     batch.max_decoded_bytes (the bound over the partitions assigned)
//     decoded, plus the one record that crosses it (Record.MemBytes,
//     kafka_qdrant_decoded_bytes): past it, it writes what it holds first.
//   - One partition never holds the others hostage: a partition that
//     cannot make progress lets go of its queue (letGoLocked): it drops the
//     records queued behind its batch, releases their bytes and drops what
//     is still dispatched to it, so it holds no more than its flights. Nothing past its mark is committed, so nothing is lost.
//   - A partition whose oldest flight has been in flight for 5 s (Qdrant
//     unavailable, locked, rate limiting, a collection down) is paused and
//     lets go of its queue. When its last flight finishes, the poll loop
//     sets its fetch position back to the end of the last batch taken (applyRewinds:
//     kgo SetOffsets, under mu so that no revoke interleaves) and resumes
//     it. Pausing is kept for such exceptional states because a resumed
//     partition can wait for a fetch in flight (up to
//     kafka.fetch_max_wait), and a rewind refetches what the client had
//     buffered. One pauser owns every pause so independent reasons do not
//     resume each other.
//   - Without kafka.dlq_topic, a bad record stops its partition: the
//     offsets before it are committed, the record is never skipped, the
//     partition stays paused with its queue let go, and Ready reports it.
//     Whoever owns the partition next reads it again from the commit.
//   - The lag gauge of a partition follows the high watermark of every
//     fetch and, while the partition is paused (stalled, stopped or held
//     by a data pause), of a ListOffsets every second (watchStalls), so it
//     keeps moving exactly when a partition makes no progress. Records a
//     data pause holds back are not a stall for Ready; flights that do not
//     finish are.
//   - A record is never dead-lettered because the Schema Registry could
//     not be asked (schemas.UnavailableError): the partition retries its
//     decode with backoff until the registry answers or the partition's
//     context ends, like a write Qdrant cannot take yet (decode).
//   - A DLQ record is never retried unchanged after a permanent produce
//     error (produceActions): MESSAGE_TOO_LARGE makes it go alone, then
//     cut smaller, until the topic takes it. Other produce errors are
//     retried without end, the retry log carrying the table's hint for
//     the operator where it has one. A compacted DLQ topic, which would
//     refuse keyless records for good, ends Run before any record is
//     taken (openDLQ); one whose configuration the replica may not read
//     shows up as INVALID_RECORD, hinted.
//   - Data pauses (datapause.go, Config.Pauses: a restore switching an
//     alias): a partition of a paused topic takes no new batch and is not
//     fetched; once its flights finished, its applied offset is
//     committed with metadata naming the pauses, and every later commit of
//     it carries that metadata until it is released. A newly assigned
//     partition takes no batch until the status view caught up with
//     everything published before (PauseSource.SyncStatus). A pause ends
//     when its source drops it or at its Until.
//
// Lifecycle of a partition worker:
//
//	assigned ─▶ running ─┬─ revoke ─▶ flushing ─▶ committed ─▶ gone
//	                     ├─ lost / hard stop ─▶ cancelled (no commit) ─▶ gone
//	                     ├─ data pause ─▶ held (no batch, fetching paused; commit acknowledges) ─▶ released ─▶ running
//	                     ├─ batch retrying 5 s ─▶ stalled (paused, queue let go)
//	                     │      └─ batch applied ─▶ rewind + resume ─▶ running
//	                     └─ bad record, no DLQ ─▶ stopped (paused, queue let go) ─▶ revoke/lost
package connector
