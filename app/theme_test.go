package app_test

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"bangfu/app"
	"bangfu/assets"
)

func TestThemeFont(t *testing.T) {
	th := app.NewTheme()
	def := theme.DefaultTheme()
	for _, tc := range []struct {
		name  string
		style fyne.TextStyle
		want  fyne.Resource
	}{
		{"regular", fyne.TextStyle{}, assets.CJKFont},
		{"bold", fyne.TextStyle{Bold: true}, assets.CJKBoldFont},
		{"italic", fyne.TextStyle{Italic: true}, assets.CJKFont},
		{"bold italic", fyne.TextStyle{Bold: true, Italic: true}, assets.CJKBoldFont},
		{"monospace", fyne.TextStyle{Monospace: true}, def.Font(fyne.TextStyle{Monospace: true})},
		{"symbol", fyne.TextStyle{Symbol: true}, def.Font(fyne.TextStyle{Symbol: true})},
	} {
		if got := th.Font(tc.style); got.Name() != tc.want.Name() {
			t.Errorf("Font(%s) = %s, want %s", tc.name, got.Name(), tc.want.Name())
		}
	}
	// Everything else is the default theme's, except the light variant's text,
	// background and hints, made stronger for sunlight (issue 10).
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		for _, n := range []fyne.ThemeColorName{theme.ColorNameBackground, theme.ColorNameForeground, theme.ColorNamePrimary} {
			if v == theme.VariantLight && n != theme.ColorNamePrimary {
				continue
			}
			if got, want := th.Color(n, v), def.Color(n, v); got != want {
				t.Errorf("Color(%s, %d) = %v, want the default %v", n, v, got, want)
			}
		}
	}
	if got, want := th.Size(theme.SizeNameText), def.Size(theme.SizeNameText); got != want {
		t.Errorf("Size(text) = %v, want the default %v", got, want)
	}
	if got, want := th.Icon(theme.IconNameHome).Name(), def.Icon(theme.IconNameHome).Name(); got != want {
		t.Errorf("Icon(home) = %s, want the default %s", got, want)
	}
}

// glyphSize is the text size used to render single characters: large enough
// that distinct glyphs differ in many pixels.
const glyphSize = 64

// renderGlyph draws s in black on white with the current app's theme and
// returns its ink mask: true where a pixel is darker than mid grey.
func renderGlyph(t *testing.T, s string) [][]bool {
	t.Helper()
	txt := canvas.NewText(s, color.Black)
	txt.TextSize = glyphSize
	bg := canvas.NewRectangle(color.White)
	w := test.NewTempWindow(t, container.NewStack(bg, container.NewCenter(txt)))
	w.Resize(fyne.NewSize(2*glyphSize, 2*glyphSize))
	img := w.Canvas().Capture()
	b := img.Bounds()
	mask := make([][]bool, b.Dy())
	for y := range mask {
		mask[y] = make([]bool, b.Dx())
		for x := range mask[y] {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			mask[y][x] = (r+g+bl)/3 < 0x8000
		}
	}
	return mask
}

// ink counts the set pixels of a mask and returns the height of their bounding box.
func ink(m [][]bool) (n, height int) {
	top, bottom := -1, -1
	for y, row := range m {
		for _, v := range row {
			if v {
				n++
				if top < 0 {
					top = y
				}
				bottom = y
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	return n, bottom - top + 1
}

// differ counts the pixels set in exactly one of two masks of the same size.
func differ(a, b [][]bool) int {
	n := 0
	for y := range a {
		for x := range a[y] {
			if a[y][x] != b[y][x] {
				n++
			}
		}
	}
	return n
}

func TestThemeRendersChinese(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(app.NewTheme())

	// Distinct characters must render distinct shapes of a CJK glyph's size.
	// With a font that lacks them, both would be the same replacement box.
	masks := map[string][][]bool{}
	for _, r := range "王坪堃帮" {
		s := string(r)
		m := renderGlyph(t, s)
		n, h := ink(m)
		if n == 0 {
			t.Fatalf("%s rendered no ink", s)
		}
		if h < glyphSize/2 {
			t.Errorf("%s is %d px tall at text size %d: not a CJK glyph", s, h, glyphSize)
		}
		masks[s] = m
	}
	pairs := [][2]string{{"王", "坪"}, {"王", "堃"}, {"坪", "帮"}}
	for _, p := range pairs {
		na, _ := ink(masks[p[0]])
		if d := differ(masks[p[0]], masks[p[1]]); d < na/4 {
			t.Errorf("%s and %s differ in %d pixels (of %d inked): they look like the same box", p[0], p[1], d, na)
		}
	}

	// Control: two unassigned code points have no glyph in any font and must
	// render identically, which shows the comparison above does catch boxes.
	u1, u2 := renderGlyph(t, "\u2FE0"), renderGlyph(t, "\u2FE1")
	if d := differ(u1, u2); d != 0 {
		t.Errorf("two unassigned code points render differently (%d pixels): the tofu check is not meaningful", d)
	}

	// Latin text falls back to Fyne's own font and still renders.
	if d := differ(renderGlyph(t, "A"), renderGlyph(t, "B")); d == 0 {
		t.Error("A and B render identically: the Latin fallback is broken")
	}
}

// TestThemeCapture renders a label of mixed Chinese and Latin text at a tablet's
// width and saves the capture in a temporary directory (and, when the environment
// variable BANGFU_THEME_PNG names a file, there too, to look at it).
func TestThemeCapture(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(app.NewTheme())

	title := widget.NewLabel("帮扶走访 · 王坪村 · 枹罕镇")
	title.TextStyle.Bold = true
	body := widget.NewLabel("户主 王兴堃，3 口人，12 天未走访 (Bangfu Visits 0.1)")
	w := test.NewTempWindow(t, container.NewVBox(title, body))
	w.Resize(fyne.NewSize(640, 120))
	img := w.Canvas().Capture()

	if b := img.Bounds(); b.Dx() < 640 || b.Dy() < 120 {
		t.Fatalf("capture is %v, want at least 640x120", b)
	}
	// The text must have left ink: the capture is not just the background.
	bg := theme.DefaultTheme().Color(theme.ColorNameBackground, a.Settings().ThemeVariant())
	if n := countNot(img, bg); n < 500 {
		t.Errorf("only %d pixels differ from the background: the label text did not render", n)
	}

	out := filepath.Join(t.TempDir(), "theme.png")
	save(t, out, img)
	if extra := os.Getenv("BANGFU_THEME_PNG"); extra != "" {
		save(t, extra, img)
		t.Logf("capture saved to %s", extra)
	}
}

// countNot counts the pixels of img that are not the colour c.
func countNot(img image.Image, c color.Color) int {
	cr, cg, cb, _ := c.RGBA()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r != cr || g != cg || bl != cb {
				n++
			}
		}
	}
	return n
}

func save(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
