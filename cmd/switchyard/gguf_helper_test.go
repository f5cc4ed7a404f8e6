package main

import (
	"testing"

	"github.com/switchyard/switchyard/internal/testbed"
)

// writeTestGGUF writes a tiny real GGUF (the test bed's generator).
func writeTestGGUF(t *testing.T, path string) {
	t.Helper()
	if err := testbed.WriteTinyModelFile(path, testbed.TinySpec{Name: "tiny", Seed: 1}); err != nil {
		t.Fatal(err)
	}
}
