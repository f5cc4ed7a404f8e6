package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/dispatch"
	"github.com/switchyard/switchyard/internal/gateway"
)

func init() { extraCommands = append(extraCommands, newServeCmd) }

type serveOptions struct {
	listen, upstream, keyFile  string
	insecureNoAuth, allowAdmin bool
	maxBody                    int64
	firstByte, idle, shutdown  time.Duration
	promptFactor               float64
	defaultContext             int
	logLevel                   string
}

func newServeCmd(g *globals) *cobra.Command {
	o := &serveOptions{}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Ollama and OpenAI APIs with the strategy's personas in front of Ollama",
		Long: `serve runs a gateway in front of Ollama. Requests naming a persona get its
base model, system prompt, parameters, context and keep-alive; plain model
names pass through. It answers the Ollama API (/api/*) and the OpenAI API
(/v1/*), plus /healthz, /readyz and /metrics.

Listening anywhere but loopback requires API keys (--api-key-file or
$SWITCHYARD_API_KEYS, comma-separated), sent as "Authorization: Bearer <key>",
unless --insecure-no-auth is given.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runServe(c, g, o) },
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:11435", "address to listen on")
	f.StringVar(&o.upstream, "upstream", "", "Ollama to forward to (default: $OLLAMA_HOST, else 127.0.0.1:11434)")
	f.StringVar(&o.keyFile, "api-key-file", "", "file with API keys, one per line (# comments allowed)")
	f.BoolVar(&o.insecureNoAuth, "insecure-no-auth", false, "allow a non-loopback listen address without API keys")
	f.BoolVar(&o.allowAdmin, "allow-admin", false, "proxy pull/push/create/copy/delete/blobs (refused with 403 otherwise)")
	f.Int64Var(&o.maxBody, "max-body", gateway.DefaultMaxBodyBytes, "largest request body in bytes (413 beyond)")
	f.DurationVar(&o.firstByte, "first-byte-timeout", gateway.DefaultFirstByteTimeout, "longest wait for the upstream's first byte (cold loads take ~40 s)")
	f.DurationVar(&o.idle, "idle-timeout", gateway.DefaultIdleTimeout, "longest gap between two chunks of an upstream response")
	f.DurationVar(&o.shutdown, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	f.Float64Var(&o.promptFactor, "prompt-factor", gateway.DefaultPromptFactor, "refuse prompts estimated over this many times the context")
	f.IntVar(&o.defaultContext, "default-context", gateway.DefaultContext, "context assumed for plain models in the prompt-size check")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	return c
}

func runServe(c *cobra.Command, g *globals, o *serveOptions) error {
	stderr := c.ErrOrStderr()
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return usageErr("--log-level: %v", err)
	}
	if o.maxBody <= 0 || o.firstByte <= 0 || o.idle <= 0 || o.promptFactor <= 0 || o.defaultContext <= 0 {
		return usageErr("--max-body, --first-byte-timeout, --idle-timeout, --prompt-factor and --default-context must be positive")
	}
	keys, err := loadKeys(o.keyFile)
	if err != nil {
		return usageErr("%v", err)
	}
	loopback, err := isLoopback(o.listen)
	if err != nil {
		return usageErr("--listen %q: %v", o.listen, err)
	}
	if !loopback && len(keys) == 0 && !o.insecureNoAuth {
		return usageErr("--listen %s is not a loopback address: give API keys (--api-key-file or $SWITCHYARD_API_KEYS) or --insecure-no-auth", o.listen)
	}
	s, cat, err := g.loadStrategy(stderr)
	if err != nil {
		return err
	}
	up := o.upstream
	if up == "" {
		up = os.Getenv("OLLAMA_HOST")
	}
	d, err := dispatch.NewDirect(up, nil)
	if err != nil {
		return usageErr("--upstream: %v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	gw, err := gateway.New(gateway.Config{
		Strategy: s, Catalog: cat, Dispatcher: d, MaxBodyBytes: o.maxBody,
		FirstByteTimeout: o.firstByte, IdleTimeout: o.idle, PromptFactor: o.promptFactor,
		DefaultContext: o.defaultContext, APIKeys: keys, AllowAdmin: o.allowAdmin, Logger: log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("listen: %w", err))
	}
	srv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "component", "serve", "listen", ln.Addr().String(), "upstream", d.Upstream().String(),
		"personas", len(gw.Resolver().Personas()), "auth", len(keys) > 0, "admin", o.allowAdmin)
	return serveUntil(c.Context(), srv, ln, o.shutdown, log)
}

// serveUntil serves until ctx ends (SIGTERM/SIGINT), then drains in-flight
// requests for up to timeout before closing what is left.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return withCode(exitFailure, err)
	case <-ctx.Done():
	}
	log.Info("shutting down; draining in-flight requests", "component", "serve", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return withCode(exitFailure, fmt.Errorf("shutdown: %w", err))
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return withCode(exitFailure, err)
	}
	return nil
}

// loadKeys reads keys from the file (one per line) and $SWITCHYARD_API_KEYS
// (comma-separated). The keys themselves are never printed.
func loadKeys(file string) ([]string, error) {
	var keys []string
	for _, k := range strings.Split(os.Getenv("SWITCHYARD_API_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--api-key-file: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("--api-key-file: %w", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				keys = append(keys, l)
			}
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("--api-key-file %s holds no keys", file)
		}
	}
	return keys, nil
}

// isLoopback reports whether addr binds only loopback ("localhost",
// 127.0.0.0/8, ::1). An empty host means all interfaces.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}
