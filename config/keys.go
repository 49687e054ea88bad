package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Key is one configuration key as tools outside this package see it: the
// Helm chart's generated values schema and its list of secret keys
// (deploy/helm) are derived from Keys, so a key added to Config reaches
// them without a hand-kept list.
type Key struct {
	// Name is the dotted path, e.g. "kafka.sasl.password".
	Name string
	// Kind is the value's type as the loader accepts it.
	Kind KeyKind
	// Fields are the keys an entry of a KindMap key may have when it is
	// written as an object (routing.topics: collection, format); nil when
	// entries are strings only.
	Fields []string
}

// KeyKind is the type of a configuration key's value.
type KeyKind string

// Kinds of configuration values. KindSecret is a string that is never
// logged; KindList is a list of strings (or one comma-separated string);
// KindMap maps any name to a string, or to an object of Key.Fields
// (routing.topics); KindSecretMap maps any name to a secret
// (control.auth.keys).
const (
	KindString    KeyKind = "string"
	KindSecret    KeyKind = "secret"
	KindBool      KeyKind = "bool"
	KindInt       KeyKind = "int"
	KindDuration  KeyKind = "duration"
	KindByteSize  KeyKind = "bytesize"
	KindList      KeyKind = "list"
	KindMap       KeyKind = "map"
	KindSecretMap KeyKind = "secretmap"
)

var secretType = reflect.TypeFor[Secret]()

// Keys returns every leaf and map key of Config, sorted by name.
func Keys() []Key {
	names := leafKeys()
	keys := make([]Key, 0, len(names))
	for _, name := range names {
		n, _, ok := resolve(strings.Split(name, "."), ".")
		if !ok {
			panic("config: schema key " + name + " does not resolve")
		}
		k := Key{Name: name, Kind: kindOf(n.typ)}
		if k.Kind == KindMap {
			k.Fields = entryFields(n.typ.Elem())
		}
		keys = append(keys, k)
	}
	return keys
}

func kindOf(t reflect.Type) KeyKind {
	switch {
	case t == durationType:
		return KindDuration
	case t == byteSizeType:
		return KindByteSize
	case t == secretType:
		return KindSecret
	case t.Kind() == reflect.Map && t.Elem() == secretType:
		return KindSecretMap
	}
	switch t.Kind() {
	case reflect.String:
		return KindString
	case reflect.Bool:
		return KindBool
	case reflect.Int, reflect.Int32, reflect.Int64:
		return KindInt
	case reflect.Slice:
		return KindList
	case reflect.Map:
		return KindMap
	}
	panic(fmt.Sprintf("config: no KeyKind for %s", t))
}
