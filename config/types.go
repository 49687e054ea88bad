package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
)

// Secret is a string that never prints: String, every fmt verb (including
// %#v and fields of printed structs), logging (slog.LogValuer), JSON and
// text marshalling all show "[redacted]" when it is set and "" when it is
// empty. Reveal is the only way to read the value.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Reveal returns the secret value, for handing to a client.
func (s Secret) Reveal() string { return string(s) }

// Format implements fmt.Formatter so that no verb (%v, %s, %q, %x, %#v, %d)
// prints the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON implements json.Marshaler: "[redacted]" or "".
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText implements encoding.TextMarshaler (YAML, slog text, map keys):
// "[redacted]" or "".
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ByteSize is a size in bytes; config accepts plain integers or a number
// with a unit (KB, MB, GB, KiB, MiB, GiB). See ParseByteSize.
type ByteSize int64

// Byte size units: decimal (KB = 1000) and binary (KiB = 1024).
const (
	KB  ByteSize = 1000
	MB           = 1000 * KB
	GB           = 1000 * MB
	KiB ByteSize = 1024
	MiB          = 1024 * KiB
	GiB          = 1024 * MiB
)

var byteUnits = []struct {
	name string
	size ByteSize
}{
	{"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
	{"GB", GB}, {"MB", MB}, {"KB", KB},
	{"B", 1},
}

// ParseByteSize parses a non-negative integer with an optional unit, case
// insensitive and optionally separated by spaces: "1048576", "512KiB",
// "4 MB", "1GiB", "10b". KB, MB and GB are powers of 1000; KiB, MiB and GiB
// powers of 1024.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("invalid byte size %q: want an integer with an optional unit (B, KB, KiB, MB, MiB, GB, GiB)", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid byte size %q: %w", s, err)
	}
	mult := ByteSize(1)
	if unit != "" {
		found := false
		for _, u := range byteUnits {
			if strings.EqualFold(unit, u.name) {
				mult, found = u.size, true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("invalid byte size %q: unknown unit %q (want B, KB, KiB, MB, MiB, GB, GiB)", s, unit)
		}
	}
	if n > math.MaxInt64/int64(mult) {
		return 0, fmt.Errorf("invalid byte size %q: overflows int64", s)
	}
	return ByteSize(n) * mult, nil
}

// String formats b with the unit that divides it exactly into the smallest
// number ("4MiB", "2GB", "1500B"); ParseByteSize(b.String()) == b.
func (b ByteSize) String() string {
	if b <= 0 {
		return strconv.FormatInt(int64(b), 10)
	}
	best := byteUnits[len(byteUnits)-1] // "B" divides everything
	for _, u := range byteUnits {
		if b%u.size == 0 && u.size > best.size {
			best = u
		}
	}
	return strconv.FormatInt(int64(b/best.size), 10) + best.name
}

// UnmarshalText implements encoding.TextUnmarshaler using ParseByteSize.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText implements encoding.TextMarshaler using String.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }
