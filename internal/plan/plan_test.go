package plan_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/gpu"
	"github.com/switchyard/switchyard/internal/plan"
	"github.com/switchyard/switchyard/internal/strategy"
)

var update = flag.Bool("update", false, "rewrite golden files")

func defaultReport(t testing.TB) *plan.Report {
	t.Helper()
	cat := catalog.Builtin()
	s, err := strategy.Parse(strategy.DefaultYAML(), strategy.EmbeddedSource, cat)
	if err != nil {
		t.Fatal(err)
	}
	card, err := gpu.Lookup("rtx3060-12g")
	if err != nil {
		t.Fatal(err)
	}
	r, err := plan.Build(plan.Input{
		Strategy: s, Catalog: cat, GPU: card,
		Disk: plan.Disk{Dir: "/home/user/.ollama/models", Exists: true, FreeBytes: 562 << 30},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/plan -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; diff with: go test ./internal/plan -update && git diff\n--- got ---\n%s", name, got)
	}
}

func TestPlanGoldenText(t *testing.T) {
	var buf bytes.Buffer
	if err := defaultReport(t).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-default.txt", buf.Bytes())
}

func TestPlanGoldenJSON(t *testing.T) {
	b, err := json.MarshalIndent(defaultReport(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-default.json", append(b, '\n'))
}

// The checks the issue names, asserted on the structure rather than the text.
func TestPlanFindsWhereTheSeedIsWrong(t *testing.T) {
	r := defaultReport(t)
	var q14q5, q8q5 *plan.TableRow
	for i := range r.Table {
		row := &r.Table[i]
		switch {
		case row.Model == "Qwen3-14B" && row.Quant == "Q5_K_M":
			q14q5 = row
		case row.Model == "Qwen3-8B" && row.Quant == "Q5_K_M":
			q8q5 = row
		}
	}
	if q14q5 == nil || q8q5 == nil {
		t.Fatal("budget table rows missing")
	}
	if q14q5.Verdict4k.Useful() || q14q5.Verdict16k.Fits() {
		t.Errorf("Qwen3-14B Q5_K_M: 4K %s, 16K %s; want not useful / does not fit", q14q5.Verdict4k, q14q5.Verdict16k)
	}
	if !q8q5.Weights.Flag || q8q5.Weights.Off <= 0.10 {
		t.Errorf("7-8B Q5_K_M weights claim %.1f GB not flagged as low (ours %.2f GiB, off %+.2f)", q8q5.Weights.ClaimGB, float64(q8q5.Weights.Bytes)/estimate.GiB, q8q5.Weights.Off)
	}
	if !hasWarning(r, "14B Q5_K_M", "does not fit usefully") {
		t.Error("no warning that the 14B at Q5_K_M does not fit usefully")
	}
	if !hasWarning(r, "qwen3-8b", "gets Q4_K_M, not the planned Q5_K_M") {
		t.Error("no warning that `ollama pull qwen3:8b` gets Q4_K_M")
	}
	if !hasWarning(r, "deepseek-coder-v2-lite", "mixture of experts") {
		t.Error("no warning that the MoE's experts all sit in VRAM")
	}
	if !hasWarning(r, "mamba-codestral-7b", "cannot be pulled") {
		t.Error("no warning that Ollama cannot run Mamba-Codestral")
	}
	// Every planned model resolves to a reference or says why not.
	want := map[string]string{
		"qwen3-8b":         "hf.co/Qwen/Qwen3-8B-GGUF:Q5_K_M",
		"qwen3-14b":        "qwen3:14b-q4_K_M",
		"qwen3-4b":         "qwen3:4b-q8_0",
		"llama-3.1-8b":     "llama3.1:8b-instruct-q5_K_M",
		"nomic-embed-text": "nomic-embed-text:v1.5",
	}
	for _, m := range r.Models {
		if w, ok := want[m.ID]; ok && m.Pull.Ref != w {
			t.Errorf("%s resolves to %q, want %q", m.ID, m.Pull.Ref, w)
		}
		if m.Pull.Ref == "" && m.Pull.Note == "" {
			t.Errorf("%s: no reference and no reason", m.ID)
		}
	}
	// The embedder sits beside every large model the plan pulls.
	for _, id := range []string{"qwen3-8b", "qwen3-14b", "llama-3.1-8b"} {
		found := false
		for _, s := range r.CoResident {
			if contains(s.Members, "nomic-embed-text") && contains(s.Members, id) {
				found = true
			}
		}
		if !found {
			t.Errorf("no co-resident set with the embedder beside %s: %+v", id, r.CoResident)
		}
	}
}

func TestPlanDiskWarnings(t *testing.T) {
	cat := catalog.Builtin()
	s, _ := strategy.Parse(strategy.DefaultYAML(), strategy.EmbeddedSource, cat)
	card, _ := gpu.Lookup("rtx3060-12g")
	for _, c := range []struct {
		disk plan.Disk
		want string
	}{
		{plan.Disk{Dir: "/m", Exists: true, FreeBytes: 10 << 30}, "the plan needs"},
		{plan.Disk{Dir: "/m"}, "does not exist yet"},
		{plan.Disk{Dir: "/m", Err: "permission denied"}, "permission denied"},
	} {
		r, err := plan.Build(plan.Input{Strategy: s, Catalog: cat, GPU: card, Disk: c.disk})
		if err != nil {
			t.Fatal(err)
		}
		if !hasWarning(r, "/m", c.want) {
			t.Errorf("disk %+v: no warning containing %q in %v", c.disk, c.want, r.Warnings)
		}
	}
}

func hasWarning(r *plan.Report, a, b string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, a) && strings.Contains(w, b) {
			return true
		}
	}
	return false
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// generated builds a strategy of n models drawn from the catalog with
// varied quants and contexts, and a persona on every third one.
func generated(n int) *strategy.Strategy {
	cat := catalog.Builtin()
	all := cat.All()
	quants := []string{"Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"}
	ctxs := []int{2048, 4096, 8192, 16384}
	s := &strategy.Strategy{Version: 1, Source: "generated",
		Hardware: strategy.Hardware{GPU: "rtx3060-12g", VRAMMiB: 12288, MaxLarge: 1, KeepAlive: "30m", KVCacheType: "f16", Parallel: 1}}
	for i := 0; i < n; i++ {
		m := all[i%len(all)]
		id := fmt.Sprintf("%s-%d", m.ID, i)
		s.Catalog = append(s.Catalog, catalog.Model{})
		c := *m
		c.ID = id
		s.Catalog[len(s.Catalog)-1] = c
		layer := i % 4
		s.Models = append(s.Models, strategy.Model{ID: id, Quant: quants[i%len(quants)], Context: ctxs[(i/4)%len(ctxs)], Tier: 1 + i%3, Layer: &layer})
		if i%3 == 0 {
			s.Personas = append(s.Personas, strategy.Persona{Name: "p-" + id, Model: id})
		}
		if m.Kind == catalog.Embedding && len(s.Hardware.Pinned) == 0 {
			s.Hardware.Pinned = []string{id}
		}
	}
	return s
}

func BenchmarkPlan100Models(b *testing.B) {
	s := generated(100)
	cat := catalog.Builtin()
	if errs := s.Validate(cat); len(errs) > 0 {
		b.Fatal(errs)
	}
	card, _ := gpu.Lookup("rtx3060-12g")
	in := plan.Input{Strategy: s, Catalog: cat, GPU: card, Disk: plan.Disk{Dir: "/m", Exists: true, FreeBytes: 1 << 40}}
	b.ReportAllocs()
	for b.Loop() {
		r, err := plan.Build(in)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.WriteText(discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// The question: can the classifier sit beside the coder?
func TestPlanPairs(t *testing.T) {
	cat := catalog.Builtin()
	s, _ := strategy.Parse(strategy.DefaultYAML(), strategy.EmbeddedSource, cat)
	for _, c := range []struct {
		gpu  string
		fits bool
	}{{"rtx3060-12g", false}, {"rtx4090-24g", true}} {
		card, _ := gpu.Lookup(c.gpu)
		r, err := plan.Build(plan.Input{Strategy: s, Catalog: cat, GPU: card, Disk: plan.Disk{Dir: "/m"}})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range r.Pairs {
			if p.A == "qwen3-8b" && p.B == "qwen3-4b" {
				found = true
				if p.Fits != c.fits || (!p.Fits && p.Why == "") {
					t.Errorf("%s: coder + classifier fits=%v (%s), want %v", c.gpu, p.Fits, p.Why, c.fits)
				}
			}
			if p.A == "qwen3-8b" && p.B == "qwen3-14b" && p.Fits {
				t.Errorf("%s: two large models share the GPU with max_resident_large 1", c.gpu)
			}
		}
		if !found {
			t.Errorf("%s: no coder + classifier pair in %+v", c.gpu, r.Pairs)
		}
	}
}
