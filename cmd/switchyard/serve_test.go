package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testbed"
)

// A cancelled context is what SIGTERM produces (signal.NotifyContext in
// main): serve must finish the request in flight, then exit 0.
func TestServeDrainsInFlightRequestsOnShutdown(t *testing.T) {
	isolate(t)
	arrived := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/chat" {
			http.NotFound(w, r)
			return
		}
		close(arrived)
		time.Sleep(500 * time.Millisecond) // a slow generation still running at shutdown
		io.WriteString(w, `{"model":"m","message":{"role":"assistant","content":"hi"},"done":true,"load_duration":1000}`)
	}))
	defer upstream.Close()
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--listen", addr, "--upstream", upstream.URL, "--shutdown-timeout", "5s"}, io.Discard, &logs)
	}()
	waitListening(t, addr)

	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/api/chat", "application/json",
			strings.NewReader(`{"model":"my-coder","stream":false,"messages":[{"role":"user","content":"x"}]}`))
		if err != nil {
			res <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-arrived
	cancel() // SIGTERM
	r := <-res
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"done":true`) {
		t.Errorf("in-flight request during shutdown: %v %d %s", r.err, r.status, r.body)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d after draining\n%s", code, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit after shutdown")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("serve still accepts connections after shutdown")
	}
	if !strings.Contains(logs.String(), "draining") {
		t.Errorf("no drain log line:\n%s", logs.String())
	}
}

func TestServeRefusesOpenListenWithoutKeys(t *testing.T) {
	isolate(t)
	t.Setenv("SWITCHYARD_API_KEYS", "")
	_, errOut, code := cli(t, "serve", "--listen", "0.0.0.0:0", "--upstream", "127.0.0.1:1")
	if code != exitUsage || !strings.Contains(errOut, "not a loopback address") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve never listened on %s", addr)
}
