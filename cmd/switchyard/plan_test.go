package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs switchyard in-process with a clean environment for the strategy.
func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func isolate(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SWITCHYARD_STRATEGY", "")
	t.Setenv("OLLAMA_MODELS", t.TempDir())
}

func TestPlanCommand(t *testing.T) {
	isolate(t)
	out, errOut, code := cli(t, "plan")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "using strategy: embedded default") {
		t.Errorf("stderr does not say which strategy: %q", errOut)
	}
	for _, want := range []string{"qwen3-14b", "hf.co/Qwen/Qwen3-8B-GGUF:Q5_K_M", "Co-resident sets", "Warnings"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	out, _, code = cli(t, "plan", "--json", "--gpu", "24g")
	var r struct {
		GPU struct {
			VRAMMiB int `json:"vram_mib"`
		} `json:"gpu"`
		Models []struct{ ID string } `json:"models"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &r) != nil || r.GPU.VRAMMiB != 24576 || len(r.Models) == 0 {
		t.Errorf("plan --json: exit %d, %+v", code, r)
	}
}

func TestInitWritesAndRefusesToOverwrite(t *testing.T) {
	isolate(t)
	path := filepath.Join(t.TempDir(), "s", "strategy.yaml")
	if _, e, code := cli(t, "init", "--path", path); code != exitOK {
		t.Fatalf("init: %d %s", code, e)
	}
	if err := os.WriteFile(path, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, e, code := cli(t, "init", "--path", path); code != exitUsage || !strings.Contains(e, "--force") {
		t.Errorf("second init: exit %d, %q", code, e)
	}
	if b, _ := os.ReadFile(path); string(b) != "# mine\n" {
		t.Error("init overwrote the file without --force")
	}
	if _, e, code := cli(t, "init", "--path", path, "--force"); code != exitOK {
		t.Errorf("init --force: %d %s", code, e)
	}
	if _, e, code := cli(t, "plan", "--strategy", path); code != exitOK || !strings.Contains(e, path) {
		t.Errorf("plan on the written file: %d %s", code, e)
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	isolate(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nhardware: {vram_mib: -1}\nmodels: []\npersonas: []\nlayers: []\n"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"fit", "qwen3-8b", "--quant", "Q4_K_M", "--ctx", "8192"}, exitOK, "total on GPU"},
		{[]string{"fit", "qwen3-14b", "--quant", "Q8_0", "--ctx", "32768"}, exitNoFit, "does not fit"},
		{[]string{"fit", "no-such-model"}, exitUsage, "unknown model"},
		{[]string{"fit", "qwen3-8b", "--quant", "Q7"}, exitUsage, "unknown quantization"},
		{[]string{"fit", "qwen3-8b", "--kv-cache", "q3"}, exitUsage, "unknown KV cache type"},
		{[]string{"fit", "qwen3-8b", "--gpu", "potato"}, exitUsage, "unknown GPU"},
		{[]string{"plan", "--strategy", bad}, exitUsage, bad + ":2: hardware.vram_mib"},
		{[]string{"plan", "--strategy", "/nonexistent.yaml"}, exitUsage, "reading strategy"},
		{[]string{"plan", "--headroom", "2"}, exitUsage, "--headroom"},
		{[]string{"plan", "--bogus"}, exitUsage, "unknown flag"},
		{[]string{"quant", "qwen3-8b", "--ctx", "16384"}, exitOK, "Q5_K_M"},
		{[]string{"quant"}, exitUsage, "accepts 1 arg"},
	}
	for _, c := range cases {
		out, errOut, code := cli(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", c.args, code, c.code, c.want, out, errOut)
		}
	}
}

func TestFitReadsGGUF(t *testing.T) {
	isolate(t)
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	writeTestGGUF(t, path)
	out, errOut, code := cli(t, "fit", "--gguf", path, "--ctx", "1024", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r fitResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Breakdown.WeightsSource != "gguf" || r.Breakdown.KV == 0 || r.Breakdown.FileBytes == 0 {
		t.Errorf("gguf fit: %+v", r.Breakdown)
	}
}

// nvidia-smi is faked by a script on PATH: detection is an edge, parsing is
// tested in internal/gpu.
func TestGPUDetection(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'NVIDIA GeForce RTX 4090, 24564, 23000'\n"
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	_, errOut, code := cli(t, "plan")
	if code != exitOK || !strings.Contains(errOut, "nvidia-smi reports NVIDIA GeForce RTX 4090 with 24564 MiB") {
		t.Errorf("plan did not mention the detected card: %d %q", code, errOut)
	}
	out, _, code := cli(t, "fit", "qwen3-14b", "--gpu", "detect", "--json")
	var r fitResult
	if code != exitOK || json.Unmarshal([]byte(out), &r) != nil || r.VRAMBytes != 24564<<20 {
		t.Errorf("fit --gpu detect: exit %d, vram %d", code, r.VRAMBytes)
	}
	t.Setenv("PATH", dir) // a PATH without nvidia-smi
	os.Remove(filepath.Join(dir, "nvidia-smi"))
	if _, e, code := cli(t, "fit", "qwen3-8b", "--gpu", "detect"); code != exitFailure || !strings.Contains(e, "nvidia-smi not found") {
		t.Errorf("detect without nvidia-smi: %d %q", code, e)
	}
}
