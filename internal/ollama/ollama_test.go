package ollama

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"qwen3:8b", "qwen3:8b"},
		{"qwen3", "qwen3:latest"},
		{"Qwen3:8B", "qwen3:8b"},
		{"library/qwen3:8b", "qwen3:8b"},
		{"registry.ollama.ai/library/qwen3:8b", "qwen3:8b"},
		{"registry.ollama.ai/user/model", "user/model:latest"},
		{"127.0.0.1:5000/library/tiny:v1", "127.0.0.1:5000/library/tiny:v1"},
		{"127.0.0.1:5000/library/tiny", "127.0.0.1:5000/library/tiny:latest"},
		{"hf.co/Qwen/Qwen3-8B-GGUF:Q5_K_M", "hf.co/qwen/qwen3-8b-gguf:q5_k_m"},
		{"qwen3:8b@sha256:abc", "qwen3:8b"},
		{"  ", ""},
	} {
		if got := NormalizeName(tc.in); got != tc.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if SameModel("", "") {
		t.Error("empty names must not match")
	}
	if n, ok := FindName([]string{"a:latest", "qwen3:8b"}, "registry.ollama.ai/library/qwen3:8b"); !ok || n != "qwen3:8b" {
		t.Errorf("FindName = %q %v", n, ok)
	}
}

func TestParseHost(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "http://127.0.0.1:11434"},
		{"0.0.0.0", "http://127.0.0.1:11434"},
		{":9999", "http://127.0.0.1:9999"},
		{"example.com", "http://example.com:11434"},
		{"10.0.0.2:8080", "http://10.0.0.2:8080"},
		{"http://box", "http://box:80"},
		{"https://box/ollama/", "https://box:443/ollama"},
		{"[::1]:1234", "http://[::1]:1234"},
	} {
		u, err := ParseHost(tc.in)
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseHost(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
	if _, err := ParseHost("ftp://x"); err == nil {
		t.Error("ftp scheme accepted")
	}
}

func TestParseParameters(t *testing.T) {
	text := "num_ctx                        16384\nstop                           \"<a>\"\nstop                           \"b c\"\ntemperature                    0.2"
	want := map[string][]string{"num_ctx": {"16384"}, "stop": {"<a>", "b c"}, "temperature": {"0.2"}}
	if got := ParseParameters(text); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseParameters = %v", got)
	}
}

func TestComparePersona(t *testing.T) {
	spec := PersonaSpec{Name: "p", From: "base:latest", System: "Be brief.",
		Parameters: map[string]any{"temperature": 0.2, "num_ctx": 16384, "stop": []any{"<a>", "b c"}}}
	show := func(system, params, parent string) *api.ShowResponse {
		return &api.ShowResponse{System: system, Parameters: params, Details: api.ModelDetails{ParentModel: parent}}
	}
	same := "num_ctx 16384\nstop \"b c\"\nstop \"<a>\"\ntemperature 0.20000000298023224\ntop_k 40"
	for _, tc := range []struct {
		name string
		got  *api.ShowResponse
		want []string
	}{
		{"identical (float32 noise, stop order, inherited extra)", show("Be brief.\n", same, "base"), nil},
		{"not installed", nil, []string{"not installed"}},
		{"system differs", show("Be long.", same, ""), []string{"system prompt"}},
		{"num_ctx differs", show("Be brief.", "num_ctx 4096\nstop \"<a>\"\nstop \"b c\"\ntemperature 0.2", ""),
			[]string{"parameters.num_ctx (want 16384, have 4096)"}},
		{"stop missing", show("Be brief.", "num_ctx 16384\ntemperature 0.2", ""),
			[]string{"parameters.stop (want <a>,b c, not set)"}},
		{"other base", show("Be brief.", same, "other:latest"), []string{"base model (want base:latest, have other:latest)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ComparePersona(spec, tc.got); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ComparePersona = %q, want %q", got, tc.want)
			}
		})
	}
	req := spec.CreateRequest()
	if req.Model != "p" || req.From != "base:latest" || req.System != "Be brief." || req.Parameters["num_ctx"] != 16384 {
		t.Errorf("CreateRequest = %+v", req)
	}
}

func TestManagedState(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SWITCHYARD_STATE_DIR", dir)
	m, err := LoadManaged()
	if err != nil || len(m.Personas("h")) != 0 {
		t.Fatalf("empty state: %v %v", m, err)
	}
	m.Add("h", "My-Coder", "qwen3:8b", time.Unix(0, 0))
	m.Add("other", "x", "y", time.Unix(0, 0))
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadManagedFile(filepath.Join(dir, "managed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m2.Personas("h"); !reflect.DeepEqual(got, []string{"my-coder:latest"}) || !m2.IsManaged("h", "my-coder") || m2.IsManaged("h", "x") {
		t.Errorf("reloaded: %v", got)
	}
	m2.Remove("h", "my-coder:latest")
	if len(m2.Personas("h")) != 0 {
		t.Error("Remove did not forget")
	}
	bad := filepath.Join(dir, "bad.json")
	if err := writeFile(bad, "{"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadManagedFile(bad); err == nil {
		t.Error("corrupt state accepted")
	}
}

func TestPullErrorMessages(t *testing.T) {
	e := &PullError{Ref: "x:y", Err: errors.New("pull model manifest: file does not exist")}
	if got := e.Error(); got != "pull x:y: the reference does not exist in its registry (pull model manifest: file does not exist)" {
		t.Errorf("PullError = %q", got)
	}
	u := &UnreachableError{URL: "http://127.0.0.1:1", Err: errors.New("refused")}
	if !errors.Is(u, u.Err) || u.Error() == "" {
		t.Error("UnreachableError does not unwrap")
	}
}
