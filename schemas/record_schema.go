package schemas

import _ "embed"

// RecordSchemaV1 is record.v1.schema.json: the JSON Schema (draft 2020-12)
// of the record value format that Decoder reads, with a description of
// every field and the rules JSON Schema cannot express.
//
//go:embed record.v1.schema.json
var RecordSchemaV1 []byte
