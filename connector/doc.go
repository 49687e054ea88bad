// Package connector is the Kafka side of kafka-qdrant: one member of the
// data consumer group, with an ordered pipeline per assigned partition.
//
// Where a record goes:
//
//	kgo poll ──dispatch──▶ partition queue ──nextBatch──▶ process:
//	    decode (schemas.Decoder) → route (router) → Sink.Check
//	    → Sink.Write per collection (sink.Writer: merge, UpdateBatch wait=true,
//	      retry, bisect) → bad records to the DLQ (ProduceSync, acked)
//	    → tracker.mark(last offset + 1) ──commitLoop / revoke──▶ Kafka
//
// Invariants:
//   - A partition processes one batch at a time, so its mark always means
//     "every record below this offset was applied by Qdrant or acknowledged
//     by the DLQ". Nothing is committed past a record that is neither.
//   - Marks are accepted only for owned partitions (tracker, under a
//     mutex). Periodic commits and revoke commits are serialised
//     (commitMu), so no commit for a partition lands after its revoke
//     returned.
//   - On revoke: the worker finishes the batch it is writing (bounded by
//     3/4 of kafka.rebalance_timeout, or the drain deadline on shutdown),
//     the marks are committed synchronously, then the callback returns.
//     Queued records that no batch took are dropped; the next owner
//     re-reads them. On loss: workers are cancelled, nothing is committed.
//   - Memory: dispatch never blocks; the poll loop stops polling while the
//     replica holds batch.max_inflight_bytes, so it holds at most that plus
//     one fetch response (kafka.fetch_max_bytes of compressed batches).
//   - A partition whose batch has been retrying for 5 s (Qdrant
//     unavailable, locked, rate limiting) is paused until the batch
//     completes. Pausing is kept for such exceptional states because a
//     resumed partition can wait for a fetch in flight (up to
//     kafka.fetch_max_wait). One pauser owns every pause so independent
//     reasons do not resume each other.
//   - Without kafka.dlq_topic, a bad record stops its partition: the
//     offsets before it are committed, the record is never skipped, the
//     partition stays paused and Ready reports it.
//
// Lifecycle of a partition worker:
//
//	assigned ─▶ running ─┬─ revoke ─▶ flushing ─▶ committed ─▶ gone
//	                     ├─ lost / hard stop ─▶ cancelled (no commit) ─▶ gone
//	                     └─ bad record, no DLQ ─▶ stopped (paused) ─▶ revoke/lost
package connector
