package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// printer writes statuses as text lines or JSON lines.
type printer struct {
	w    io.Writer
	json bool
}

func (p printer) status(s schemas.Status) {
	if p.json {
		b, _ := s.Encode()
		fmt.Fprintln(p.w, string(b))
		return
	}
	fmt.Fprintln(p.w, statusLine(s))
}

// statusLine is one human-readable line: time, id, state, type, collection,
// then progress, error or result.
func statusLine(s schemas.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  %-9s  %s", s.Time.UTC().Format(time.RFC3339), s.CommandID, s.State, s.Type)
	if s.Collection != "" {
		fmt.Fprintf(&b, " %s", s.Collection)
	}
	fmt.Fprintf(&b, "  (%s)", s.Replica)
	switch {
	case s.Error != nil:
		fmt.Fprintf(&b, "  error %s: %s", s.Error.Code, s.Error.Message)
		if s.Error.Retryable {
			b.WriteString(" [retryable]")
		}
	case s.Progress != nil:
		if s.Progress.Total > 0 {
			fmt.Fprintf(&b, "  %d/%d", s.Progress.Done, s.Progress.Total)
		}
		if s.Progress.Detail != "" {
			fmt.Fprintf(&b, "  %s", s.Progress.Detail)
		}
	case len(s.Result) > 0:
		var compact bytes.Buffer
		if err := json.Compact(&compact, s.Result); err == nil {
			fmt.Fprintf(&b, "  result %s", compact.String())
		}
	}
	return b.String()
}
