package schemas

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkNumber parses text with every path of the decoder and compares
// the results bit for bit with strconv.
func checkNumber(t *testing.T, text string) {
	t.Helper()
	s := scanner{data: []byte(text)}
	n, err := s.readNumber()
	if err != nil || s.pos != len(text) {
		t.Fatalf("readNumber(%q) = %v, consumed %d of %d", text, err, s.pos, len(text))
	}

	want32, err32 := strconv.ParseFloat(text, 32)
	got32, ok := n.float32()
	if ok != (err32 == nil) {
		t.Errorf("float32(%q) ok = %v, strconv err = %v", text, ok, err32)
	} else if ok && math.Float32bits(got32) != math.Float32bits(float32(want32)) {
		t.Errorf("float32(%q) = %v (%#x), strconv %v (%#x)", text, got32, math.Float32bits(got32),
			float32(want32), math.Float32bits(float32(want32)))
	}

	fs := scanner{data: []byte(text)}
	if fast, ok := fs.fastFloat32(); ok {
		if err32 != nil || math.Float32bits(fast) != math.Float32bits(float32(want32)) {
			t.Errorf("fastFloat32(%q) = %v, strconv %v (%v)", text, fast, float32(want32), err32)
		}
		if fs.pos != len(text) {
			t.Errorf("fastFloat32(%q) consumed %d of %d bytes", text, fs.pos, len(text))
		}
	} else if fs.pos != 0 {
		t.Errorf("fastFloat32(%q) failed but moved to %d", text, fs.pos)
	}

	want64, err64 := strconv.ParseFloat(text, 64)
	got64, ok := n.float64()
	if ok != (err64 == nil) {
		t.Errorf("float64(%q) ok = %v, strconv err = %v", text, ok, err64)
	} else if ok && math.Float64bits(got64) != math.Float64bits(want64) {
		t.Errorf("float64(%q) = %v, strconv %v", text, got64, want64)
	}

	wantI, errI := strconv.ParseInt(text, 10, 64)
	if gotI, ok := n.int64(); ok != (errI == nil) || (ok && gotI != wantI) {
		t.Errorf("int64(%q) = %d, %v; strconv %d, %v", text, gotI, ok, wantI, errI)
	}
	wantU, errU := strconv.ParseUint(text, 10, 64)
	if gotU, ok := n.uint64(); ok != (errU == nil) || (ok && gotU != wantU) {
		t.Errorf("uint64(%q) = %d, %v; strconv %d, %v", text, gotU, ok, wantU, errU)
	}
}

func TestNumberTrickyInputs(t *testing.T) {
	for _, text := range []string{
		"0", "-0", "0.0", "-0.0", "0e5", "1", "-1", "10", "1.5", "0.1", "-0.0123456789",
		"123456789", "16777216", "16777217", "16777218", "16777219", "9007199254740993",
		"1e22", "1e23", "1e-22", "1e-23", "1E+2", "1e-0", "4.9e-324", "2.4e-324", "1e-400", "1e400",
		"1.7976931348623157e308", "1.7976931348623159e308",
		// float32 limits and the overflow boundary.
		"3.4028234663852886e38", "3.4028235e38", "3.40282356779733661637539395458142568448e38",
		"3.4028235677973366e38", "3.4028235677973362e38", "3.402823567797336e38", "-3.4028236e38",
		// float32 subnormals and the normal boundary.
		"1e-45", "7e-46", "7.006492321624085e-46", "7.0064923216240862e-46", "1.401298464324817e-45",
		"1.1754942e-38", "1.17549435e-38", "1.1754943508222875e-38", "1e-38", "1e-50",
		// Midpoints between float32 neighbours: double rounding traps.
		"1.00000005960464477539062500", "1.00000005960464477539062501", "1.00000005960464477539062499",
		"1.0000000596046448", "0.50000002980232238769531250", "16777217.0", "33554434.0000000000001",
		"8388608.5", "8388609.5", "1.000000178813934326171875",
		// Long mantissas (more than 19 digits) and SWAR edge lengths.
		"0.12345678", "0.123456789", "0.1234567890123456789", "0.12345678901234567890123",
		"12345678901234567890", "18446744073709551615", "18446744073709551616",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"0.000000000000000000000000000001", "100000000000000000000000000000",
		"1.00000000000000000000000000001e-5", "0.00000001", "0.000000011", "1.0000000100000001",
		// Exponents at the fast path's edges.
		"1e9999", "1e-9999", "1e10000", "0.1e23", "1234e-26", "99999999999999999999e-20",
	} {
		checkNumber(t, text)
	}
}

// TestNumberFloat32Midpoints checks exact and shortest decimal forms of
// values at or next to float32 rounding midpoints, where rounding via
// float64 would go wrong without the fallback.
func TestNumberFloat32Midpoints(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 1500 {
		x := math.Float32frombits(r.Uint32() & 0x7f7fffff) // finite, positive
		if math.IsInf(float64(x), 0) || x == 0 {
			continue
		}
		next := math.Nextafter32(x, float32(math.Inf(1)))
		if math.IsInf(float64(next), 0) {
			continue
		}
		mid := (float64(x) + float64(next)) / 2
		near := []float64{mid}
		for lo, hi, k := mid, mid, 0; k < 8; k++ {
			lo, hi = math.Nextafter(lo, 0), math.Nextafter(hi, math.Inf(1))
			near = append(near, lo, hi)
		}
		for _, m := range near {
			checkNumber(t, strconv.FormatFloat(m, 'g', -1, 64))
			checkNumber(t, strconv.FormatFloat(m, 'e', 40, 64))
		}
	}
}

// TestNumberRandom compares random decimal numbers of every common shape
// with strconv.
func TestNumberRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		var b []byte
		if r.IntN(2) == 0 {
			b = append(b, '-')
		}
		intDigits := r.IntN(6)
		if intDigits == 0 {
			b = append(b, '0')
		} else {
			b = append(b, byte('1'+r.IntN(9)))
			for range intDigits - 1 {
				b = append(b, byte('0'+r.IntN(10)))
			}
		}
		if r.IntN(4) != 0 {
			b = append(b, '.')
			for range 1 + r.IntN(22) {
				b = append(b, byte('0'+r.IntN(10)))
			}
		}
		if r.IntN(3) == 0 {
			b = append(b, "eE"[r.IntN(2)])
			if r.IntN(2) == 0 {
				b = append(b, "+-"[r.IntN(2)])
			}
			b = strconv.AppendInt(b, int64(r.IntN(60)), 10)
		}
		checkNumber(t, string(b))
	}
}

func TestParseEightDigits(t *testing.T) {
	for _, s := range []string{"00000000", "12345678", "99999999", "10000001", "09876543"} {
		w := uint64(0)
		for i := 7; i >= 0; i-- {
			w = w<<8 | uint64(s[i])
		}
		if !isEightDigits(w) {
			t.Errorf("isEightDigits(%q) = false", s)
		}
		want, _ := strconv.ParseUint(s, 10, 32)
		if got := parseEightDigits(w); uint64(got) != want {
			t.Errorf("parseEightDigits(%q) = %d", s, got)
		}
	}
	for _, s := range []string{"1234567.", "/2345678", ":2345678", "1234567a", "1234 678", "\x0012345678"} {
		w := uint64(0)
		for i := 7; i >= 0; i-- {
			w = w<<8 | uint64(s[i])
		}
		if isEightDigits(w) {
			t.Errorf("isEightDigits(%q) = true", s)
		}
	}
}

// FuzzNumber checks every number the scanner accepts against strconv, and
// that it accepts exactly RFC 8259 numbers.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-0.5", "1e400", "0.1234567890123456789012", "3.4028235677973366e38",
		"01", "1.", "-", "1e", ".5", "1.00000005960464477539062500",
		"0.012345678918063641", "-1.2345678901234567e-5", "123456789012345678901.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := scanner{data: []byte(text)}
		n, err := s.readNumber()
		valid := err == nil && s.pos == len(text)
		if valid != jsonNumber(text) {
			t.Fatalf("readNumber(%q) valid = %v (err %v, pos %d), grammar says %v", text, valid, err, s.pos, !valid)
		}
		if !valid {
			fs := scanner{data: []byte(text)}
			if _, ok := fs.fastFloat32(); ok && fs.pos == len(text) {
				t.Fatalf("fastFloat32 accepted invalid number %q", text)
			}
			return
		}
		_ = n
		checkNumber(t, text)
	})
}

// jsonNumber is a plain reading of the RFC 8259 number grammar.
func jsonNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// TestNumberWidenedFloat32 covers what JavaScript and Python print for a
// float32 embedding widened to float64: 16 to 17 significant digits, more
// than a float64 mantissa holds, which the fast path cuts and brackets.
func TestNumberWidenedFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 20000 {
		x := float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(12)-8)))
		checkNumber(t, strconv.FormatFloat(float64(x), 'g', -1, 64))
		checkNumber(t, strconv.FormatFloat(float64(x), 'f', -1, 64))
		checkNumber(t, strconv.FormatFloat(r.NormFloat64(), 'g', 16+r.IntN(4), 64))
	}
}

// TestFastFloat32Coverage makes sure the fast path, not the strconv
// fallback, handles the common shapes, including widened float32 values.
func TestFastFloat32Coverage(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	var total, fast int
	for range 10000 {
		x := float32(r.NormFloat64() * 0.1)
		for _, text := range []string{
			strconv.FormatFloat(float64(x), 'g', -1, 32),
			strconv.FormatFloat(float64(x), 'g', -1, 64),
		} {
			total++
			if _, _, ok := fastFloat32([]byte(text), 0); ok {
				fast++
			}
		}
	}
	if fast < total*99/100 {
		t.Errorf("fast path took %d of %d typical numbers, want at least 99%%", fast, total)
	}
}

// BenchmarkFastFloat32 parses the components of 512 dim-128 vectors as
// producers print them (shortest float32 text, or widened to float64).
func BenchmarkFastFloat32(b *testing.B) {
	for _, bc := range []struct {
		name string
		bits int
	}{{"shortest32", 32}, {"widened64", 64}} {
		b.Run(bc.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			var data []byte
			var starts []int
			for range 512 * 128 {
				starts = append(starts, len(data))
				data = strconv.AppendFloat(data, float64(float32(r.NormFloat64()*0.1)), 'g', -1, bc.bits)
				data = append(data, ',')
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				for _, i := range starts {
					if _, _, ok := fastFloat32(data, i); !ok {
						b.Fatal("slow path")
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(starts)), "ns/float")
		})
	}
}
