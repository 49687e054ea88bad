// Package index implements the index_defer and index_build commands, as
// Qdrant v1.18.3 behaves (see internal/qdrantmem/indexing.go for the model
// and its sources).
//
// index_defer prepares a collection for bulk loading: HNSW m=0 (mode
// hnsw_m0, the default: segments are still optimized, but no graph is
// built; vectors with their own hnsw_config m get m=0 too) or the
// optimizer's indexing_threshold=0 (mode threshold0: nothing more is
// indexed, what is indexed stays). Its result records the settings it
// found ("previous"), which is how a later index_build knows what to
// restore.
//
// index_build restores what the pending index_defer (the latest succeeded
// one no succeeded index_build followed) deferred — its mode's setting,
// when still at the deferred value, back to the recorded value — or what
// its params ask for; nothing else. A collection created with m=0 on
// purpose (multitenant, payload_m) is left alone. Then it polls until the
// collection is done, publishing progress: Qdrant's indexed_vectors_count
// (optimized segments only, dense and sparse; no made-up total), points,
// segments, optimizations, update queue.
//
//	save checkpoint ──► restore settings ──► poll ──► idle twice in a row ──► succeeded
//	(deadline)          (ownership check)     ▲  │    (green, optimizer ok, no optimization
//	                                          └──┘     running or queued, update queue empty;
//	                                                   after a settings change: only once seen
//	                                                   busy or Settle passed)
//	   grey  ──► nudge (an empty optimizer update makes Qdrant start)
//	   red   ──► waited out for RedGrace, then failed optimizer_error
//	   timeout passed ──► failed timeout (retryable; Qdrant keeps indexing)
//	   cancel ──► cancelled (Qdrant keeps indexing)
//
// Invariants:
//   - Both handlers are safe to run again for the same command. Before
//     changing anything they save a checkpoint (job.Reporter.Checkpoint):
//     index_defer the settings it found, index_build its deadline; a
//     resumed attempt restores it, so a defer resumed after its change
//     still records the settings found first and a resumed build keeps its
//     deadline. Settings are only written when they differ from the target,
//     and only after an ownership check (job.Token).
//   - Settings updates are asynchronous in Qdrant (the call returns before
//     the optimizers are rebuilt), so idle right after a change is only
//     believed once the collection was seen busy or Options.Settle passed.
//   - Qdrant errors mean what sink's one table says (sink.Classify, and
//     sink.RESTError for REST); what a command does about them is the
//     control plane's one policy, job.QdrantPolicy (its table is in
//     control/job/qdrant.go), applied by caller.do (retry.go).
//     Transient failures (unavailable, deadline, rate limit, a lock) are
//     retried with capped exponential backoff and full jitter, never
//     sooner than Qdrant's retry-after, for up to Options.RetryFor (then
//     failed/unavailable); Internal errors only Options.InternalAttempts
//     times (then a retryable qdrant_error); what only an operator can
//     fix (API key, permission, strict mode, server version) fails at
//     once with a retryable qdrant_error; the rest (collection missing,
//     invalid request) fails at once.
//   - A poll or retry wait never runs past the command's deadline: it is
//     cut to what is left, so the timeout fires at the deadline exactly.
//   - The optimizations endpoint is read in both shapes Qdrant used
//     ({summary, running} since 1.17, {ongoing, pending} in 1.16); a shape
//     it cannot read is an error, never "idle".
package index
