package config

// Secret is a string that never prints: String, logging (slog.LogValuer),
// JSON and text marshalling all show "[redacted]" when it is set.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Reveal returns the secret value, for handing to a client.
func (s Secret) Reveal() string { return string(s) }

// ByteSize is a size in bytes; config accepts plain integers or a number
// with a unit (KB, MB, GB, KiB, MiB, GiB).
type ByteSize int64
