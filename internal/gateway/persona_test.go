package gateway

import (
	"reflect"
	"testing"
)

func TestResolve(t *testing.T) {
	s, cat := testStrategy(t)
	r := NewResolver(s, cat)
	tests := []struct {
		name, upstream, keepAlive, system string
		numCtx                            int
		persona, plain, ok                bool
	}{
		{name: "my-coder", upstream: "tiny-coder:latest", keepAlive: "30m", system: "You are a careful coder.", numCtx: 1024, persona: true, ok: true},
		{name: "my-coder:latest", upstream: "tiny-coder:latest", keepAlive: "30m", system: "You are a careful coder.", numCtx: 1024, persona: true, ok: true},
		// persona keep_alive wins; parameters.num_ctx overrides the model's context
		{name: "my-writer", upstream: "tiny-writer:latest", keepAlive: "2m", system: "You write plainly.", numCtx: 512, persona: true, ok: true},
		// pinned model without its own keep_alive stays resident
		{name: "my-embedder", upstream: "tiny-embed:latest", keepAlive: "-1", numCtx: 512, persona: true, ok: true},
		// a planned model id resolves to its pull name with its context
		{name: "tiny-writer", upstream: "tiny-writer:latest", keepAlive: "10m", numCtx: 2048, ok: true},
		{name: "llama3:8b", upstream: "llama3:8b", plain: true, ok: true},
		{name: "my-translator", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why, ok := r.Resolve(tt.name)
			if ok != tt.ok {
				t.Fatalf("ok = %v (%s), want %v", ok, why, tt.ok)
			}
			if !ok {
				if why == "" {
					t.Error("pending persona without a reason")
				}
				return
			}
			if got.Upstream != tt.upstream || got.KeepAlive != tt.keepAlive || got.System != tt.system ||
				got.NumCtx != tt.numCtx || (got.Persona != nil) != tt.persona || got.IsPlain() != tt.plain {
				t.Errorf("got %+v", *got)
			}
		})
	}
	if want := []string{"my-coder", "my-embedder", "my-writer"}; !reflect.DeepEqual(r.Personas(), want) {
		t.Errorf("Personas() = %v, want %v", r.Personas(), want)
	}
}

func TestMergeOptions(t *testing.T) {
	tests := []struct {
		name             string
		persona, request map[string]any
		fixed            int
		want             map[string]any
		wantCtx          int
	}{
		{"persona only", map[string]any{"temperature": 0.2}, nil, 4096,
			map[string]any{"temperature": 0.2, "num_ctx": 4096}, 4096},
		{"request wins per key", map[string]any{"temperature": 0.2, "top_p": 0.9}, map[string]any{"temperature": 1.0},
			4096, map[string]any{"temperature": 1.0, "top_p": 0.9, "num_ctx": 4096}, 4096},
		{"smaller num_ctx allowed", nil, map[string]any{"num_ctx": 1024.0}, 4096, map[string]any{"num_ctx": 1024}, 1024},
		{"larger num_ctx capped", nil, map[string]any{"num_ctx": 65536}, 4096, map[string]any{"num_ctx": 4096}, 4096},
		{"plain model keeps request ctx", nil, map[string]any{"num_ctx": 8192}, 0, map[string]any{"num_ctx": 8192}, 8192},
		{"plain model without ctx", nil, map[string]any{"seed": 1}, 0, map[string]any{"seed": 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := MergeOptions(tt.persona, tt.request, tt.fixed)
			if n != tt.wantCtx || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v ctx %d, want %v ctx %d", got, n, tt.want, tt.wantCtx)
			}
		})
	}
}

func TestPromptTooLarge(t *testing.T) {
	tests := []struct {
		bytes, ctx int
		factor     float64
		want       bool
	}{
		{4 * 4096 * 4, 4096, 4, false}, // exactly 4× is allowed
		{4*4096*4 + 4, 4096, 4, true},
		{64 << 20, 2048, 4, true},
		{100, 0, 4, false}, // unknown context: no rule
		{100, 10, 0, false},
	}
	for _, tt := range tests {
		if got := PromptTooLarge(EstimateTokens(tt.bytes), tt.ctx, tt.factor); got != tt.want {
			t.Errorf("PromptTooLarge(%d bytes, ctx %d, ×%g) = %v, want %v", tt.bytes, tt.ctx, tt.factor, got, tt.want)
		}
	}
}
