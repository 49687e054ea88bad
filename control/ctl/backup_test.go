package ctl

import (
	"io"
	"regexp"
	"strings"
	"testing"
)

func TestParseBackupSend(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantValue string // exact JSON; "" to skip
		wantID    string // regexp
		wait      bool
		wantErr   string
	}{
		{name: "backup", args: []string{"backup", "movies", "--id", "b1", "--wait"},
			wantValue: `{"id":"b1","type":"backup","collection":"movies"}`, wantID: "^b1$", wait: true},
		{name: "backup with a backup id", args: []string{"backup", "--backup-id", "nightly-1", "movies"},
			wantValue: `^{"id":"backup-movies-[0-9a-f]{8}","type":"backup","collection":"movies","params":{"backup_id":"nightly-1"}}$`, wantID: `^backup-movies-[0-9a-f]{8}$`},
		{name: "backup-storage", args: []string{"backup-storage", "--id", "s1"},
			wantValue: `{"id":"s1","type":"backup_storage"}`, wantID: "^s1$"},
		{name: "backups always waits", args: []string{"backups", "movies", "--id", "l1"},
			wantValue: `{"id":"l1","type":"list_backups","collection":"movies"}`, wantID: "^l1$", wait: true},
		{name: "backups of storage", args: []string{"backups", "--id", "l2"},
			wantValue: `{"id":"l2","type":"list_backups"}`, wantID: "^l2$", wait: true},
		{name: "restore with everything", args: []string{"restore", "movies", "--backup", "b1", "--into", "movies_v2", "--alias", "movies_live", "--replay", "--overwrite", "--id", "r1"},
			wantValue: `{"id":"r1","type":"restore","collection":"movies","params":{"backup_id":"b1","target":"movies_v2","alias":"movies_live","replay":true,"overwrite":true}}`, wantID: "^r1$"},
		{name: "restore until", args: []string{"restore", "movies", "--into", "pit", "--replay", "--until", "2026-11-29T06:00:00Z", "--id", "r2"},
			wantValue: `{"id":"r2","type":"restore","collection":"movies","params":{"target":"pit","replay":true,"until":"2026-11-29T06:00:00Z"}}`, wantID: "^r2$"},
		{name: "prune", args: []string{"prune", "movies", "--keep-last", "3", "--max-age", "168h", "--dry-run", "--id", "p1"},
			wantValue: `{"id":"p1","type":"prune_backups","collection":"movies","params":{"keep_last":3,"max_age":"168h0m0s","dry_run":true}}`, wantID: "^p1$"},
		{name: "until without replay is checked locally", args: []string{"restore", "movies", "--until", "2026-11-29T06:00:00Z"}, wantErr: "until needs replay"},
		{name: "bad until", args: []string{"restore", "movies", "--replay", "--until", "yesterday"}, wantErr: "--until: want an RFC 3339 time"},
		{name: "bad backup id", args: []string{"backup", "movies", "--backup-id", "a/b"}, wantErr: "backup id"},
		{name: "bad method", args: []string{"restore", "movies", "--method", "ftp"}, wantErr: "method"},
		{name: "backup needs a collection", args: []string{"backup"}, wantErr: "takes 1 argument(s), got 0"},
		{name: "backup-storage takes none", args: []string{"backup-storage", "movies"}, wantErr: "takes 0 argument(s), got 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := parseBackupSend(tc.args[0], tc.args[1:], io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantValue != "" {
				if strings.HasPrefix(tc.wantValue, "^") {
					if !regexp.MustCompile(tc.wantValue).Match(req.value) {
						t.Errorf("value %s does not match %s", req.value, tc.wantValue)
					}
				} else if string(req.value) != tc.wantValue {
					t.Errorf("value\n got %s\nwant %s", req.value, tc.wantValue)
				}
			}
			if !regexp.MustCompile(tc.wantID).MatchString(req.cmd.ID) {
				t.Errorf("id %q does not match %s", req.cmd.ID, tc.wantID)
			}
			if req.wait != tc.wait {
				t.Errorf("wait = %v, want %v", req.wait, tc.wait)
			}
		})
	}
}
