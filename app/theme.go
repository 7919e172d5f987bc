// Package app is the Fyne user interface of 帮扶走访 (Bangfu Visits): one app for a
// group cadre's phone and a team leader's tablet. Screens are structs whose widgets
// are fields; they talk to small interfaces declared here, satisfied by the store
// and the sync client that main.go builds and hands over.
//
// Every piece of text is drawn with the CJK font from package assets through
// [Theme], because Fyne's own fonts have no Chinese glyphs.
package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"bangfu/assets"
)

// Theme is Fyne's default theme with the bundled CJK font (assets.CJKFont) for
// regular, bold and italic text. Monospace and symbol text keep Fyne's fonts.
// Characters the CJK font lacks, such as Latin letters and digits, fall back to
// Fyne's Noto Sans. Fyne does not synthesise bold for CJK text, so bold Chinese
// looks like regular Chinese.
type Theme struct {
	base fyne.Theme
}

var _ fyne.Theme = (*Theme)(nil)

// NewTheme returns the app's theme: the default colours, sizes and icons, which
// follow the system's light or dark variant, with Chinese text.
func NewTheme() fyne.Theme {
	return &Theme{base: theme.DefaultTheme()}
}

// Font returns assets.CJKFont for text, and Fyne's own font for monospace and
// symbol styles.
func (t *Theme) Font(style fyne.TextStyle) fyne.Resource {
	if style.Monospace || style.Symbol {
		return t.base.Font(style)
	}
	return assets.CJKFont
}

// Color returns the default theme's colour.
func (t *Theme) Color(name fyne.ThemeColorName, variant fyne.ThemeVariant) color.Color {
	return t.base.Color(name, variant)
}

// Icon returns the default theme's icon.
func (t *Theme) Icon(name fyne.ThemeIconName) fyne.Resource {
	return t.base.Icon(name)
}

// Size returns the default theme's size.
func (t *Theme) Size(name fyne.ThemeSizeName) float32 {
	return t.base.Size(name)
}
