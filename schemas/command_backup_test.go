package schemas

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestBackupCommandSchemaMatchesTypes(t *testing.T) {
	s := loadSchema(t, "command.v1.schema.json")
	for def, v := range map[string]any{
		"backup_params": BackupParams{}, "restore_params": RestoreParams{},
		"list_backups_params": ListBackupsParams{}, "prune_backups_params": PruneBackupsParams{},
	} {
		if got, want := keys(at(t, s, "$defs", def, "properties")), jsonFields(v); !slices.Equal(got, want) {
			t.Errorf("%s = %v, Go fields = %v", def, got, want)
		}
	}
	if got, want := strs(t, at(t, s, "$defs", "restore_params", "properties", "method", "enum")), []string{RestoreRecoverURL, RestoreUpload}; !slices.Equal(got, want) {
		t.Errorf("method enum = %v, want %v", got, want)
	}
	if got := at(t, s, "$defs", "backup_params", "properties", "backup_id", "pattern").(string); got != backupIDPattern.String() {
		t.Errorf("backup_id pattern = %s, want %s", got, backupIDPattern)
	}
	refs := map[string]string{}
	for _, r := range at(t, s, "allOf").([]any) {
		rule := r.(map[string]any)
		ct, ok := at(t, rule, "if", "properties", "type").(map[string]any)["const"].(string)
		if !ok {
			continue
		}
		if then, ok := rule["then"].(map[string]any)["properties"]; ok {
			refs[ct] = then.(map[string]any)["params"].(map[string]any)["$ref"].(string)
		}
	}
	for ct, def := range map[string]string{"backup": "backup_params", "backup_storage": "backup_params", "restore": "restore_params", "list_backups": "list_backups_params", "prune_backups": "prune_backups_params"} {
		if refs[ct] != "#/$defs/"+def {
			t.Errorf("params of %s refer to %q, want %s", ct, refs[ct], def)
		}
	}
	for i, ex := range at(t, s, "examples").([]any) {
		b, _ := json.Marshal(ex)
		c, err := DecodeCommand(nil, b)
		if err != nil {
			t.Fatalf("example %d: %v", i, err)
		}
		switch c.Type {
		case CommandBackup, CommandBackupStorage:
			_, err = BackupParamsOf(c)
		case CommandRestore:
			_, err = RestoreParamsOf(c)
		case CommandPruneBackups:
			_, err = PruneBackupsParamsOf(c)
		}
		if err != nil {
			t.Errorf("example %d params: %v", i, err)
		}
	}
}

func TestBackupIDFor(t *testing.T) {
	if got := BackupIDFor("backup-movies-1"); got != "backup-movies-1" {
		t.Errorf("a valid id changed: %q", got)
	}
	for id, prefix := range map[string]string{"ops/backup:movies@2026": "ops-backup-movies-2026-", "/:@": "backup-"} {
		got := BackupIDFor(id)
		if CheckBackupID(got) != nil || !strings.HasPrefix(got, prefix) || len(got) != len(prefix)+8 {
			t.Errorf("BackupIDFor(%q) = %q, want a valid id: %q and 8 hex digits", id, got, prefix)
		}
	}
	if BackupIDFor("a/b") == BackupIDFor("a:b") {
		t.Error("different command ids share a backup id")
	}
	long := strings.Repeat("x/", 150)
	if err := CheckBackupID(BackupIDFor(long)); err != nil {
		t.Error(err)
	}
}

func TestRestoreParams(t *testing.T) {
	cmd := func(params string) Command {
		return Command{ID: "r", Type: CommandRestore, Collection: "movies", Params: json.RawMessage(params)}
	}
	p, err := RestoreParamsOf(cmd(`{}`))
	if err != nil || p.Target != "movies" || p.Method != RestoreUpload {
		t.Fatalf("defaults: %+v, %v", p, err)
	}
	p, err = RestoreParamsOf(cmd(`{"replay": true, "until": "2026-11-29T06:00:00+01:00", "target": "m2"}`))
	if err != nil || p.Until.UTC().Hour() != 5 {
		t.Fatalf("until: %+v, %v", p, err)
	}
	for params, want := range map[string]string{
		`{"until": "2026-11-29T06:00:00Z"}`:                               "until needs replay",
		`{"replay": true, "until": "2026-11-29T06:00:00Z", "alias": "a"}`: "exclude each other",
		`{"until": "yesterday", "replay": true}`:                          "params",
		`{"method": "ftp"}`:                                               "method",
		`{"alias": "movies"}`:                                             "names the target",
		`{"target": "a:b"}`:                                               "not a valid collection name",
		`{"backup_id": "a/b"}`:                                            "backup id",
		`{"bogus": 1}`:                                                    "bogus",
	} {
		if _, err := RestoreParamsOf(cmd(params)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", params, err, want)
		}
	}
	if _, err := PruneBackupsParamsOf(Command{Type: CommandPruneBackups, Params: json.RawMessage(`{"keep_last": -1}`)}); err == nil {
		t.Error("keep_last -1 accepted")
	}
}
