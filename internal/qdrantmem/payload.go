package qdrantmem

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/qdrant/go-client/qdrant"
)

// pathItem is one step of a payload JSON path after the first key.
type pathItem struct {
	key   string
	index int
	kind  byte // 'k' key, 'i' index, 'w' wildcard []
}

// jsonPath is a parsed payload key such as `a.b[0].c` or `tags[]`, with the
// grammar of lib/segment/src/json_path/parse.rs: raw keys of letters, digits,
// '_' and '-', or "quoted" keys; then .key, [N] or [].
type jsonPath struct {
	first string
	rest  []pathItem
}

// parseJSONPath parses a payload key; invalid keys fail as
// json_path_from_proto does (lib/api/src/conversions/json.rs):
// "Invalid json path: '{a}'".
func parseJSONPath(s string) (jsonPath, *apiError) {
	bad := func() (jsonPath, *apiError) { return jsonPath{}, invalidArgument("Invalid json path: '%s'", s) }
	in := s
	key, rest, ok := pathKey(in)
	if !ok {
		return bad()
	}
	p := jsonPath{first: key}
	in = rest
	for in != "" {
		switch {
		case strings.HasPrefix(in, "[]"):
			p.rest = append(p.rest, pathItem{kind: 'w'})
			in = in[2:]
		case in[0] == '[':
			end := strings.IndexByte(in, ']')
			if end < 2 {
				return bad()
			}
			n, err := strconv.Atoi(in[1:end])
			if err != nil || n < 0 || strings.ContainsAny(in[1:end], "+-") {
				return bad()
			}
			p.rest = append(p.rest, pathItem{kind: 'i', index: n})
			in = in[end+1:]
		case in[0] == '.':
			k, r, ok := pathKey(in[1:])
			if !ok {
				return bad()
			}
			p.rest = append(p.rest, pathItem{kind: 'k', key: k})
			in = r
		default:
			return bad()
		}
	}
	return p, nil
}

// pathKey reads a raw or quoted key at the start of s.
func pathKey(s string) (key, rest string, ok bool) {
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexAny(s[1:], `"\`)
		if end < 0 || s[1+end] != '"' {
			return "", "", false
		}
		return s[1 : 1+end], s[2+end:], true
	}
	i := 0
	for i < len(s) {
		r := rune(s[i])
		if r >= 0x80 {
			// Multi-byte letters are allowed (char::is_alphanumeric).
			rr := []rune(s[i:])[0]
			if !unicode.IsLetter(rr) && !unicode.IsDigit(rr) {
				break
			}
			i += len(string(rr))
			continue
		}
		if !(r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			break
		}
		i++
	}
	if i == 0 {
		return "", "", false
	}
	return s[:i], s[i:], true
}

// values returns the payload values at p, as JsonPath::value_get: a key step
// only descends into objects, an index into arrays, [] into every element.
func (p jsonPath) values(payload map[string]*qdrant.Value) []*qdrant.Value {
	v, ok := payload[p.first]
	if !ok {
		return nil
	}
	var out []*qdrant.Value
	var walk func(items []pathItem, v *qdrant.Value)
	walk = func(items []pathItem, v *qdrant.Value) {
		if len(items) == 0 {
			out = append(out, v)
			return
		}
		head, tail := items[0], items[1:]
		switch head.kind {
		case 'k':
			if s := v.GetStructValue(); s != nil {
				if next, ok := s.GetFields()[head.key]; ok {
					walk(tail, next)
				}
			}
		case 'i':
			if l := v.GetListValue(); l != nil && head.index < len(l.GetValues()) {
				walk(tail, l.GetValues()[head.index])
			}
		case 'w':
			if l := v.GetListValue(); l != nil {
				for _, e := range l.GetValues() {
					walk(tail, e)
				}
			}
		}
	}
	walk(p.rest, v)
	return out
}

// payloadSelector is a parsed WithPayloadSelector.
type payloadSelector struct {
	enabled bool
	include []jsonPath
	exclude []jsonPath
}

// parsePayloadSelector converts with_payload; def is the default when the
// request leaves it unset (false for Get, Search and Query; true for Scroll).
func parsePayloadSelector(sel *qdrant.WithPayloadSelector, def bool) (payloadSelector, *apiError) {
	if sel == nil {
		return payloadSelector{enabled: def}, nil
	}
	parse := func(fields []string) ([]jsonPath, *apiError) {
		out := make([]jsonPath, 0, len(fields))
		for _, f := range fields {
			p, err := parseJSONPath(f)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	switch o := sel.GetSelectorOptions().(type) {
	case *qdrant.WithPayloadSelector_Enable:
		return payloadSelector{enabled: o.Enable}, nil
	case *qdrant.WithPayloadSelector_Include:
		inc, err := parse(o.Include.GetFields())
		return payloadSelector{enabled: true, include: inc}, err
	case *qdrant.WithPayloadSelector_Exclude:
		exc, err := parse(o.Exclude.GetFields())
		return payloadSelector{enabled: true, exclude: exc}, err
	default:
		// `impl TryFrom<WithPayloadSelector>` (lib/api/src/grpc/conversions.rs).
		return payloadSelector{}, invalidArgument("No PayloadSelector")
	}
}

// apply returns the payload to send. The stored map is never modified; a
// filtered payload shares unmodified values with it.
func (ps payloadSelector) apply(payload map[string]*qdrant.Value) map[string]*qdrant.Value {
	if !ps.enabled || len(payload) == 0 {
		return nil
	}
	switch {
	case len(ps.include) > 0:
		out := map[string]*qdrant.Value{}
		for _, p := range ps.include {
			includePath(out, payload, p)
		}
		return out
	case len(ps.exclude) > 0:
		out := make(map[string]*qdrant.Value, len(payload))
		for k, v := range payload {
			out[k] = v
		}
		for _, p := range ps.exclude {
			excludePath(out, p)
		}
		return out
	default:
		return payload
	}
}

// includePath copies the value at p (object keys only) from src into dst.
func includePath(dst, src map[string]*qdrant.Value, p jsonPath) {
	v, ok := src[p.first]
	if !ok {
		return
	}
	if len(p.rest) == 0 || p.rest[0].kind != 'k' {
		dst[p.first] = v
		return
	}
	s := v.GetStructValue()
	if s == nil {
		return
	}
	sub := map[string]*qdrant.Value{}
	if existing := dst[p.first].GetStructValue(); existing != nil {
		for k, x := range existing.GetFields() {
			sub[k] = x
		}
	}
	includePath(sub, s.GetFields(), jsonPath{first: p.rest[0].key, rest: p.rest[1:]})
	if len(sub) > 0 {
		dst[p.first] = qdrant.NewValueStruct(&qdrant.Struct{Fields: sub})
	}
}

// excludePath removes the value at p (object keys only) from dst, copying
// the objects on the way instead of modifying them.
func excludePath(dst map[string]*qdrant.Value, p jsonPath) {
	v, ok := dst[p.first]
	if !ok {
		return
	}
	if len(p.rest) == 0 {
		delete(dst, p.first)
		return
	}
	if p.rest[0].kind != 'k' {
		return
	}
	s := v.GetStructValue()
	if s == nil {
		return
	}
	sub := make(map[string]*qdrant.Value, len(s.GetFields()))
	for k, x := range s.GetFields() {
		sub[k] = x
	}
	excludePath(sub, jsonPath{first: p.rest[0].key, rest: p.rest[1:]})
	dst[p.first] = qdrant.NewValueStruct(&qdrant.Struct{Fields: sub})
}

// vectorSelector is a parsed WithVectorsSelector.
type vectorSelector struct {
	all   bool
	names map[string]bool
}

var allVectors = vectorSelector{all: true}

func (vs vectorSelector) none() bool { return !vs.all && vs.names == nil }

func parseVectorSelector(sel *qdrant.WithVectorsSelector) vectorSelector {
	switch o := sel.GetSelectorOptions().(type) {
	case *qdrant.WithVectorsSelector_Enable:
		if o.Enable {
			return allVectors
		}
	case *qdrant.WithVectorsSelector_Include:
		names := map[string]bool{}
		for _, n := range o.Include.GetNames() {
			names[n] = true
		}
		return vectorSelector{names: names}
	}
	return vectorSelector{}
}

// outputVectors renders the selected vectors of p as Qdrant does
// (`impl From<NamedVectors> for VectorStructInternal`,
// lib/segment/src/data_types/vectors.rs): a lone default vector is sent
// unnamed, anything else as a (possibly empty) map.
func (c *collection) outputVectors(p *point, sel vectorSelector) *qdrant.VectorsOutput {
	if sel.none() {
		return nil
	}
	picked := make([]namedVec, 0, len(p.vecs))
	for _, nv := range p.vecs {
		if sel.all || sel.names[nv.name] {
			picked = append(picked, nv)
		}
	}
	if len(picked) == 1 && picked[0].name == "" && picked[0].v.kind != vecSparse {
		return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vector{Vector: outputVector(picked[0].v)}}
	}
	m := make(map[string]*qdrant.VectorOutput, len(picked))
	for _, nv := range picked {
		m[nv.name] = outputVector(nv.v)
	}
	return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vectors{Vectors: &qdrant.NamedVectorsOutput{Vectors: m}}}
}
