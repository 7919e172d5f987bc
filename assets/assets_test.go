package assets_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"github.com/BurntSushi/toml"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"

	"bangfu/assets"
)

// languages are the translation files every key must be in.
var languages = []string{"zh_Hans.json", "en.json"}

// pluralForms are the CLDR plural categories go-i18n accepts in a message object.
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// message is one translation: a plain string (kept as its "other" form), or
// plural forms keyed by CLDR category.
type message struct {
	forms  map[string]string
	plural bool // written as an object of plural forms
}

// readTranslations parses one embedded translation file into key → message.
func readTranslations(t *testing.T, name string) map[string]message {
	t.Helper()
	data, err := fs.ReadFile(assets.Translations, assets.TranslationsDir+"/"+name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s is not a JSON object: %v", name, err)
	}
	out := make(map[string]message, len(raw))
	for key, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[key] = message{forms: map[string]string{"other": s}}
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil {
			t.Errorf("%s: key %q is neither a string nor an object of plural forms: %s", name, key, v)
			continue
		}
		for form := range forms {
			if !slices.Contains(pluralForms, form) {
				t.Errorf("%s: key %q has unknown plural form %q", name, key, form)
			}
		}
		out[key] = message{forms: forms, plural: true}
	}
	return out
}

func TestTranslationFiles(t *testing.T) {
	entries, err := fs.ReadDir(assets.Translations, assets.TranslationsDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	want := slices.Clone(languages)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("translation files = %v, want exactly %v (the Chinese one must be zh_Hans.json, not zh.json)", names, want)
	}
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders returns the sorted, distinct template fields used in a message.
func placeholders(m message) []string {
	var out []string
	for _, s := range m.forms {
		for _, sub := range placeholder.FindAllStringSubmatch(s, -1) {
			out = append(out, sub[1])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestTranslationsComplete(t *testing.T) {
	files := map[string]map[string]message{}
	for _, name := range languages {
		files[name] = readTranslations(t, name)
	}
	zh, en := files["zh_Hans.json"], files["en.json"]
	if len(zh) == 0 {
		t.Fatal("zh_Hans.json has no keys")
	}
	for _, name := range languages {
		for key := range files[name] {
			for _, other := range languages {
				if _, ok := files[other][key]; !ok {
					t.Errorf("key %q is in %s but missing from %s", key, name, other)
				}
			}
		}
	}
	for _, name := range languages {
		for key, m := range files[name] {
			if _, ok := m.forms["other"]; !ok {
				t.Errorf("%s: key %q has no \"other\" form", name, key)
			}
			for form, s := range m.forms {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s: key %q has an empty value (form %q)", name, key, form)
				}
			}
		}
	}
	for key, z := range zh {
		e, ok := en[key]
		if !ok {
			continue
		}
		if zp, ep := placeholders(z), placeholders(e); !slices.Equal(zp, ep) {
			t.Errorf("key %q uses template fields %v in zh_Hans.json but %v in en.json", key, zp, ep)
		}
		// English distinguishes one from many: a key written with plural forms in
		// either file must have both in English.
		if (z.plural || e.plural) && (e.forms["one"] == "" || e.forms["other"] == "") {
			t.Errorf("en.json: plural key %q needs both \"one\" and \"other\" forms", key)
		}
	}
}

// setLocale makes the process look like a user with the given POSIX locale.
func setLocale(t *testing.T, loc string) {
	t.Helper()
	for _, v := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		t.Setenv(v, loc)
	}
}

func TestLoadTranslations(t *testing.T) {
	setLocale(t, "zh_CN.UTF-8")
	if err := assets.LoadTranslations(); err != nil {
		t.Fatal(err)
	}
	if got := lang.X("app.title", "?"); got != "帮扶走访" {
		t.Errorf("zh_CN: app.title = %q, want 帮扶走访", got)
	}
	if got := lang.XN("households.days_unvisited", "?", 12, map[string]any{"Count": 12}); got != "12 天未走访" {
		t.Errorf("zh_CN: households.days_unvisited(12) = %q, want %q", got, "12 天未走访")
	}

	setLocale(t, "en_GB.UTF-8")
	if err := assets.LoadTranslations(); err != nil {
		t.Fatal(err)
	}
	if got := lang.X("households.title", "?"); got != "My households" {
		t.Errorf("en_GB: households.title = %q, want My households", got)
	}
	if got := lang.XN("households.days_unvisited", "?", 1, map[string]any{"Count": 1}); got != "1 day since last visit" {
		t.Errorf("en_GB: households.days_unvisited(1) = %q", got)
	}
	if got := lang.XN("households.days_unvisited", "?", 5, map[string]any{"Count": 5}); got != "5 days since last visit" {
		t.Errorf("en_GB: households.days_unvisited(5) = %q", got)
	}
}

// TestSourceKeysTranslated finds every lang.L, lang.N, lang.X and lang.XN call
// with a literal key in the module's non-test Go files and checks that both
// translation files have the key, so a screen cannot ship an untranslated string.
func TestSourceKeysTranslated(t *testing.T) {
	zh := readTranslations(t, "zh_Hans.json")
	en := readTranslations(t, "en.json")
	root := moduleRoot(t)
	fset := token.NewFileSet()
	calls := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil // a file being edited by someone else; the compiler reports it
		}
		name := langImportName(f)
		if name == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok || pkg.Name != name {
				return true
			}
			switch sel.Sel.Name {
			case "L", "N", "X", "XN", "Localize", "LocalizePlural", "LocalizeKey", "LocalizePluralKey":
			default:
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			calls++
			rel, _ := filepath.Rel(root, fset.Position(lit.Pos()).String())
			if _, ok := zh[key]; !ok {
				t.Errorf("%s: key %q is not in zh_Hans.json", rel, key)
			}
			if _, ok := en[key]; !ok {
				t.Errorf("%s: key %q is not in en.json", rel, key)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("checked %d translated call sites", calls)
}

// langImportName returns the name under which f imports fyne's lang package, or "".
func langImportName(f *ast.File) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "fyne.io/fyne/v2/lang" {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return "lang"
		}
	}
	return ""
}

// moduleRoot returns the directory holding go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
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
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// mustGlyphs are characters the app must be able to show: the app's name, the
// demo village and town, and a rare name character outside GB2312 (堃).
const mustGlyphs = "帮扶走访王坪村枹罕镇堃"

func TestFontHasGlyphs(t *testing.T) {
	if name := assets.CJKFont.Name(); !strings.HasSuffix(name, ".ttf") {
		t.Errorf("CJKFont.Name() = %q: a single .ttf is required (a .ttc makes Fyne panic)", name)
	}
	f, err := opentype.Parse(assets.CJKFont.Content())
	if err != nil {
		t.Fatalf("parse CJK font: %v", err)
	}
	if n := f.NumGlyphs(); n < 20000 {
		t.Errorf("font has %d glyphs; the full DroidSansFallback has over 20,000", n)
	}
	var buf sfnt.Buffer
	for _, r := range mustGlyphs {
		idx, err := f.GlyphIndex(&buf, r)
		if err != nil {
			t.Fatalf("glyph index of %q: %v", r, err)
		}
		if idx == 0 {
			t.Errorf("font has no glyph for %q (U+%04X)", r, r)
		}
	}
	// A control: a character the font is known not to cover must report 0,
	// or the loop above proves nothing. DroidSansFallback has no Latin letters.
	if idx, err := f.GlyphIndex(&buf, 'A'); err != nil || idx != 0 {
		t.Errorf("glyph index of 'A' = %d, %v; want 0 (the check above would be meaningless)", idx, err)
	}
}

func TestFontLicence(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("fonts", "LICENSE-Apache-2.0.txt"))
	if err != nil {
		t.Fatalf("the font's licence must ship beside it: %v", err)
	}
	if !bytes.Contains(data, []byte("Apache License")) || !bytes.Contains(data, []byte("Version 2.0")) {
		t.Error("fonts/LICENSE-Apache-2.0.txt does not hold the Apache License 2.0")
	}
	notice, err := os.ReadFile(filepath.Join("fonts", "NOTICE"))
	if err != nil {
		t.Fatalf("the font's copyright notice must ship beside it: %v", err)
	}
	if !bytes.Contains(notice, []byte("Google")) {
		t.Error("fonts/NOTICE does not name the font's copyright holder")
	}
}

func TestIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(assets.Icon.Content()))
	if err != nil {
		t.Fatalf("decode icon: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("icon is %dx%d, want 512x512", b.Dx(), b.Dy())
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("icon corner alpha = %d, want transparent (rounded square)", a)
	}
	white, red := 0, 0
	for y := 100; y < 412; y++ {
		for x := 100; x < 412; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			switch {
			case a == 0xFFFF && r > 0xF000 && g > 0xF000 && b > 0xF000:
				white++
			case a == 0xFFFF && r > 0x9000 && g < 0x6000 && b < 0x6000:
				red++
			}
		}
	}
	// The character covers a real share of the centre, and the square shows around it.
	total := 312 * 312
	if white < total/10 || red < total/3 {
		t.Errorf("icon centre has %d white and %d red pixels of %d: the glyph or the square is missing", white, red, total)
	}
}

// TestIconUpToDate regenerates the icon with internal/mkicon and checks that the
// committed icon.png is what the program draws.
func TestIconUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs internal/mkicon")
	}
	out := filepath.Join(t.TempDir(), "icon.png")
	cmd := exec.Command("go", "run", "./internal/mkicon", "-font", filepath.Join("fonts", assets.FontFile), "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/mkicon: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := png.Decode(bytes.NewReader(got))
	b, _ := png.Decode(bytes.NewReader(assets.Icon.Content()))
	if a == nil || b == nil || !samePixels(a, b) {
		t.Error("icon.png differs from what internal/mkicon draws: run `go generate ./assets/` and commit icon.png")
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

// fyneApp is the part of FyneApp.toml the fyne tool reads for packaging.
type fyneApp struct {
	Languages []string
	Details   struct {
		Icon, Name, ID, Version string
		Build                   int
	}
}

// TestFyneAppToml checks that the packaging metadata agrees with the assets:
// the icon is this package's icon, the name is the Chinese app title, and every
// language listed has a translation file.
func TestFyneAppToml(t *testing.T) {
	root := moduleRoot(t)
	var meta fyneApp
	if _, err := toml.DecodeFile(filepath.Join(root, "FyneApp.toml"), &meta); err != nil {
		t.Fatal(err)
	}
	icon, err := os.ReadFile(filepath.Join(root, meta.Details.Icon))
	if err != nil {
		t.Fatalf("Details.Icon %q: %v", meta.Details.Icon, err)
	}
	if !bytes.Equal(icon, assets.Icon.Content()) {
		t.Errorf("Details.Icon %q is not assets/icon.png", meta.Details.Icon)
	}
	zh := readTranslations(t, "zh_Hans.json")
	if want := zh["app.title"].forms["other"]; meta.Details.Name != want {
		t.Errorf("Details.Name = %q, want the app title %q", meta.Details.Name, want)
	}
	if !regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*){2,}$`).MatchString(meta.Details.ID) {
		t.Errorf("Details.ID = %q, want a reverse-DNS ID such as cn.gov.linxia.bangfu", meta.Details.ID)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(meta.Details.Version) || meta.Details.Build < 1 {
		t.Errorf("Details.Version = %q, Build = %d; want x.y.z and a build number", meta.Details.Version, meta.Details.Build)
	}
	files := map[string]string{"zh-Hans": "zh_Hans.json", "en": "en.json"}
	if len(meta.Languages) == 0 || meta.Languages[0] != "zh-Hans" {
		t.Errorf("Languages = %v, want Chinese first", meta.Languages)
	}
	for _, l := range meta.Languages {
		name, ok := files[l]
		if !ok {
			t.Errorf("Languages lists %q, which has no translation file", l)
			continue
		}
		if _, err := fs.Stat(assets.Translations, assets.TranslationsDir+"/"+name); err != nil {
			t.Errorf("Languages lists %q but %s is missing: %v", l, name, err)
		}
	}
}
