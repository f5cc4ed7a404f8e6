package strategy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/strategy"
)

func TestEmbeddedDefaultReproducesSeed(t *testing.T) {
	s, err := strategy.Parse(strategy.DefaultYAML(), strategy.EmbeddedSource, catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if s.Hardware.VRAMMiB != 12288 || s.Hardware.MaxLarge != 1 || s.Hardware.KeepAlive != "30m" || s.Hardware.ColdLoadS != 40 {
		t.Errorf("hardware = %+v", s.Hardware)
	}
	if len(s.Hardware.Pinned) != 1 || s.Hardware.Pinned[0] != "nomic-embed-text" {
		t.Errorf("pinned = %v", s.Hardware.Pinned)
	}
	// The seed's inventory: model → quant, context, tier.
	want := map[string]struct {
		quant string
		ctx   int
		tier  int
	}{
		"qwen3-8b": {"Q5_K_M", 16384, 1}, "qwen3-14b": {"Q4_K_M", 4096, 1}, "qwen3-4b": {"Q8_0", 4096, 1},
		"llama-3.1-8b": {"Q5_K_M", 16384, 2}, "nomic-embed-text": {"F16", 2048, 2},
		"deepseek-coder-v2-lite": {"Q4_K_M", 16384, 3}, "deepseek-r1-distill-qwen-14b": {"Q4_K_M", 4096, 3},
		"mamba-codestral-7b": {"Q5_K_M", 16384, 3},
	}
	for id, w := range want {
		m, ok := s.Model(id)
		if !ok {
			t.Errorf("model %s missing", id)
			continue
		}
		if m.Quant != w.quant || m.Context != w.ctx || m.Tier != w.tier {
			t.Errorf("%s = %s/%d/tier %d, want %s/%d/tier %d", id, m.Quant, m.Context, m.Tier, w.quant, w.ctx, w.tier)
		}
	}
	personas := map[string]string{
		"my-coder": "qwen3-8b", "my-architect": "qwen3-14b", "my-reviewer": "qwen3-8b", "my-classifier": "qwen3-4b",
		"my-writer": "llama-3.1-8b", "my-translator": "", "my-evaluator": "qwen3-14b",
	}
	if len(s.Personas) != 7 {
		t.Errorf("%d personas, want the seed's 7", len(s.Personas))
	}
	for name, model := range personas {
		p, ok := s.Persona(name)
		if !ok || p.Model != model {
			t.Errorf("persona %s on %v, want %q", name, p, model)
		}
	}
	layers := map[int][]string{0: {"qwen3-8b", "qwen3-14b", "qwen3-4b"}, 3: {"llama-3.1-8b"}, 7: {"nomic-embed-text"}}
	for _, l := range s.Layers {
		if strings.Join(l.Models, ",") != strings.Join(layers[l.ID], ",") {
			t.Errorf("layer %d = %v, want %v", l.ID, l.Models, layers[l.ID])
		}
	}
	if len(s.Budget) != 6 {
		t.Errorf("budget table has %d rows, the seed has 6", len(s.Budget))
	}
}

func TestValidationErrorsNameFileLineField(t *testing.T) {
	base := string(strategy.DefaultYAML())
	cases := []struct {
		name    string
		edit    func(string) string
		line    int
		substrs []string
	}{
		{"unknown key", func(s string) string {
			return strings.Replace(s, "  max_resident_large: 1", "  max_resident_large: 1\n  vram_gb: 12", 1)
		}, 15, []string{`unknown key "vram_gb"`}},
		{"unknown quant", func(s string) string {
			return strings.Replace(s, "quant: Q5_K_M\n    context: 16384\n    tier: 1", "quant: Q5_K_X\n    context: 16384\n    tier: 1", 1)
		}, 26, []string{"models[0].quant", `unknown quantization "Q5_K_X"`}},
		{"persona on undeclared model", func(s string) string {
			return strings.Replace(s, "    model: llama-3.1-8b\n", "    model: llama-9b\n", 1)
		}, 0, []string{"personas[4].model", `"llama-9b", which is not declared`}},
		{"negative VRAM", func(s string) string {
			return strings.Replace(s, "vram_mib: 12288", "vram_mib: -5", 1)
		}, 13, []string{"hardware.vram_mib", "must be a positive number"}},
		{"wrong type", func(s string) string {
			return strings.Replace(s, "context: 4096\n    tier: 1\n    roles: [reasoning", "context: lots\n    tier: 1\n    roles: [reasoning", 1)
		}, 0, []string{"cannot unmarshal", "lots"}},
		{"bad parameter", func(s string) string {
			return strings.Replace(s, "parameters: {temperature: 0.1}", "parameters: {temperature: warm}", 1)
		}, 0, []string{"personas[2].parameters.temperature", "must be a number"}},
		{"bad keep-alive", func(s string) string {
			return strings.Replace(s, "keep_alive: 10m", "keep_alive: soon", 1)
		}, 0, []string{"personas[3].keep_alive"}},
		{"layer pulls unknown model", func(s string) string {
			return strings.Replace(s, "models: [nomic-embed-text]\n", "models: [nomic-embed-txt]\n", 1)
		}, 0, []string{"layers[2].models[0]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edited := c.edit(base)
			if edited == base {
				t.Fatal("edit did not apply")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "strategy.yaml")
			if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := strategy.LoadFile(path, catalog.Builtin())
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+":") {
				t.Errorf("error does not start with the file name: %s", msg)
			}
			for _, s := range c.substrs {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q lacks %q", msg, s)
				}
			}
			if c.line > 0 && !strings.Contains(msg, path+":"+itoa(c.line)+":") {
				t.Errorf("error %q does not point at line %d", msg, c.line)
			}
			if c.line == 0 && !lineNumbered(msg, path) {
				t.Errorf("error %q has no line number", msg)
			}
		})
	}
}

func lineNumbered(msg, path string) bool {
	rest := strings.TrimPrefix(msg, path+":")
	return len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9'
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestResolveFallsBackAndHonoursEnv(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SWITCHYARD_STRATEGY", "")
	s, err := strategy.Resolve("", catalog.Builtin())
	if err != nil || s.Source != strategy.EmbeddedSource {
		t.Fatalf("no user file: source %v, err %v", s, err)
	}
	p := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(p, strategy.DefaultYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SWITCHYARD_STRATEGY", p)
	if s, err = strategy.Resolve("", catalog.Builtin()); err != nil || s.Source != p {
		t.Fatalf("env file: %v, %v", s, err)
	}
	if _, err := strategy.Resolve(filepath.Join(t.TempDir(), "missing.yaml"), catalog.Builtin()); err == nil {
		t.Error("an explicit missing file must be an error")
	}
	if _, err := strategy.Parse([]byte("  \n"), "empty.yaml", catalog.Builtin()); err == nil || !strings.Contains(err.Error(), "empty.yaml") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := strategy.Parse([]byte("models: [\n"), "broken.yaml", catalog.Builtin()); err == nil || !strings.HasPrefix(err.Error(), "broken.yaml:") {
		t.Errorf("broken YAML: %v", err)
	}
}

func TestKeepAlive(t *testing.T) {
	cases := map[strategy.KeepAlive]string{"30m": "30m0s", "-1": "-1s", "300": "5m0s", "1h": "1h0m0s"}
	for in, want := range cases {
		d, err := in.Duration()
		if err != nil || d.String() != want {
			t.Errorf("%q: %v %v, want %s", in, d, err, want)
		}
	}
	if _, err := strategy.KeepAlive("forever").Duration(); err == nil {
		t.Error("forever should not parse")
	}
}

func TestStrategyCatalogEntries(t *testing.T) {
	y := `version: 1
hardware: {gpu: test, vram_mib: 8192, max_resident_large: 1}
catalog:
  - {id: tiny-coder, name: Tiny Coder, kind: dense, arch: llama, params_b: 0.001, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, ff: 128, vocab: 300, trained_ctx: 2048}
models:
  - {id: tiny-coder, quant: F16, context: 1024, tier: 1, pull: "127.0.0.1:5000/library/tiny-coder:v1"}
personas:
  - {name: coder, model: tiny-coder, system: "hi", parameters: {temperature: 0.1}}
layers: []
`
	s, err := strategy.Parse([]byte(y), "t.yaml", catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.CatalogWith(catalog.Builtin()).Get("tiny-coder"); !ok {
		t.Error("strategy catalog entry not visible")
	}
	if got := s.PersonaKeepAlive(&s.Personas[0]); got != "5m" {
		t.Errorf("keep-alive falls back to the default 5m, got %q", got)
	}
}
