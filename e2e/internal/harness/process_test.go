package harness

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLineWatcherFindsSplitLine(t *testing.T) {
	w := &lineWatcher{prefix: "ready", found: make(chan string, 1)}
	for _, chunk := range []string{"starting\nrea", "dy 127.0.0.1:", "9092\nmore\n", "ready again\n"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case got := <-w.found:
		if got != "ready 127.0.0.1:9092" {
			t.Errorf("found %q, want the first ready line", got)
		}
	default:
		t.Fatal("no ready line found")
	}
	select {
	case got := <-w.found:
		t.Errorf("a second line was reported: %q", got)
	default:
	}
}

func TestStartProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()

	t.Run("ready line, SIGTERM stop", func(t *testing.T) {
		p, line, err := StartProcess(ctx, "sleeper", filepath.Join(dir, "sleeper.log"), "ready", "sh", "-c",
			`echo booting; echo "ready 1.2.3.4:5"; exec sleep 30`)
		if err != nil {
			t.Fatal(err)
		}
		if line != "ready 1.2.3.4:5" {
			t.Errorf("ready line %q", line)
		}
		if code := p.Stop(5 * time.Second); code != -1 {
			t.Errorf("exit code after SIGTERM = %d, want -1 (signal)", code)
		}
		if !strings.Contains(Tail(p.LogPath, 5), "booting") {
			t.Errorf("log lacks the output: %q", Tail(p.LogPath, 5))
		}
	})
	t.Run("exit code", func(t *testing.T) {
		p, _, err := StartProcess(ctx, "exiter", filepath.Join(dir, "exiter.log"), "", "sh", "-c", "exit 3")
		if err != nil {
			t.Fatal(err)
		}
		if code, err := p.Wait(ctx); err != nil || code != 3 {
			t.Errorf("Wait = %d, %v; want 3", code, err)
		}
	})
	t.Run("exit before ready quotes the log", func(t *testing.T) {
		_, _, err := StartProcess(ctx, "crasher", filepath.Join(dir, "crasher.log"), "ready", "sh", "-c",
			"echo config is bad >&2; exit 2")
		if err == nil || !strings.Contains(err.Error(), "config is bad") {
			t.Errorf("err = %v, want one that quotes the log", err)
		}
	})
}
