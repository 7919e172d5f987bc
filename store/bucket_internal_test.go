package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOwnBuckets reads store's source for the buckets it declares
// (variables named bucket…) and checks that each is in ownBuckets, so a
// bucket added to the replica is never handed out as local state.
func TestOwnBuckets(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			spec, ok := node.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if !strings.HasPrefix(id.Name, "bucket") || i >= len(spec.Values) {
					continue
				}
				call, ok := spec.Values[i].(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					continue
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				n++
				if !ownBuckets[s] {
					t.Errorf("%s: bucket %s (%q) is not in ownBuckets", fset.Position(id.Pos()), id.Name, s)
				}
			}
			return false
		})
	}
	if n < len(ownBuckets) {
		t.Errorf("found %d buckets in the source, fewer than the %d of ownBuckets", n, len(ownBuckets))
	}
}
