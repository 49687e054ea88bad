// Package logging builds the process logger from config: log/slog, JSON in
// production, text for people at a terminal.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// New returns a logger writing to w in the configured format and level.
func New(c config.Log, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(c.Level))); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.Format {
	case "json", "":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log.format: must be json or text, got %q", c.Format)
}
