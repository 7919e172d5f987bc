package app_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"testing"

	"bangfu/assets"
)

// TestKeysTranslated fails when a key the app uses has no translation in
// either language. It reads the app's sources with go/ast and collects the
// literal first argument of every call to lang.L, lang.N, lang.X and lang.XN,
// and of the app's plural helper count, which passes its key to lang.N.
func TestKeysTranslated(t *testing.T) {
	files := map[string]map[string]json.RawMessage{}
	for _, name := range []string{"zh_Hans.json", "en.json"} {
		b, err := fs.ReadFile(assets.Translations, assets.TranslationsDir+"/"+name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files[name] = m
	}
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	keys, nonLiteral := 0, 0
	for _, path := range sources {
		if filepath.Ext(path) != ".go" || len(path) > 8 && path[len(path)-8:] == "_test.go" {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if fd, ok := n.(*ast.FuncDecl); ok && fd.Name.Name == "count" && fd.Recv == nil {
				return false // the helper itself passes its key on
			}
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				pkg, ok := fn.X.(*ast.Ident)
				if !ok || pkg.Name != "lang" {
					return true
				}
				switch fn.Sel.Name {
				case "L", "N", "X", "XN":
				default:
					return true
				}
			case *ast.Ident:
				if fn.Name != "count" {
					return true
				}
			default:
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				// A computed key could not be checked here: the app has none.
				nonLiteral++
				t.Errorf("%s: translation key is not a string literal", fset.Position(call.Pos()))
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			keys++
			for name, m := range files {
				if _, ok := m[key]; !ok {
					t.Errorf("%s: key %q is missing from %s", fset.Position(lit.Pos()), key, name)
				}
			}
			return true
		})
	}
	if keys < 100 {
		t.Errorf("found only %d translated strings in the app's sources: is the scan broken?", keys)
	}
	t.Logf("%d translated call sites checked", keys)
}
