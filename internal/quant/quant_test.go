package quant

import (
	"strings"
	"testing"
)

func TestLookupAndCanonical(t *testing.T) {
	for in, want := range map[string]string{"q5_k_m": "Q5_K_M", " Q8_0 ": "Q8_0", "fp16": "F16", "f16": "F16", "mxfp4": "MXFP4"} {
		got, err := Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Canonical("Q5_K_X"); err == nil || !strings.Contains(err.Error(), "Q4_K_M") {
		t.Errorf("unknown quant error should list the known ones: %v", err)
	}
}

func TestQualityOrder(t *testing.T) {
	// Practical quants come best-first, and both measures agree on the order.
	p := Practical()
	for i := 1; i < len(p); i++ {
		if p[i].KLD <= p[i-1].KLD || p[i].PPLDelta <= p[i-1].PPLDelta || p[i].BPW >= p[i-1].BPW {
			t.Errorf("%s does not follow %s in quality and size", p[i].Name, p[i-1].Name)
		}
	}
}

func TestKVTypes(t *testing.T) {
	cases := map[string]float64{"": 2, "f16": 2, "Q8_0": 1.0625, "q4_0": 0.5625}
	for in, want := range cases {
		kv, err := LookupKV(in)
		if err != nil || kv.Bytes != want {
			t.Errorf("LookupKV(%q) = %v, %v; want %v bytes", in, kv, err, want)
		}
	}
	if _, err := LookupKV("q3_k"); err == nil {
		t.Error("q3_k accepted")
	}
}
