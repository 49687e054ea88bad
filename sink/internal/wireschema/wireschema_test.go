package wireschema

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

func ptr[T any](v T) *T { return &v }

func fieldProto(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, label descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto {
	return &descriptorpb.FieldDescriptorProto{Name: ptr(name), JsonName: ptr(name), Number: ptr(num), Type: typ.Enum(), Label: label.Enum()}
}

// root: fields declared out of number order, a repeated message, a map, a
// oneof and a proto3 optional.
func root(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	opt, rep := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL, descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	child := fieldProto("children", 2, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, rep)
	child.TypeName = ptr(".t.Child")
	entries := fieldProto("labels", 4, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, rep)
	entries.TypeName = ptr(".t.Root.LabelsEntry")
	choice := fieldProto("n", 5, descriptorpb.FieldDescriptorProto_TYPE_INT64, opt)
	choice.OneofIndex = ptr(int32(0))
	optional := fieldProto("o", 6, descriptorpb.FieldDescriptorProto_TYPE_BOOL, opt)
	optional.OneofIndex, optional.Proto3Optional = ptr(int32(1)), ptr(true)
	value := fieldProto("value", 2, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, opt)
	value.TypeName = ptr(".t.Leaf")
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: ptr("t.proto"), Package: ptr("t"), Syntax: ptr("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{
				Name: ptr("Root"),
				Field: []*descriptorpb.FieldDescriptorProto{
					fieldProto("c", 3, descriptorpb.FieldDescriptorProto_TYPE_FLOAT, rep), child,
					fieldProto("a", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt), entries, choice, optional,
				},
				NestedType: []*descriptorpb.DescriptorProto{{
					Name:    ptr("LabelsEntry"),
					Field:   []*descriptorpb.FieldDescriptorProto{fieldProto("key", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt), value},
					Options: &descriptorpb.MessageOptions{MapEntry: ptr(true)},
				}},
				OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: ptr("choice")}, {Name: ptr("_o")}},
			},
			{Name: ptr("Child"), Field: []*descriptorpb.FieldDescriptorProto{child}},
			{Name: ptr("Leaf")},
			{Name: ptr("Unreachable")},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().ByName("Root")
}

func TestFieldsByNumber(t *testing.T) {
	var got []string
	for _, f := range Fields(root(t)) {
		got = append(got, string(f.Name()))
	}
	if strings.Join(got, " ") != "a children c labels n o" {
		t.Fatalf("fields %v, want them by number", got)
	}
}

func TestSignature(t *testing.T) {
	want := "1 a string; 2 children repeated t.Child; 3 c repeated float packed; 4 labels map<string, t.Leaf>; 5 n int64 oneof choice; 6 o bool optional"
	if got := Signature(root(t)); got != want {
		t.Fatalf("Signature =\n\t%s\nwant\n\t%s", got, want)
	}
}

// Reachable follows message fields (recursively, once each) and map
// values, not map entries themselves, and not unreferenced messages.
func TestReachable(t *testing.T) {
	var got []string
	for _, md := range Reachable(root(t)) {
		got = append(got, string(md.FullName()))
	}
	if strings.Join(got, " ") != "t.Root t.Child t.Leaf" {
		t.Fatalf("reachable %v", got)
	}
}
