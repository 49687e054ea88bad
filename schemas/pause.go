package schemas

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// DataPause asks every replica of the data group to stop applying records
// of Topics — a restore publishes it to switch an alias with nothing lost:
// each replica finishes the batch it is writing, applies nothing more of
// those topics and commits what it applied with commit metadata naming
// the pause (PauseMetadata), so that once every partition's committed
// offset carries it the group's committed offsets are exactly what was
// applied. The pause ends when the command's latest status event no
// longer carries it (a later progress event, a final state, another
// attempt's first event) or at Until, whichever comes first: a restore
// that died cannot leave the data path paused.
//
// It travels as the "pause" member of Progress.Data of the command's
// running status events (PauseOf reads it back).
type DataPause struct {
	// ID names this pause (one attempt of one command): commit metadata
	// carries it.
	ID string `json:"id"`
	// Collection is the collection the restore switches.
	Collection string `json:"collection"`
	// Topics are the topics whose records may go to Collection
	// (config.Routing.MayRoute): their partitions pause.
	Topics []string `json:"topics"`
	// Until is when the pause lapses whatever happens.
	Until time.Time `json:"until"`
}

// PauseMetadataPrefix starts the commit metadata of a partition paused by
// data pauses: "kq-pause:" and their ids, comma-separated.
const PauseMetadataPrefix = "kq-pause:"

// PauseMetadata is the commit metadata acknowledging the pauses ids (in
// the order given).
func PauseMetadata(ids []string) string {
	return PauseMetadataPrefix + strings.Join(ids, ",")
}

// PauseAcknowledged reports whether commit metadata acknowledges pause id.
func PauseAcknowledged(metadata, id string) bool {
	rest, ok := strings.CutPrefix(metadata, PauseMetadataPrefix)
	return ok && id != "" && slices.Contains(strings.Split(rest, ","), id)
}

// PauseOf returns the data pause a status event carries: a running event
// whose progress data has a "pause" member.
func PauseOf(s Status) (DataPause, bool) {
	if s.State != StateRunning || s.Progress == nil || len(s.Progress.Data) == 0 {
		return DataPause{}, false
	}
	var d struct {
		Pause *DataPause `json:"pause"`
	}
	if err := json.Unmarshal(s.Progress.Data, &d); err != nil || d.Pause == nil || d.Pause.ID == "" {
		return DataPause{}, false
	}
	return *d.Pause, true
}
