package strategy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard/internal/catalog"
)

// ErrPersonaExists is returned by AddPersona when the name is taken and
// force is off.
var ErrPersonaExists = errors.New("persona already exists")

// AddPersona returns data with the persona appended to personas: (replacing
// one of the same name when force is set) and, when model is non-nil and not
// declared yet, the model appended to models:. The new items are rendered
// from yaml.v3 nodes and spliced into the original text at the end of their
// sequence, so every comment, blank line and key order of the user's file
// stays byte-for-byte; re-encoding the whole tree would drop blank lines and
// reflow comments. The result is re-validated with Parse.
func AddPersona(data []byte, source string, p Persona, model *Model, force bool, cat *catalog.Catalog) ([]byte, error) {
	s, err := Parse(data, source, cat)
	if err != nil {
		return nil, fmt.Errorf("the strategy is invalid before the edit: %w", err)
	}
	out := data
	if _, exists := s.Persona(p.Name); exists {
		if !force {
			return nil, fmt.Errorf("%w: %q (use --force to replace it)", ErrPersonaExists, p.Name)
		}
		if out, err = removeItem(out, "personas", "name", p.Name); err != nil {
			return nil, err
		}
	}
	if model != nil {
		if _, ok := s.Model(model.ID); !ok {
			if out, err = appendItem(out, "models", model); err != nil {
				return nil, err
			}
		}
	}
	if out, err = appendItem(out, "personas", p); err != nil {
		return nil, err
	}
	if _, err := Parse(out, source, cat); err != nil {
		return nil, fmt.Errorf("the edited strategy does not validate (nothing written): %w", err)
	}
	return out, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so a crash never leaves half a strategy. The
// file's mode is kept.
func WriteFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// topLevel finds key in the document's root mapping: the key node, its value
// and the next key node (nil when key is last).
func topLevel(data []byte, key string) (k, v, next *yaml.Node, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, nil, fmt.Errorf("the strategy is not a YAML mapping")
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == key {
			if i+2 < len(root.Content) {
				next = root.Content[i+2]
			}
			return root.Content[i], root.Content[i+1], next, nil
		}
	}
	return nil, nil, nil, nil
}

// appendItem splices item at the end of the top-level sequence key.
func appendItem(data []byte, key string, item any) ([]byte, error) {
	k, v, next, err := topLevel(data, key)
	if err != nil {
		return nil, err
	}
	lines := splitLines(data)
	switch {
	case k == nil: // no such key: add it at the end of the file
		text, err := renderItem(item, 2)
		if err != nil {
			return nil, err
		}
		out := bytes.TrimRight(data, "\n")
		return append(append(out, "\n\n"+key+":\n"...), text...), nil
	case v.Kind != yaml.SequenceNode || v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0:
		// "personas: []" or an empty key: replace the value with a block sequence.
		text, err := renderItem(item, 2)
		if err != nil {
			return nil, err
		}
		if v.Line != k.Line || (v.Kind == yaml.SequenceNode && len(v.Content) > 0) {
			return nil, fmt.Errorf("%s: cannot append to this layout; edit it by hand", key)
		}
		i := k.Line - 1
		lines[i] = strings.Repeat(" ", k.Column-1) + key + ":" + trailingComment(lines[i]) + "\n" + text
		return []byte(strings.Join(lines, "")), nil
	}
	indent := v.Content[0].Column - 1 // the items' mapping column, past "- "
	text, err := renderItem(item, indent)
	if err != nil {
		return nil, err
	}
	// The sequence ends at the last content line before the next top-level
	// key; comments and blank lines just before that key belong to it.
	at := len(lines)
	if next != nil {
		at = next.Line - 1
	}
	for at > k.Line && isBlankOrComment(lines[at-1]) {
		at--
	}
	if !strings.HasSuffix(lines[at-1], "\n") {
		lines[at-1] += "\n"
	}
	out := append([]string{}, lines[:at]...)
	out = append(out, text)
	out = append(out, lines[at:]...)
	return []byte(strings.Join(out, "")), nil
}

// removeItem deletes the item of a top-level sequence whose field equals value.
func removeItem(data []byte, key, field, value string) ([]byte, error) {
	_, v, next, err := topLevel(data, key)
	if err != nil || v == nil || v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: no such sequence", key)
	}
	lines := splitLines(data)
	for i, it := range v.Content {
		if it.Kind != yaml.MappingNode || !hasField(it, field, value) {
			continue
		}
		from := it.Line - 1
		var to int
		switch {
		case i+1 < len(v.Content):
			to = v.Content[i+1].Line - 1
		case next != nil:
			to = next.Line - 1
		default:
			to = len(lines)
		}
		for to > from+1 && isBlankOrComment(lines[to-1]) {
			to--
		}
		return []byte(strings.Join(append(lines[:from:from], lines[to:]...), "")), nil
	}
	return data, nil
}

func hasField(m *yaml.Node, field, value string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == field && m.Content[i+1].Value == value {
			return true
		}
	}
	return false
}

// renderItem encodes one sequence item ("- key: ...") indented so its keys
// sit at column indent.
func renderItem(item any, indent int) (string, error) {
	var n yaml.Node
	if err := n.Encode(item); err != nil {
		return "", err
	}
	styleNode(&n)
	seq := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{&n}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(seq); err != nil {
		return "", err
	}
	enc.Close()
	pad := strings.Repeat(" ", max(indent-2, 0))
	var out strings.Builder
	for _, l := range splitLines(b.Bytes()) {
		if strings.TrimSpace(l) != "" {
			out.WriteString(pad)
		}
		out.WriteString(l)
	}
	return out.String(), nil
}

// styleNode makes the rendering look like the hand-written file: multi-line
// strings as literal blocks, small maps (parameters, claims) in flow style.
func styleNode(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "\n") {
		n.Style = yaml.LiteralStyle
	}
	if n.Kind == yaml.MappingNode {
		for i := 1; i < len(n.Content); i += 2 {
			c := n.Content[i]
			if (c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode) && allScalars(c) {
				c.Style = yaml.FlowStyle
			}
		}
	}
	for _, c := range n.Content {
		styleNode(c)
	}
}

func allScalars(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode || strings.Contains(c.Value, "\n") {
			return false
		}
	}
	return true
}

// splitLines keeps each line's "\n" so joining restores the bytes exactly.
func splitLines(data []byte) []string {
	return strings.SplitAfter(string(data), "\n")
}

func isBlankOrComment(l string) bool {
	t := strings.TrimSpace(l)
	return t == "" || strings.HasPrefix(t, "#")
}

func trailingComment(l string) string {
	if i := strings.Index(l, " #"); i >= 0 {
		return strings.TrimRight(l[i:], "\n")
	}
	return ""
}
