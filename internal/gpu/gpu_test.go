package gpu

import "testing"

func TestLookup(t *testing.T) {
	cases := []struct {
		in   string
		mib  int
		fail bool
	}{
		{"rtx3060-12g", 12288, false}, {"RTX4090-24G", 24564, false}, {"12g", 12288, false},
		{"16GB", 16384, false}, {"10240mib", 10240, false}, {"1.5g", 1536, false},
		{"rtx9999", 0, true}, {"-4g", 0, true}, {"", 0, true},
	}
	for _, c := range cases {
		g, err := Lookup(c.in)
		if (err != nil) != c.fail || (!c.fail && g.VRAMMiB != c.mib) {
			t.Errorf("Lookup(%q) = %+v, %v", c.in, g, err)
		}
	}
	// The sizes all have a preset.
	for _, size := range []int{8, 10, 12, 16, 24} {
		found := false
		for _, p := range Presets() {
			if (p.VRAMMiB+512)/1024 == size {
				found = true
			}
		}
		if !found {
			t.Errorf("no preset of %d GB", size)
		}
	}
}

func TestParseNvidiaSMI(t *testing.T) {
	out := "NVIDIA GeForce RTX 3060, 12288, 11020\nNVIDIA GeForce RTX 4090, 24564, 100\n"
	gs, err := ParseNvidiaSMI(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 || gs[0].VRAMMiB != 12288 || gs[0].FreeMiB != 11020 || gs[0].Preset != "rtx3060-12g" || gs[1].Preset != "rtx4090-24g" {
		t.Errorf("parsed %+v", gs)
	}
	for _, bad := range []string{"", "garbage", "NVIDIA X, lots, 1"} {
		if _, err := ParseNvidiaSMI(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
