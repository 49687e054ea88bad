package schemas

import (
	"github.com/hamba/avro/v2"
)

// avroShapes builds the shapes of an Avro schema, one per named type, so
// recursive types share theirs.
type avroShapes struct {
	named map[string]*shape
}

// avroShape returns the shape of an Avro schema.
func avroShape(s avro.Schema) *shape {
	as := &avroShapes{named: make(map[string]*shape)}
	return as.shape(s)
}

// Logical types read with their meaning in a payload.
var avroLogical = map[avro.LogicalType]logicalKind{
	avro.TimestampMillis:      logicalTimestampMillis,
	avro.TimestampMicros:      logicalTimestampMicros,
	avro.LocalTimestampMillis: logicalLocalTimestampMillis,
	avro.LocalTimestampMicros: logicalLocalTimestampMicros,
	avro.Date:                 logicalDate,
	avro.Decimal:              logicalDecimal,
}

func logicalOf(s *shape, l avro.LogicalSchema) {
	if l == nil {
		return
	}
	s.logical = avroLogical[l.Type()]
	if d, ok := l.(*avro.DecimalLogicalSchema); ok {
		s.scale = d.Scale()
	}
}

func (as *avroShapes) shape(s avro.Schema) *shape {
	switch s := s.(type) {
	case *avro.RefSchema:
		return as.shape(s.Schema())
	case *avro.NullSchema:
		return &shape{kind: kNull, avro: avroNull}
	case *avro.PrimitiveSchema:
		out := &shape{}
		switch s.Type() {
		case avro.Boolean:
			out.kind, out.avro = kBool, avroBoolean
		case avro.Int, avro.Long:
			out.kind, out.avro = kInt, avroInt
		case avro.Float:
			out.kind, out.avro = kFloat, avroFloat
		case avro.Double:
			out.kind, out.avro = kDouble, avroDouble
		case avro.String:
			out.kind, out.avro = kString, avroBytes
		case avro.Bytes:
			out.kind, out.avro = kBytes, avroBytes
		default:
			out.kind, out.avro = kNull, avroNull
		}
		logicalOf(out, s.Logical())
		return out
	case *avro.RecordSchema:
		if out, ok := as.named[s.FullName()]; ok {
			return out
		}
		out := &shape{kind: kRecord, name: s.FullName()}
		as.named[s.FullName()] = out
		out.fields = make([]*shapeField, len(s.Fields()))
		for i, f := range s.Fields() {
			out.fields[i] = &shapeField{name: f.Name(), shape: as.shape(f.Type())}
		}
		return out
	case *avro.EnumSchema:
		if out, ok := as.named[s.FullName()]; ok {
			return out
		}
		out := &shape{kind: kEnum, name: s.FullName(), avro: avroEnum, symbols: s.Symbols()}
		as.named[s.FullName()] = out
		return out
	case *avro.FixedSchema:
		if out, ok := as.named[s.FullName()]; ok {
			return out
		}
		out := &shape{kind: kBytes, name: s.FullName(), avro: avroFixed, fixedSize: s.Size()}
		logicalOf(out, s.Logical())
		as.named[s.FullName()] = out
		return out
	case *avro.ArraySchema:
		return &shape{kind: kList, elem: as.shape(s.Items())}
	case *avro.MapSchema:
		return &shape{kind: kMap, elem: as.shape(s.Values())}
	case *avro.UnionSchema:
		out := &shape{kind: kUnion, branches: make([]*shape, len(s.Types()))}
		for i, b := range s.Types() {
			out.branches[i] = as.shape(b)
		}
		return out
	}
	return &shape{kind: kNull, avro: avroNull}
}
