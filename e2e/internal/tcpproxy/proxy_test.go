package tcpproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line and reads the echo.
func roundTrip(c net.Conn, line string) (string, error) {
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// listen starts a proxy to an echo server, closed when the test ends.
func listen(t *testing.T) *Proxy {
	t.Helper()
	p, err := Listen(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// awaitStalled waits until p holds a connection.
func awaitStalled(t *testing.T, p *Proxy) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !p.Stalled() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !p.Stalled() {
		t.Fatal("not stalled after the limit")
	}
}

// readLine reads the next line from c, which must be want, after p resumed.
func readLine(t *testing.T, c net.Conn, want string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != want+"\n" {
		t.Fatalf("after Resume: %q %v", line, err)
	}
}

func TestProxyForwardsCutsAndRestores(t *testing.T) {
	p := listen(t)

	open := dial(t, p.Addr())
	if got, err := roundTrip(open, "before"); err != nil || got != "before" {
		t.Fatalf("through the proxy: got %q, %v; want the echo", got, err)
	}

	p.Cut()
	// The connection that was open is closed: the next read ends.
	if _, err := roundTrip(open, "during"); err == nil {
		t.Fatal("an open connection still carried data after Cut")
	}
	// A new connection is accepted and closed at once: reads see EOF.
	fresh := dial(t, p.Addr())
	if _, err := roundTrip(fresh, "during"); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("a new connection while cut: err %v, want EOF or reset", err)
	}
	if p.Refused() < 1 {
		t.Errorf("Refused() = %d, want at least 1", p.Refused())
	}

	p.Restore()
	after := dial(t, p.Addr())
	if got, err := roundTrip(after, "after"); err != nil || got != "after" {
		t.Fatalf("after Restore: got %q, %v; want the echo", got, err)
	}
}

func TestProxyCloseEndsConnections(t *testing.T) {
	p, err := Listen(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "x"); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c, "y"); err == nil {
		t.Error("a connection carried data after Close")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("the proxy still accepts after Close")
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne)
}

// TestStall: while stalled nothing is forwarded and nothing is closed;
// after Resume the held bytes arrive on the same connection.
func TestStall(t *testing.T) {
	p := listen(t)
	c := dial(t, p.Addr())
	if got, err := roundTrip(c, "before"); err != nil || got != "before" {
		t.Fatalf("before the stall: %q %v", got, err)
	}
	p.Stall()
	if _, err := io.WriteString(c, "held\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var ne net.Error
	if _, err := bufio.NewReader(c).ReadString('\n'); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read while stalled: %v, want a timeout", err)
	}
	p.Resume()
	readLine(t, c, "held")
}

// TestStallAfter: a response passes up to the limit, then hangs.
func TestStallAfter(t *testing.T) {
	p := listen(t)
	c := dial(t, p.Addr())
	p.StallAfter(10)
	if got, err := roundTrip(c, "short"); err != nil || got != "short" {
		t.Fatalf("below the limit: %q %v", got, err)
	}
	if _, err := io.WriteString(c, "a longer line\n"); err != nil {
		t.Fatal(err)
	}
	awaitStalled(t, p)
	p.Resume()
	readLine(t, c, "a longer line")
}

// TestStallAfterHoldsOneConnection: the connection that passed the limit
// hangs, another one goes on.
func TestStallAfterHoldsOneConnection(t *testing.T) {
	p := listen(t)
	slow := dial(t, p.Addr())
	p.StallAfter(4)
	if _, err := io.WriteString(slow, "long enough\n"); err != nil {
		t.Fatal(err)
	}
	awaitStalled(t, p)
	other := dial(t, p.Addr())
	if got, err := roundTrip(other, "other connection"); err != nil || got != "other connection" {
		t.Fatalf("another connection while one is stalled: %q %v", got, err)
	}
	p.Resume()
	readLine(t, slow, "long enough")
}

// TestStallRequestAfter: a request passes up to the limit toward the
// target, then hangs until Resume.
func TestStallRequestAfter(t *testing.T) {
	p := listen(t)
	c := dial(t, p.Addr())
	p.StallRequestAfter(10)
	if got, err := roundTrip(c, "short"); err != nil || got != "short" {
		t.Fatalf("below the limit: %q %v", got, err)
	}
	if _, err := io.WriteString(c, "a longer line\n"); err != nil {
		t.Fatal(err)
	}
	awaitStalled(t, p)
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
		t.Fatal("the echo came back while the request was stalled")
	}
	p.Resume()
	readLine(t, c, "a longer line")
}
