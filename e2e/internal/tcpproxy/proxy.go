package tcpproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards TCP connections from a local listener to Target.
// Its methods are safe for concurrent use.
type Proxy struct {
	Target string

	ln  net.Listener
	wg  sync.WaitGroup
	mu  sync.Mutex
	cut bool
	// stalled holds every byte until Resume; open is signalled on change.
	stalled bool
	open    *sync.Cond
	// stallAt, when > 0, stalls the first connection whose bytes toward
	// its client pass it; stalledConn is that connection.
	stallAt     int64
	stalledConn net.Conn
	live        map[net.Conn]struct{}
	// refused counts connections closed on accept while cut.
	refused int
}

// Listen starts a proxy on 127.0.0.1 (a free port) forwarding to target.
func Listen(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	p := &Proxy{Target: target, ln: ln, live: make(map[net.Conn]struct{})}
	p.open = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the host:port clients dial instead of Target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every open connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.live {
		c.Close()
	}
}

// Stall stops forwarding bytes, both ways, without closing anything: a
// request in flight hangs (a download stops mid-stream) until Resume.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
}

// StallAfter stalls the first connection that sends more than n bytes
// from the target to its client (counted from now): that response gets so
// far and hangs, while other connections go on.
func (p *Proxy) StallAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stallAt = n
}

// Stalled reports whether the proxy holds bytes now.
func (p *Proxy) Stalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled || p.stalledConn != nil
}

// Resume forwards the held bytes again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = false
	p.stallAt, p.stalledConn = 0, nil
	p.open.Broadcast()
}

// waitOpen blocks while the proxy, or the connection g belongs to, is
// stalled; n bytes are about to be written.
func (p *Proxy) waitOpen(g *gated, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g.toClient && p.stallAt > 0 && p.stalledConn == nil {
		g.sent += int64(n)
		if g.sent > p.stallAt {
			p.stalledConn = g.c
		}
	}
	for p.stalled || (p.stalledConn != nil && p.stalledConn == g.c) {
		p.open.Wait()
	}
}

// gated writes to a connection only while the proxy is not stalled, so
// bytes read during a stall are held until Resume.
type gated struct {
	p        *Proxy
	c        net.Conn
	toClient bool
	sent     int64 // bytes toward the client since StallAfter, under p.mu
}

func (g *gated) Write(b []byte) (int, error) {
	g.p.waitOpen(g, len(b))
	return g.c.Write(b)
}

// Restore forwards new connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Refused is the number of connections refused while cut.
func (p *Proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.stalled, p.stalledConn = false, nil
	p.open.Broadcast()
	for c := range p.live {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // a transient accept error (EMFILE)
			continue
		}
		if !p.track(client) {
			client.Close()
			continue
		}
		p.wg.Add(1)
		go p.forward(client)
	}
}

// track registers a connection; it reports false (and counts a refusal)
// while the proxy is cut.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		p.refused++
		return false
	}
	p.live[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.live, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	server, err := net.DialTimeout("tcp", p.Target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		server.Close()
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(&gated{p: p, c: dst, toClient: dst == client}, src)
		// Closing both ends stops the other direction too.
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
}
