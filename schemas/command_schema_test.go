package schemas

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The JSON Schema files document the wire formats; these tests keep them
// and the Go types from drifting apart.

func loadSchema(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// at walks a path of object keys.
func at(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("schema path %v: %q is not in an object", path, p)
		}
		if cur, ok = obj[p]; !ok {
			t.Fatalf("schema path %v: no %q", path, p)
		}
	}
	return cur
}

func strs(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	slices.Sort(out)
	return out
}

func keys(v any) []string {
	var out []string
	for k := range v.(map[string]any) {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// jsonFields returns the JSON names of the fields of struct value v.
func jsonFields(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func sorted[T ~string](in []T) []string {
	var out []string
	for _, v := range in {
		out = append(out, string(v))
	}
	slices.Sort(out)
	return out
}

func TestCommandSchemaMatchesTypes(t *testing.T) {
	s := loadSchema(t, "command.v1.schema.json")
	if got, want := keys(at(t, s, "properties")), jsonFields(Command{}); !slices.Equal(got, want) {
		t.Errorf("command properties = %v, Command fields = %v", got, want)
	}
	if got, want := strs(t, at(t, s, "properties", "type", "enum")), sorted(CommandTypes()); !slices.Equal(got, want) {
		t.Errorf("type enum = %v, CommandTypes = %v", got, want)
	}
	if got := int(at(t, s, "properties", "id", "maxLength").(float64)); got != MaxIDLength {
		t.Errorf("id maxLength = %d, MaxIDLength = %d", got, MaxIDLength)
	}
	if got, want := at(t, s, "properties", "id", "pattern").(string), idPattern.String(); got != want {
		t.Errorf("id pattern = %s, idPattern = %s", got, want)
	}
	if got, want := strs(t, at(t, s, "$defs", "index_defer_params", "properties", "mode", "enum")), []string{DeferHNSWM0, DeferThreshold0}; !slices.Equal(got, want) {
		t.Errorf("mode enum = %v, want %v", got, want)
	}
	if got, want := keys(at(t, s, "$defs", "index_defer_params", "properties")), jsonFields(IndexDeferParams{}); !slices.Equal(got, want) {
		t.Errorf("index_defer params = %v, IndexDeferParams fields = %v", got, want)
	}
	if got, want := keys(at(t, s, "$defs", "index_build_params", "properties")), jsonFields(IndexBuildParams{}); !slices.Equal(got, want) {
		t.Errorf("index_build params = %v, IndexBuildParams fields = %v", got, want)
	}
	var needs []string
	for ct := range needsCollection {
		needs = append(needs, string(ct))
	}
	slices.Sort(needs)
	rules := at(t, s, "allOf").([]any)
	first := rules[0].(map[string]any)
	if got := strs(t, at(t, first, "if", "properties", "type", "enum")); !slices.Equal(got, needs) {
		t.Errorf("types requiring a collection in the schema = %v, in DecodeCommand = %v", got, needs)
	}
	for i, ex := range at(t, s, "examples").([]any) {
		b, _ := json.Marshal(ex)
		c, err := DecodeCommand(nil, b)
		if err != nil {
			t.Errorf("example %d: %v", i, err)
			continue
		}
		switch c.Type {
		case CommandIndexDefer:
			_, err = IndexDeferParamsOf(c)
		case CommandIndexBuild:
			_, err = IndexBuildParamsOf(c)
		}
		if err != nil {
			t.Errorf("example %d params: %v", i, err)
		}
	}
}

func TestStatusSchemaMatchesTypes(t *testing.T) {
	s := loadSchema(t, "status.v1.schema.json")
	if got, want := keys(at(t, s, "properties")), jsonFields(Status{}); !slices.Equal(got, want) {
		t.Errorf("status properties = %v, Status fields = %v", got, want)
	}
	if got, want := strs(t, at(t, s, "properties", "state", "enum")), sorted(States()); !slices.Equal(got, want) {
		t.Errorf("state enum = %v, States = %v", got, want)
	}
	errObj := at(t, s, "properties", "error", "oneOf").([]any)[1].(map[string]any)
	if got, want := strs(t, at(t, errObj, "properties", "code", "enum")), sorted(ErrorCodes()); !slices.Equal(got, want) {
		t.Errorf("error code enum = %v, ErrorCodes = %v", got, want)
	}
	if got, want := keys(at(t, errObj, "properties")), jsonFields(StatusError{}); !slices.Equal(got, want) {
		t.Errorf("error properties = %v, StatusError fields = %v", got, want)
	}
	prog := at(t, s, "properties", "progress", "oneOf").([]any)[1].(map[string]any)
	if got, want := keys(at(t, prog, "properties")), jsonFields(Progress{}); !slices.Equal(got, want) {
		t.Errorf("progress properties = %v, Progress fields = %v", got, want)
	}
	if got, want := keys(at(t, s, "properties", "record", "properties")), jsonFields(RecordRef{}); !slices.Equal(got, want) {
		t.Errorf("record properties = %v, RecordRef fields = %v", got, want)
	}
	// Every required field is always encoded (none is omitempty).
	b, err := Status{CommandID: "a", State: StateAccepted}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var enc map[string]any
	if err := json.Unmarshal(b, &enc); err != nil {
		t.Fatal(err)
	}
	for _, req := range strs(t, at(t, s, "required")) {
		if _, ok := enc[req]; !ok {
			t.Errorf("required %q missing from encoded status %s", req, b)
		}
	}
	for i, ex := range at(t, s, "examples").([]any) {
		b, _ := json.Marshal(ex)
		if _, err := DecodeStatus(b); err != nil {
			t.Errorf("example %d: %v", i, err)
		}
	}
}
