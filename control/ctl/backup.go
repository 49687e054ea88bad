package ctl

import (
	"io"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// The backup commands of ctl: backup, backup-storage, backups (list),
// restore and prune. Each builds its command, checks it as the runner will
// and sends it like the other sending commands (--id, --wait, --timeout,
// --output); backups always waits, since its result is the point.

// parseBackupSend turns the arguments of a backup command into the record
// to send. It does no I/O.
func parseBackupSend(name string, args []string, stderr io.Writer) (sendRequest, error) {
	fs := newFlagSet("ctl "+name, stderr)
	f := newSendFlags(fs, "with --wait: give up after this long (exit 3)")
	var backupID, into, alias, until, method string
	var replay, overwrite, dryRun bool
	var keepLast uintFlag
	var maxAge durationFlag
	switch name {
	case "backup", "backup-storage":
		fs.StringVar(&backupID, "backup-id", "", "name of the backup in the store (default: the command id)")
	case "restore":
		fs.StringVar(&backupID, "backup", "", "backup id to restore (default: the newest complete one; with --until the newest before it)")
		fs.StringVar(&into, "into", "", "collection to restore into (default: COLLECTION itself)")
		fs.StringVar(&alias, "alias", "", "alias switched to the restored collection at the end")
		fs.BoolVar(&replay, "replay", false, "re-apply the records from the backup's offsets until caught up with the data group")
		fs.StringVar(&until, "until", "", "with --replay: stop at this time (RFC 3339): a point-in-time restore")
		fs.BoolVar(&overwrite, "overwrite", false, "allow restoring into an existing collection")
		fs.StringVar(&method, "method", "", "upload (default) or recover_url (Qdrant fetches a presigned URL)")
	case "prune":
		fs.Var(&keepLast, "keep-last", "keep the newest N complete backups (default: backup.retention.keep_last)")
		fs.Var(&maxAge, "max-age", "delete complete backups older than this (default: backup.retention.max_age)")
		fs.BoolVar(&dryRun, "dry-run", false, "report what would be deleted; delete nothing")
	}
	pos, req, err := f.parse(fs, name, args)
	if err != nil {
		return sendRequest{}, err
	}
	req.wait = req.wait || name == "backups" // its result is the point
	want := 1
	switch name {
	case "backup-storage":
		want = 0
	case "backups":
		if len(pos) == 0 {
			want = 0
		}
	}
	if len(pos) != want {
		return sendRequest{}, usageErrorf("ctl %s takes %d argument(s), got %d (see kafka-qdrant ctl --help)", name, want, len(pos))
	}
	var cmd schemas.Command
	var params any
	switch name {
	case "backup":
		cmd = schemas.Command{Type: schemas.CommandBackup, Collection: pos[0]}
		params = schemas.BackupParams{BackupID: backupID}
	case "backup-storage":
		cmd = schemas.Command{Type: schemas.CommandBackupStorage}
		params = schemas.BackupParams{BackupID: backupID}
	case "backups":
		cmd = schemas.Command{Type: schemas.CommandListBackups}
		if len(pos) == 1 {
			cmd.Collection = pos[0]
		}
	case "restore":
		cmd = schemas.Command{Type: schemas.CommandRestore, Collection: pos[0]}
		p := schemas.RestoreParams{BackupID: backupID, Target: into, Alias: alias, Replay: replay, Overwrite: overwrite, Method: method}
		if until != "" {
			t, err := time.Parse(time.RFC3339, until)
			if err != nil {
				return sendRequest{}, usageErrorf("--until: want an RFC 3339 time such as 2026-11-29T06:00:00Z, got %q", until)
			}
			p.Until = &t
		}
		params = p
	case "prune":
		cmd = schemas.Command{Type: schemas.CommandPruneBackups, Collection: pos[0]}
		var p schemas.PruneBackupsParams
		if keepLast.set {
			n := int(keepLast.v)
			p.KeepLast = &n
		}
		if maxAge.set {
			d := schemas.Duration(maxAge.d)
			p.MaxAge = &d
		}
		p.DryRun = dryRun
		params = p
	}
	if params != nil {
		if b := mustJSON(params); string(b) != "{}" {
			cmd.Params = b
		}
	}
	req.cmd = cmd
	return req.encode(f.id)
}
