package schemas

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// payloadHeavyRecord is a record whose payload is n small fields, the
// shape that grows most when decoded.
func payloadHeavyRecord(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"id": 7, "vector": [1, 2, 3, 4], "payload": {`)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if i%2 == 0 {
			fmt.Fprintf(&b, `"f%d": %d`, i, i)
		} else {
			fmt.Fprintf(&b, `"f%d": "v%d"`, i, i%7)
		}
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

// TestMemBytesEstimate: Record.MemBytes is within 30% of the heap the
// decoded records really hold, for every shape of record, a payload of
// 200 small fields included.
func TestMemBytesEstimate(t *testing.T) {
	cases := []struct {
		name  string
		key   []byte
		value []byte
	}{
		{"dense128_payload3", []byte("123456"), denseRecord(128)},
		{"named_dense128_sparse32", nil, namedRecord()},
		{"payload_200_small_fields", nil, payloadHeavyRecord(200)},
		{"multi_vector", []byte("user-1"), []byte(`{"vector": [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], "payload": {"tags": ["a", "b", "c"], "o": {"p": [1, 2.5, null, true]}}}`)},
		{"long_strings", []byte("k"), []byte(`{"id": "6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69", "vector": [1], "payload": {"text": "` + strings.Repeat("lorem ipsum ", 200) + `"}}`)},
		{"tombstone", []byte("user-7f3a9c"), nil},
	}
	const n = 2000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(DecoderConfig{})
			if _, err := d.Decode(c.key, c.value); err != nil { // scratch and interned names
				t.Fatal(err)
			}
			recs := make([]Record, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var est int
			for i := range recs {
				rec, err := d.Decode(c.key, c.value)
				if err != nil {
					t.Fatal(err)
				}
				recs[i] = rec
				est += rec.MemBytes
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			held := int(after.HeapAlloc) - int(before.HeapAlloc)
			runtime.KeepAlive(recs)
			ratio := float64(est) / float64(held)
			t.Logf("%s: %d wire bytes, MemBytes %d, held %d per record (estimate/held %.2f)",
				c.name, len(c.key)+len(c.value), est/n, held/n, ratio)
			if ratio < 0.7 || ratio > 1.3 {
				t.Errorf("MemBytes estimates %d bytes per record, the records hold %d", est/n, held/n)
			}
		})
	}
}

// TestMemBytesTypedFormats: Record.MemBytes is as close to the heap held
// for the typed formats, which build the same Qdrant types in the same
// slabs.
func TestMemBytesTypedFormats(t *testing.T) {
	values := benchValues(t)
	cache := NewSchemaCache(benchRegistry(t), DecoderConfig{})
	corpus := NewSchemaCache(newCorpusRegistry(t), DecoderConfig{})
	cases := []struct {
		name  string
		f     Format
		cache *SchemaCache
		value []byte
	}{
		{"protobuf_dense128", FormatProtobuf, nil, values["protobuf"]},
		{"avro_dense128", FormatRegistry, cache, values["registry_avro"]},
		{"user_protobuf_dense128", FormatRegistry, cache, values["registry_protobuf"]},
		{"protobuf_named", FormatProtobuf, nil, readCorpus(t, "named.pb")},
		{"avro_named", FormatRegistry, corpus, readCorpus(t, "named.avro.bin")},
		{"user_protobuf_multi", FormatRegistry, corpus, readCorpus(t, "multi.userpb.bin")},
	}
	const n = 2000
	key := []byte("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewFormatDecoder(c.f, DecoderConfig{}, c.cache)
			ctx := context.Background()
			if _, err := d.Decode(ctx, key, c.value); err != nil {
				t.Fatal(err)
			}
			recs := make([]Record, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var est int
			for i := range recs {
				rec, err := d.Decode(ctx, key, c.value)
				if err != nil {
					t.Fatal(err)
				}
				recs[i] = rec
				est += rec.MemBytes
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			held := int(after.HeapAlloc) - int(before.HeapAlloc)
			runtime.KeepAlive(recs)
			ratio := float64(est) / float64(held)
			t.Logf("%s: %d wire bytes, MemBytes %d, held %d per record (estimate/held %.2f)",
				c.name, len(c.value), est/n, held/n, ratio)
			if ratio < 0.7 || ratio > 1.3 {
				t.Errorf("MemBytes estimates %d bytes per record, the records hold %d", est/n, held/n)
			}
		})
	}
}
