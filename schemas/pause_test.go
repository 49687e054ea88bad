package schemas

import (
	"encoding/json"
	"testing"
	"time"
)

func TestPauseMetadata(t *testing.T) {
	m := PauseMetadata([]string{"a1", "b2"})
	for _, tc := range []struct {
		meta, id string
		want     bool
	}{
		{m, "a1", true},
		{m, "b2", true},
		{m, "a", false},
		{m, "", false},
		{"a1", "a1", false},              // no prefix: kgo's default metadata is the member id
		{PauseMetadataPrefix, "", false}, // no id
	} {
		if got := PauseAcknowledged(tc.meta, tc.id); got != tc.want {
			t.Errorf("PauseAcknowledged(%q, %q) = %v", tc.meta, tc.id, got)
		}
	}
}

func TestPauseOf(t *testing.T) {
	dp := DataPause{ID: "p1", Collection: "movies", Topics: []string{"movies"}, Until: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	data, _ := json.Marshal(map[string]any{"phase": "replay", "pause": dp})
	running := Status{CommandID: "r-1", Type: CommandRestore, State: StateRunning, Progress: &Progress{Data: data}}
	if got, ok := PauseOf(running); !ok || got.ID != "p1" || !got.Until.Equal(dp.Until) || got.Topics[0] != "movies" {
		t.Fatalf("PauseOf(running with a pause) = %+v, %v", got, ok)
	}
	for name, s := range map[string]Status{
		"final":       {State: StateSucceeded, Progress: &Progress{Data: data}},
		"no progress": {State: StateRunning},
		"no pause":    {State: StateRunning, Progress: &Progress{Data: json.RawMessage(`{"phase": "replay"}`)}},
		"not json":    {State: StateRunning, Progress: &Progress{Data: json.RawMessage(`[1]`)}},
		"no id":       {State: StateRunning, Progress: &Progress{Data: json.RawMessage(`{"pause": {"topics": ["t"]}}`)}},
	} {
		if got, ok := PauseOf(s); ok {
			t.Errorf("%s: PauseOf = %+v", name, got)
		}
	}
}
