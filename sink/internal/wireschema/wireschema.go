// Package wireschema describes the protobuf messages the sink's generated
// UpdateBatchPoints encoder (sink/wire_gen.go) covers, in one text per
// message. The generator (sink/internal/wiregen) records those texts in the
// file it writes; the sink compares them with the descriptors of the
// go-client it is built with and, when they differ (a go-client upgrade
// without go generate), encodes with protobuf-go instead.
package wireschema

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Reachable returns root and every message reachable from it through
// message fields and map values, in the order of a depth-first walk that
// follows fields in declaration order: the same order for the same
// descriptors.
func Reachable(root protoreflect.MessageDescriptor) []protoreflect.MessageDescriptor {
	var out []protoreflect.MessageDescriptor
	seen := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		out = append(out, md)
		fields := md.Fields()
		for i := range fields.Len() {
			f := fields.Get(i)
			if f.IsMap() {
				f = f.MapValue()
			}
			if m := f.Message(); m != nil {
				walk(m)
			}
		}
	}
	walk(root)
	return out
}

// Signature is md's fields as the encoder sees them, by field number:
// number, name, kind (with the message type), cardinality, packing,
// presence and oneof. Two descriptors with the same signature encode the
// same Go struct the same way.
func Signature(md protoreflect.MessageDescriptor) string {
	parts := make([]string, 0, md.Fields().Len())
	for _, f := range Fields(md) {
		parts = append(parts, field(f))
	}
	return strings.Join(parts, "; ")
}

// Fields returns md's fields sorted by number, the order protobuf-go
// writes them in.
func Fields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	fields := make([]protoreflect.FieldDescriptor, md.Fields().Len())
	for i := range fields {
		fields[i] = md.Fields().Get(i)
	}
	slices.SortFunc(fields, func(a, b protoreflect.FieldDescriptor) int { return int(a.Number() - b.Number()) })
	return fields
}

func field(f protoreflect.FieldDescriptor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s ", f.Number(), f.Name())
	switch {
	case f.IsMap():
		fmt.Fprintf(&b, "map<%s, %s>", kind(f.MapKey()), kind(f.MapValue()))
	case f.IsList():
		b.WriteString("repeated " + kind(f))
		if f.IsPacked() {
			b.WriteString(" packed")
		}
	default:
		b.WriteString(kind(f))
		if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
			b.WriteString(" oneof " + string(o.Name()))
		} else if f.HasPresence() && f.Message() == nil {
			b.WriteString(" optional")
		}
	}
	return b.String()
}

func kind(f protoreflect.FieldDescriptor) string {
	switch {
	case f.Message() != nil:
		return string(f.Message().FullName())
	case f.Enum() != nil:
		return "enum " + string(f.Enum().FullName())
	}
	return f.Kind().String()
}
