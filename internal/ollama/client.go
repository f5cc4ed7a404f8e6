package ollama

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/ollama/ollama/api"
)

// DefaultHost is where Ollama listens when OLLAMA_HOST is unset.
const DefaultHost = "127.0.0.1:11434"

// UnreachableError says Ollama did not answer at URL, and how to fix that.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("Ollama is not reachable at %s: start it with `ollama serve` (or set OLLAMA_HOST to where it listens): %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Client is the thin layer over Ollama's Go client that sync and status use.
type Client struct {
	URL string // base URL, e.g. http://127.0.0.1:11434
	api *api.Client
}

// ParseHost turns an OLLAMA_HOST value ("", "0.0.0.0", ":11434",
// "host:port", "http://host:port/path") into a base URL, with Ollama's
// defaults: scheme http, host 127.0.0.1, port 11434 (80/443 with an
// explicit http/https scheme and no port).
func ParseHost(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	scheme, port := "http", "11434"
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, s = strings.ToLower(s[:i]), s[i+3:]
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return nil, fmt.Errorf("OLLAMA_HOST: unsupported scheme %q (want http or https)", scheme)
		}
	}
	path := ""
	if i := strings.Index(s, "/"); i >= 0 {
		s, path = s[:i], strings.TrimRight(s[i:], "/")
	}
	host := s
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		// A server bound to all interfaces is reached on loopback.
		host = "127.0.0.1"
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: path}
	if _, err := url.Parse(u.String()); err != nil {
		return nil, fmt.Errorf("OLLAMA_HOST %q: %w", s, err)
	}
	return u, nil
}

// NewClient connects to host (an OLLAMA_HOST-style value; empty means
// $OLLAMA_HOST, else 127.0.0.1:11434).
func NewClient(host string) (*Client, error) {
	if host == "" {
		host = os.Getenv("OLLAMA_HOST")
	}
	u, err := ParseHost(host)
	if err != nil {
		return nil, err
	}
	return &Client{URL: u.String(), api: api.NewClient(u, http.DefaultClient)}, nil
}

// API exposes the underlying client for calls this type does not wrap.
func (c *Client) API() *api.Client { return c.api }

// wrap turns connection failures into UnreachableError; other errors pass.
func (c *Client) wrap(err error) error {
	if err == nil {
		return nil
	}
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return err
	}
	var op *net.OpError
	var dns *net.DNSError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) || errors.As(err, &dns) {
		return &UnreachableError{URL: c.URL, Err: err}
	}
	return err
}

// Version returns the server version; it is the reachability check.
func (c *Client) Version(ctx context.Context) (string, error) {
	v, err := c.api.Version(ctx)
	return v, c.wrap(err)
}

// List returns the installed models (/api/tags).
func (c *Client) List(ctx context.Context) ([]api.ListModelResponse, error) {
	r, err := c.api.List(ctx)
	if err != nil {
		return nil, c.wrap(err)
	}
	return r.Models, nil
}

// ListRunning returns the loaded models (/api/ps).
func (c *Client) ListRunning(ctx context.Context) ([]api.ProcessModelResponse, error) {
	r, err := c.api.ListRunning(ctx)
	if err != nil {
		return nil, c.wrap(err)
	}
	return r.Models, nil
}

// Show returns /api/show for name; a missing model is ErrNotFound.
func (c *Client) Show(ctx context.Context, name string) (*api.ShowResponse, error) {
	r, err := c.api.Show(ctx, &api.ShowRequest{Model: name})
	if err != nil {
		var se api.StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
		}
		return nil, c.wrap(err)
	}
	return r, nil
}

// ErrNotFound is returned for a model Ollama does not have.
var ErrNotFound = errors.New("model not found")

// Progress is one pull progress update.
type Progress = api.ProgressResponse

// Pull pulls ref, calling fn for every progress update. insecure allows a
// plain-HTTP registry (loopback tests). Go's client returns nil when the
// stream simply stops (server gone, context cancelled), so success is only
// reported once Ollama said "success".
func (c *Client) Pull(ctx context.Context, ref string, insecure bool, fn func(Progress)) error {
	var ok bool
	err := c.api.Pull(ctx, &api.PullRequest{Model: ref, Insecure: insecure}, func(p api.ProgressResponse) error {
		if p.Status == "success" {
			ok = true
		}
		if fn != nil {
			fn(p)
		}
		return nil
	})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return &PullError{Ref: ref, Err: c.wrap(err)}
	case !ok:
		return &PullError{Ref: ref, Err: errors.New("the pull stream ended before Ollama reported success")}
	}
	return nil
}

// PullError is a failed pull with a hint about the likely cause.
type PullError struct {
	Ref string
	Err error
}

func (e *PullError) Error() string {
	msg := e.Err.Error()
	if NotExist(e.Err) {
		return fmt.Sprintf("pull %s: the reference does not exist in its registry (%s)", e.Ref, msg)
	}
	return fmt.Sprintf("pull %s: %s", e.Ref, msg)
}

func (e *PullError) Unwrap() error { return e.Err }

// NotExist reports whether a pull error means "no such model or tag":
// Ollama answers "pull model manifest: file does not exist" for a missing
// tag in a registry.
func NotExist(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "file does not exist") || strings.Contains(s, "manifest unknown") ||
		strings.Contains(s, "not found")
}

// Create creates (or replaces) the persona's model in Ollama.
func (c *Client) Create(ctx context.Context, p PersonaSpec) error {
	var ok bool
	err := c.api.Create(ctx, p.CreateRequest(), func(r api.ProgressResponse) error {
		if r.Status == "success" {
			ok = true
		}
		return nil
	})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return fmt.Errorf("create %s from %s: %w", p.Name, p.From, c.wrap(err))
	case !ok:
		return fmt.Errorf("create %s from %s: Ollama did not report success", p.Name, p.From)
	}
	return nil
}

// Delete removes a model (a persona or, when asked by name, a base model).
func (c *Client) Delete(ctx context.Context, name string) error {
	if err := c.api.Delete(ctx, &api.DeleteRequest{Model: name}); err != nil {
		return fmt.Errorf("delete %s: %w", name, c.wrap(err))
	}
	return nil
}
