package qdrantmem

import (
	"fmt"
	"strings"

	"github.com/qdrant/go-client/qdrant"
)

// filter is a compiled payload filter with the semantics of
// lib/segment/src/payload_storage/query_checker.rs (check_filter): should
// (any, if given), min_should (at least min_count), must (all), must_not
// (none). Empty conditions are dropped at conversion, as
// grpc_condition_into_condition does (lib/api/src/grpc/conversions.rs).
type filter struct {
	must, should, mustNot []condition
	minShould             []condition
	minCount              int
	hasMinShould          bool
}

type condition func(p *point) bool

// matches reports whether p passes f; a nil filter passes everything.
func (f *filter) matches(p *point) bool {
	if f == nil {
		return true
	}
	if len(f.should) > 0 {
		ok := false
		for _, c := range f.should {
			if c(p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if f.hasMinShould {
		n := 0
		for _, c := range f.minShould {
			if n >= f.minCount {
				break
			}
			if c(p) {
				n++
			}
		}
		if n != f.minCount {
			return false
		}
	}
	for _, c := range f.must {
		if !c(p) {
			return false
		}
	}
	for _, c := range f.mustNot {
		if c(p) {
			return false
		}
	}
	return true
}

// validateFilter is the gRPC request validation of a Filter
// (`impl Validate for grpc::FieldCondition`, lib/api/src/grpc/validate.rs):
// a field condition with nothing to check fails with
// "At least one field condition must be specified" under "<path>.match".
func validateFilter(f *qdrant.Filter, path string) []vfield {
	if f == nil {
		return nil
	}
	var out []vfield
	list := func(name string, cs []*qdrant.Condition) {
		for i, c := range cs {
			out = append(out, validateCondition(c, fmt.Sprintf("%s.%s[%d]", path, name, i))...)
		}
	}
	list("should", f.GetShould())
	if ms := f.GetMinShould(); ms != nil {
		list("min_should.conditions", ms.GetConditions())
	}
	list("must", f.GetMust())
	list("must_not", f.GetMustNot())
	return out
}

func validateCondition(c *qdrant.Condition, path string) []vfield {
	path += ".condition_one_of"
	switch o := c.GetConditionOneOf().(type) {
	case *qdrant.Condition_Field:
		fc := o.Field
		if fc.Match == nil && fc.Range == nil && fc.DatetimeRange == nil && fc.GeoBoundingBox == nil &&
			fc.GeoRadius == nil && fc.GeoPolygon == nil && fc.ValuesCount == nil && fc.IsEmpty == nil && fc.IsNull == nil {
			return []vfield{{path + ".match", codeOnly("At least one field condition must be specified")}}
		}
	case *qdrant.Condition_Filter:
		return validateFilter(o.Filter, strings.TrimSuffix(path, ".condition_one_of")+".condition_one_of")
	case *qdrant.Condition_Nested:
		return validateFilter(o.Nested.GetFilter(), path+".filter")
	}
	return nil
}

// compileFilter converts a gRPC Filter as `impl TryFrom<grpc::Filter>` does
// (lib/api/src/grpc/conversions.rs). A nil filter compiles to nil.
func compileFilter(f *qdrant.Filter) (*filter, *apiError) {
	if f == nil {
		return nil, nil
	}
	out := &filter{}
	var err *apiError
	if out.should, err = compileConditions(f.GetShould()); err != nil {
		return nil, err
	}
	if ms := f.GetMinShould(); ms != nil {
		if out.minShould, err = compileConditions(ms.GetConditions()); err != nil {
			return nil, err
		}
		out.hasMinShould = true
		out.minCount = int(ms.GetMinCount())
	}
	if out.must, err = compileConditions(f.GetMust()); err != nil {
		return nil, err
	}
	if out.mustNot, err = compileConditions(f.GetMustNot()); err != nil {
		return nil, err
	}
	return out, nil
}

func compileConditions(cs []*qdrant.Condition) ([]condition, *apiError) {
	out := make([]condition, 0, len(cs))
	for _, c := range cs {
		cc, err := compileCondition(c)
		if err != nil {
			return nil, err
		}
		if cc != nil {
			out = append(out, cc)
		}
	}
	return out, nil
}

func compileCondition(c *qdrant.Condition) (condition, *apiError) {
	switch o := c.GetConditionOneOf().(type) {
	case nil:
		return nil, nil
	case *qdrant.Condition_Field:
		return compileField(o.Field)
	case *qdrant.Condition_HasId:
		keys, err := parsePointIDs(o.HasId.GetHasId())
		if err != nil {
			return nil, err
		}
		set := make(map[pointKey]bool, len(keys))
		for _, k := range keys {
			set[k] = true
		}
		return func(p *point) bool { return set[p.key] }, nil
	case *qdrant.Condition_Filter:
		f, err := compileFilter(o.Filter)
		if err != nil {
			return nil, err
		}
		return f.matches, nil
	case *qdrant.Condition_IsEmpty:
		path, err := parseJSONPath(o.IsEmpty.GetKey())
		if err != nil {
			return nil, err
		}
		return func(p *point) bool { return checkIsEmpty(path.values(p.payload)) }, nil
	case *qdrant.Condition_IsNull:
		path, err := parseJSONPath(o.IsNull.GetKey())
		if err != nil {
			return nil, err
		}
		return func(p *point) bool { return checkIsNull(path.values(p.payload)) }, nil
	case *qdrant.Condition_HasVector:
		name := o.HasVector.GetHasVector()
		return func(p *point) bool { _, ok := p.vector(name); return ok }, nil
	case *qdrant.Condition_Nested:
		// segment::types::Nested (lib/api/src/grpc/conversions.rs) and the
		// Condition::Nested arm of check_payload: the filter must hold for
		// one object of the array at key (array_key() is "key[]").
		if o.Nested.GetFilter() == nil {
			return nil, invalidArgument("Nested condition must have a filter")
		}
		path, err := parseJSONPath(o.Nested.GetKey())
		if err != nil {
			return nil, err
		}
		path.rest = append(path.rest, pathItem{kind: 'w'})
		f, err := compileFilter(o.Nested.GetFilter())
		if err != nil {
			return nil, err
		}
		return func(p *point) bool {
			for _, v := range path.values(p.payload) {
				if s := v.GetStructValue(); s != nil && f.matches(&point{payload: s.GetFields()}) {
					return true
				}
			}
			return false
		}, nil
	default:
		return nil, unsupported("condition %T is not supported", o)
	}
}

// compileField is a FieldCondition as check_field_condition evaluates it
// (lib/segment/src/payload_storage/query_checker.rs, condition_checker.rs):
// no value at the key gives check_empty (is_empty → true, is_null → false
// unless asked for not-null, anything else false); otherwise the condition
// holds if any value matches, arrays matching if any element does.
func compileField(fc *qdrant.FieldCondition) (condition, *apiError) {
	path, err := parseJSONPath(fc.GetKey())
	if err != nil {
		return nil, err
	}
	if fc.GeoBoundingBox != nil || fc.GeoRadius != nil || fc.GeoPolygon != nil {
		return nil, unsupported("geo conditions are not supported")
	}
	if fc.ValuesCount != nil {
		return nil, unsupported("values_count conditions are not supported")
	}
	if fc.Range == nil && fc.DatetimeRange != nil {
		return nil, unsupported("datetime_range conditions are not supported")
	}
	var match func(*qdrant.Value) bool
	if fc.Match != nil {
		if match, err = compileMatch(fc.Match); err != nil {
			return nil, err
		}
	}
	rng := fc.Range
	isEmpty, isNull := fc.IsEmpty, fc.IsNull
	checkMatch := func(v *qdrant.Value) bool {
		if match != nil && match(v) {
			return true
		}
		if rng != nil && rangeMatches(rng, v) {
			return true
		}
		if isEmpty != nil && valueIsEmpty(*isEmpty, v) {
			return true
		}
		return isNull != nil && valueIsNull(*isNull, v)
	}
	return func(p *point) bool {
		vals := path.values(p.payload)
		if len(vals) == 0 {
			switch {
			case isEmpty != nil:
				return *isEmpty
			case isNull != nil:
				return !*isNull
			default:
				return false
			}
		}
		for _, v := range vals {
			var ok bool
			switch {
			case isEmpty != nil:
				ok = valueIsEmpty(*isEmpty, v)
			case isNull != nil:
				ok = valueIsNull(*isNull, v)
			default:
				ok = anyElement(v, checkMatch)
			}
			if ok {
				return true
			}
		}
		return false
	}, nil
}

// anyElement is ValueChecker::_check: arrays match if any element matches.
func anyElement(v *qdrant.Value, f func(*qdrant.Value) bool) bool {
	if l := v.GetListValue(); l != nil {
		for _, e := range l.GetValues() {
			if f(e) {
				return true
			}
		}
		return false
	}
	return f(v)
}

func compileMatch(m *qdrant.Match) (func(*qdrant.Value) bool, *apiError) {
	switch o := m.GetMatchValue().(type) {
	case *qdrant.Match_Keyword:
		return func(v *qdrant.Value) bool {
			s, ok := v.GetKind().(*qdrant.Value_StringValue)
			return ok && s.StringValue == o.Keyword
		}, nil
	case *qdrant.Match_Integer:
		return func(v *qdrant.Value) bool {
			n, ok := v.GetKind().(*qdrant.Value_IntegerValue)
			return ok && n.IntegerValue == o.Integer
		}, nil
	case *qdrant.Match_Boolean:
		return func(v *qdrant.Value) bool {
			b, ok := v.GetKind().(*qdrant.Value_BoolValue)
			return ok && b.BoolValue == o.Boolean
		}, nil
	case *qdrant.Match_Text:
		return func(v *qdrant.Value) bool {
			s, ok := v.GetKind().(*qdrant.Value_StringValue)
			return ok && strings.Contains(s.StringValue, o.Text)
		}, nil
	case *qdrant.Match_Phrase:
		return func(v *qdrant.Value) bool {
			s, ok := v.GetKind().(*qdrant.Value_StringValue)
			return ok && strings.Contains(s.StringValue, o.Phrase)
		}, nil
	case *qdrant.Match_TextAny:
		tokens := strings.Fields(o.TextAny)
		return func(v *qdrant.Value) bool {
			s, ok := v.GetKind().(*qdrant.Value_StringValue)
			if !ok {
				return false
			}
			for _, t := range tokens {
				if strings.Contains(s.StringValue, t) {
					return true
				}
			}
			return false
		}, nil
	case *qdrant.Match_Keywords:
		set := toSet(o.Keywords.GetStrings())
		return func(v *qdrant.Value) bool {
			s, ok := v.GetKind().(*qdrant.Value_StringValue)
			return ok && set[s.StringValue]
		}, nil
	case *qdrant.Match_Integers:
		set := toSet(o.Integers.GetIntegers())
		return func(v *qdrant.Value) bool {
			n, ok := v.GetKind().(*qdrant.Value_IntegerValue)
			return ok && set[n.IntegerValue]
		}, nil
	case *qdrant.Match_ExceptKeywords:
		set := toSet(o.ExceptKeywords.GetStrings())
		return func(v *qdrant.Value) bool {
			switch k := v.GetKind().(type) {
			case *qdrant.Value_StringValue:
				return !set[k.StringValue]
			case *qdrant.Value_NullValue:
				return false
			default:
				return true
			}
		}, nil
	case *qdrant.Match_ExceptIntegers:
		set := toSet(o.ExceptIntegers.GetIntegers())
		return func(v *qdrant.Value) bool {
			switch k := v.GetKind().(type) {
			case *qdrant.Value_IntegerValue:
				return !set[k.IntegerValue]
			case *qdrant.Value_NullValue:
				return false
			default:
				return true
			}
		}, nil
	default:
		return nil, invalidArgument("Malformed Match condition")
	}
}

func toSet[T comparable](xs []T) map[T]bool {
	m := make(map[T]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// rangeMatches is Range::check_range on a number (integer or double).
func rangeMatches(r *qdrant.Range, v *qdrant.Value) bool {
	var x float64
	switch k := v.GetKind().(type) {
	case *qdrant.Value_IntegerValue:
		x = float64(k.IntegerValue)
	case *qdrant.Value_DoubleValue:
		x = k.DoubleValue
	default:
		return false
	}
	return (r.Lt == nil || x < *r.Lt) && (r.Gt == nil || x > *r.Gt) &&
		(r.Lte == nil || x <= *r.Lte) && (r.Gte == nil || x >= *r.Gte)
}

// valueIsEmpty and valueIsNull are check_is_empty / check_is_null of
// condition_checker.rs for one present value.
func valueIsEmpty(isEmpty bool, v *qdrant.Value) bool {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_NullValue, nil:
		return isEmpty
	case *qdrant.Value_ListValue:
		return (len(k.ListValue.GetValues()) == 0) == isEmpty
	default:
		return !isEmpty
	}
}

func valueIsNull(isNull bool, v *qdrant.Value) bool {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_NullValue, nil:
		return isNull
	case *qdrant.Value_ListValue:
		any := false
		for _, e := range k.ListValue.GetValues() {
			if _, ok := e.GetKind().(*qdrant.Value_NullValue); ok {
				any = true
			}
		}
		return any == isNull
	default:
		return !isNull
	}
}

// checkIsEmpty and checkIsNull are the IsEmpty / IsNull conditions
// (lib/segment/src/common/utils.rs): empty when every value is null or an
// empty array (so also when the key is absent); null when any value is null.
func checkIsEmpty(vals []*qdrant.Value) bool {
	for _, v := range vals {
		switch k := v.GetKind().(type) {
		case *qdrant.Value_NullValue, nil:
		case *qdrant.Value_ListValue:
			if len(k.ListValue.GetValues()) > 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func checkIsNull(vals []*qdrant.Value) bool {
	for _, v := range vals {
		if _, ok := v.GetKind().(*qdrant.Value_NullValue); ok {
			return true
		}
	}
	return false
}
