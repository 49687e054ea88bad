package config

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "10B", want: 10},
		{in: "1KB", want: 1000},
		{in: "1KiB", want: 1024},
		{in: "4MB", want: 4_000_000},
		{in: "4MiB", want: 4 << 20},
		{in: "2GB", want: 2_000_000_000},
		{in: "2GiB", want: 2 << 30},
		{in: " 3 mib ", want: 3 << 20},
		{in: "5kb", want: 5000},
		{in: "", wantErr: "want an integer"},
		{in: "MiB", wantErr: "want an integer"},
		{in: "-1", wantErr: "want an integer"},
		{in: "1.5GiB", wantErr: `unknown unit ".5GiB"`},
		{in: "4XB", wantErr: `unknown unit "XB"`},
		{in: "9223372036854775807B", want: 1<<63 - 1},
		{in: "9223372036854775807KB", wantErr: "overflows int64"},
		{in: "99999999999999999999", wantErr: "value out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseByteSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseByteSize(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseByteSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestByteSizeString(t *testing.T) {
	tests := []struct {
		in   ByteSize
		want string
	}{
		{0, "0"}, {1, "1B"}, {1000, "1KB"}, {1024, "1KiB"}, {1500, "1500B"}, {1536, "1536B"},
		{4 << 20, "4MiB"}, {3_000_000, "3MB"}, {256 << 20, "256MiB"}, {1 << 30, "1GiB"}, {2048 * 1000, "2000KiB"}, {2_000_000_000, "2GB"}, {7 << 40, "7168GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("%d.String() = %q, want %q", int64(tt.in), got, tt.want)
			}
			back, err := ParseByteSize(tt.in.String())
			if err != nil || back != tt.in {
				t.Errorf("round trip %d -> %q -> %d, %v", int64(tt.in), tt.in.String(), back, err)
			}
		})
	}
}

func TestByteSizeText(t *testing.T) {
	var v struct{ Size ByteSize }
	if err := json.Unmarshal([]byte(`{"Size":"64KiB"}`), &v); err != nil || v.Size != 64<<10 {
		t.Fatalf("UnmarshalText via JSON: %d, %v", v.Size, err)
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"Size":"64KiB"}` {
		t.Fatalf("MarshalText via JSON: %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"Size":"64 lots"}`), &v); err == nil {
		t.Fatal("UnmarshalText accepted an unknown unit")
	}
}

// FuzzParseByteSize checks that any accepted size formats back to itself
// and that parsing never panics.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"0", "1", "4MiB", "2 GB", "1kb", "9223372036854775807", "-1", "1.5GiB", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseByteSize(s)
		if err != nil {
			return
		}
		if b < 0 {
			t.Fatalf("ParseByteSize(%q) = %d, negative", s, b)
		}
		back, err := ParseByteSize(b.String())
		if err != nil || back != b {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, b, b.String(), back, err)
		}
	})
}
