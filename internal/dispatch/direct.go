package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Direct forwards every request at once over one shared client.
type Direct struct {
	base   *url.URL
	client *http.Client
}

// NewTransport returns a transport tuned for a single upstream on loopback:
// many idle keep-alive connections (so 64 concurrent clients never redial),
// no proxy from the environment, no compression (Ollama's JSON is small
// and gzip would cost more CPU than loopback bandwidth).
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		// A model load can take a minute before the first byte; the
		// gateway enforces its own per-request deadlines instead.
		ResponseHeaderTimeout: 0,
	}
}

// NewDirect forwards to upstream (e.g. "http://127.0.0.1:11434"); a nil
// client uses one over NewTransport.
func NewDirect(upstream string, client *http.Client) (*Direct, error) {
	u, err := ParseUpstream(upstream)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Transport: NewTransport()}
	}
	return &Direct{base: u, client: client}, nil
}

// ParseUpstream accepts what OLLAMA_HOST accepts: "host:port", "host",
// ":port" or a full http(s) URL.
func ParseUpstream(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = "127.0.0.1:11434"
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("upstream %q: scheme must be http or https", s)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "11434"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	u.Host = net.JoinHostPort(host, port)
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// Upstream returns the base URL requests go to.
func (d *Direct) Upstream() *url.URL { u := *d.base; return &u }

// Dispatch sends req now.
func (d *Direct) Dispatch(ctx context.Context, req *Request) (*Response, error) {
	u := d.base.String() + req.Path
	var body *bytes.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	var hr *http.Request
	var err error
	if body != nil {
		hr, err = http.NewRequestWithContext(ctx, req.Method, u, body)
	} else {
		hr, err = http.NewRequestWithContext(ctx, req.Method, u, nil)
	}
	if err != nil {
		return nil, err
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if req.Body != nil && hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	if req.OnStart != nil {
		req.OnStart(start)
	}
	resp, err := d.client.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		// Anything that kept us from getting a status line (refused,
		// reset, TLS) means the upstream cannot serve now.
		return nil, &UnavailableError{Cause: err}
	}
	return NewResponse(resp.StatusCode, resp.Header, resp.Body, 0, start, nil), nil
}
