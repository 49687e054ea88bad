package schemas

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
)

// PointIDNamespace is the UUIDv5 namespace of string ids that are neither
// unsigned integers nor UUIDs: uuid.NewSHA1(uuid.NameSpaceURL,
// "https://github.com/seed-a550a1ef/kafka-qdrant/point-id"), which is
// 0addd6a9-f233-5ed4-88ad-e96b8177b08f. It is part of the data contract:
// changing it would orphan every point so created.
var PointIDNamespace = uuid.NewSHA1(uuid.NameSpaceURL,
	[]byte("https://github.com/seed-a550a1ef/kafka-qdrant/point-id"))

// MaxIDBytes is the longest string id (or record key used as the id)
// accepted.
const MaxIDBytes = 1024

// PointID derives the Qdrant point id of a string id, a string `id` field or
// a record key. It is the one derivation used for upserts and deletes:
//
//   - only ASCII decimal digits, with a value that fits in a uint64: that
//     number ("42" and "0042" are both point 42);
//   - a UUID in one of the forms uuid.Parse documents and Qdrant accepts
//     (hyphenated, {braced}, urn:uuid: prefixed, or 32 hex digits; hex
//     digits in any case): that UUID, in lowercase hyphenated form;
//   - anything else: the UUIDv5 of the string's bytes in PointIDNamespace.
//
// PointID is total and never fails; it does not judge whether the id is
// safe to use (see ValidateID, which Decode applies first).
func PointID(s string) *qdrant.PointId {
	var id qdrant.PointId
	setPointID(&id, s, nil, nil)
	return &id
}

// setPointID fills id with the derivation of PointID. The oneof wrappers
// come from num and uid when given (the decoder's slabs), else are
// allocated.
func setPointID[T string | []byte](id *qdrant.PointId, s T, num *qdrant.PointId_Num, uid *qdrant.PointId_Uuid) {
	if n, ok := parseDecimal(s); ok {
		if num == nil {
			num = new(qdrant.PointId_Num)
		}
		num.Num = n
		id.PointIdOptions = num
		return
	}
	u, ok := parseUUID(s)
	if !ok {
		u = uuidV5(s)
	}
	if uid == nil {
		uid = new(qdrant.PointId_Uuid)
	}
	uid.Uuid = u.String()
	id.PointIdOptions = uid
}

// parseDecimal parses s when it is made only of ASCII digits and fits in a
// uint64.
func parseDecimal[T string | []byte](s T) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		if n > (1<<64-1-uint64(c))/10 {
			return 0, false // overflow
		}
		n = n*10 + uint64(c)
	}
	return n, true
}

// parseUUID accepts the forms uuid.Parse documents:
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, urn:uuid:xxxxxxxx-…,
// {xxxxxxxx-…} and 32 hex digits, in any case. Unlike uuid.Parse it
// insists on the braces of the braced form. It does not allocate.
func parseUUID[T string | []byte](s T) (uuid.UUID, bool) {
	var u uuid.UUID
	switch len(s) {
	case 36:
	case 36 + 9:
		if !equalFoldASCII(s[:9], "urn:uuid:") {
			return u, false
		}
		s = s[9:]
	case 36 + 2:
		if s[0] != '{' || s[37] != '}' {
			return u, false
		}
		s = s[1:37]
	case 32:
		for i := range 16 {
			b, ok := hexByte(s[2*i], s[2*i+1])
			if !ok {
				return u, false
			}
			u[i] = b
		}
		return u, true
	default:
		return u, false
	}
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	for i, x := range [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34} {
		b, ok := hexByte(s[x], s[x+1])
		if !ok {
			return u, false
		}
		u[i] = b
	}
	return u, true
}

func equalFoldASCII[T string | []byte](s T, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexDigit(hi)
	l, ok2 := hexDigit(lo)
	return h<<4 | l, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// uuidV5 is uuid.NewSHA1(PointIDNamespace, []byte(s)) without allocating
// for ids up to MaxIDBytes.
func uuidV5[T string | []byte](s T) uuid.UUID {
	var buf [len(PointIDNamespace) + MaxIDBytes]byte
	b := append(append(buf[:0], PointIDNamespace[:]...), s...)
	sum := sha1.Sum(b)
	var u uuid.UUID
	copy(u[:], sum[:])
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// ValidateID reports why a string id (or record key used as the id) is
// unsafe, or nil: it must be non-empty, at most MaxIDBytes long, valid
// UTF-8 and free of control characters (C0, DEL and C1).
func ValidateID(s string) error { return validateID(s) }

func validateID[T string | []byte](s T) error { return validateText(s, MaxIDBytes) }

// validateText checks that s is non-empty, at most limit bytes, valid UTF-8
// and free of control characters.
func validateText[T string | []byte](s T, limit int) error {
	switch {
	case len(s) == 0:
		return fmt.Errorf("is empty")
	case len(s) > limit:
		return fmt.Errorf("is %d bytes long, over the limit of %d", len(s), limit)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return fmt.Errorf("contains the control character %#x at byte %d", c, i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && n <= 1 {
			return fmt.Errorf("is not valid UTF-8 (byte %d)", i)
		}
		if r >= 0x80 && r <= 0x9f {
			return fmt.Errorf("contains the control character %U at byte %d", r, i)
		}
		i += n
	}
	return nil
}

// idKind tells which field of an IDKey holds the id.
type idKind uint8

const (
	idNone idKind = iota
	idNum
	idUUID
	idOther // a uuid string that does not parse: compared as text
)

// IDKey identifies a point id as a comparable value, for use as a map key
// (merging operations on the same point within a batch). Two point ids get
// the same IDKey exactly when Qdrant treats them as the same point: equal
// numbers, or UUID strings that denote the same UUID whatever their case or
// form. The zero IDKey stands for a nil id.
type IDKey struct {
	num   uint64
	uuid  uuid.UUID
	other string
	kind  idKind
}

// IDKeyOf returns the IDKey of id. It does not allocate for ids built by
// this package.
func IDKeyOf(id *qdrant.PointId) IDKey {
	switch o := id.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return IDKey{num: o.Num, kind: idNum}
	case *qdrant.PointId_Uuid:
		if u, ok := parseUUID(o.Uuid); ok {
			return IDKey{uuid: u, kind: idUUID}
		}
		return IDKey{other: o.Uuid, kind: idOther}
	}
	return IDKey{}
}

// Hash returns a 64-bit hash of k: equal keys have equal hashes, and
// distinct keys rarely do (a set of hashes may take two ids for one, so it
// suits uses where that costs time, not correctness). It does not
// allocate.
func (k IDKey) Hash() uint64 {
	const m = 0x9E3779B97F4A7C15
	switch k.kind {
	case idNum:
		return mix64(k.num*m ^ uint64(idNum))
	case idUUID:
		lo, hi := binary.LittleEndian.Uint64(k.uuid[:8]), binary.LittleEndian.Uint64(k.uuid[8:])
		return mix64(lo*m ^ mix64(hi^uint64(idUUID)))
	case idOther:
		return maphash.String(idSeed, k.other)
	}
	return 0
}

var idSeed = maphash.MakeSeed()

// mix64 is the finalizer of SplitMix64: every input bit affects every
// output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ x>>31
}

// String renders the key as the point id reads in Qdrant: a number, a
// lowercase canonical UUID, or "<nil>".
func (k IDKey) String() string {
	switch k.kind {
	case idNum:
		return fmt.Sprint(k.num)
	case idUUID:
		return k.uuid.String()
	case idOther:
		return k.other
	}
	return "<nil>"
}
