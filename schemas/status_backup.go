package schemas

// Error codes of backup, backup_storage, restore, list_backups and
// prune_backups (StatusError.Code), part of ErrorCodes.
const (
	// ErrBackupNotFound: the named backup (or any complete backup of the
	// collection) is not in the store.
	ErrBackupNotFound = "backup_not_found"
	// ErrChecksumMismatch: bytes read from Qdrant or the store differ from
	// the SHA-256 they must have (a corrupt or truncated object).
	ErrChecksumMismatch = "checksum_mismatch"
	// ErrStoreUnavailable: the backup store cannot be reached or refuses
	// access (network, credentials, missing bucket).
	ErrStoreUnavailable = "store_unavailable"
	// ErrTargetExists: a restore's target collection exists and
	// overwrite is not set.
	ErrTargetExists = "target_exists"
	// ErrReplayGap: a replay must start at an offset Kafka no longer
	// holds (deleted by retention), so the topic cannot be replayed.
	ErrReplayGap = "replay_gap"
)
