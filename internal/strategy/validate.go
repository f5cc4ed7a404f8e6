package strategy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/quant"
)

// personaName is what Ollama accepts as a model name we create.
var personaName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*(:[a-zA-Z0-9._-]+)?$`)

// Validate checks the strategy against itself and the catalog and returns
// every problem found. Quant names are canonicalised in place.
func (s *Strategy) Validate(base *catalog.Catalog) ValidationErrors {
	var errs ValidationErrors
	add := func(msg string, path ...any) { errs = append(errs, FieldError{Path: path, Msg: msg}) }

	if s.Version != 1 {
		add(fmt.Sprintf("unsupported version %d (this switchyard reads version 1)", s.Version), "version")
	}
	cat := base
	if base != nil {
		for i := range s.Catalog {
			if err := s.Catalog[i].Validate(); err != nil {
				add(err.Error(), "catalog", i)
			}
		}
		cat = s.CatalogWith(base)
	}

	h := &s.Hardware
	if h.VRAMMiB <= 0 {
		add(fmt.Sprintf("must be a positive number of MiB, got %d", h.VRAMMiB), "hardware", "vram_mib")
	}
	if h.ReserveMiB < 0 || (h.VRAMMiB > 0 && h.ReserveMiB >= h.VRAMMiB) {
		add(fmt.Sprintf("must be between 0 and vram_mib, got %d", h.ReserveMiB), "hardware", "reserve_mib")
	}
	if h.MaxLarge < 0 {
		add("must not be negative", "hardware", "max_resident_large")
	}
	if h.OverheadMiB < 0 {
		add("must not be negative", "hardware", "overhead_mib")
	}
	if h.Parallel < 1 {
		add(fmt.Sprintf("must be at least 1, got %d", h.Parallel), "hardware", "parallel")
	}
	if h.ColdLoadS < 0 || h.WarmLoadS < 0 {
		add("load times must not be negative", "hardware", "cold_load_s")
	}
	if _, err := quant.LookupKV(h.KVCacheType); err != nil {
		add(err.Error(), "hardware", "kv_cache_type")
	}
	if h.KeepAlive != "" {
		if _, err := h.KeepAlive.Duration(); err != nil {
			add(err.Error(), "hardware", "keep_alive")
		}
	}

	ids := map[string]int{}
	for i := range s.Models {
		m := &s.Models[i]
		if m.ID == "" {
			add("every model needs an id", "models", i, "id")
			continue
		}
		if j, dup := ids[m.ID]; dup {
			add(fmt.Sprintf("duplicate model id %q (first at models[%d])", m.ID, j), "models", i, "id")
		}
		ids[m.ID] = i
		if cat != nil {
			if _, ok := cat.Get(m.CatalogID()); !ok {
				add(fmt.Sprintf("%q is not in the catalog; add a catalog: entry or use one of: %s",
					m.CatalogID(), strings.Join(cat.IDs(), ", ")), "models", i, "id")
			}
		}
		if q, err := quant.Canonical(m.Quant); err != nil {
			add(err.Error(), "models", i, "quant")
		} else {
			m.Quant = q
		}
		if m.Context <= 0 {
			add(fmt.Sprintf("must be a positive number of tokens, got %d", m.Context), "models", i, "context")
		}
		if m.KeepAlive != "" {
			if _, err := m.KeepAlive.Duration(); err != nil {
				add(err.Error(), "models", i, "keep_alive")
			}
		}
		for j, alt := range m.Alternatives {
			if cat != nil {
				if _, ok := cat.Get(alt); !ok {
					add(fmt.Sprintf("alternative %q is not in the catalog", alt), "models", i, "alternatives", j)
				}
			}
		}
		if m.Claims.WeightsGB < 0 || m.Claims.VRAMGB < 0 || m.Claims.DiskGB < 0 {
			add("claimed sizes must not be negative", "models", i, "claims")
		}
	}
	for i, p := range h.Pinned {
		if _, ok := ids[p]; !ok {
			add(fmt.Sprintf("pinned model %q is not declared under models", p), "hardware", "pinned", i)
		}
	}

	names := map[string]int{}
	for i := range s.Personas {
		p := &s.Personas[i]
		if !personaName.MatchString(p.Name) {
			add(fmt.Sprintf("%q is not a valid model name (letters, digits, . _ - and an optional :tag)", p.Name), "personas", i, "name")
		}
		if j, dup := names[p.Name]; dup {
			add(fmt.Sprintf("duplicate persona %q (first at personas[%d])", p.Name, j), "personas", i, "name")
		}
		names[p.Name] = i
		if _, clash := ids[p.Name]; clash {
			add(fmt.Sprintf("persona %q has the same name as a model", p.Name), "personas", i, "name")
		}
		switch {
		case p.Model == "" && p.Pending == "":
			add("a persona needs a model (or pending: with the reason it has none yet)", "personas", i, "model")
		case p.Model != "":
			if _, ok := ids[p.Model]; !ok {
				add(fmt.Sprintf("persona %q runs on %q, which is not declared under models", p.Name, p.Model), "personas", i, "model")
			}
		}
		if p.Context < 0 {
			add("must not be negative", "personas", i, "context")
		}
		if p.KeepAlive != "" {
			if _, err := p.KeepAlive.Duration(); err != nil {
				add(err.Error(), "personas", i, "keep_alive")
			}
		}
		for k, v := range p.Parameters {
			if msg := checkParameter(k, v); msg != "" {
				add(msg, "personas", i, "parameters", k)
			}
		}
	}

	layerIDs := map[int]bool{}
	for i, l := range s.Layers {
		if layerIDs[l.ID] {
			add(fmt.Sprintf("duplicate layer id %d", l.ID), "layers", i, "id")
		}
		layerIDs[l.ID] = true
		for j, m := range l.Models {
			if _, ok := ids[m]; !ok {
				add(fmt.Sprintf("layer %d pulls %q, which is not declared under models", l.ID, m), "layers", i, "models", j)
			}
		}
	}
	for i := range s.Budget {
		b := &s.Budget[i]
		if cat != nil {
			if _, ok := cat.Get(b.Model); !ok {
				add(fmt.Sprintf("%q is not in the catalog", b.Model), "budget", i, "model")
			}
		}
		if q, err := quant.Canonical(b.Quant); err != nil {
			add(err.Error(), "budget", i, "quant")
		} else {
			b.Quant = q
		}
	}
	return errs
}

// knownParameters are Ollama's model options a persona may set, with the
// kind of value each takes.
var knownParameters = map[string]string{
	"temperature": "number", "top_p": "number", "top_k": "int", "min_p": "number",
	"repeat_penalty": "number", "repeat_last_n": "int", "presence_penalty": "number",
	"frequency_penalty": "number", "seed": "int", "num_predict": "int", "num_ctx": "int",
	"stop": "strings", "num_batch": "int", "num_gpu": "int", "typical_p": "number",
	"mirostat": "int", "mirostat_tau": "number", "mirostat_eta": "number", "num_keep": "int",
}

func checkParameter(k string, v any) string {
	kind, ok := knownParameters[k]
	if !ok {
		return fmt.Sprintf("unknown parameter %q (Ollama options: temperature, top_p, top_k, num_ctx, stop, ...)", k)
	}
	switch kind {
	case "number":
		switch v.(type) {
		case int, float64:
			return ""
		}
		return fmt.Sprintf("%s must be a number, got %v", k, v)
	case "int":
		if _, ok := v.(int); ok {
			return ""
		}
		return fmt.Sprintf("%s must be a whole number, got %v", k, v)
	case "strings":
		switch x := v.(type) {
		case string:
			return ""
		case []any:
			for _, e := range x {
				if _, ok := e.(string); !ok {
					return fmt.Sprintf("%s must be a list of strings", k)
				}
			}
			return ""
		}
		return fmt.Sprintf("%s must be a string or a list of strings", k)
	}
	return ""
}
