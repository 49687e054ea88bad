package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

// node is one key of the configuration schema, derived by reflection from
// the koanf tags of Config. A struct node has children; a map node
// (map[string]string) accepts any key below it; every other node is a leaf.
type node struct {
	key      string // dotted path, "" for the root
	typ      reflect.Type
	children map[string]*node // struct nodes only
}

func (n *node) isStruct() bool { return n.typ.Kind() == reflect.Struct && n.typ != durationType }
func (n *node) isMap() bool    { return n.typ.Kind() == reflect.Map }

var (
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
	schema       = buildSchema("", reflect.TypeFor[Config]())
)

func buildSchema(key string, t reflect.Type) *node {
	n := &node{key: key, typ: t}
	if !n.isStruct() {
		return n
	}
	n.children = make(map[string]*node)
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("koanf")
		if name == "" || name == "-" {
			panic(fmt.Sprintf("config: field %s.%s has no koanf tag", t.Name(), f.Name))
		}
		n.children[name] = buildSchema(joinKey(key, name), f.Type)
	}
	return n
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// resolve walks parts down the schema. It returns the node reached and, when
// the path goes below a map node, the rest of the path as the map key
// (joined by sep). ok is false when a part names no key.
func resolve(parts []string, sep string) (n *node, mapKey string, ok bool) {
	n = schema
	for i, p := range parts {
		switch {
		case n.isMap():
			return n, strings.Join(parts[i:], sep), true
		case n.isStruct():
			c, found := n.children[p]
			if !found {
				return nil, "", false
			}
			n = c
		default:
			return nil, "", false // below a leaf
		}
	}
	return n, "", true
}

// leafKeys returns the dotted path of every leaf and map key of Config,
// sorted.
func leafKeys() []string {
	var keys []string
	var walk func(n *node)
	walk = func(n *node) {
		if !n.isStruct() {
			keys = append(keys, n.key)
			return
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(schema)
	sort.Strings(keys)
	return keys
}

// toMap turns a Config into the nested map[string]any koanf merges, with
// leaf values of their Go types. Empty maps are left out.
func toMap(c Config) map[string]any {
	return structToMap(reflect.ValueOf(c), schema)
}

func structToMap(v reflect.Value, n *node) map[string]any {
	out := make(map[string]any, len(n.children))
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("koanf")
		c := n.children[name]
		fv := v.Field(i)
		switch {
		case c.isStruct():
			out[name] = structToMap(fv, c)
		case c.isMap():
			if fv.Len() == 0 {
				continue
			}
			m := make(map[string]any, fv.Len())
			iter := fv.MapRange()
			for iter.Next() {
				m[iter.Key().String()] = iter.Value().Interface()
			}
			out[name] = m
		case fv.Kind() == reflect.Slice:
			s := reflect.MakeSlice(fv.Type(), fv.Len(), fv.Len())
			reflect.Copy(s, fv)
			out[name] = s.Interface()
		default:
			out[name] = fv.Interface()
		}
	}
	return out
}
