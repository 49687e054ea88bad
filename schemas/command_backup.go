package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"
)

// BackupParams are the params of backup and backup_storage.
type BackupParams struct {
	// BackupID names the backup in the store; default: BackupIDFor(the
	// command id), so a re-sent or resumed command writes the same backup.
	BackupID string `json:"backup_id,omitempty"`
}

// BackupParamsOf decodes and validates the params of a backup or
// backup_storage command; BackupID is defaulted. Errors are *CommandError
// (ErrInvalidParameters).
func BackupParamsOf(c Command) (BackupParams, error) {
	var p BackupParams
	if err := c.DecodeParams(&p); err != nil {
		return p, err
	}
	if p.BackupID == "" {
		p.BackupID = BackupIDFor(c.ID)
	} else if err := CheckBackupID(p.BackupID); err != nil {
		return p, commandErrorf(ErrInvalidParameters, "%s params: %v", c.Type, err)
	}
	return p, nil
}

var notBackupIDChar = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// BackupIDFor derives a backup id from a command id: the id itself when it
// is a valid backup id, else its letters, digits, '.', '_' and '-' (runs
// of other characters become '-') followed by 8 hex digits of its SHA-256,
// so different command ids never share a backup id.
func BackupIDFor(commandID string) string {
	if CheckBackupID(commandID) == nil {
		return commandID
	}
	sum := sha256.Sum256([]byte(commandID))
	base := strings.Trim(notBackupIDChar.ReplaceAllString(commandID, "-"), "-._")
	if len(base) > 110 {
		base = base[:110]
	}
	if base == "" {
		base = "backup"
	}
	return base + "-" + hex.EncodeToString(sum[:4])
}

// Restore methods (RestoreParams.Method).
const (
	// RestoreUpload streams each snapshot from the store to Qdrant's
	// upload endpoint (the default; works wherever the connector reaches
	// Qdrant).
	RestoreUpload = "upload"
	// RestoreRecoverURL gives Qdrant a presigned URL of each snapshot
	// (s3 stores only) and lets Qdrant fetch it: no bytes pass through the
	// connector, but Qdrant must reach the store and allow URL recovery.
	RestoreRecoverURL = "recover_url"
)

// RestoreParams are the params of restore.
type RestoreParams struct {
	// BackupID is the backup to restore; default: the newest complete
	// backup of the collection.
	BackupID string `json:"backup_id,omitempty"`
	// Target is the collection to restore into; default: the command's
	// collection.
	Target string `json:"target,omitempty"`
	// Alias, when set, is switched to Target at the end, atomically.
	Alias string `json:"alias,omitempty"`
	// Replay re-applies the collection's records from the backup's
	// offsets, until Target has caught up with the data group (or, with
	// Until, up to that time).
	Replay bool `json:"replay,omitempty"`
	// Until stops the replay at the first record at or after this time
	// (RFC 3339): a point-in-time restore. Needs Replay.
	Until *time.Time `json:"until,omitempty"`
	// Overwrite allows restoring into a collection that exists (and was
	// not created by this restore).
	Overwrite bool `json:"overwrite,omitempty"`
	// Method is RestoreUpload (default) or RestoreRecoverURL.
	Method string `json:"method,omitempty"`
}

// RestoreParamsOf decodes and validates the params of a restore command;
// Target and Method are defaulted. Errors are *CommandError
// (ErrInvalidParameters).
func RestoreParamsOf(c Command) (RestoreParams, error) {
	var p RestoreParams
	if err := c.DecodeParams(&p); err != nil {
		return p, err
	}
	if p.Target == "" {
		p.Target = c.Collection
	}
	if p.Method == "" {
		p.Method = RestoreUpload
	}
	switch {
	case p.BackupID != "" && CheckBackupID(p.BackupID) != nil:
		return p, commandErrorf(ErrInvalidParameters, "restore params: %v", CheckBackupID(p.BackupID))
	case p.Method != RestoreUpload && p.Method != RestoreRecoverURL:
		return p, commandErrorf(ErrInvalidParameters, "restore params: method %q is not %q or %q", p.Method, RestoreUpload, RestoreRecoverURL)
	case p.Until != nil && !p.Replay:
		return p, commandErrorf(ErrInvalidParameters, "restore params: until needs replay: true")
	case p.Until != nil && p.Alias != "":
		return p, commandErrorf(ErrInvalidParameters, "restore params: until and alias exclude each other (the alias would serve a collection that stops at until while records keep arriving)")
	case p.Alias != "" && p.Alias == p.Target:
		return p, commandErrorf(ErrInvalidParameters, "restore params: alias %q names the target collection itself", p.Alias)
	case badCollectionName(p.Target):
		return p, commandErrorf(ErrInvalidParameters, "restore params: target %q is not a valid collection name", p.Target)
	case p.Alias != "" && badCollectionName(p.Alias):
		return p, commandErrorf(ErrInvalidParameters, "restore params: alias %q is not a valid collection name", p.Alias)
	}
	return p, nil
}

// badCollectionName applies Qdrant's rule for new collection names: 1 to
// 255 bytes, none of < > : " / \ | ? * and no control characters.
func badCollectionName(name string) bool {
	return name == "" || len(name) > 255 || strings.ContainsAny(name, "<>:\"/\\|?*\x00\x1f")
}

// ListBackupsParams are the params of list_backups (none so far).
type ListBackupsParams struct{}

// ListBackupsParamsOf decodes the params of a list_backups command.
func ListBackupsParamsOf(c Command) (ListBackupsParams, error) {
	var p ListBackupsParams
	return p, c.DecodeParams(&p)
}

// PruneBackupsParams are the params of prune_backups; unset bounds come
// from backup.retention.
type PruneBackupsParams struct {
	// KeepLast keeps the newest n complete backups (0: no bound).
	KeepLast *int `json:"keep_last,omitempty"`
	// MaxAge deletes complete backups older than this (0: no bound).
	MaxAge *Duration `json:"max_age,omitempty"`
	// DryRun reports what would be deleted and deletes nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// PruneBackupsParamsOf decodes and validates the params of a
// prune_backups command.
func PruneBackupsParamsOf(c Command) (PruneBackupsParams, error) {
	var p PruneBackupsParams
	if err := c.DecodeParams(&p); err != nil {
		return p, err
	}
	switch {
	case p.KeepLast != nil && *p.KeepLast < 0:
		return p, commandErrorf(ErrInvalidParameters, "prune_backups params: keep_last must be >= 0, got %d", *p.KeepLast)
	case p.MaxAge != nil && *p.MaxAge < 0:
		return p, commandErrorf(ErrInvalidParameters, "prune_backups params: max_age must not be negative, got %s", *p.MaxAge)
	}
	return p, nil
}
