package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/ollama"
	"github.com/switchyard/switchyard/internal/strategy"
	"github.com/switchyard/switchyard/internal/testbed"
)

// These tests run sync and status in-process against a real Ollama that
// pulls from a loopback docker-registry (internal/testbed). They skip when
// the binaries are missing unless SWITCHYARD_REQUIRE_OLLAMA=1.

// syncBed is a registry holding tiny-coder:v1 and an empty Ollama that
// switchyard syncs into.
type syncBed struct {
	reg   *testbed.Registry
	src   *testbed.Ollama // pushes to the registry
	dst   *testbed.Ollama // what switchyard syncs
	proxy *faultProxy     // fault-injecting front of the registry
	dir   string
}

func newSyncBed(t *testing.T) *syncBed {
	t.Helper()
	// isolate replaces HOME, where the install script caches the binary.
	if bin, err := testbed.OllamaBin(); err == nil {
		t.Setenv(testbed.EnvOllamaBin, bin)
	}
	isolate(t)
	b := &syncBed{reg: testbed.StartRegistry(t), src: testbed.StartOllama(t), dst: testbed.StartOllama(t), dir: t.TempDir()}
	testbed.PushTiny(t, b.src, b.reg, "tiny-coder:v1")
	b.proxy = startFaultProxy(t, b.reg.BackendAddr)
	t.Setenv("OLLAMA_HOST", b.dst.Host)
	t.Setenv("OLLAMA_MODELS", b.dst.ModelsDir)
	t.Setenv("SWITCHYARD_STATE_DIR", filepath.Join(b.dir, "state"))
	return b
}

// ref names a repository in the registry through the fault proxy.
func (b *syncBed) ref(repoTag string) string { return b.proxy.Addr + "/library/" + repoTag }

const tinyCatalog = `  - {id: %s, name: %s, kind: dense, arch: llama, params_b: 0.0001, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, ff: 128, vocab: 300, trained_ctx: 2048}
`

// strategyFile writes a strategy with tiny-coder (layer 0) and two
// personas on it, plus extra YAML appended to each section.
func (b *syncBed) strategyFile(t *testing.T, coderSystem string, extraModels, extraPersonas string) string {
	t.Helper()
	y := "version: 1\nhardware: {gpu: test, vram_mib: 8192, max_resident_large: 1}\ncatalog:\n" +
		fmt.Sprintf(tinyCatalog, "tiny-coder", "Tiny Coder") + fmt.Sprintf(tinyCatalog, "tiny-big", "Tiny Big") +
		fmt.Sprintf(tinyCatalog, "ghost", "Ghost") +
		"models:\n" +
		fmt.Sprintf("  - {id: tiny-coder, quant: F32, context: 1024, tier: 1, layer: 0, pull: %q}\n", b.ref("tiny-coder:v1")) +
		extraModels +
		"personas:\n" +
		fmt.Sprintf("  - {name: tiny-helper, model: tiny-coder, system: %q, parameters: {temperature: 0.2, stop: [\"<|end|>\", \"User:\"]}}\n", coderSystem) +
		"  - {name: tiny-reviewer, model: tiny-coder, context: 512, system: \"Review.\", parameters: {temperature: 0.1}}\n" +
		extraPersonas +
		"layers: []\n"
	p := filepath.Join(b.dir, fmt.Sprintf("strategy-%d.yaml", time.Now().UnixNano()))
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sy runs switchyard with ctx, failing the test when the exit code is not want.
func sy(t *testing.T, ctx context.Context, want int, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(ctx, args, &out, &errb)
	t.Logf("switchyard %s: exit %d in %s\n%s", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond), out.String())
	if code != want {
		t.Fatalf("switchyard %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func installedNames(t *testing.T, o *testbed.Ollama) []string {
	t.Helper()
	l, err := o.Client().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, m := range l.Models {
		n = append(n, m.Name)
	}
	return n
}

func hasModel(t *testing.T, o *testbed.Ollama, name string) bool {
	_, ok := ollama.FindName(installedNames(t, o), name)
	return ok
}

func TestSyncPullsCreatesPersonasAndIsIdempotent(t *testing.T) {
	b := newSyncBed(t)
	ctx := context.Background()
	strat := b.strategyFile(t, "You write code.", "", "")

	out, _ := sy(t, ctx, exitOK, "sync", "--insecure", "--strategy", strat)
	for _, want := range []string{"pull " + b.ref("tiny-coder:v1"), "create persona tiny-helper", "create persona tiny-reviewer", "2 personas created"} {
		if !strings.Contains(out, want) {
			t.Errorf("sync output lacks %q:\n%s", want, out)
		}
	}
	for _, n := range []string{b.ref("tiny-coder:v1"), "tiny-helper", "tiny-reviewer"} {
		if !hasModel(t, b.dst, n) {
			t.Errorf("%s not installed after sync: %v", n, installedNames(t, b.dst))
		}
	}
	sh, err := b.dst.Client().Show(ctx, &api.ShowRequest{Model: "tiny-helper"})
	if err != nil {
		t.Fatal(err)
	}
	params := ollama.ParseParameters(sh.Parameters)
	if sh.System != "You write code." || params["num_ctx"][0] != "1024" || len(params["stop"]) != 2 {
		t.Errorf("tiny-helper: system %q, parameters %v", sh.System, params)
	}
	sh, err = b.dst.Client().Show(ctx, &api.ShowRequest{Model: "tiny-reviewer"})
	if err != nil || ollama.ParseParameters(sh.Parameters)["num_ctx"][0] != "512" {
		t.Errorf("tiny-reviewer num_ctx from persona context: %v %v", err, sh)
	}

	// status sees both personas installed, matching, and made by switchyard.
	out, _ = sy(t, ctx, exitOK, "status", "--json", "--strategy", strat)
	var st struct {
		Models []struct {
			ID        string `json:"id"`
			Installed bool   `json:"installed"`
		} `json:"models"`
		Personas []struct {
			Name                        string
			Installed, Matches, Managed bool
		} `json:"personas"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if len(st.Models) != 1 || !st.Models[0].Installed || len(st.Personas) != 2 {
		t.Fatalf("status: %+v", st)
	}
	for _, p := range st.Personas {
		if !p.Installed || !p.Matches || !p.Managed {
			t.Errorf("status persona %+v", p)
		}
	}
	out, _ = sy(t, ctx, exitOK, "status", "--strategy", strat)
	if !strings.Contains(out, "tiny-helper") || !strings.Contains(out, "MATCHES STRATEGY") {
		t.Errorf("status text:\n%s", out)
	}

	// A second sync changes nothing and says so.
	before := installedNames(t, b.dst)
	served := b.proxy.served.Load()
	out, _ = sy(t, ctx, exitOK, "sync", "--insecure", "--strategy", strat)
	if !strings.Contains(out, "nothing to do") || strings.Contains(out, "create persona") {
		t.Errorf("second sync did something:\n%s", out)
	}
	if b.proxy.served.Load() != served || len(installedNames(t, b.dst)) != len(before) {
		t.Error("second sync transferred data or changed the model list")
	}

	// A changed system prompt is an update; status reports the difference first.
	strat2 := b.strategyFile(t, "You write Go.", "", "")
	out, _ = sy(t, ctx, exitOK, "status", "--strategy", strat2)
	if !strings.Contains(out, "no: system prompt") {
		t.Errorf("status does not show the drift:\n%s", out)
	}
	out, _ = sy(t, ctx, exitOK, "sync", "--insecure", "--strategy", strat2)
	if !strings.Contains(out, "update persona tiny-helper") {
		t.Errorf("sync did not update:\n%s", out)
	}

	// Dropping tiny-reviewer and pruning deletes it, never the base model or
	// a model the user made.
	if err := testbed.CreateTiny(ctx, b.dst.URL, "users-own:latest", testbed.TinySpec{Seed: 9}); err != nil {
		t.Fatal(err)
	}
	strat3 := filepath.Join(b.dir, "pruned.yaml")
	data, _ := os.ReadFile(strat2)
	var kept []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.Contains(l, "tiny-reviewer") {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(strat3, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = sy(t, ctx, exitOK, "sync", "--prune", "--strategy", strat3)
	if !strings.Contains(out, "delete tiny-reviewer") || hasModel(t, b.dst, "tiny-reviewer") {
		t.Errorf("prune did not delete tiny-reviewer:\n%s", out)
	}
	if !hasModel(t, b.dst, "users-own") || !hasModel(t, b.dst, b.ref("tiny-coder:v1")) {
		t.Errorf("prune deleted too much: %v", installedNames(t, b.dst))
	}
	// A base model the strategy uses is refused even when named.
	_, _ = sy(t, ctx, exitPartial, "sync", "--prune-model", b.ref("tiny-coder:v1"), "--strategy", strat3)
	if !hasModel(t, b.dst, b.ref("tiny-coder:v1")) {
		t.Error("--prune-model deleted a model the strategy uses")
	}
	// One the strategy does not use is deleted when named.
	_, _ = sy(t, ctx, exitOK, "sync", "--prune-model", "users-own", "--strategy", strat3)
	if hasModel(t, b.dst, "users-own") {
		t.Error("--prune-model users-own did not delete it")
	}
}

func TestSyncMissingReferenceContinues(t *testing.T) {
	b := newSyncBed(t)
	ctx := context.Background()
	strat := b.strategyFile(t, "You write code.",
		fmt.Sprintf("  - {id: ghost, quant: F32, context: 1024, tier: 1, layer: 0, pull: %q}\n", b.ref("ghost:v1")),
		"  - {name: ghost-persona, model: ghost, system: \"Boo.\"}\n")
	out, _ := sy(t, ctx, exitPartial, "sync", "--insecure", "--strategy", strat)
	if !strings.Contains(out, "does not exist") || !strings.Contains(out, "ghost-persona") {
		t.Errorf("missing reference not reported clearly:\n%s", out)
	}
	if !hasModel(t, b.dst, "tiny-helper") || !hasModel(t, b.dst, "tiny-reviewer") || hasModel(t, b.dst, "ghost-persona") {
		t.Errorf("the rest did not continue, or a broken persona was made: %v", installedNames(t, b.dst))
	}
}

func TestSyncPersonaWithoutBaseIsReported(t *testing.T) {
	b := newSyncBed(t)
	ctx := context.Background()
	// ghost has no layer: sync does not pull it, so its persona cannot be made.
	strat := b.strategyFile(t, "x", fmt.Sprintf("  - {id: ghost, quant: F32, context: 1024, tier: 3, pull: %q}\n", b.ref("ghost:v1")),
		"  - {name: ghost-persona, model: ghost}\n")
	out, _ := sy(t, ctx, exitPartial, "sync", "--insecure", "--strategy", strat)
	if !strings.Contains(out, "base model ghost is not installed") || hasModel(t, b.dst, "ghost-persona") {
		t.Errorf("persona without base:\n%s", out)
	}
	// With --layer 0 it is a deliberate partial sync: reported, not an error.
	out, _ = sy(t, ctx, exitOK, "sync", "--insecure", "--layer", "0", "--strategy", strat)
	if !strings.Contains(out, "not in the layers pulled now") {
		t.Errorf("--layer 0:\n%s", out)
	}
	_, errOut := sy(t, ctx, exitUsage, "sync", "--layer", "-1", "--strategy", strat)
	if !strings.Contains(errOut, "selects nothing") {
		t.Errorf("--layer -1: %s", errOut)
	}
}

func TestSyncAndStatusWhenOllamaIsDown(t *testing.T) {
	isolate(t)
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OLLAMA_HOST", fmt.Sprintf("127.0.0.1:%d", port))
	for _, cmd := range []string{"sync", "status"} {
		_, errOut := sy(t, context.Background(), exitFailure, cmd)
		if !strings.Contains(errOut, fmt.Sprintf("not reachable at http://127.0.0.1:%d", port)) || !strings.Contains(errOut, "ollama serve") {
			t.Errorf("%s: unclear error: %s", cmd, errOut)
		}
	}
}

func TestSyncRefusesWithoutDiskUnlessForced(t *testing.T) {
	b := newSyncBed(t)
	ctx := context.Background()
	strat := b.strategyFile(t, "x", "", "")
	orig := diskFree
	diskFree = func(string) (bool, int64, error) { return true, 1000, nil }
	t.Cleanup(func() { diskFree = orig })
	_, errOut := sy(t, ctx, exitFailure, "sync", "--insecure", "--strategy", strat)
	if !strings.Contains(errOut, "not enough disk") || !strings.Contains(errOut, "1000 B free") || !strings.Contains(errOut, "--force") {
		t.Errorf("refusal without figures: %s", errOut)
	}
	if hasModel(t, b.dst, "tiny-helper") {
		t.Error("refused sync still changed Ollama")
	}
	sy(t, ctx, exitOK, "sync", "--insecure", "--force", "--strategy", strat)
	if !hasModel(t, b.dst, "tiny-helper") {
		t.Error("--force did not sync")
	}
}

func TestSyncSurvivesRegistryFaults(t *testing.T) {
	b := newSyncBed(t)
	ctx := context.Background()
	strat := b.strategyFile(t, "x", "", "")

	// The registry drops the connection on the manifest: reported, nothing
	// half-made, and the rerun succeeds.
	b.proxy.set(func(p *faultProxy) { p.dropManifest = 1 })
	out, _ := sy(t, ctx, exitPartial, "sync", "--insecure", "--strategy", strat)
	if !strings.Contains(out, "failed") || hasModel(t, b.dst, "tiny-helper") {
		t.Errorf("dropped manifest:\n%s", out)
	}
	sy(t, ctx, exitOK, "sync", "--insecure", "--strategy", strat)

	// The registry cuts a blob mid-transfer: Ollama retries the range and
	// verifies the digest; one sync (or a second) ends with everything there.
	b2 := b.strategyFile(t, "x", "", "")
	if _, err := b.dst.CLI(ctx, "rm", b.ref("tiny-coder:v1"), "tiny-helper", "tiny-reviewer"); err != nil {
		t.Fatal(err)
	}
	// Remove the blob too, so the pull really transfers it again.
	blobs, _ := filepath.Glob(filepath.Join(b.dst.ModelsDir, "blobs", "sha256-*"))
	for _, f := range blobs {
		os.Remove(f)
	}
	b.proxy.set(func(p *faultProxy) { p.dropBlobAt = 100 << 10 })
	var out2, errb bytes.Buffer
	if code := run(ctx, []string{"sync", "--insecure", "--strategy", b2}, &out2, &errb); code != exitOK {
		t.Logf("first sync after a cut blob: exit %d\n%s", code, out2.String())
		sy(t, ctx, exitOK, "sync", "--insecure", "--strategy", b2)
	}
	if b.proxy.drops.Load() < 2 {
		t.Errorf("the proxy injected %d faults, want 2", b.proxy.drops.Load())
	}
	for _, n := range []string{b.ref("tiny-coder:v1"), "tiny-helper", "tiny-reviewer"} {
		if !hasModel(t, b.dst, n) {
			t.Errorf("%s missing after recovering from a cut blob", n)
		}
	}
}

func TestSyncInterruptedPullResumes(t *testing.T) {
	b := newSyncBed(t)
	// A ~40 MB model (a large vocabulary makes a large embedding table).
	big := b.reg.Addr + "/library/tiny-big:v1"
	ctx := context.Background()
	spec := testbed.TinySpec{Name: "tiny-big", Seed: 77, Vocab: 160000}
	if err := testbed.CreateTiny(ctx, b.src.URL, big, spec); err != nil {
		t.Fatal(err)
	}
	if out, err := b.src.CLI(ctx, "push", "--insecure", big); err != nil {
		t.Fatalf("push: %v %s", err, out)
	}
	strat := b.strategyFile(t, "x", fmt.Sprintf("  - {id: tiny-big, quant: F32, context: 1024, tier: 1, layer: 0, pull: %q}\n", b.ref("tiny-big:v1")), "")

	// Throttle to 8 MB/s and "press Ctrl-C" once 10 MB have arrived.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.proxy.set(func(p *faultProxy) {
		p.rate = 8 << 20
		p.onBytes = func(total int64) {
			if total > 10<<20 {
				cancel()
			}
		}
	})
	out, _ := sy(t, cctx, exitPartial, "sync", "--insecure", "--strategy", strat)
	if !strings.Contains(out, "interrupted") {
		t.Errorf("interrupted sync does not say so:\n%s", out)
	}
	first := b.proxy.served.Load()
	if hasModel(t, b.dst, b.ref("tiny-big:v1")) {
		t.Fatal("the interrupted model is listed as installed")
	}
	partial, _ := filepath.Glob(filepath.Join(b.dst.ModelsDir, "blobs", "*-partial*"))
	if len(partial) == 0 {
		t.Error("Ollama kept no partial download")
	}

	b.proxy.set(func(p *faultProxy) { p.rate, p.onBytes = 0, nil })
	sy(t, ctx, exitOK, "sync", "--insecure", "--strategy", strat)
	second := b.proxy.served.Load() - first
	var size int64
	l, _ := b.dst.Client().List(ctx)
	for _, m := range l.Models {
		if ollama.SameModel(m.Name, b.ref("tiny-big:v1")) {
			size = m.Size
		}
	}
	if size == 0 {
		t.Fatalf("tiny-big not installed after the rerun: %v", installedNames(t, b.dst))
	}
	t.Logf("blob bytes: %d before the interrupt, %d after; model %d", first, second, size)
	if second >= size-(4<<20) {
		t.Errorf("the rerun transferred %d of %d bytes: it did not resume", second, size)
	}
}

// persona new --sync goes through the same planner: it pulls the base model
// and creates that persona, and nothing else.
func TestSyncOnePersonaAgainstRealOllama(t *testing.T) {
	b := newSyncBed(t)
	s, err := strategy.LoadFile(b.strategyFile(t, "Help.", "", ""), catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := syncOnePersona(context.Background(), s, "tiny-reviewer", true, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !hasModel(t, b.dst, "tiny-reviewer") || !hasModel(t, b.dst, b.ref("tiny-coder:v1")) {
		t.Errorf("installed %v; want tiny-reviewer and its base", installedNames(t, b.dst))
	}
	if hasModel(t, b.dst, "tiny-helper") {
		t.Error("persona new --sync created a persona it was not asked for")
	}
	show, err := b.dst.Client().Show(context.Background(), &api.ShowRequest{Model: "tiny-reviewer"})
	if err != nil || show.System != "Review." || !strings.Contains(show.Parameters, "512") {
		t.Errorf("tiny-reviewer: %v system %q params %q", err, show.System, show.Parameters)
	}
}
