package schemas

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// denseRecord is a record with an unnamed vector of dim typical embedding
// values, printed as Go prints a float32 (at most 9 digits), and a
// three-field payload.
func denseRecord(dim int) []byte { return denseRecordFormat(dim, "%.9g") }

// widenedRecord is denseRecord with the components printed as JavaScript
// and Python print a float32 widened to float64 (up to 17 digits).
func widenedRecord(dim int) []byte { return denseRecordFormat(dim, "widened") }

func denseRecordFormat(dim int, format string) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString(`{"id": 123456, "vector": [`)
	for i := range dim {
		if i > 0 {
			b.WriteString(", ")
		}
		x := float32(r.NormFloat64() * 0.1)
		if format == "widened" {
			b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 64))
		} else {
			fmt.Fprintf(&b, format, x)
		}
	}
	b.WriteString(`], "payload": {"title": "Alien", "year": 1979, "genres": "sci-fi"}}`)
	return []byte(b.String())
}

// namedRecord is a record with a named dim-128 dense vector and a named
// sparse vector of 32 entries.
func namedRecord() []byte {
	r := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString(`{"id": "6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69", "vector": {"image": [`)
	for i := range 128 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%.9g", float32(r.NormFloat64()*0.1))
	}
	b.WriteString(`], "text": {"indices": [`)
	for i := range 32 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%d", i*37+5)
	}
	b.WriteString(`], "values": [`)
	for i := range 32 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%.6g", r.Float32())
	}
	b.WriteString(`]}}, "payload": {"lang": "en"}}`)
	return []byte(b.String())
}

// BenchmarkDecode measures the hot path; SetBytes makes MB/s the value
// throughput and records/s is 1e9 / ns/op.
func BenchmarkDecode(b *testing.B) {
	cases := []struct {
		name       string
		key, value []byte
	}{
		{"dense128_payload3", []byte("123456"), denseRecord(128)},
		{"dense128_17digits_payload3", []byte("123456"), widenedRecord(128)},
		{"named_dense128_sparse32", nil, namedRecord()},
		{"tombstone", []byte("123456"), nil},
		{"tombstone_string_key", []byte("user-7f3a9c"), nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			d := NewDecoder(DecoderConfig{})
			if _, err := d.Decode(c.key, c.value); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.key) + len(c.value)))
			for b.Loop() {
				if _, err := d.Decode(c.key, c.value); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
