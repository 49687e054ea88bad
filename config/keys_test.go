package config

import (
	"slices"
	"strings"
	"testing"
)

func TestKeys(t *testing.T) {
	keys := Keys()
	if len(keys) != len(leafKeys()) {
		t.Fatalf("Keys() has %d keys, the schema %d", len(keys), len(leafKeys()))
	}
	if !slices.IsSortedFunc(keys, func(a, b Key) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Keys() is not sorted by name")
	}
	want := map[string]KeyKind{
		"kafka.brokers":               KindList,
		"kafka.group":                 KindString,
		"kafka.sasl.password":         KindSecret,
		"qdrant.api_key":              KindSecret,
		"backup.s3.secret_access_key": KindSecret,
		"qdrant.fencing":              KindBool,
		"batch.max_records":           KindInt,
		"batch.linger":                KindDuration,
		"batch.max_bytes":             KindByteSize,
		"routing.topics":              KindMap,
		"control.auth.keys":           KindSecretMap,
		"control.auth.commands":       KindMap,
		"control.auth.window":         KindDuration,
	}
	got := make(map[string]KeyKind, len(keys))
	for _, k := range keys {
		got[k.Name] = k.Kind
	}
	for name, kind := range want {
		if got[name] != kind {
			t.Errorf("Keys()[%s] = %q, want %q", name, got[name], kind)
		}
	}
}
