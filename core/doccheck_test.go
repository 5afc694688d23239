package core_test

import (
	"bufio"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the repository root, seen from the core module's directory
// (where go test runs this package).
const repoRoot = ".."

// docModules are the modules the doc check must at least read. The check
// reads every module of go.work; these must be among them, so that a
// renamed module cannot silently drop out.
var docModules = []string{"core", "ginauth", "echoauth", "fiberauth", "examples"}

var useDirective = regexp.MustCompile(`(?m)^\s*(?:use\s+)?\./([A-Za-z0-9_./-]+)\s*$`)

// workModules returns the module directories that go.work uses. Outside a
// checkout of the repository (core in a module cache has no go.work next
// to it) the test is skipped.
func workModules(t *testing.T) []string {
	t.Helper()
	work, err := os.ReadFile(filepath.Join(repoRoot, "go.work"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("not inside a checkout of the jwksauth repository (no ../go.work)")
	}
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	for _, m := range useDirective.FindAllStringSubmatch(string(work), -1) {
		mods = append(mods, strings.TrimSuffix(m[1], "/"))
	}
	for _, want := range docModules {
		if !slices.Contains(mods, want) {
			t.Fatalf("go.work does not use ./%s (it uses %v)", want, mods)
		}
	}
	return mods
}

// skipDir reports whether the walk should not enter a directory: vendored
// JavaScript of the end-to-end test, testdata, and hidden or underscore
// directories, which the go tool ignores too.
func skipDir(name string) bool {
	return name == "node_modules" || name == "testdata" ||
		strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// undocumented parses every non-test Go file under dir and returns one line
// ("path:line: kind Name") for each exported identifier without a doc
// comment: types, functions, methods of exported types, constants and
// variables. A comment on the enclosing const/var/type group counts, and so
// does a trailing line comment on a grouped constant or variable, which go
// doc shows next to it.
func undocumented(dir string) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		report := func(pos token.Pos, kind, name string) {
			out = append(out, fmt.Sprintf("%s:%d: %s %s", filepath.ToSlash(rel), fset.Position(pos).Line, kind, name))
		}
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				checkFunc(decl, report)
			case *ast.GenDecl:
				checkGen(decl, report)
			}
		}
		return nil
	})
	return out, err
}

func hasDoc(groups ...*ast.CommentGroup) bool {
	for _, g := range groups {
		if g != nil && strings.TrimSpace(g.Text()) != "" {
			return true
		}
	}
	return false
}

func checkFunc(fn *ast.FuncDecl, report func(token.Pos, string, string)) {
	if !fn.Name.IsExported() || hasDoc(fn.Doc) {
		return
	}
	if fn.Recv == nil {
		report(fn.Pos(), "func", fn.Name.Name)
		return
	}
	recv := receiverName(fn.Recv.List[0].Type)
	if token.IsExported(recv) {
		report(fn.Pos(), "method", recv+"."+fn.Name.Name)
	}
}

// receiverName returns the type name of a receiver: T, *T, T[P], *T[P].
func receiverName(x ast.Expr) string {
	for {
		switch t := x.(type) {
		case *ast.StarExpr:
			x = t.X
		case *ast.IndexExpr:
			x = t.X
		case *ast.IndexListExpr:
			x = t.X
		case *ast.ParenExpr:
			x = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

func checkGen(g *ast.GenDecl, report func(token.Pos, string, string)) {
	grouped := g.Lparen.IsValid()
	groupDoc := hasDoc(g.Doc)
	for _, spec := range g.Specs {
		switch s := spec.(type) {
		case *ast.TypeSpec:
			if s.Name.IsExported() && !groupDoc && !hasDoc(s.Doc) && !(grouped && hasDoc(s.Comment)) {
				report(s.Pos(), "type", s.Name.Name)
			}
		case *ast.ValueSpec:
			if groupDoc || hasDoc(s.Doc) || (grouped && hasDoc(s.Comment)) {
				continue
			}
			for _, n := range s.Names {
				if n.IsExported() {
					report(n.Pos(), g.Tok.String(), n.Name)
				}
			}
		}
	}
}

// TestExportedIdentifiersDocumented holds every module of the repository to
// "every exported identifier has a doc comment".
func TestExportedIdentifiersDocumented(t *testing.T) {
	var missing []string
	for _, m := range workModules(t) {
		dir := filepath.Join(repoRoot, m)
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
			t.Fatalf("module %s: %v", m, err)
		}
		found, err := undocumented(dir)
		if err != nil {
			t.Fatalf("module %s: %v", m, err)
		}
		missing = append(missing, found...)
	}
	if len(missing) > 0 {
		t.Errorf("%d exported identifiers have no doc comment:\n\t%s", len(missing), strings.Join(missing, "\n\t"))
	}
}

// TestDocCheckFindsMissingDocs runs the checker on a fixture package so the
// check above cannot pass by finding nothing at all.
func TestDocCheckFindsMissingDocs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fixture")
	src := `package fixture

// Documented is documented.
type Documented int

type Bare int

// Doc is documented.
func Doc() {}

func NoDoc() {}

func (Bare) Method() {}

// Method is documented.
func (Documented) Method() {}

func (unexported) Method() {}

type unexported int

// Group doc counts for all.
const (
	A = 1
	B = 2
)

const (
	C = 3 // a trailing comment counts in a group
	D = 4
)

var E, e = 5, 6

// F is documented.
var F = 7

type (
	// G is documented.
	G int
	H int
)

func (*Bare) Pointer() {}

type List[T any] []T

func (List[T]) Len() int { return 0 }
`
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fixture.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// A test file and a node_modules directory are ignored.
	if err := os.WriteFile(filepath.Join(dir, "fixture_test.go"), []byte("package fixture\n\nfunc Untested() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "node_modules", "x", "x.go"), []byte("package x\n\nfunc Ignored() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := undocumented(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range got {
		names = append(names, line[strings.LastIndex(line, ": ")+2:])
	}
	want := []string{"type Bare", "func NoDoc", "method Bare.Method", "const D", "var E", "type H", "method Bare.Pointer", "type List", "method List.Len"}
	if !slices.Equal(names, want) {
		t.Errorf("undocumented =\n\t%s\nwant\n\t%s", strings.Join(names, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// snippetMarker introduces a fenced block whose lines must appear in a
// source file, so that documentation cannot drift from compiled code:
//
//	<!-- snippet: ginauth/quickstart_test.go -->
//	```go
//	...
//	```
var snippetMarker = regexp.MustCompile(`^<!-- snippet: (\S+) -->$`)

// snippet is one marked block of a document.
type snippet struct {
	doc    string // document path, relative to the repository root
	line   int    // line of the marker
	source string // source path, relative to the repository root
	lines  []string
}

// readSnippets returns the marked blocks of one Markdown document. A marker
// that is not followed by a fenced block is an error.
func readSnippets(root, doc string) ([]snippet, error) {
	f, err := os.Open(filepath.Join(root, doc))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		out  []snippet
		cur  *snippet
		sc   = bufio.NewScanner(f)
		n    int
		want bool // a marker was seen; the next line must open a fence
	)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(strings.TrimSpace(line), "```"):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		case want:
			if !strings.HasPrefix(line, "```") {
				return nil, fmt.Errorf("%s:%d: snippet marker not followed by a fenced block", doc, n-1)
			}
			cur = &out[len(out)-1]
			out = out[:len(out)-1]
			want = false
		default:
			if m := snippetMarker.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				out = append(out, snippet{doc: doc, line: n, source: m[1]})
				want = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if want || cur != nil {
		return nil, fmt.Errorf("%s: snippet block not closed", doc)
	}
	return out, nil
}

// collapse trims a line and collapses each run of white space into one
// space, so that gofmt's alignment of trailing comments does not matter.
func collapse(l string) string { return strings.Join(strings.Fields(l), " ") }

// checkSnippet reports the lines of s that are not lines of its source file.
// Lines are compared with white space collapsed (see collapse); blank lines
// and "// ..." elisions are skipped.
func checkSnippet(root string, s snippet) error {
	src, err := os.ReadFile(filepath.Join(root, s.source))
	if err != nil {
		return fmt.Errorf("%s:%d: %w", s.doc, s.line, err)
	}
	have := map[string]bool{}
	for l := range strings.SplitSeq(string(src), "\n") {
		have[collapse(l)] = true
	}
	var errs []error
	checked := 0
	for i, l := range s.lines {
		l = collapse(l)
		if l == "" || l == "// ..." {
			continue
		}
		checked++
		if !have[l] {
			errs = append(errs, fmt.Errorf("%s:%d: line not in %s: %s", s.doc, s.line+2+i, s.source, l))
		}
	}
	if checked == 0 {
		errs = append(errs, fmt.Errorf("%s:%d: empty snippet", s.doc, s.line))
	}
	return errors.Join(errs...)
}

// snippetDocs are the documents whose marked snippets are checked.
func snippetDocs(t *testing.T) []string {
	t.Helper()
	docs := []string{"README.md", "core/README.md", "ginauth/README.md", "echoauth/README.md", "fiberauth/README.md"}
	more, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		rel, _ := filepath.Rel(repoRoot, m)
		docs = append(docs, filepath.ToSlash(rel))
	}
	return docs
}

// TestDocSnippetsCompile checks that every marked snippet of the README and
// docs/ is made of lines of the compiled example or test it names.
func TestDocSnippetsCompile(t *testing.T) {
	workModules(t) // skips outside a checkout
	total := 0
	for _, doc := range snippetDocs(t) {
		if _, err := os.Stat(filepath.Join(repoRoot, doc)); errors.Is(err, fs.ErrNotExist) {
			continue // a document another engineer has not written yet
		}
		snips, err := readSnippets(repoRoot, doc)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, s := range snips {
			total++
			if !strings.HasSuffix(s.source, ".go") {
				t.Errorf("%s:%d: snippet source %s is not a Go file", s.doc, s.line, s.source)
				continue
			}
			if err := checkSnippet(repoRoot, s); err != nil {
				t.Error(err)
			}
		}
	}
	if total == 0 {
		t.Error("no marked snippet found: the README quick starts must be marked")
	}
}

// TestSnippetCheckRefusesDrift runs the snippet check on fixtures.
func TestSnippetCheckRefusesDrift(t *testing.T) {
	root := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("x_test.go", "package x\n\nfunc f() {\n\tr.Use(mw)\n\tr.GET(\"/a\", h)\n\tx := 1           // aligned by gofmt\n}\n")
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"matching lines", "<!-- snippet: x_test.go -->\n```go\nr.Use(mw)\n\n// ...\n  r.GET(\"/a\", h)\n```\n", ""},
		{"alignment differs", "<!-- snippet: x_test.go -->\n```go\nx := 1 // aligned by gofmt\n```\n", ""},
		{"drifted line", "<!-- snippet: x_test.go -->\n```go\nr.Use(mw)\nr.GET(\"/b\", h)\n```\n", `line not in x_test.go: r.GET("/b", h)`},
		{"missing source", "<!-- snippet: y_test.go -->\n```go\nr.Use(mw)\n```\n", "y_test.go"},
		{"empty block", "<!-- snippet: x_test.go -->\n```go\n```\n", "empty snippet"},
		{"marker without block", "<!-- snippet: x_test.go -->\ntext\n", "not followed by a fenced block"},
		{"unclosed block", "<!-- snippet: x_test.go -->\n```go\nr.Use(mw)\n", "not closed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			write("doc.md", "# title\n\n"+tc.doc)
			snips, err := readSnippets(root, "doc.md")
			if err == nil {
				for _, s := range snips {
					err = errors.Join(err, checkSnippet(root, s))
				}
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// optionFuncs returns the exported functions of the package in dir whose
// result type is named Option: the options a guide must document.
func optionFuncs(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, path := range matches {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fn.Type.Results.List[0].Type.(*ast.Ident); ok && id.Name == "Option" {
				out = append(out, fn.Name.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestConfigurationDocumentsEveryOption fails when an option of core or of
// an adapter is missing from docs/configuration.md, so that a new option
// cannot ship without its default and security stance.
func TestConfigurationDocumentsEveryOption(t *testing.T) {
	workModules(t) // skips outside a checkout
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, dir := range []string{"core", "ginauth", "echoauth", "fiberauth"} {
		opts := optionFuncs(t, filepath.Join(repoRoot, dir))
		if len(opts) == 0 {
			t.Errorf("%s: no option constructors found", dir)
		}
		for _, name := range opts {
			total++
			if !strings.Contains(string(doc), "`"+name+"(") && !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/configuration.md does not document %s.%s", dir, name)
			}
		}
	}
	t.Logf("%d options documented", total)
}
