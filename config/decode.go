package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// convert turns a raw value from a layer (YAML scalar or list, environment
// or --set string, or a typed default) into a value of type t. It is strict:
// a value that cannot mean what the key expects is an error, never a zero or
// a guess. Struct and map targets pass through unchanged (their entries are
// converted one by one). The error never quotes string values, which may be
// secrets.
func convert(t reflect.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch {
	case t == durationType:
		return toDuration(v)
	case t == byteSizeType:
		return toByteSize(v)
	}
	switch t.Kind() {
	case reflect.String:
		s, err := toString(v)
		if err != nil {
			return nil, err
		}
		return reflect.ValueOf(s).Convert(t).Interface(), nil
	case reflect.Bool:
		return toBool(v)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		return reflect.ValueOf(n).Convert(t).Interface(), nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return toStrings(v)
		}
	case reflect.Map:
		if _, ok := v.(map[string]any); !ok && reflect.TypeOf(v) != t {
			return nil, fmt.Errorf("must be a mapping, got %s", describe(v))
		}
		return v, nil
	case reflect.Struct:
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("must be a mapping, got %s", describe(v))
		}
		return v, nil
	}
	return nil, fmt.Errorf("config: no conversion to %s", t) // a Config field of an unsupported type
}

// decodeHook is the mapstructure hook of the final decode: convert for leaf
// types, and map[string]any to the map's type for map keys (convertEntry).
func decodeHook(_, to reflect.Type, data any) (any, error) {
	switch {
	case to.Kind() == reflect.Struct && to != durationType:
		return data, nil
	case to.Kind() == reflect.Map:
		m, ok := data.(map[string]any)
		if !ok {
			return data, nil
		}
		out := reflect.MakeMapWithSize(to, len(m))
		for k, v := range m {
			e, err := convertEntry(to.Elem(), v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			ev := reflect.ValueOf(e)
			if ev.Type() != to.Elem() {
				ev = ev.Convert(to.Elem()) // a string for a named string type (Secret)
			}
			out.SetMapIndex(reflect.ValueOf(k), ev)
		}
		return out.Interface(), nil
	case to.Kind() == reflect.Interface:
		return data, nil
	}
	return convert(to, data)
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "no value"
	case map[string]any:
		return "a mapping"
	case []any, []string:
		return "a list"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	}
	if n, ok := intValue(v); ok {
		return strconv.FormatInt(n, 10), nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String { // Secret and other named strings
		return rv.String(), nil
	}
	return "", fmt.Errorf("must be a string, got %s", describe(v))
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return false, fmt.Errorf("invalid boolean %q: want true or false", x)
		}
		return b, nil
	}
	return false, fmt.Errorf("must be a boolean, got %s", describe(v))
}

// intValue returns v as an int64 when v is an integer, or a float with an
// integral value (some YAML and JSON decoders produce those).
func intValue(v any) (int64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u), true
		}
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return int64(f), true
		}
	}
	return 0, false
}

func toInt(v any) (int, error) {
	if s, ok := v.(string); ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return 0, fmt.Errorf("invalid integer %q", s)
		}
		return n, nil
	}
	if _, isBool := v.(bool); !isBool {
		if n, ok := intValue(v); ok && n >= math.MinInt && n <= math.MaxInt {
			return int(n), nil
		}
	}
	return 0, fmt.Errorf("must be an integer, got %s", describe(v))
}

func toDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		x = strings.TrimSpace(x)
		if n, err := strconv.ParseInt(x, 10, 64); err == nil && n != 0 {
			return 0, fmt.Errorf("invalid duration %q: a number needs a unit, e.g. \"%ss\" or \"%sms\"", x, x, x)
		}
		d, err := time.ParseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want a Go duration such as \"250ms\" or \"6h\"", x)
		}
		return d, nil
	}
	if _, isBool := v.(bool); !isBool {
		if n, ok := intValue(v); ok {
			if n == 0 {
				return 0, nil
			}
			return 0, fmt.Errorf("invalid duration %v: a number needs a unit, e.g. \"%vs\" or \"%vms\"", v, v, v)
		}
	}
	return 0, fmt.Errorf("must be a duration such as \"250ms\" or \"6h\", got %s", describe(v))
}

func toByteSize(v any) (ByteSize, error) {
	switch x := v.(type) {
	case ByteSize:
		return x, nil
	case string:
		return ParseByteSize(x)
	}
	if _, isBool := v.(bool); !isBool {
		if n, ok := intValue(v); ok {
			if n < 0 {
				return 0, fmt.Errorf("invalid byte size %d: must not be negative", n)
			}
			return ByteSize(n), nil
		}
	}
	return 0, fmt.Errorf("must be a byte size such as 1048576 or \"4MiB\", got %s", describe(v))
}

// toStrings accepts a list of scalars, or one string of comma-separated
// items (spaces around items trimmed, empty items dropped; "" is the empty
// list).
func toStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case []string:
		return append([]string(nil), x...), nil
	case string:
		out := []string{}
		for item := range strings.SplitSeq(x, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, err := toString(e)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a list or a comma-separated string, got %s", describe(v))
}
