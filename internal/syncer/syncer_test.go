package syncer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/ollama"
	"github.com/switchyard/switchyard/internal/strategy"
)

const testYAML = `version: 1
hardware: {gpu: test, vram_mib: 8192, max_resident_large: 1}
catalog:
  - {id: tiny-a, name: Tiny A, kind: dense, arch: llama, params_b: 0.5, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, ff: 128, vocab: 300, trained_ctx: 2048}
  - {id: tiny-b, name: Tiny B, kind: dense, arch: llama, params_b: 0.5, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, ff: 128, vocab: 300, trained_ctx: 2048}
  - {id: tiny-c, name: Tiny C, kind: dense, arch: llama, params_b: 0.5, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, ff: 128, vocab: 300, trained_ctx: 2048}
models:
  - {id: tiny-a, quant: Q8_0, context: 2048, tier: 1, pull: "reg/library/a:v1"}
  - {id: tiny-b, quant: Q8_0, context: 1024, tier: 2, pull: "reg/library/b:v1"}
  - {id: tiny-c, quant: Q8_0, context: 1024, tier: 3, pull: "reg/library/c:v1"}
personas:
  - {name: pa, model: tiny-a, system: "A.", parameters: {temperature: 0.2}}
  - {name: pb, model: tiny-b, context: 512, system: "B."}
  - {name: pc, model: tiny-c}
  - {name: pend, model: "", pending: research}
layers:
  - {id: 0, name: now, models: [tiny-a]}
  - {id: 3, name: later, models: [tiny-b]}
`

func load(t *testing.T) (*strategy.Strategy, *catalog.Catalog) {
	t.Helper()
	s, err := strategy.Parse([]byte(testYAML), "t.yaml", catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return s, s.CatalogWith(catalog.Builtin())
}

func tags(names ...string) []api.ListModelResponse {
	var out []api.ListModelResponse
	for _, n := range names {
		out = append(out, api.ListModelResponse{Name: n, Details: api.ModelDetails{QuantizationLevel: "Q8_0"}})
	}
	return out
}

// line renders an action compactly for table comparisons.
func line(a Action) string {
	s := string(a.Kind) + " " + a.Subject()
	if a.Problem {
		s += " !"
	}
	return s
}

func TestBuild(t *testing.T) {
	s, cat := load(t)
	layer0 := 0
	upToDate := func(name, system, params string) *api.ShowResponse {
		return &api.ShowResponse{System: system, Parameters: params}
	}
	for _, tc := range []struct {
		name string
		in   Input
		want []string
		work bool
	}{
		{
			name: "empty server, all layers",
			in:   Input{},
			want: []string{"pull model tiny-a", "pull model tiny-b", "create persona pa", "create persona pb",
				"skip persona pc !", "skip persona pend"},
			work: true,
		},
		{
			name: "layer 0 leaves later bases alone without complaint",
			in:   Input{Layer: &layer0},
			want: []string{"pull model tiny-a", "create persona pa", "skip persona pb", "skip persona pc", "skip persona pend"},
			work: true,
		},
		{
			name: "everything installed and up to date",
			in: Input{Installed: tags("reg/library/a:v1", "reg/library/b:v1", "pa:latest", "pb:latest"),
				Personas: map[string]*api.ShowResponse{
					"pa": upToDate("pa", "A.", "num_ctx 2048\ntemperature 0.2"),
					"pb": upToDate("pb", "B.", "num_ctx 512"),
				}},
			want: []string{"skip model tiny-a", "skip model tiny-b", "skip persona pa", "skip persona pb", "skip persona pc !", "skip persona pend"},
		},
		{
			name: "drifted persona is updated; installed base of an unselected layer still serves",
			in: Input{Layer: &layer0, Installed: tags("reg/library/a:v1", "reg/library/b:v1", "pa:latest"),
				Personas: map[string]*api.ShowResponse{"pa": upToDate("pa", "old", "num_ctx 2048\ntemperature 0.2")}},
			want: []string{"skip model tiny-a", "update persona pa", "create persona pb", "skip persona pc", "skip persona pend"},
			work: true,
		},
		{
			name: "prune deletes managed undeclared personas only; named base model refused",
			in: Input{Layer: &layer0, Installed: tags("reg/library/a:v1", "old:latest", "mine:latest", "pa:latest"),
				Personas: map[string]*api.ShowResponse{"pa": upToDate("pa", "A.", "num_ctx 2048\ntemperature 0.2")},
				Prune:    true, Managed: []string{"old:latest", "pa:latest", "gone:latest"},
				PruneModels: []string{"reg/library/a:v1", "nothere", "pa"}},
			want: []string{"skip model tiny-a", "skip persona pa", "skip persona pb", "skip persona pc", "skip persona pend",
				"delete persona old:latest", "skip reg/library/a:v1 !", "skip nothere", "skip pa:latest !"},
			work: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Strategy, in.Catalog = s, cat
			p, err := Build(in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range p.Actions {
				got = append(got, line(a))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if p.Work() != tc.work {
				t.Errorf("Work() = %v", p.Work())
			}
		})
	}
}

func TestBuildPersonaSpecAndDisk(t *testing.T) {
	s, cat := load(t)
	p, err := Build(Input{Strategy: s, Catalog: cat, Disk: Disk{Dir: "/m", Known: true, Free: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	var pb *Action
	for i := range p.Actions {
		if p.Actions[i].Persona == "pb" {
			pb = &p.Actions[i]
		}
	}
	if pb == nil || pb.Spec.From != "reg/library/b:v1" || pb.After != "reg/library/b:v1" || pb.Spec.Parameters["num_ctx"] != 512 {
		t.Fatalf("pb = %+v", pb)
	}
	if p.Disk.OK || p.Disk.Needed <= 0 {
		t.Errorf("disk check = %+v", p.Disk)
	}
	r := p.Disk.Refusal()
	if !strings.Contains(r, "1000 B free in /m") || !strings.Contains(r, "--force") {
		t.Errorf("refusal = %q", r)
	}
	p, _ = Build(Input{Strategy: s, Catalog: cat, Disk: Disk{Dir: "/m", Known: true, Free: 1000}, Force: true})
	if p.Disk.Refusal() != "" {
		t.Error("--force still refuses")
	}
	bad := -1
	if _, err := Build(Input{Strategy: s, Catalog: cat, Layer: &bad}); err == nil || !strings.Contains(err.Error(), "0, 3") {
		t.Errorf("--layer -1: %v", err)
	}
	if _, err := Build(Input{}); err == nil {
		t.Error("nil strategy accepted")
	}
}

type fakeServer struct {
	fail  map[string]error
	calls []string
	ctxFn func()
}

func (f *fakeServer) Pull(ctx context.Context, ref string, fn func(ollama.Progress)) error {
	f.calls = append(f.calls, "pull "+ref)
	fn(ollama.Progress{Status: "pulling", Digest: "sha256:0123456789abcdef", Total: 2 << 20, Completed: 1 << 20})
	fn(ollama.Progress{Status: "pulling", Digest: "sha256:0123456789abcdef", Total: 2 << 20, Completed: 2 << 20})
	if f.ctxFn != nil {
		f.ctxFn()
		return ctx.Err()
	}
	return f.fail[ref]
}

func (f *fakeServer) Create(ctx context.Context, spec ollama.PersonaSpec) error {
	f.calls = append(f.calls, "create "+spec.Name)
	return f.fail[spec.Name]
}

func (f *fakeServer) Delete(ctx context.Context, name string) error {
	f.calls = append(f.calls, "delete "+name)
	return nil
}

func TestExecute(t *testing.T) {
	s, cat := load(t)
	p, _ := Build(Input{Strategy: s, Catalog: cat})
	var out bytes.Buffer
	srv := &fakeServer{fail: map[string]error{"reg/library/a:v1": errors.New("pull model manifest: file does not exist")}}
	res := Execute(context.Background(), p, srv, &LineReporter{W: &out, Every: time.Hour})
	if got := strings.Join(srv.calls, ","); got != "pull reg/library/a:v1,pull reg/library/b:v1,create pb" {
		t.Errorf("calls = %s (pa must not be created on a failed base)", got)
	}
	if len(res.Done) != 2 || len(res.Failed) != 2 || !res.Partial(p) {
		t.Errorf("result = %+v", res)
	}
	sum := res.Summary(p)
	for _, want := range []string{"1 pulled", "1 personas created", "2 failed", "failed: model tiny-a", "failed: persona pa: not created", "skipped: persona pc"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	log := out.String()
	for _, want := range []string{"pull reg/library/a:v1 for tiny-a (from strategy", "pulling sha256:0123456789ab… 1.0 MiB/2.0 MiB", "2.0 MiB/2.0 MiB", "failed: pull model manifest"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}

	// Interrupted: the running pull stops, the rest is reported as not run.
	ctx, cancel := context.WithCancel(context.Background())
	srv = &fakeServer{ctxFn: cancel}
	res = Execute(ctx, p, srv, &LineReporter{W: &out})
	if !res.Interrupted || len(srv.calls) != 1 || len(res.NotRun) != 4 || len(res.Failed) != 0 {
		t.Errorf("interrupted result = %+v calls %v", res, srv.calls)
	}
	if !strings.Contains(res.Summary(p), "run sync again to resume") {
		t.Error("summary does not say how to resume")
	}
}

func TestNothingToDoSummary(t *testing.T) {
	p := &Plan{Actions: []Action{{Kind: Skip, Model: "a", Reason: "installed"}}}
	if got := (Result{}).Summary(p); !strings.HasPrefix(got, "nothing to do") {
		t.Errorf("summary = %q", got)
	}
}

func TestBarReporter(t *testing.T) {
	var out bytes.Buffer
	r := &BarReporter{W: &out}
	a := Action{Kind: Pull, Model: "m", Ref: "x:y", RefSource: "strategy"}
	r.Begin(a)
	r.Progress(a, ollama.Progress{Digest: "sha256:aaaaaaaaaaaaaaaa", Total: 100, Completed: 50})
	r.Progress(a, ollama.Progress{Digest: "sha256:bbbbbbbbbbbbbbbb", Total: 100, Completed: 100})
	r.Progress(a, ollama.Progress{Digest: "sha256:aaaaaaaaaaaaaaaa", Total: 100, Completed: 100})
	r.End(a, nil)
	s := out.String()
	if !strings.Contains(s, "sha256:bbbbbbbbbbbb…") || !strings.Contains(s, "all blobs") || !strings.Contains(s, "200.0 b / 200.0 b") ||
		!strings.Contains(s, "100 %") || !strings.Contains(s, "done") {
		t.Errorf("bar output:\n%q", s)
	}
}

func TestBuildStatus(t *testing.T) {
	s, cat := load(t)
	exp := time.Now().Add(5 * time.Minute)
	st := BuildStatus(StatusInput{
		Strategy: s, Catalog: cat, Host: "http://h", Version: "0.17.4",
		Installed: append(tags("reg/library/a:v1", "pa:latest", "extra:latest"),
			api.ListModelResponse{Name: "reg/library/b:v1", Size: 9, Details: api.ModelDetails{QuantizationLevel: "Q4_K_M"}}),
		Running: []api.ProcessModelResponse{{Name: "pa:latest", Size: 100, SizeVRAM: 60, ExpiresAt: exp}},
		Shows:   map[string]*api.ShowResponse{"pa:latest": {System: "A.", Parameters: "num_ctx 1024\ntemperature 0.2"}},
		Managed: []string{"pa:latest"},
	})
	if !st.Models[0].Installed || !st.Models[0].QuantMatches || st.Models[0].EstimatedBytes <= 0 {
		t.Errorf("tiny-a = %+v", st.Models[0])
	}
	if b := st.Models[1]; !b.Installed || b.QuantMatches || b.InstalledQuant != "Q4_K_M" {
		t.Errorf("tiny-b quant mismatch not seen: %+v", b)
	}
	if st.Models[2].Installed {
		t.Error("tiny-c installed?")
	}
	pa := st.Personas[0]
	if !pa.Installed || !pa.Managed || pa.Matches || len(pa.Diffs) != 1 || pa.Loaded == nil || pa.Loaded.SizeVRAM != 60 {
		t.Errorf("pa = %+v", pa)
	}
	if len(st.Extra) != 1 || st.Extra[0] != "extra:latest" {
		t.Errorf("extra = %v", st.Extra)
	}
	var out bytes.Buffer
	if err := st.WriteText(&out, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Q4_K_M/Q8_0 (differs)", "no: parameters.num_ctx (want 2048, have 1024)", "yes, expires in ", "Installed but not in the strategy: extra:latest", "pending: research"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, out.String())
		}
	}
}
