package schemas

import (
	"encoding/binary"
	"math"
	"strconv"
)

// pow10 holds the powers of ten that are exact in a float64.
var pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// minNormal32 is the smallest positive normal float32.
const minNormal32 = 0x1p-126

// exact64 computes mant × 10^exp10 with a single correctly rounded float64
// operation (Clinger's fast path) when both operands are exact in a
// float64; ok is false otherwise.
func (n *number) exact64() (f float64, ok bool) {
	if n.trunc || n.mant > 1<<53 || n.exp10 < -22 || n.exp10 > 22 {
		return 0, false
	}
	f = float64(n.mant)
	if n.exp10 < 0 {
		f /= pow10[-n.exp10]
	} else {
		f *= pow10[n.exp10]
	}
	if n.neg {
		f = -f
	}
	return f, true
}

// float32 returns the number rounded to the nearest float32, exactly as
// strconv.ParseFloat(text, 32) does. ok is false when the number is out of
// the float32 range (it would be ±Inf).
//
// The fast path rounds the correctly rounded float64 to float32. That double
// rounding equals direct rounding unless the float64 lands exactly on the
// midpoint between two float32 values (every such midpoint of a normal
// float32 is a float64, and rounding is monotonic), so midpoints, subnormals
// and values near the top of the range go to strconv.
func (n *number) float32() (v float32, ok bool) {
	if f, exact := n.exact64(); exact {
		a := math.Abs(f)
		if a == 0 {
			return float32(f), true
		}
		if a >= minNormal32 && a < math.MaxFloat32 &&
			math.Float64bits(f)&(1<<29-1) != 1<<28 {
			return float32(f), true
		}
	}
	f, err := strconv.ParseFloat(string(n.text), 32)
	if err != nil || math.IsInf(f, 0) {
		// The scanner checked the syntax, so the only error is ErrRange
		// for a value beyond ±MaxFloat32.
		return 0, false
	}
	return float32(f), true
}

// float64 returns the number rounded to the nearest float64, exactly as
// strconv.ParseFloat(text, 64) does. ok is false when the number is out of
// the float64 range.
func (n *number) float64() (float64, bool) {
	if f, exact := n.exact64(); exact {
		return f, true
	}
	f, err := strconv.ParseFloat(string(n.text), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// uint64 returns the value of a number written as a non-negative integer
// without fraction or exponent; ok is false for any other number or one
// above MaxUint64.
func (n *number) uint64() (uint64, bool) {
	if !n.isInt || n.neg {
		return 0, false
	}
	if !n.trunc {
		return n.mant, true
	}
	u, err := strconv.ParseUint(string(n.text), 10, 64)
	return u, err == nil
}

// int64 returns the value of a number written as an integer without
// fraction or exponent; ok is false for any other number or one outside
// the int64 range.
func (n *number) int64() (int64, bool) {
	if !n.isInt {
		return 0, false
	}
	if !n.trunc {
		if n.neg {
			if n.mant <= 1<<63 {
				return -int64(n.mant-1) - 1, true
			}
			return 0, false
		}
		if n.mant <= math.MaxInt64 {
			return int64(n.mant), true
		}
		return 0, false
	}
	i, err := strconv.ParseInt(string(n.text), 10, 64)
	return i, err == nil
}

// fastFloat32 scans the number at s.pos and converts it to float32 in one
// pass when it has the common shape of vector components (at most 19
// significant digits, an exponent within ±22 after scaling, and a result
// that is a normal float32 not on a rounding midpoint). Otherwise it
// returns ok == false and leaves s.pos unchanged, and the caller takes the
// general path (readNumber, then number.float32), which also reports
// syntax errors.
func (s *scanner) fastFloat32() (v float32, ok bool) {
	v, next, ok := fastFloat32(s.data, s.pos)
	if ok {
		s.pos = next
	}
	return v, ok
}

// fastFloat32 is the fast path of scanner.fastFloat32 on data from offset
// i; next is the offset after the number.
//
// Mantissas longer than a float64 holds exactly (the 16 to 17 digits that
// JavaScript and Python print for a float32 widened to float64) are cut to
// m < 2^53: the value then lies in [m, m+1) × 10^exp10, and when both ends
// round to the same float32, so does the value (rounding is monotonic).
func fastFloat32(data []byte, i int) (v float32, next int, ok bool) {
	neg := false
	if i < len(data) && data[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	nd, exp10 := 0, 0 // significant digits in mant; power of ten
	trunc := false    // non-zero digits were dropped from mant
	switch {
	case i >= len(data):
		return 0, 0, false
	case data[i] == '0':
		i++
	case data[i]-'1' <= 8:
		for ; i < len(data) && data[i]-'0' <= 9; i++ {
			if nd == 19 {
				return 0, 0, false
			}
			mant = mant*10 + uint64(data[i]-'0')
			nd++
		}
	default:
		return 0, 0, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		start := i
		if mant == 0 {
			for i < len(data) && data[i] == '0' {
				i++
			}
			exp10 = start - i
		}
		for i+8 <= len(data) && nd+8 <= 19 {
			w := binary.LittleEndian.Uint64(data[i:])
			if !isEightDigits(w) {
				break
			}
			mant = mant*100000000 + uint64(parseEightDigits(w))
			nd += 8
			exp10 -= 8
			i += 8
		}
		for ; i < len(data) && data[i]-'0' <= 9; i++ {
			if nd < 19 {
				mant = mant*10 + uint64(data[i]-'0')
				nd++
				exp10--
			} else if data[i] != '0' {
				trunc = true
			}
		}
		if i == start {
			return 0, 0, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		eneg := false
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			eneg = data[i] == '-'
			i++
		}
		start, e := i, 0
		for ; i < len(data) && data[i]-'0' <= 9 && i-start < 4; i++ {
			e = e*10 + int(data[i]-'0')
		}
		if i == start || (i < len(data) && data[i]-'0' <= 9) {
			return 0, 0, false
		}
		if eneg {
			e = -e
		}
		exp10 += e
	}
	for mant >= 1<<53 {
		if mant%10 != 0 {
			trunc = true
		}
		mant /= 10
		exp10++
	}
	if exp10 < -22 || exp10 > 22 {
		return 0, 0, false
	}
	if v, ok = exact32(mant, exp10); !ok {
		return 0, 0, false
	}
	if trunc {
		if hi, ok := exact32(mant+1, exp10); !ok || hi != v {
			return 0, 0, false
		}
	}
	if neg {
		v = -v
	}
	return v, i, true
}

// exact32 rounds mant × 10^exp10 (mant ≤ 2^53, |exp10| ≤ 22) to the
// nearest float32: Clinger's fast path gives the correctly rounded float64,
// and rounding that to float32 is correct unless it lies exactly on a
// float32 midpoint (see number.float32). Midpoints and results outside the
// normal float32 range report ok == false.
func exact32(mant uint64, exp10 int) (float32, bool) {
	f := float64(mant)
	if exp10 < 0 {
		f /= pow10[-exp10]
	} else {
		f *= pow10[exp10]
	}
	if f != 0 && (f < minNormal32 || f >= math.MaxFloat32 ||
		math.Float64bits(f)&(1<<29-1) == 1<<28) {
		return 0, false
	}
	return float32(f), true
}

// isEightDigits reports whether the 8 bytes of w (little-endian) are all
// ASCII digits.
func isEightDigits(w uint64) bool {
	return (w&0xF0F0F0F0F0F0F0F0)|(((w+0x0606060606060606)&0xF0F0F0F0F0F0F0F0)>>4) ==
		0x3333333333333333
}

// parseEightDigits returns the value of 8 ASCII digits read little-endian
// (the first digit is the most significant), by SWAR arithmetic.
func parseEightDigits(w uint64) uint32 {
	const mask = 0x000000FF000000FF
	const mul1 = 0x000F424000000064 // 100 + (1000000 << 32)
	const mul2 = 0x0000271000000001 // 1 + (10000 << 32)
	w -= 0x3030303030303030
	w = w*10 + w>>8
	w = ((w&mask)*mul1 + (w>>16&mask)*mul2) >> 32
	return uint32(w)
}
