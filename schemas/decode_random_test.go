package schemas

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// recordGen writes random, mostly valid record values: random whitespace,
// escapes, duplicate keys, ids of every kind, every vector shape and
// nested payloads.
type recordGen struct {
	r *rand.Rand
	b strings.Builder
}

func (g *recordGen) ws() {
	for range g.r.IntN(3) {
		g.b.WriteByte(" \t\n\r"[g.r.IntN(4)])
	}
}

func (g *recordGen) str() {
	parts := []string{"a", "Z", "é", "😀", `\n`, `\"`, `\\`, `\/`, `\u00e9`, `\ud83d\ude00`, `\ud800`, "key", " ", "0", "-"}
	g.b.WriteByte('"')
	for range g.r.IntN(6) {
		g.b.WriteString(parts[g.r.IntN(len(parts))])
	}
	g.b.WriteByte('"')
}

func (g *recordGen) num(intOnly bool) {
	switch g.r.IntN(6) {
	case 0:
		g.b.WriteString(strconv.FormatInt(g.r.Int64()>>g.r.IntN(63), 10))
	case 1:
		if !intOnly {
			g.b.WriteString(strconv.FormatFloat(g.r.NormFloat64()*1e-3, 'g', -1, 32))
			return
		}
		g.b.WriteString(strconv.Itoa(g.r.IntN(1000)))
	case 2:
		if !intOnly {
			g.b.WriteString(strconv.FormatFloat(g.r.NormFloat64(), 'e', g.r.IntN(20), 64))
			return
		}
		g.b.WriteString("-" + strconv.Itoa(g.r.IntN(1000)))
	default:
		if intOnly {
			g.b.WriteString(strconv.Itoa(g.r.IntN(100)))
			return
		}
		fmt.Fprintf(&g.b, "%.*f", g.r.IntN(12), g.r.Float64()*2-1)
	}
}

func (g *recordGen) value(depth int) {
	g.ws()
	switch k := g.r.IntN(8); {
	case k == 0 && depth < 4:
		g.b.WriteByte('[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				g.b.WriteByte(',')
			}
			g.value(depth + 1)
		}
		g.b.WriteByte(']')
	case k == 1 && depth < 4:
		g.object(depth + 1)
	case k == 2:
		g.b.WriteString([]string{"true", "false", "null"}[g.r.IntN(3)])
	case k == 3 || k == 4:
		g.str()
	default:
		g.num(g.r.IntN(2) == 0)
	}
	g.ws()
}

func (g *recordGen) object(depth int) {
	g.b.WriteByte('{')
	for i := range g.r.IntN(5) {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.ws()
		if g.r.IntN(3) == 0 {
			g.b.WriteString(`"k"`) // duplicates
		} else {
			g.str()
		}
		g.ws()
		g.b.WriteByte(':')
		g.value(depth)
	}
	g.b.WriteByte('}')
}

func (g *recordGen) dense(n int) {
	g.b.WriteByte('[')
	for i := range n {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.ws()
		g.num(false)
	}
	g.b.WriteByte(']')
}

func (g *recordGen) vector() {
	switch g.r.IntN(4) {
	case 0:
		g.dense(1 + g.r.IntN(8))
	case 1:
		dim := 1 + g.r.IntN(3)
		g.b.WriteByte('[')
		for i := range 1 + g.r.IntN(3) {
			if i > 0 {
				g.b.WriteByte(',')
			}
			g.dense(dim)
		}
		g.b.WriteByte(']')
	default:
		g.b.WriteByte('{')
		for i := range 1 + g.r.IntN(3) {
			if i > 0 {
				g.b.WriteByte(',')
			}
			fmt.Fprintf(&g.b, `"v%d":`, g.r.IntN(3))
			if g.r.IntN(2) == 0 {
				g.dense(1 + g.r.IntN(4))
				continue
			}
			n := g.r.IntN(4)
			perm := g.r.Perm(10)
			g.b.WriteString(`{"indices":[`)
			for j := range n {
				if j > 0 {
					g.b.WriteByte(',')
				}
				g.b.WriteString(strconv.Itoa(perm[j]))
			}
			g.b.WriteString(`],"values":`)
			g.dense(n)
			g.b.WriteByte('}')
		}
		g.b.WriteByte('}')
	}
}

func (g *recordGen) record() []byte {
	g.b.Reset()
	g.b.WriteByte('{')
	fields := []string{"id", "vector", "payload", "collection_name", "other", "vector"}
	g.r.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	for i, f := range fields[:2+g.r.IntN(len(fields)-1)] {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.ws()
		fmt.Fprintf(&g.b, "%q", f)
		g.ws()
		g.b.WriteByte(':')
		g.ws()
		switch f {
		case "id":
			switch g.r.IntN(5) {
			case 0:
				g.b.WriteString(strconv.FormatUint(g.r.Uint64()>>g.r.IntN(64), 10))
			case 1:
				g.b.WriteString(`"6F1C1B2E-4A8D-4C1E-9B6E-2F0D3C4B5A69"`)
			case 2:
				g.b.WriteString("null")
			default:
				g.str()
			}
		case "vector":
			g.vector()
		case "payload":
			g.object(1)
		case "collection_name":
			g.str()
		default:
			g.value(0)
		}
		g.ws()
	}
	g.b.WriteByte('}')
	return []byte(g.b.String())
}

// TestDecodeRandomRecords decodes generated records and applies the fuzz
// checks, comparing every accepted record with encoding/json's reading.
func TestDecodeRandomRecords(t *testing.T) {
	g := &recordGen{r: rand.New(rand.NewPCG(11, 12))}
	var accepted int
	for range 3000 {
		value := g.record()
		cfg := DecoderConfig{AllowCollectionOverride: g.r.IntN(2) == 0}
		rec, err := NewDecoder(cfg).Decode([]byte("key-1"), value)
		if err != nil {
			checkFuzzError(t, err, value)
			continue
		}
		accepted++
		checkFuzzRecord(t, rec, []byte("key-1"), value, cfg)
		if t.Failed() {
			t.Fatalf("value: %s", value)
		}
	}
	if accepted < 1000 {
		t.Errorf("only %d of 3000 generated records decoded; the generator has drifted", accepted)
	}
}
