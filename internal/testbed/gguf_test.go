package testbed

import (
	"bytes"
	"crypto/sha256"
	"path/filepath"
	"testing"

	gguf "github.com/gpustack/gguf-parser-go"
)

func TestTinyModelParses(t *testing.T) {
	for _, spec := range []TinySpec{
		{Name: "tiny-llama", Seed: 1},
		{Name: "tiny-gqa", Seed: 2, Layers: 3, Embd: 32, Heads: 4, KVHeads: 2, FF: 48, ContextLength: 1024, Vocab: 320},
		{Name: "tiny-bert", Arch: "bert", Seed: 3},
	} {
		t.Run(spec.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), spec.Name+".gguf")
			if err := WriteTinyModelFile(path, spec); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.ParseGGUFFile(path)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			d := spec.withDefaults()
			md := f.Metadata()
			if md.Architecture != d.Arch || md.Name != d.Name {
				t.Errorf("metadata arch/name = %q/%q, want %q/%q", md.Architecture, md.Name, d.Arch, d.Name)
			}
			if md.Alignment != 32 {
				t.Errorf("alignment = %d", md.Alignment)
			}
			if md.Size > 512*1024 {
				t.Errorf("file is %d bytes, want < 0.5 MB", md.Size)
			}
			a := f.Architecture()
			if a.BlockCount != uint64(d.Layers) || a.EmbeddingLength != uint64(d.Embd) ||
				a.AttentionHeadCount != uint64(d.Heads) || a.AttentionHeadCountKV != uint64(d.KVHeads) ||
				a.MaximumContextLength != uint64(d.ContextLength) {
				t.Errorf("geometry = %+v, spec %+v", a, d)
			}
			if len(a.FeedForwardLength) == 0 || a.FeedForwardLength[0] != uint64(d.FF) {
				t.Errorf("ff = %v, want %d", a.FeedForwardLength, d.FF)
			}
			tok := f.Tokenizer()
			if tok.TokensLength != uint64(d.Vocab) {
				t.Errorf("tokens = %d, want %d", tok.TokensLength, d.Vocab)
			}
			wantModel := map[string]string{"llama": "llama", "bert": "bert"}[d.Arch]
			if tok.Model != wantModel {
				t.Errorf("tokenizer model = %q", tok.Model)
			}
			if len(f.TensorInfos) == 0 {
				t.Error("no tensors")
			}
		})
	}
}

func TestTinyModelSeedsDiffer(t *testing.T) {
	gen := func(seed uint64) [32]byte {
		var b bytes.Buffer
		if err := WriteTinyModel(&b, TinySpec{Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b.Bytes())
	}
	if gen(1) == gen(2) {
		t.Error("different seeds gave identical blobs")
	}
	if gen(7) != gen(7) {
		t.Error("same seed is not deterministic")
	}
}
