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

// Theme is Fyne's default theme with the bundled CJK fonts: assets.CJKFont for
// regular and italic text, assets.CJKBoldFont (a bold CJK face, since Fyne does
// not synthesise bold) for bold text. Monospace and symbol text keep Fyne's
// fonts. Characters the regular CJK font lacks, such as Latin letters and
// digits, fall back to Fyne's Noto Sans.
//
// Its variant is the device's choice (store.Settings.Theme): light, which
// reads in sunlight and is the default on phones, or dark; with no choice a
// desktop follows the system.
type Theme struct {
	base fyne.Theme
	mode string // ThemeLight, ThemeDark, or "" for the default
}

// The theme choices kept in store.Settings.Theme.
const (
	ThemeLight = "light"
	ThemeDark  = "dark"
)

var _ fyne.Theme = (*Theme)(nil)

// NewTheme returns the app's theme: the default colours, sizes and icons, which
// follow the system's light or dark variant, with Chinese text.
func NewTheme() fyne.Theme {
	return &Theme{base: theme.DefaultTheme()}
}

// newThemeMode returns the app's theme with the variant chosen: ThemeLight,
// ThemeDark, or "" for the default (light on phones, the system's elsewhere).
func newThemeMode(mode string) *Theme {
	return &Theme{base: theme.DefaultTheme(), mode: mode}
}

// Mode returns the variant chosen: ThemeLight, ThemeDark or "".
func (t *Theme) Mode() string { return t.mode }

// variant returns the variant to draw in, given the system's.
func (t *Theme) variant(system fyne.ThemeVariant) fyne.ThemeVariant {
	switch t.mode {
	case ThemeLight:
		return theme.VariantLight
	case ThemeDark:
		return theme.VariantDark
	}
	if d := fyne.CurrentDevice(); d != nil && d.IsMobile() {
		return theme.VariantLight
	}
	return system
}

// sunlight are the light variant's colours made stronger, for a screen read
// outdoors: near-black text, darker hints and separators.
var sunlight = map[fyne.ThemeColorName]color.Color{
	theme.ColorNameForeground:  color.NRGBA{R: 0x11, G: 0x11, B: 0x11, A: 0xff},
	theme.ColorNamePlaceHolder: color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff},
	theme.ColorNameSeparator:   color.NRGBA{R: 0xbb, G: 0xbb, B: 0xbb, A: 0xff},
	theme.ColorNameDisabled:    color.NRGBA{R: 0x77, G: 0x77, B: 0x77, A: 0xff},
	theme.ColorNameBackground:  color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff},
}

// Font returns assets.CJKBoldFont for bold text, assets.CJKFont for other
// text, and Fyne's own font for monospace and symbol styles.
func (t *Theme) Font(style fyne.TextStyle) fyne.Resource {
	if style.Monospace || style.Symbol {
		return t.base.Font(style)
	}
	if style.Bold {
		return assets.CJKBoldFont
	}
	return assets.CJKFont
}

// Color returns the default theme's colour in the variant chosen, the light
// one with stronger contrast.
func (t *Theme) Color(name fyne.ThemeColorName, variant fyne.ThemeVariant) color.Color {
	v := t.variant(variant)
	if c, ok := sunlight[name]; ok && v == theme.VariantLight {
		return c
	}
	return t.base.Color(name, v)
}

// Icon returns the default theme's icon.
func (t *Theme) Icon(name fyne.ThemeIconName) fyne.Resource {
	return t.base.Icon(name)
}

// Size returns the default theme's size.
func (t *Theme) Size(name fyne.ThemeSizeName) float32 {
	return t.base.Size(name)
}
