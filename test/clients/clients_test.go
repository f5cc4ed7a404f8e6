// Package clients runs third-party clients nobody here wrote (the openai
// and ollama npm packages) against the gateway in front of the real Ollama.
//
// Setup (CI, once): test/clients/setup.sh (npm ci). Without node_modules
// the tests skip, unless SWITCHYARD_REQUIRE_CLIENTS=1 makes that a failure.
package clients

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/dispatch"
	"github.com/switchyard/switchyard/internal/gateway"
	"github.com/switchyard/switchyard/internal/strategy"
	"github.com/switchyard/switchyard/internal/testbed"
)

const strategyYAML = `
version: 1
hardware: {gpu: test, vram_mib: 12288, keep_alive: 30m, pinned: [tiny-embed]}
catalog:
  - {id: tiny-coder, name: Tiny Coder, kind: dense, params_b: 0.001, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, vocab: 300, trained_ctx: 2048}
  - {id: tiny-embed, name: Tiny Embed, kind: embedding, params_b: 0.001, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, vocab: 300, trained_ctx: 512}
models:
  - {id: tiny-coder, quant: F32, context: 1024, tier: 1, pull: "tiny-coder:latest"}
  - {id: tiny-embed, quant: F32, context: 512, tier: 2, pull: "tiny-embed:latest"}
personas:
  - {name: my-coder, model: tiny-coder, system: You are a careful coder., parameters: {temperature: 0.2}}
  - {name: my-embedder, model: tiny-embed}
`

const apiKey = "client-test-key"

func TestNodeClients(t *testing.T) {
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat("node_modules/openai"); err != nil || statErr != nil {
		msg := "node or test/clients/node_modules missing: run test/clients/setup.sh"
		if os.Getenv("SWITCHYARD_REQUIRE_CLIENTS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	o := testbed.StartOllama(t)
	testbed.InstallRoleModels(t, o)
	base := catalog.Builtin()
	s, err := strategy.Parse([]byte(strategyYAML), "clients test", base)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dispatch.NewDirect(o.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	// API keys on, so the clients' own auth headers are exercised too.
	g, err := gateway.New(gateway.Config{Strategy: s, Catalog: s.CatalogWith(base), Dispatcher: d, APIKeys: []string{apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()

	for _, script := range []string{"chat.mjs", "stream.mjs", "embed.mjs"} {
		t.Run(strings.TrimSuffix(script, ".mjs"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join(".", script))
			cmd.Env = append(os.Environ(), "GATEWAY_URL="+srv.URL, "API_KEY="+apiKey,
				"PERSONA=my-coder", "EMBED_MODEL=my-embedder")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node %s: %v\n%s", script, err, out)
			}
			t.Logf("%s", strings.TrimSpace(string(out)))
		})
	}
}
