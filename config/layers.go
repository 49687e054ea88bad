package config

import (
	"fmt"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix starts every environment variable that sets a key.
const EnvPrefix = "KQ__"

// envDelim separates key parts between the env transform and the env
// provider; NUL cannot occur in an environment variable name, so map keys
// keep their dots.
const envDelim = "\x00"

// fileLayer reads the YAML file at path and checks every key and value.
func fileLayer(path string, errs *errorList) (*koanf.Koanf, error) {
	raw := koanf.New(".")
	if err := raw.Load(file.Provider(path), yaml.Parser()); err != nil {
		return nil, fmt.Errorf("reading config file %s: %w", path, err)
	}
	m := raw.Raw()
	checkTree(m, schema, "in file "+path, errs)
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(m, ""), nil); err != nil {
		return nil, fmt.Errorf("reading config file %s: %w", path, err)
	}
	return k, nil
}

// checkTree checks a nested map from a layer against the schema node n. A
// section or map with no value ("kafka:" with every key below commented
// out) is removed from m, so that it does not replace the defaults; a leaf
// with no value is an error, since it is unclear whether it means empty or
// default.
func checkTree(m map[string]any, n *node, src string, errs *errorList) {
	for name, v := range m {
		key := joinKey(n.key, name)
		c, ok := n.children[name]
		switch {
		case !ok:
			errs.add(key, "unknown key (%s)", src)
			continue
		case v == nil && (c.isStruct() || c.isMap()):
			delete(m, name)
			continue
		case v == nil:
			errs.add(key, "has no value; write \"\" or [] to set it empty (%s)", src)
			continue
		}
		if _, err := convert(c.typ, v); err != nil {
			errs.add(key, "%v (%s)", err, src)
			continue
		}
		sub, _ := v.(map[string]any)
		switch {
		case c.isStruct():
			checkTree(sub, c, src, errs)
		case c.isMap():
			for entry, ev := range sub {
				if _, err := convertEntry(c.typ.Elem(), ev); err != nil {
					errs.add(joinKey(key, entry), "%v (%s)", err, src)
				}
			}
		}
	}
}

// keyPath resolves the parts of an environment or --set key, joined by sep
// below a map key, to the koanf path of a leaf or map entry. The returned
// display key is dotted.
func keyPath(parts []string, sep string) (path []string, display string, n *node, err error) {
	display = strings.Join(parts, ".")
	n, mapKey, ok := resolve(parts, sep)
	switch {
	case !ok:
		return nil, display, nil, fmt.Errorf("unknown key")
	case n.isStruct():
		return nil, display, nil, fmt.Errorf("is a section, not a key; set the keys below it")
	case n.isMap() && mapKey == "":
		return nil, display, nil, fmt.Errorf("is a map; set one entry, e.g. %s.<name>", n.key)
	}
	path = strings.Split(n.key, ".")
	if n.isMap() {
		path = append(path, mapKey)
		display = n.key + "." + mapKey
	}
	return path, display, n, nil
}

// checkValue checks a string value for the node reached by keyPath.
func checkValue(n *node, v string) error {
	if n.isMap() {
		_, err := convertEntry(n.typ.Elem(), v)
		return err
	}
	_, err := convert(n.typ, v)
	return err
}

// envLayer reads the KQ__ variables of environ.
func envLayer(environ []string, errs *errorList) (*koanf.Koanf, error) {
	k := koanf.New(".")
	p := env.Provider(envDelim, env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			parts := strings.Split(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), "__")
			path, display, n, err := keyPath(parts, "__")
			if err == nil {
				err = checkValue(n, value)
			}
			if err != nil {
				errs.add(display, "%v (from environment variable %s)", err, name)
				return "", nil
			}
			return strings.Join(path, envDelim), value
		},
	})
	if err := k.Load(p, nil); err != nil {
		return nil, fmt.Errorf("reading environment: %w", err)
	}
	return k, nil
}

// setLayer reads --set key=value overrides.
func setLayer(sets []string, errs *errorList) (*koanf.Koanf, error) {
	m := make(map[string]any)
	for _, s := range sets {
		key, value, ok := strings.Cut(s, "=")
		if !ok {
			errs.add(strings.TrimSpace(s), "want --set key=value")
			continue
		}
		key = strings.TrimSpace(key)
		path, display, n, err := keyPath(strings.Split(key, "."), ".")
		if err == nil {
			err = checkValue(n, value)
		}
		if err != nil {
			errs.add(display, "%v (from --set %s)", err, key)
			continue
		}
		setPath(m, path, value)
	}
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(m, ""), nil); err != nil {
		return nil, fmt.Errorf("reading --set: %w", err)
	}
	return k, nil
}

// setPath sets m[path[0]]...[path[n-1]] = v, creating nested maps.
func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = make(map[string]any)
			m[p] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}
