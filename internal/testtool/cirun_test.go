package testtool

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCIRunInstallsEveryNeededPackage reads every test file of the module and checks that each
// Debian package named in a Need, NeedAll or Optional call (or a Tool literal) is one that
// .ci/run installs, so that CI=true never fails for a package nobody installs.
func TestCIRunInstallsEveryNeededPackage(t *testing.T) {
	root := moduleRoot(t)
	script, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	installed := map[string]bool{}
	for _, m := range regexp.MustCompile(`need\+=\(([^)]*)\)`).FindAllStringSubmatch(string(script), -1) {
		for _, p := range strings.Fields(m[1]) {
			installed[p] = true
		}
	}
	needed := map[string][]string{} // package → where
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for _, pkg := range neededPackages(t, path) {
			needed[pkg.name] = append(needed[pkg.name], rel+":"+strconv.Itoa(pkg.line))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) == 0 {
		t.Fatal("found no testtool calls: the parser is not seeing them")
	}
	for pkg, where := range needed {
		if !installed[pkg] {
			t.Errorf(".ci/run does not install Debian package %s, which %s need", pkg, strings.Join(where, ", "))
		}
	}
	t.Logf("tests need %d Debian packages", len(needed))
}

type pkgRef struct {
	name string
	line int
}

// neededPackages returns the Debian package literals of testtool.Need/Optional calls and
// Tool literals in one file (the package's own tests call them unqualified). A package given
// any other way is reported as an error, since it could not be checked.
func neededPackages(t *testing.T, path string) []pkgRef {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	if f.Name.Name == "testtool" {
		return nil // its own tests use made-up packages
	}
	var out []pkgRef
	add := func(e ast.Expr) {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			out = append(out, pkgRef{s, fset.Position(lit.Pos()).Line})
			return
		}
		// X.Package comes from a Tool literal, which is checked where it is written.
		if sel, ok := e.(*ast.SelectorExpr); ok && sel.Sel.Name == "Package" {
			return
		}
		t.Errorf("%s: the Debian package is not a string literal or a Tool's Package field: write it out so this test can check .ci/run",
			fset.Position(e.Pos()))
	}
	isTestTool := func(e ast.Expr, names ...string) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "testtool" {
			return false
		}
		for _, n := range names {
			if sel.Sel.Name == n {
				return true
			}
		}
		return false
	}
	toolLit := func(cl *ast.CompositeLit) {
		for i, el := range cl.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Package" {
					add(kv.Value)
				}
			} else if i == 1 {
				add(el)
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if isTestTool(n.Fun, "Need", "Optional") && len(n.Args) == 3 {
				add(n.Args[2])
			}
		case *ast.CompositeLit:
			if isTestTool(n.Type, "Tool") {
				toolLit(n)
			}
			if at, ok := n.Type.(*ast.ArrayType); ok && isTestTool(at.Elt, "Tool") {
				for _, el := range n.Elts {
					if cl, ok := el.(*ast.CompositeLit); ok && cl.Type == nil {
						toolLit(cl)
					}
				}
			}
		}
		return true
	})
	return out
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
