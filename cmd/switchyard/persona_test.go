package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/strategy"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runCLI runs the root command with no user strategy unless args name one.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	t.Setenv("SWITCHYARD_STRATEGY", filepath.Join(t.TempDir(), "absent.yaml"))
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestPersonaCheckGolden(t *testing.T) {
	out, _, err := runCLI(t, "persona", "check")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "persona_check.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPersonaCheckGolden -update)", err)
	}
	if out != string(want) {
		t.Errorf("persona check differs from %s (go test -update to accept):\n%s", golden, out)
	}
}

func TestPersonaNewWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "strategy.yaml")
	orig := strategy.DefaultYAML()
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "--strategy", path, "persona", "new", "my-tradutor",
		"--role", "tradução entre português do Brasil e inglês", "--write")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Wrote my-tradutor") {
		t.Errorf("output:\n%s", out)
	}
	got, _ := os.ReadFile(path)
	// Every line of the original survives in order: comments, blank lines, layout.
	gl := strings.Split(string(got), "\n")
	j := 0
	for _, l := range strings.Split(string(orig), "\n") {
		for j < len(gl) && gl[j] != l {
			j++
		}
		if j == len(gl) {
			t.Fatalf("line lost: %q", l)
		}
		j++
	}
	s, err := strategy.LoadFile(path, catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := s.Persona("my-tradutor")
	if !ok || p.Model != "gemma-3-12b" || !strings.Contains(p.System, "Brazilian Portuguese") {
		t.Fatalf("persona: %+v", p)
	}
	if _, ok := s.Model("gemma-3-12b"); !ok {
		t.Error("base model not added to models:")
	}
	// A second --write refuses; --force replaces.
	_, _, err = runCLI(t, "--strategy", path, "persona", "new", "my-tradutor", "--role", "tradução", "--write")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Errorf("duplicate: want usage error, got %v", err)
	}
	if _, _, err := runCLI(t, "--strategy", path, "persona", "new", "my-tradutor", "--role", "tradução", "--write", "--force"); err != nil {
		t.Errorf("--force: %v", err)
	}
}

func TestPersonaNewNeedsFileToWrite(t *testing.T) {
	_, _, err := runCLI(t, "persona", "new", "x", "--role", "writes Go code", "--write")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "switchyard init") {
		t.Errorf("got %v", err)
	}
}

func TestPersonaNewSyncWiring(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, strategy.DefaultYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	// No Ollama: --write succeeds, --sync says why it could not create it.
	t.Setenv("OLLAMA_HOST", "127.0.0.1:1")
	_, _, err := runCLI(t, "--strategy", path, "persona", "new", "my-go", "--role", "writes Go code", "--sync")
	if err == nil || !strings.Contains(err.Error(), "not reachable") {
		t.Errorf("got %v", err)
	}
	called := ""
	old := syncPersona
	defer func() { syncPersona = old }()
	syncPersona = func(_ context.Context, s *strategy.Strategy, name string, _ bool, _ io.Writer) error {
		if _, ok := s.Persona(name); !ok {
			return errors.New("persona not written before sync")
		}
		called = name
		return nil
	}
	if _, _, err := runCLI(t, "--strategy", path, "persona", "new", "my-go2", "--role", "writes Go code", "--sync"); err != nil || called != "my-go2" {
		t.Errorf("sync: %v, called %q", err, called)
	}
}

func TestPersonaNewJSONAndList(t *testing.T) {
	out, _, err := runCLI(t, "--json", "persona", "new", "x", "--role", "reviews Go pull requests")
	if err != nil || !strings.Contains(out, `"model": "qwen3-8b"`) {
		t.Errorf("%v\n%s", err, out)
	}
	out, _, err = runCLI(t, "persona", "list")
	if err != nil || !strings.Contains(out, "my-translator") {
		t.Errorf("%v\n%s", err, out)
	}
	out, _, err = runCLI(t, "persona", "show", "my-writer")
	if err != nil || !strings.Contains(out, "consider") {
		t.Errorf("%v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "persona", "show", "nobody"); err == nil {
		t.Error("unknown persona accepted")
	}
}
