// Package backup implements the backup commands of the control plane —
// backup, backup_storage, restore, list_backups, prune_backups — and the
// backup schedule. Snapshots come from Qdrant's REST API (sink.SnapshotClient,
// one per node of qdrant.nodes), go to the backup store (package store) and
// back; a manifest (schemas.BackupManifest) written last names a complete
// backup and the Kafka offsets it corresponds to.
//
// # Backup
//
//	collection exists? ─▶ committed offsets of the data group (topics that route to it)
//	  ─▶ nodes holding shards (GET /collections/{c}/cluster on each node)
//	  ─▶ per node: create snapshot ─▶ download ═▶ store.Put (SHA-256 = Qdrant's checksum)
//	                ─▶ delete the node's snapshot
//	  ─▶ end offsets ─▶ collection config ─▶ manifest (conditional create) ─▶ succeeded
//
// The committed offsets are read before the first snapshot and the end
// offsets after the last: replaying from the former re-applies anything a
// snapshot may lack (replay is idempotent), records from the latter on
// are certainly not in it. backup_storage does the same with one
// full-storage snapshot of a single-node Qdrant.
//
// # Restore
//
//	manifest (named, newest, or newest before until) ─▶ target exists? (needs overwrite)
//	  ─▶ per snapshot: store.Get ═▶ Qdrant upload (priority snapshot, checksum) [or presigned URL recover]
//	  ─▶ replay? from the manifest's committed offsets, as the data path decodes and routes,
//	            with its writer, up to: until's offsets | the data group's committed offsets
//	  ─▶ alias? after a replay: DataPath.Pause ─▶ replay to the now exact committed offsets
//	            ─▶ switch (one UpdateAliases) ─▶ resume; without replay: switch
//
// # Invariants
//
//   - A manifest exists only for a backup whose every snapshot object was
//     stored and verified: it is created last, and never overwritten.
//   - Every byte moves as a stream: snapshot ═▶ store and store ═▶ Qdrant
//     pass through a few buffers (the store's part buffers, 24 MiB at
//     most), whatever the snapshot's size.
//   - Each step is checkpointed through the control plane (Checkpoint,
//     acknowledged by Kafka). A command resumed by the next owner skips
//     what is done: no second snapshot of a node whose snapshot still
//     exists, no second upload of a restored snapshot.
//   - Destructive steps (store deletes, node snapshot deletes, a restore,
//     an alias switch, dropping a failed restore's target) check the
//     ownership token first: a replica that lost the command changes
//     nothing.
//   - A failed or cancelled backup removes its objects, unfinished uploads
//     and node snapshots; a failed or cancelled restore removes a target it
//     created (unless the alias already serves it). A handover removes
//     nothing: the next owner resumes.
//   - Prune deletes a backup's manifest before its objects, never the
//     newest complete backup, never a backup without manifest.
//   - Errors end commands with one code each (errors.go): backup_not_found,
//     checksum_mismatch, store_unavailable, target_exists, replay_gap,
//     collection_not_found, qdrant_error, unavailable; transient failures
//     are retried for Options.RetryFor first.
//   - Commands of one collection run one at a time (the runner's
//     per-collection queue); restore queues on its source collection.
package backup
