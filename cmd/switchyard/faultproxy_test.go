package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultProxy fronts the loopback docker-registry and injects faults: it
// drops manifest requests, cuts a blob transfer mid-way, and throttles blob
// bodies so a cancellation lands mid-transfer. Like the test bed's own
// front, it redirects blob GETs to "localhost" on its own port, because
// Ollama's puller insists on a redirect (see testbed.startBlobRedirector).
type faultProxy struct {
	Addr    string
	backend string

	mu           sync.Mutex
	dropManifest int   // manifest GETs still to drop
	dropBlobAt   int64 // cut the next blob response after this many bytes; 0 off
	rate         int64 // blob bytes per second; 0 unthrottled
	onBytes      func(total int64)

	served atomic.Int64 // blob body bytes sent
	drops  atomic.Int32
}

func startFaultProxy(t *testing.T, backend string) *faultProxy {
	t.Helper()
	p := &faultProxy{backend: backend}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Addr = l.Addr().String()
	srv := &http.Server{Handler: p}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

func (p *faultProxy) set(f func(p *faultProxy)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, port, _ := net.SplitHostPort(r.Host)
	isBlob := r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:")
	switch {
	case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/"):
		p.mu.Lock()
		drop := p.dropManifest > 0
		if drop {
			p.dropManifest--
		}
		p.mu.Unlock()
		if drop {
			p.drops.Add(1)
			panic(http.ErrAbortHandler) // closes the connection without a response
		}
	case isBlob && host != "localhost":
		u := *r.URL
		u.Scheme, u.Host = "http", net.JoinHostPort("localhost", port)
		http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
		return
	case isBlob:
		p.serveBlob(w, r)
		return
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(&url.URL{Scheme: "http", Host: p.backend})
		pr.Out.Host = pr.In.Host
	}}
	rp.ServeHTTP(w, r)
}

func (p *faultProxy) serveBlob(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://"+p.backend+r.URL.Path, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if rg := r.Header.Get("Range"); rg != "" {
		req.Header.Set("Range", rg)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	p.mu.Lock()
	cutAt, rate, onBytes := p.dropBlobAt, p.rate, p.onBytes
	p.dropBlobAt = 0
	p.mu.Unlock()
	buf := make([]byte, 64<<10)
	var sent int64
	start := time.Now()
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return
			}
			sent += int64(n)
			total := p.served.Add(int64(n))
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			if onBytes != nil {
				onBytes(total)
			}
			if cutAt > 0 && sent >= cutAt {
				p.drops.Add(1)
				panic(http.ErrAbortHandler) // the registry "drops the connection mid-blob"
			}
			if rate > 0 {
				if ahead := time.Duration(float64(sent)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
					select {
					case <-time.After(ahead):
					case <-r.Context().Done():
						return
					}
				}
			}
		}
		if rerr == io.EOF {
			return
		}
		if rerr != nil {
			return
		}
	}
}
