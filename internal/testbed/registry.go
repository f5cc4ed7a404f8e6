package testbed

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EnvRegistryBin overrides the docker-registry binary location.
const EnvRegistryBin = "SWITCHYARD_REGISTRY_BIN"

// Registry is a loopback OCI distribution registry (Debian's
// docker-registry) with filesystem storage and no auth, fronted by a small
// in-process proxy (see blobRedirector).
type Registry struct {
	Addr        string // 127.0.0.1:PORT, the proxy; use this in model names
	URL         string // http://127.0.0.1:PORT
	BackendAddr string // docker-registry itself
	Dir         string // storage root
	LogPath     string
}

// RegistryBin locates docker-registry: $SWITCHYARD_REGISTRY_BIN, PATH, /usr/bin.
func RegistryBin() (string, error) {
	if p := os.Getenv(EnvRegistryBin); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("docker-registry"); err == nil {
		return p, nil
	}
	if isExecutable("/usr/bin/docker-registry") {
		return "/usr/bin/docker-registry", nil
	}
	return "", fmt.Errorf("testbed: docker-registry not found (apt-get install docker-registry, or run scripts/install-ollama.sh)")
}

// StartRegistry runs a registry on a free loopback port until test cleanup.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	bin, err := RegistryBin()
	if err != nil {
		skipOrFail(t, err.Error())
	}
	dir := t.TempDir()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	r := &Registry{
		BackendAddr: addr,
		Dir:         filepath.Join(dir, "storage"), LogPath: filepath.Join(dir, "registry.log"),
	}
	cfgPath := filepath.Join(dir, "config.yml")
	// Our own config: the Debian default listens on :5000 with /var/lib storage.
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, r.Dir, addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(r.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start registry: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("registry log tail:\n%s", tailFile(r.LogPath, 15))
		}
	})
	if err := waitHTTP("http://"+addr+"/v2/", 20*time.Second, done); err != nil {
		t.Fatalf("registry did not come up: %v\n%s", err, tailFile(r.LogPath, 15))
	}
	r.Addr = startBlobRedirector(t, addr)
	r.URL = "http://" + r.Addr
	return r
}

// startBlobRedirector fronts the registry with a proxy that answers blob
// GETs with a 307 to the same port under the host name "localhost".
//
// Why: Ollama v0.17.4's puller (server/download.go) first GETs the blob,
// follows redirects only within the same host name, and then insists on a
// Location header (ollama.com redirects blobs to a CDN). docker-registry
// with filesystem storage serves blobs directly (200, no Location), which
// fails with "http: no Location header in response". Changing the host
// name makes Ollama stop at our 307 and download ranges from localhost,
// where the proxy forwards untouched.
func startBlobRedirector(t testing.TB, backend string) string {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: backend}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		// Keep the client's Host so registry-generated Location headers
		// (upload sessions) point back at the proxy.
		pr.Out.Host = pr.In.Host
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		host, _, _ := net.SplitHostPort(req.Host)
		if req.Method == http.MethodGet && host != "localhost" && strings.Contains(req.URL.Path, "/blobs/sha256:") {
			u := *req.URL
			u.Scheme, u.Host = "http", net.JoinHostPort("localhost", port)
			http.Redirect(w, req, u.String(), http.StatusTemporaryRedirect)
			return
		}
		proxy.ServeHTTP(w, req)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// PushTiny creates a tiny llama model named ADDR/library/<repoTag> in o and
// pushes it to reg with `ollama push --insecure`. It returns the full name,
// which another Ollama can pull with insecure: true.
func PushTiny(t testing.TB, o *Ollama, reg *Registry, repoTag string) string {
	t.Helper()
	if !strings.Contains(repoTag, ":") {
		repoTag += ":latest"
	}
	name := reg.Addr + "/library/" + repoTag
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec := TinySpec{Name: strings.Split(repoTag, ":")[0], Seed: SeedFor(name)}
	if err := CreateTiny(ctx, o.URL, name, spec); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	out, err := o.CLI(ctx, "push", "--insecure", name)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	t.Logf("pushed %s: %s", name, lastLine(string(out)))
	return name
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
