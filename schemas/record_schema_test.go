package schemas

import (
	"encoding/json"
	"strings"
	"testing"
)

func loadRecordSchema(t *testing.T) map[string]any {
	t.Helper()
	var schema map[string]any
	if err := json.Unmarshal(RecordSchemaV1, &schema); err != nil {
		t.Fatalf("record.v1.schema.json is not valid JSON: %v", err)
	}
	return schema
}

func TestRecordSchemaDocumentsEveryField(t *testing.T) {
	schema := loadRecordSchema(t)
	if got := schema["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", got)
	}
	if schema["type"] != "object" {
		t.Errorf("type = %v, want object", schema["type"])
	}
	props, _ := schema["properties"].(map[string]any)
	for _, field := range []string{DefaultIDField, DefaultVectorField, DefaultPayloadField, DefaultCollectionField, DefaultDeleteField} {
		p, ok := props[field].(map[string]any)
		if !ok {
			t.Errorf("property %q is missing", field)
			continue
		}
		if d, _ := p["description"].(string); len(d) < 40 {
			t.Errorf("property %q has no real description: %q", field, d)
		}
	}
	if len(props) != 5 {
		t.Errorf("%d properties, want the 5 fields", len(props))
	}
	defs, _ := schema["$defs"].(map[string]any)
	for name, def := range defs {
		if d, _ := def.(map[string]any)["description"].(string); d == "" {
			t.Errorf("$defs/%s has no description", name)
		}
	}
	sparse, _ := defs["sparse"].(map[string]any)
	sparseProps, _ := sparse["properties"].(map[string]any)
	for _, k := range []string{"indices", "values"} {
		if _, ok := sparseProps[k]; !ok {
			t.Errorf("sparse vector property %q is missing", k)
		}
	}
	// Every $ref points at an existing definition.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				name, found := strings.CutPrefix(ref, "#/$defs/")
				if _, ok := defs[name]; !found || !ok {
					t.Errorf("$ref %q does not resolve", ref)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(schema)
	// The documented limits are the decoder's.
	text := string(RecordSchemaV1)
	for _, want := range []string{PointIDNamespace.String(), "1024 bytes", "24 levels", "255 bytes", "int64", "float32",
		"record.key_id", "fallback", "strict", "record.delete_field"} {
		if !strings.Contains(text, want) {
			t.Errorf("schema does not mention %q", want)
		}
	}
}

func TestRecordSchemaExamplesDecode(t *testing.T) {
	schema := loadRecordSchema(t)
	examples, _ := schema["examples"].([]any)
	if len(examples) < 3 {
		t.Fatalf("%d examples, want several", len(examples))
	}
	d := NewDecoder(DecoderConfig{AllowCollectionOverride: true})
	for i, ex := range examples {
		value, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := d.Decode([]byte("example-key"), value)
		if err != nil {
			t.Errorf("example %d does not decode: %v\n%s", i, err, value)
			continue
		}
		_, del := ex.(map[string]any)["delete"]
		switch {
		case del && (rec.Op != OpDelete || rec.ID == nil || rec.Vectors != nil):
			t.Errorf("delete example %d decoded to %+v", i, rec)
		case !del && (rec.Op != OpUpsert || rec.ID == nil || rec.Vectors == nil):
			t.Errorf("example %d decoded to %+v", i, rec)
		}
	}
}
