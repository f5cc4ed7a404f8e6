package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// OllamaVersion is the Ollama release scripts/install-ollama.sh builds.
const OllamaVersion = "v0.17.4"

// Environment variables understood by this package.
const (
	EnvOllamaBin     = "SWITCHYARD_OLLAMA_BIN"     // explicit ollama binary
	EnvCache         = "SWITCHYARD_CACHE"          // cache root (default ~/.cache/switchyard)
	EnvRequireOllama = "SWITCHYARD_REQUIRE_OLLAMA" // "1": missing binaries fail instead of skip
)

// ErrNoOllama is returned by OllamaBin when no binary can be found.
var ErrNoOllama = errors.New("testbed: no ollama binary (run scripts/install-ollama.sh or set " + EnvOllamaBin + ")")

// CachedOllamaPath is where scripts/install-ollama.sh puts the binary.
func CachedOllamaPath() string {
	root := os.Getenv(EnvCache)
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache", "switchyard")
	}
	return filepath.Join(root, "ollama-"+OllamaVersion, "bin", "ollama")
}

// OllamaBin locates the ollama binary: $SWITCHYARD_OLLAMA_BIN, then the
// install script's cache, then PATH.
func OllamaBin() (string, error) {
	if p := os.Getenv(EnvOllamaBin); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("testbed: %s=%s: %w", EnvOllamaBin, p, err)
		}
		return p, nil
	}
	if p := CachedOllamaPath(); isExecutable(p) {
		return p, nil
	}
	if p, err := exec.LookPath("ollama"); err == nil {
		return p, nil
	}
	return "", ErrNoOllama
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// skipOrFail skips when an external binary is missing, except in CI where
// SWITCHYARD_REQUIRE_OLLAMA=1 makes the absence a hard failure.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(EnvRequireOllama) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Ollama is a running ollama server owned by one test.
type Ollama struct {
	URL       string // http://127.0.0.1:PORT
	Host      string // 127.0.0.1:PORT
	ModelsDir string // OLLAMA_MODELS
	Bin       string
	LogPath   string   // server log (tail printed when the test fails)
	Env       []string // environment shared by server and CLI

	cmd  *exec.Cmd
	done chan struct{}
}

type ollamaConfig struct {
	env       map[string]string
	modelsDir string
	timeout   time.Duration
}

// OllamaOption customises StartOllama.
type OllamaOption func(*ollamaConfig)

// WithEnv sets an extra environment variable for the server (and CLI).
func WithEnv(key, value string) OllamaOption {
	return func(c *ollamaConfig) { c.env[key] = value }
}

// WithMaxLoadedModels sets OLLAMA_MAX_LOADED_MODELS.
func WithMaxLoadedModels(n int) OllamaOption {
	return WithEnv("OLLAMA_MAX_LOADED_MODELS", strconv.Itoa(n))
}

// WithNumParallel sets OLLAMA_NUM_PARALLEL.
func WithNumParallel(n int) OllamaOption { return WithEnv("OLLAMA_NUM_PARALLEL", strconv.Itoa(n)) }

// WithKeepAlive sets OLLAMA_KEEP_ALIVE (server default for loaded models).
func WithKeepAlive(d string) OllamaOption { return WithEnv("OLLAMA_KEEP_ALIVE", d) }

// WithContextLength sets OLLAMA_CONTEXT_LENGTH (otherwise VRAM-tiered: 4096 on CPU).
func WithContextLength(n int) OllamaOption { return WithEnv("OLLAMA_CONTEXT_LENGTH", strconv.Itoa(n)) }

// WithModelsDir reuses an existing models directory instead of a fresh one.
func WithModelsDir(dir string) OllamaOption { return func(c *ollamaConfig) { c.modelsDir = dir } }

// WithStartTimeout bounds the wait for /api/version (default 30s).
func WithStartTimeout(d time.Duration) OllamaOption { return func(c *ollamaConfig) { c.timeout = d } }

// StartOllama starts `ollama serve` on a free loopback port with a private
// models dir and HOME, waits until it answers, and stops it at cleanup.
func StartOllama(t testing.TB, opts ...OllamaOption) *Ollama {
	t.Helper()
	bin, err := OllamaBin()
	if err != nil {
		skipOrFail(t, err.Error())
	}
	cfg := &ollamaConfig{env: map[string]string{}, timeout: 30 * time.Second}
	for _, o := range opts {
		o(cfg)
	}
	dir := t.TempDir()
	if cfg.modelsDir == "" {
		cfg.modelsDir = filepath.Join(dir, "models")
	}
	home := filepath.Join(dir, "home")
	for _, d := range []string{cfg.modelsDir, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	base := map[string]string{
		"OLLAMA_HOST":   host,
		"OLLAMA_MODELS": cfg.modelsDir,
		// A private HOME keeps the signing key (~/.ollama/id_ed25519) and
		// history away from the developer's own Ollama; CLI shares it.
		"HOME":              home,
		"OLLAMA_NOPRUNE":    "1",
		"OLLAMA_KEEP_ALIVE": "5m",
		// Origins/updates/cloud are irrelevant on loopback tests.
		"OLLAMA_NO_CLOUD": "1",
	}
	for k, v := range cfg.env {
		base[k] = v
	}
	env := cleanEnv()
	for k, v := range base {
		env = append(env, k+"="+v)
	}

	logPath := filepath.Join(dir, "ollama.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group so cleanup can also reap runner subprocesses.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start ollama: %v", err)
	}
	o := &Ollama{
		URL: "http://" + host, Host: host, ModelsDir: cfg.modelsDir, Bin: bin,
		LogPath: logPath, Env: env, cmd: cmd, done: make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(o.done)
	}()
	t.Cleanup(func() {
		o.stop()
		if t.Failed() {
			t.Logf("ollama log tail (%s):\n%s", logPath, tailFile(logPath, 30))
		}
	})
	if err := waitHTTP(o.URL+"/api/version", cfg.timeout, o.done); err != nil {
		t.Fatalf("ollama did not come up: %v\nlog tail:\n%s", err, tailFile(logPath, 30))
	}
	return o
}

func (o *Ollama) stop() {
	pgid := o.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-o.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-o.done
	}
	// Runners may outlive the server briefly; the group kill catches them.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// Client returns an Ollama API client bound to this server.
func (o *Ollama) Client() *api.Client {
	u, _ := url.Parse(o.URL)
	return api.NewClient(u, http.DefaultClient)
}

// CLI runs the same binary as a client of this server (OLLAMA_HOST and
// HOME set) and returns combined stdout+stderr.
func (o *Ollama) CLI(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, o.Bin, args...)
	cmd.Env = o.Env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("ollama %s: %w: %s", strings.Join(args, " "), err, buf.String())
	}
	return buf.Bytes(), err
}

// Log returns the server log so far.
func (o *Ollama) Log() string {
	b, _ := os.ReadFile(o.LogPath)
	return string(b)
}

// cleanEnv drops inherited OLLAMA_* so a developer's settings cannot leak
// into the test server.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OLLAMA_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// FreePort returns a currently unused loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it returns 200, the deadline passes, or exited closes.
func waitHTTP(u string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("process exited")
		default:
		}
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timeout after %s: %v", timeout, last)
}

func tailFile(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}
