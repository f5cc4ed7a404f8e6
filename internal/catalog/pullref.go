package catalog

import (
	"fmt"
	"strings"
)

// RefSource says why a pull reference was chosen.
type RefSource string

const (
	RefExplicit RefSource = "strategy"       // the strategy's own pull: field
	RefLibrary  RefSource = "ollama-library" // a tag in Ollama's library
	RefHF       RefSource = "hf"             // a GGUF repository on Hugging Face
	RefNone     RefSource = "none"
)

// PullRef is where a planned (model, quant) can be pulled from.
type PullRef struct {
	Ref    string    `json:"ref"`
	Source RefSource `json:"source"`
	// Note explains a choice the user should know about (the default tag is
	// another quant, the quant exists only on Hugging Face...).
	Note string `json:"note,omitempty"`
}

// ResolvePull picks the reference for quant q: explicit wins; else an Ollama
// library tag known for that quant (the default tag when its quant matches);
// else the Hugging Face GGUF reference; else none, with the reason.
func (m *Model) ResolvePull(q, explicit string) PullRef {
	if explicit != "" {
		return PullRef{Ref: explicit, Source: RefExplicit}
	}
	if !m.OnOllama() {
		return PullRef{Source: RefNone, Note: fmt.Sprintf("Ollama cannot run %s (%s architecture)", m.Name, m.Kind)}
	}
	var note string
	if m.Ollama.Default != "" && !strings.EqualFold(m.Ollama.DefaultQuant, q) && m.Ollama.DefaultQuant != "" {
		note = fmt.Sprintf("`ollama pull %s` gets %s, not the planned %s", m.Ollama.Default, m.Ollama.DefaultQuant, q)
	}
	for k, tag := range m.Ollama.Tags {
		if strings.EqualFold(k, q) {
			return PullRef{Ref: tag, Source: RefLibrary, Note: note}
		}
	}
	if m.Ollama.Default != "" && strings.EqualFold(m.Ollama.DefaultQuant, q) {
		return PullRef{Ref: m.Ollama.Default, Source: RefLibrary}
	}
	if m.HF.Repo != "" {
		for _, hq := range m.HF.Quants {
			if strings.EqualFold(hq, q) {
				n := "no Ollama library tag for " + q + "; pulling the GGUF from Hugging Face"
				if note != "" {
					n = note + "; " + n
				}
				return PullRef{Ref: "hf.co/" + m.HF.Repo + ":" + hq, Source: RefHF, Note: n}
			}
		}
	}
	n := "no known reference for " + q
	if note != "" {
		n = note + "; " + n
	}
	return PullRef{Source: RefNone, Note: n}
}
