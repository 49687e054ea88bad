package schemas

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

func TestPointIDNamespace(t *testing.T) {
	// The namespace is part of the data contract: pin its value.
	const want = "0addd6a9-f233-5ed4-88ad-e96b8177b08f" // Python: uuid.uuid5(uuid.NAMESPACE_URL, ...)
	if got := PointIDNamespace.String(); got != want {
		t.Fatalf("PointIDNamespace = %s, want %s; changing it orphans every string-id point", got, want)
	}
	if got := uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/seed-a550a1ef/kafka-qdrant/point-id")); got != PointIDNamespace {
		t.Fatalf("PointIDNamespace is not derived as documented: %s", got)
	}
}

func TestPointID(t *testing.T) {
	cases := []struct {
		in   string
		want *qdrant.PointId
	}{
		{"0", qdrant.NewIDNum(0)},
		{"42", qdrant.NewIDNum(42)},
		{"0042", qdrant.NewIDNum(42)},
		{"18446744073709551615", qdrant.NewIDNum(math.MaxUint64)},
		{"18446744073709551616", v5("18446744073709551616")},
		{"99999999999999999999", v5("99999999999999999999")},
		{"-1", v5("-1")},
		{"+1", v5("+1")},
		{"1.0", v5("1.0")},
		{" 1", v5(" 1")},
		{"", v5("")},
		{"6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69", qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69")},
		{"6F1C1B2E-4A8D-4C1E-9B6E-2F0D3C4B5A69", qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69")},
		{"{6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69}", qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69")},
		{"URN:UUID:6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69", qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69")},
		{"6f1c1b2e4a8d4c1e9b6e2f0d3c4b5a69", qdrant.NewIDUUID("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69")},
		// All-digit 32-character strings are too big for a uint64 and
		// are valid hex, so they are UUIDs.
		{"12345678901234567890123456789012", qdrant.NewIDUUID("12345678-9012-3456-7890-123456789012")},
		{"6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a6", v5("6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a6")},
		{"6f1c1b2e_4a8d-4c1e-9b6e-2f0d3c4b5a69", v5("6f1c1b2e_4a8d-4c1e-9b6e-2f0d3c4b5a69")},
		{"user-1", v5("user-1")},
		{"café", v5("café")},
		{strings.Repeat("x", 5000), v5(strings.Repeat("x", 5000))},
	}
	for _, c := range cases {
		name := c.in
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			if got := PointID(c.in); !proto.Equal(got, c.want) {
				t.Errorf("PointID(%q) = %v, want %v", c.in, got, c.want)
			}
			// The decoder's boxed variant over bytes agrees.
			var s slabs
			if got := textID(&s, []byte(c.in)); !proto.Equal(got, c.want) {
				t.Errorf("textID(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

// TestParseUUIDMatchesGoogleUUID checks parseUUID accepts exactly the
// forms uuid.Parse documents. uuid.Parse also takes any 38-byte string
// with arbitrary first and last bytes as braced; parseUUID insists on
// braces, as Qdrant's own parser does.
func TestParseUUIDMatchesGoogleUUID(t *testing.T) {
	base := "6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"
	inputs := []string{
		base, strings.ToUpper(base), "{" + base + "}", "urn:uuid:" + base, "URN:UUID:" + base, "uRn:UuId:" + base,
		strings.ReplaceAll(base, "-", ""), "[" + base + "]", "{" + base, base + "}", "urn:uuix:" + base,
		strings.Replace(base, "-", "_", 1), "6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a6g", "",
		"6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a6", strings.Repeat("g", 32), strings.Repeat("0", 32),
		"6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69-", "6f1c1b2e4a8d-4c1e-9b6e-2f0d3c4b5a69--",
	}
	for _, in := range inputs {
		want, werr := uuid.Parse(in)
		if len(in) == 38 && (in[0] != '{' || in[37] != '}') {
			want, werr = uuid.UUID{}, errors.New("not braced")
		}
		got, ok := parseUUID(in)
		if ok != (werr == nil) || (ok && got != want) {
			t.Errorf("parseUUID(%q) = %v, %v; uuid.Parse = %v, %v", in, got, ok, want, werr)
		}
	}
}

func TestUUIDV5MatchesGoogleUUID(t *testing.T) {
	for _, s := range []string{"", "a", "user-1", strings.Repeat("é", 600), strings.Repeat("z", MaxIDBytes+7)} {
		if got, want := uuidV5(s), uuid.NewSHA1(PointIDNamespace, []byte(s)); got != want {
			t.Errorf("uuidV5(%.20q) = %s, want %s", s, got, want)
		}
		if got, want := uuidV5([]byte(s)), uuid.NewSHA1(PointIDNamespace, []byte(s)); got != want {
			t.Errorf("uuidV5([]byte(%.20q)) = %s, want %s", s, got, want)
		}
	}
}

func TestValidateID(t *testing.T) {
	cases := []struct {
		in      string
		wantErr string
	}{
		{"42", ""},
		{"user 1", ""},
		{"café ☕", ""},
		{strings.Repeat("x", MaxIDBytes), ""},
		{"", "is empty"},
		{strings.Repeat("x", MaxIDBytes+1), "is 1025 bytes long"},
		{"a\x00", "control character 0x0 at byte 1"},
		{"\t", "control character 0x9"},
		{"a\x7f", "control character 0x7f"},
		{"a\u0080", "control character U+0080"},
		{"a\u009f", "control character U+009F"},
		{"a\xff", "is not valid UTF-8 (byte 1)"},
		{"\xed\xa0\x80", "is not valid UTF-8"},
	}
	for _, c := range cases {
		err := ValidateID(c.in)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ValidateID(%.20q) = %v", c.in, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ValidateID(%.20q) = %v, want %q", c.in, err, c.wantErr)
		}
	}
}

func TestIDKey(t *testing.T) {
	u := "6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69"
	same := [][]*qdrant.PointId{
		{qdrant.NewIDNum(7), qdrant.NewIDNum(7), PointID("7"), PointID("007")},
		{qdrant.NewIDUUID(u), qdrant.NewIDUUID(strings.ToUpper(u)), qdrant.NewIDUUID("{" + u + "}"), PointID(u)},
		{qdrant.NewIDUUID("not-a-uuid"), qdrant.NewIDUUID("not-a-uuid")},
		{nil, {}},
	}
	seen := map[IDKey]int{}
	for group, ids := range same {
		for _, id := range ids {
			k := IDKeyOf(id)
			if g, ok := seen[k]; ok && g != group {
				t.Errorf("IDKeyOf(%v) collides with group %d", id, g)
			}
			seen[k] = group
			if k.Hash() != IDKeyOf(ids[0]).Hash() {
				t.Errorf("IDKeyOf(%v).Hash() differs from IDKeyOf(%v).Hash()", id, ids[0])
			}
			if k != IDKeyOf(ids[0]) {
				t.Errorf("IDKeyOf(%v) = %v, want it equal to IDKeyOf(%v) = %v", id, k, ids[0], IDKeyOf(ids[0]))
			}
		}
	}
	if len(seen) != len(same) {
		t.Errorf("%d distinct keys for %d groups", len(seen), len(same))
	}
	// Number 0 and the nil id differ; so do a number and a UUID.
	if IDKeyOf(qdrant.NewIDNum(0)) == IDKeyOf(nil) {
		t.Error("IDKeyOf(0) == IDKeyOf(nil)")
	}
	if IDKeyOf(qdrant.NewIDUUID("00000000-0000-0000-0000-000000000000")) == IDKeyOf(qdrant.NewIDNum(0)) {
		t.Error("nil UUID and number 0 share a key")
	}
	for id, want := range map[*qdrant.PointId]string{
		qdrant.NewIDNum(42):                         "42",
		qdrant.NewIDUUID(strings.ToUpper(u)):        u,
		qdrant.NewIDUUID("not-a-uuid"):              "not-a-uuid",
		nil:                                         "<nil>",
		qdrant.NewIDNum(math.MaxUint64):             "18446744073709551615",
		qdrant.NewIDUUID("urn:uuid:" + u):           u,
		PointID("6f1c1b2e4a8d4c1e9b6e2f0d3c4b5a69"): u,
	} {
		if got := IDKeyOf(id).String(); got != want {
			t.Errorf("IDKeyOf(%v).String() = %q, want %q", id, got, want)
		}
	}
}

func TestIDKeyOfDoesNotAllocate(t *testing.T) {
	num, uid, other := qdrant.NewIDNum(5), PointID("user-1"), qdrant.NewIDUUID("not-a-uuid")
	if n := testing.AllocsPerRun(100, func() {
		_ = IDKeyOf(num).Hash()
		_ = IDKeyOf(uid).Hash()
		_ = IDKeyOf(other).Hash()
	}); n != 0 {
		t.Errorf("IDKeyOf and Hash allocate %v times", n)
	}
}

// TestIDKeyHashSpreads: the hashes of a million numbers and a million UUIDs
// hardly collide (a collision costs a wait, never a wrong write).
func TestIDKeyHashSpreads(t *testing.T) {
	seen := make(map[uint64]bool, 2_000_000)
	collisions := 0
	for i := range uint64(1_000_000) {
		for _, id := range []*qdrant.PointId{qdrant.NewIDNum(i), PointID("key-" + strconv.FormatUint(i, 10))} {
			h := IDKeyOf(id).Hash()
			if seen[h] {
				collisions++
			}
			seen[h] = true
		}
	}
	if collisions > 0 {
		t.Errorf("%d collisions among 2M ids", collisions)
	}
}
