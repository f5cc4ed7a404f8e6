package strategy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard/internal/catalog"
)

// EmbeddedSource is the Source of the built-in default.
const EmbeddedSource = "embedded default"

// DefaultPath is where the user's strategy lives: $SWITCHYARD_STRATEGY, else
// <user config dir>/switchyard/strategy.yaml.
func DefaultPath() (string, error) {
	if p := os.Getenv("SWITCHYARD_STRATEGY"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config directory: %w", err)
	}
	return filepath.Join(dir, "switchyard", "strategy.yaml"), nil
}

// Resolve loads the strategy a command should use: the explicit path if
// given (an error if it is missing), else the user's file if it exists, else
// the embedded default.
func Resolve(explicit string, cat *catalog.Catalog) (*Strategy, error) {
	if explicit != "" {
		return LoadFile(explicit, cat)
	}
	p, err := DefaultPath()
	if err == nil {
		if _, statErr := os.Stat(p); statErr == nil {
			return LoadFile(p, cat)
		}
	}
	return Parse(defaultYAML, EmbeddedSource, cat)
}

// LoadFile reads and validates a strategy file.
func LoadFile(path string, cat *catalog.Catalog) (*Strategy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading strategy: %w", err)
	}
	return Parse(data, path, cat)
}

// Defaults are applied before the YAML is read, so an omitted field takes
// these values.
func Defaults() Strategy {
	return Strategy{
		Version: 1,
		Hardware: Hardware{
			MaxLarge:    1,
			KeepAlive:   "5m",
			ColdLoadS:   40,
			WarmLoadS:   0.1,
			KVCacheType: "f16",
			Parallel:    1,
		},
	}
}

// Parse decodes and validates strategy YAML; source names it in errors.
func Parse(data []byte, source string, cat *catalog.Catalog) (*Strategy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(source, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: the strategy file is empty", source)
	}
	s := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, yamlError(source, err)
	}
	s.Source = source
	if errs := s.Validate(cat); len(errs) > 0 {
		for i := range errs {
			errs[i].File = source
			errs[i].Line = lineOf(&root, errs[i].Path)
		}
		return nil, errs
	}
	return &s, nil
}

// FieldError is one problem in a strategy, located by file, line and field.
type FieldError struct {
	File string
	Line int
	Path []any // keys (string) and indices (int)
	Msg  string
}

// Field renders the path as models[2].quant.
func (e FieldError) Field() string {
	var b strings.Builder
	for _, p := range e.Path {
		switch v := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

func (e FieldError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Field(), e.Msg)
}

// ValidationErrors collects every problem found, not just the first.
type ValidationErrors []FieldError

func (v ValidationErrors) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)
var unknownFieldRe = regexp.MustCompile(`field (\S+) not found in type (\S+)`)

// yamlError rewrites the YAML library's messages into file:line: message.
func yamlError(source string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var out []string
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if g := yamlLineRe.FindStringSubmatch(m); g != nil {
			detail := g[2]
			if f := unknownFieldRe.FindStringSubmatch(detail); f != nil {
				detail = fmt.Sprintf("unknown key %q (in %s)", f[1], strings.TrimPrefix(f[2], "strategy."))
			}
			out = append(out, fmt.Sprintf("%s:%s: %s", source, g[1], detail))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s", source, m))
	}
	return errors.New(strings.Join(out, "\n"))
}

// lineOf finds the line of a path in a YAML tree: the key's line for a
// mapping entry, the item's line for a sequence index; the deepest node
// reached if the path goes further than the file.
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		switch key := p.(type) {
		case int:
			if n.Kind != yaml.SequenceNode || key >= len(n.Content) {
				return line
			}
			n = n.Content[key]
			line = n.Line
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line = n.Content[i].Line
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line
			}
		}
	}
	return line
}
