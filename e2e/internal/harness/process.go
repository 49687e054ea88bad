package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a child process whose stdout and stderr go to a log file.
// All methods are safe for concurrent use.
type Process struct {
	Name    string
	LogPath string

	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}

	mu    sync.Mutex
	state *os.ProcessState
	err   error
}

// StartProcess starts bin with args, its output appended to logPath. When
// readyPrefix is not empty, it waits (until ctx ends) for a stdout line that
// starts with readyPrefix and returns that line; a process that exits first
// is an error that quotes the end of its log.
func StartProcess(ctx context.Context, name, logPath, readyPrefix, bin string, args ...string) (*Process, string, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("opening log of %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, log: f, done: make(chan struct{})}
	lw := &lineWatcher{prefix: readyPrefix, found: make(chan string, 1)}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = io.MultiWriter(f, lw)
	cmd.Stderr = f
	// The child dies with the test binary, so an interrupted run leaves
	// nothing behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.cmd = cmd
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, "", fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.state, p.err = cmd.ProcessState, err
		p.mu.Unlock()
		f.Close()
		close(p.done)
	}()
	if readyPrefix == "" {
		return p, "", nil
	}
	select {
	case line := <-lw.found:
		return p, line, nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited before it was ready (%s); log tail:\n%s", name, p.exitDescription(), Tail(logPath, 30))
	case <-ctx.Done():
		p.Stop(5 * time.Second)
		return nil, "", fmt.Errorf("waiting for %s to print %q: %w; log tail:\n%s", name, readyPrefix, ctx.Err(), Tail(logPath, 30))
	}
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process; signalling an exited process is not an
// error.
func (p *Process) Signal(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling %s: %w", p.Name, err)
	}
	return nil
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits until the process exits or ctx ends and returns its exit code
// (-1 when it died of a signal).
func (p *Process) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return 0, fmt.Errorf("waiting for %s to exit: %w", p.Name, ctx.Err())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.ExitCode(), nil
}

// Stop sends SIGTERM, waits up to grace, then SIGKILLs, and waits for the
// exit. It returns the exit code (-1 after SIGKILL).
func (p *Process) Stop(grace time.Duration) int {
	if !p.Exited() {
		_ = p.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.Signal(syscall.SIGKILL)
			<-p.done
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.ExitCode()
}

func (p *Process) exitDescription() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		return "running"
	}
	return p.state.String()
}

// lineWatcher is an io.Writer that reports the first complete line starting
// with prefix.
type lineWatcher struct {
	prefix string
	buf    []byte
	done   bool
	found  chan string
}

func (w *lineWatcher) Write(b []byte) (int, error) {
	if w.done || w.prefix == "" {
		return len(b), nil
	}
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
		if strings.HasPrefix(line, w.prefix) {
			w.done = true
			w.found <- line
			w.buf = nil
			break
		}
	}
	return len(b), nil
}

// Tail returns the last n lines of the file at path, or a note why not.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
