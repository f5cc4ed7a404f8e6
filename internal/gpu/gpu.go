// Package gpu owns what switchyard knows about the graphics card: named
// presets for common consumer NVIDIA cards, and detection through nvidia-smi
// when it is installed. Parsing is pure; only Detect runs a command.
package gpu

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GPU is a card's name and memory.
type GPU struct {
	Preset  string `json:"preset,omitempty"`
	Name    string `json:"name"`
	VRAMMiB int    `json:"vram_mib"`
	// FreeMiB is only known for a detected card.
	FreeMiB int `json:"free_mib,omitempty"`
}

// presets are common single-GPU boxes, by the memory the driver reports.
var presets = []GPU{
	{Preset: "rtx3050-8g", Name: "NVIDIA GeForce RTX 3050 8GB", VRAMMiB: 8192},
	{Preset: "rtx3060ti-8g", Name: "NVIDIA GeForce RTX 3060 Ti", VRAMMiB: 8192},
	{Preset: "rtx4060-8g", Name: "NVIDIA GeForce RTX 4060", VRAMMiB: 8188},
	{Preset: "rtx3080-10g", Name: "NVIDIA GeForce RTX 3080 10GB", VRAMMiB: 10240},
	{Preset: "rtx2080ti-11g", Name: "NVIDIA GeForce RTX 2080 Ti", VRAMMiB: 11264},
	{Preset: "rtx3060-12g", Name: "NVIDIA GeForce RTX 3060 12GB", VRAMMiB: 12288},
	{Preset: "rtx4070-12g", Name: "NVIDIA GeForce RTX 4070", VRAMMiB: 12282},
	{Preset: "rtx4060ti-16g", Name: "NVIDIA GeForce RTX 4060 Ti 16GB", VRAMMiB: 16380},
	{Preset: "rtx4080-16g", Name: "NVIDIA GeForce RTX 4080", VRAMMiB: 16376},
	{Preset: "rtx3090-24g", Name: "NVIDIA GeForce RTX 3090", VRAMMiB: 24576},
	{Preset: "rtx4090-24g", Name: "NVIDIA GeForce RTX 4090", VRAMMiB: 24564},
	{Preset: "rtx5090-32g", Name: "NVIDIA GeForce RTX 5090", VRAMMiB: 32607},
}

// Presets returns the known presets, smallest first.
func Presets() []GPU {
	out := append([]GPU(nil), presets...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].VRAMMiB < out[j].VRAMMiB })
	return out
}

// PresetNames lists the preset ids.
func PresetNames() []string {
	var n []string
	for _, p := range Presets() {
		n = append(n, p.Preset)
	}
	return n
}

// Lookup resolves a --gpu value: a preset id, or a bare size such as "12g",
// "12gb" or "12288mib".
func Lookup(s string) (GPU, error) {
	key := strings.ToLower(strings.TrimSpace(s))
	for _, p := range presets {
		if p.Preset == key {
			return p, nil
		}
	}
	if mib, ok := parseSize(key); ok {
		return GPU{Name: fmt.Sprintf("%d MiB GPU", mib), VRAMMiB: mib}, nil
	}
	return GPU{}, fmt.Errorf("unknown GPU %q: use a preset (%s) or a size like 12g or 16384mib",
		s, strings.Join(PresetNames(), ", "))
}

func parseSize(s string) (int, bool) {
	for _, suf := range []struct {
		s    string
		mult float64
	}{{"mib", 1}, {"gib", 1024}, {"gb", 1024}, {"g", 1024}} {
		if strings.HasSuffix(s, suf.s) {
			n, err := strconv.ParseFloat(strings.TrimSuffix(s, suf.s), 64)
			if err != nil || n <= 0 {
				return 0, false
			}
			return int(n * suf.mult), true
		}
	}
	return 0, false
}

// ErrNoNvidiaSMI means nvidia-smi is not installed; callers fall back to the
// strategy's hardware section.
var ErrNoNvidiaSMI = errors.New("nvidia-smi not found")

// Detect asks nvidia-smi for the cards present.
func Detect(ctx context.Context) ([]GPU, error) {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil, ErrNoNvidiaSMI
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil, fmt.Errorf("nvidia-smi: %w", err)
	}
	return ParseNvidiaSMI(string(out))
}

// ParseNvidiaSMI reads `--query-gpu=name,memory.total,memory.free
// --format=csv,noheader,nounits` output (MiB).
func ParseNvidiaSMI(out string) ([]GPU, error) {
	var gpus []GPU
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 2 {
			return nil, fmt.Errorf("nvidia-smi: unexpected line %q", line)
		}
		total, err := strconv.Atoi(strings.TrimSpace(f[1]))
		if err != nil {
			return nil, fmt.Errorf("nvidia-smi: memory.total %q: %w", f[1], err)
		}
		g := GPU{Name: strings.TrimSpace(f[0]), VRAMMiB: total}
		if len(f) > 2 {
			g.FreeMiB, _ = strconv.Atoi(strings.TrimSpace(f[2]))
		}
		g.Preset = matchPreset(g.Name, total)
		gpus = append(gpus, g)
	}
	if len(gpus) == 0 {
		return nil, errors.New("nvidia-smi listed no GPU")
	}
	return gpus, nil
}

var sizeSuffix = regexp.MustCompile(`\s+\d+GB$`)

// matchPreset finds the preset for a card nvidia-smi reported: the model name
// (without the memory suffix) must appear in it, and the memory must agree
// within 512 MiB. The longest matching model name wins ("3060 Ti" over "3060").
func matchPreset(name string, mib int) string {
	best, bestLen := "", 0
	for _, p := range presets {
		core := sizeSuffix.ReplaceAllString(strings.TrimPrefix(p.Name, "NVIDIA GeForce "), "")
		if strings.Contains(strings.ToLower(name), strings.ToLower(core)) && abs(p.VRAMMiB-mib) < 512 && len(core) > bestLen {
			best, bestLen = p.Preset, len(core)
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
