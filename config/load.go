package config

import (
	"fmt"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"
)

// Load builds a Config from, lowest precedence first, Default(), the YAML
// file at path (skipped when path is ""), the KQ__ variables of environ
// (e.g. os.Environ()) and the --set overrides in sets ("key=value"). A later
// layer replaces a value of an earlier one; lists are replaced, not
// appended; map entries (routing.topics) are merged by key.
//
// Every key of every layer must exist in Config and its value must have the
// key's type: otherwise Load returns a ValidationError naming each bad key
// and the layer it came from. A file that cannot be read or parsed is a
// plain error. Load does not call Validate.
func Load(path string, environ []string, sets []string) (Config, error) {
	var errs errorList
	user := koanf.New(".")
	if path != "" {
		k, err := fileLayer(path, &errs)
		if err != nil {
			return Config{}, err
		}
		if err := user.Merge(k); err != nil {
			return Config{}, fmt.Errorf("merging config file: %w", err)
		}
	}
	k, err := envLayer(environ, &errs)
	if err != nil {
		return Config{}, err
	}
	if err := user.Merge(k); err != nil {
		return Config{}, fmt.Errorf("merging environment: %w", err)
	}
	if k, err = setLayer(sets, &errs); err != nil {
		return Config{}, err
	}
	if err := user.Merge(k); err != nil {
		return Config{}, fmt.Errorf("merging --set: %w", err)
	}
	if err := errs.err(true); err != nil {
		return Config{}, err
	}

	all := koanf.New(".")
	if err := all.Load(confmap.Provider(toMap(Default()), ""), nil); err != nil {
		return Config{}, fmt.Errorf("loading defaults: %w", err)
	}
	// topics and topic_regex are exclusive: a regex set by the user
	// replaces the default topics list unless the user also set topics.
	if user.String("kafka.topic_regex") != "" && !user.Exists("kafka.topics") {
		all.Delete("kafka.topics")
	}
	if err := all.Merge(user); err != nil {
		return Config{}, fmt.Errorf("merging layers: %w", err)
	}
	var c Config
	err = all.UnmarshalWithConf("", &c, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook:  decodeHook,
		ErrorUnused: true,
		TagName:     "koanf",
	}})
	if err != nil {
		return Config{}, fmt.Errorf("decoding config: %w", err)
	}
	return c, nil
}
