package strategy

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/catalog"
)

// commentLines returns every comment and blank line, in order: the layout a
// user wrote by hand that an edit must not lose.
func commentLines(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") || strings.Contains(l, " #") {
			out = append(out, l)
		}
	}
	return out
}

var newPersona = Persona{
	Name: "my-coach", Model: "llama-3.1-8b",
	System:     "Você é um coach de carreira.\nResponda sempre em português do Brasil.",
	Parameters: map[string]any{"temperature": 0.6}, Rationale: "writing + PT-BR",
}

func TestAddPersonaKeepsCommentsAndLayout(t *testing.T) {
	cat := catalog.Builtin()
	in := DefaultYAML()
	out, err := AddPersona(in, "default.yaml", newPersona, nil, false, cat)
	if err != nil {
		t.Fatal(err)
	}
	// Every original line survives, in order, and only the new item is added.
	if !strings.HasPrefix(string(out), string(in[:strings.Index(string(in), "  - name: my-evaluator")])) {
		t.Error("the text before the last persona changed")
	}
	if got, want := commentLines(out), commentLines(in); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("comments or blank lines changed:\n got %q\nwant %q", got, want)
	}
	removed := strings.Replace(string(out), renderOrDie(t, newPersona, 4), "", 1)
	if removed != string(in) {
		t.Errorf("edit is not a pure insertion:\n%s", out)
	}
	s, err := Parse(out, "edited", cat)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := s.Persona("my-coach")
	if !ok || p.System != newPersona.System || p.Model != "llama-3.1-8b" {
		t.Fatalf("persona not round-tripped: %+v", p)
	}
	if s.Personas[len(s.Personas)-1].Name != "my-coach" {
		t.Error("persona not appended last")
	}
	// The new item uses the file's own style: literal block, flow parameters.
	if !regexp.MustCompile(`(?m)^  - name: my-coach\n    model: llama-3.1-8b\n    system: \|-\n      Você`).Match(out) ||
		!strings.Contains(string(out), "    parameters: {temperature: 0.6}\n") {
		t.Errorf("unexpected rendering:\n%s", out[strings.Index(string(out), "my-coach")-10:])
	}
}

func renderOrDie(t *testing.T, item any, indent int) string {
	t.Helper()
	s, err := renderItem(item, indent)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAddPersonaRefusesDuplicateUnlessForced(t *testing.T) {
	cat := catalog.Builtin()
	p := newPersona
	p.Name = "my-writer"
	if _, err := AddPersona(DefaultYAML(), "d", p, nil, false, cat); !errors.Is(err, ErrPersonaExists) {
		t.Fatalf("want ErrPersonaExists, got %v", err)
	}
	out, err := AddPersona(DefaultYAML(), "d", p, nil, true, cat)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(out, "d", cat)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "name: my-writer"); n != 1 {
		t.Errorf("my-writer appears %d times", n)
	}
	got, _ := s.Persona("my-writer")
	if got.System != p.System || len(s.Personas) != 7 {
		t.Errorf("not replaced: %+v (%d personas)", got, len(s.Personas))
	}
	if got, want := commentLines(out), commentLines(DefaultYAML()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("comments changed on replace")
	}
}

func TestAddPersonaAddsUndeclaredModel(t *testing.T) {
	cat := catalog.Builtin()
	p := newPersona
	p.Model = "gemma-3-12b"
	if _, err := AddPersona(DefaultYAML(), "d", p, nil, false, cat); err == nil {
		t.Fatal("an undeclared model must fail validation")
	}
	m := &Model{ID: "gemma-3-12b", Quant: "Q4_K_M", Context: 8192, Tier: 2, Roles: []string{"translation"}}
	out, err := AddPersona(DefaultYAML(), "d", p, m, false, cat)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(out, "d", cat)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Model("gemma-3-12b"); !ok {
		t.Error("model not added")
	}
	if !strings.Contains(string(out), "  - id: gemma-3-12b\n    quant: Q4_K_M\n    context: 8192\n    tier: 2\n    roles: [translation]\n") {
		t.Errorf("model rendering:\n%s", out)
	}
}

func TestAddPersonaEmptyAndMissingSequence(t *testing.T) {
	cat := catalog.Builtin()
	base := string(DefaultYAML())
	cut := base[:strings.Index(base, "personas:")]
	rest := base[strings.Index(base, "\nlayers:"):]
	for name, in := range map[string]string{
		"flow-empty": cut + "personas: [] # none yet\n" + rest,
		"missing":    cut + rest,
	} {
		t.Run(name, func(t *testing.T) {
			out, err := AddPersona([]byte(in), "d", newPersona, nil, false, cat)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(out, "d", cat)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if len(s.Personas) != 1 {
				t.Errorf("%d personas", len(s.Personas))
			}
			if name == "flow-empty" && !strings.Contains(string(out), "personas: # none yet\n") {
				t.Errorf("comment lost:\n%s", out)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "strategy.yaml")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if string(b) != "new" || fi.Mode().Perm() != 0o600 {
		t.Errorf("got %q mode %v", b, fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("temp file left behind: %v", ents)
	}
}
