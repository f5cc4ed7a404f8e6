package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/dispatch"
	"github.com/switchyard/switchyard/internal/strategy"
)

// Defaults for Config fields left zero.
const (
	DefaultMaxBodyBytes     = 8 << 20
	DefaultFirstByteTimeout = 120 * time.Second // a cold load alone takes ~40 s
	DefaultIdleTimeout      = 60 * time.Second
	DefaultPromptFactor     = 4.0
	DefaultContext          = 4096 // Ollama's own default below 24 GiB of VRAM
	DefaultRetryAfter       = 5 * time.Second
)

// Config configures a Gateway.
type Config struct {
	Strategy   *strategy.Strategy
	Catalog    *catalog.Catalog
	Dispatcher dispatch.Dispatcher
	// MaxBodyBytes bounds request bodies (413 beyond).
	MaxBodyBytes int64
	// FirstByteTimeout bounds the wait from sending upstream to its first
	// byte (for non-streaming requests: the whole answer).
	FirstByteTimeout time.Duration
	// IdleTimeout bounds the gap between two chunks of a response.
	IdleTimeout time.Duration
	// PromptFactor: prompts estimated over factor × num_ctx tokens are
	// refused before anything goes upstream.
	PromptFactor float64
	// DefaultContext is the num_ctx assumed for plain models whose request
	// sets none, for the prompt-size rule only (nothing is sent upstream).
	DefaultContext int
	// APIKeys, when non-empty, are required as "Authorization: Bearer <key>".
	APIKeys []string
	// AllowAdmin proxies pull/push/create/copy/delete/blobs; otherwise 403.
	AllowAdmin bool
	// RetryAfter is the hint sent with 503 when the upstream is down.
	RetryAfter time.Duration
	Logger     *slog.Logger
	// Registerer receives the metrics; nil makes a private registry
	// (served on /metrics either way).
	Registry *prometheus.Registry
}

// Gateway serves the Ollama and OpenAI APIs in front of one upstream.
type Gateway struct {
	cfg     Config
	res     *Resolver
	disp    dispatch.Dispatcher
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	routes  map[string][]string // path → methods, for 405 answers
	keys    [][]byte
}

// New builds a gateway; it does not listen.
func New(cfg Config) (*Gateway, error) {
	if cfg.Dispatcher == nil {
		return nil, errors.New("gateway: no dispatcher")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.FirstByteTimeout <= 0 {
		cfg.FirstByteTimeout = DefaultFirstByteTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.PromptFactor <= 0 {
		cfg.PromptFactor = DefaultPromptFactor
	}
	if cfg.DefaultContext <= 0 {
		cfg.DefaultContext = DefaultContext
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	g := &Gateway{
		cfg:    cfg,
		res:    NewResolver(cfg.Strategy, cfg.Catalog),
		disp:   cfg.Dispatcher,
		log:    cfg.Logger.With("component", "gateway"),
		routes: map[string][]string{},
	}
	for _, k := range cfg.APIKeys {
		if k = strings.TrimSpace(k); k != "" {
			g.keys = append(g.keys, []byte(k))
		}
	}
	m, err := newMetrics(cfg.Registry, g.res)
	if err != nil {
		return nil, err
	}
	g.metrics = m
	g.buildMux()
	return g, nil
}

// Resolver exposes persona resolution (for the dashboard and router).
func (g *Gateway) Resolver() *Resolver { return g.res }

type route struct {
	method, path string
	h            http.HandlerFunc
	open         bool // no API key needed (health probes)
}

func (g *Gateway) buildMux() {
	routes := []route{
		{"GET", "/healthz", g.healthz, true},
		{"GET", "/readyz", g.readyz, true},
		{"GET", "/metrics", g.metrics.handler(g.cfg.Registry), false},
		// Ollama's own liveness answer, which its CLI and libraries probe.
		{"GET", "/{$}", g.root, true},
		{"HEAD", "/{$}", g.root, true},
		{"GET", "/api/version", g.version, true},
		{"HEAD", "/api/version", g.version, true},
		{"POST", "/api/chat", g.nativeInference(epChat), false},
		{"POST", "/api/generate", g.nativeInference(epGenerate), false},
		{"POST", "/api/embed", g.nativeInference(epEmbed), false},
		{"POST", "/api/embeddings", g.nativeInference(epEmbeddings), false},
		{"GET", "/api/tags", g.tags, false},
		{"GET", "/api/ps", g.ps, false},
		{"POST", "/api/show", g.show, false},
		{"POST", "/v1/chat/completions", g.openAIChat, false},
		{"POST", "/v1/completions", g.openAICompletions, false},
		{"POST", "/v1/embeddings", g.openAIEmbeddings, false},
		{"GET", "/v1/models", g.openAIModels, false},
		{"GET", "/v1/models/{id...}", g.openAIModel, false},
	}
	for _, a := range adminRoutes {
		routes = append(routes, route{a.method, a.path, g.admin, false})
	}
	g.mux = http.NewServeMux()
	for _, rt := range routes {
		h := rt.h
		if !rt.open {
			h = g.requireKey(h)
		}
		g.mux.HandleFunc(rt.method+" "+rt.path, h)
		// GET patterns also match HEAD in ServeMux.
		g.routes[rt.path] = append(g.routes[rt.path], rt.method)
	}
	// Everything else lands here, so 404 and 405 come in the API's shape
	// rather than ServeMux's plain text.
	g.mux.HandleFunc("/", g.notFound)
}

func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	if methods := g.allowed(r.URL.Path); len(methods) > 0 {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, r, errf(http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(methods, ", "))))
		return
	}
	writeError(w, r, errf(http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)))
}

func (g *Gateway) allowed(path string) []string {
	if m, ok := g.routes[path]; ok {
		return m
	}
	if strings.HasPrefix(path, "/v1/models/") {
		return g.routes["/v1/models/{id...}"]
	}
	if strings.HasPrefix(path, "/api/blobs/") {
		return g.routes["/api/blobs/{digest}"]
	}
	if path == "/" {
		return g.routes["/{$}"]
	}
	return nil
}

// ServeHTTP runs the middleware chain: request id, recover, body limit,
// then the routes.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		id = newID()
	}
	w.Header().Set("X-Request-Id", id)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			g.log.Error("panic", "request_id", id, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			// If headers already went out this only ends the stream.
			writeError(w, r, errf(http.StatusInternalServerError, "internal_error", "internal error (request "+id+")"))
		}
	}()
	if r.ContentLength > g.cfg.MaxBodyBytes {
		// Refuse before reading a byte: this is what keeps a 64 MiB prompt
		// away from the upstream's tokenizer.
		writeError(w, r, tooLarge(g.cfg.MaxBodyBytes))
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes)
	}
	g.mux.ServeHTTP(w, r)
}

func tooLarge(limit int64) *apiError {
	return errf(http.StatusRequestEntityTooLarge, "request_too_large",
		fmt.Sprintf("request body is larger than the gateway's limit of %d bytes", limit))
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requireKey checks "Authorization: Bearer <key>" in constant time when
// keys are configured. Keys are never logged.
func (g *Gateway) requireKey(h http.HandlerFunc) http.HandlerFunc {
	if len(g.keys) == 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if ok && g.keyOK([]byte(strings.TrimSpace(tok))) {
			h(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard"`)
		writeError(w, r, errf(http.StatusUnauthorized, "invalid_api_key", "missing or invalid API key (send Authorization: Bearer <key>)"))
	}
}

func (g *Gateway) keyOK(tok []byte) bool {
	ok := 0
	for _, k := range g.keys {
		// Check every key so timing does not reveal which one matched.
		ok |= subtle.ConstantTimeCompare(tok, k)
	}
	return ok == 1
}

func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz asks the upstream for its version; ready means reachable.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	resp, err := g.disp.Dispatch(ctx, &dispatch.Request{Kind: dispatch.Meta, Method: "GET", Path: "/api/version"})
	if err != nil {
		e := errf(http.StatusServiceUnavailable, "upstream_unavailable", "upstream not reachable: "+err.Error())
		e.RetryAfter = g.cfg.RetryAfter
		writeError(w, r, e)
		return
	}
	resp.Finish(dispatch.Outcome{})
	if resp.StatusCode != http.StatusOK {
		writeError(w, r, errf(http.StatusServiceUnavailable, "upstream_unavailable", fmt.Sprintf("upstream answered %d", resp.StatusCode)))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (g *Gateway) root(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte("Ollama is running (via switchyard)"))
	}
}
