// Package assets holds the files 帮扶走访 (Bangfu Visits) ships inside its binary:
// the CJK font, the app icon and the translations, all embedded with go:embed.
//
// # Font
//
// [CJKFont] is DroidSansFallbackFull.ttf from Debian's fonts-droid-fallback
// (Apache-2.0; the licence is in fonts/). Fyne's own fonts have no Chinese glyphs,
// so the app's theme returns this font for text; it has no Latin glyphs, and Fyne
// falls back to its bundled Noto Sans for those. A single TTF is used on purpose:
// a .ttc collection as a theme font makes Fyne 2.7 panic.
//
// [CJKBoldFont] is Noto Sans CJK SC Bold (SIL OFL 1.1), subset to GB2312, ASCII
// and every character of the translations and demo data (see fonts/NOTICE): Fyne
// does not synthesise bold, so without it bold Chinese looked regular and only
// the Latin digits of a mixed line were bold.
//
// # Icon
//
// [Icon] is icon.png, 512×512, drawn by the program in internal/mkicon
// (run `go generate ./assets/` to redraw it).
//
// # Translations
//
// [Translations] holds translations/zh_Hans.json and translations/en.json in the
// go-i18n JSON format that fyne.io/fyne/v2/lang reads; [LoadTranslations] adds
// them. The Chinese file must be named zh_Hans.json: Fyne ignores a zh.json for a
// zh_CN user. Every key must be present, with a value, in both files.
package assets

//go:generate go run ./internal/mkicon -font fonts/DroidSansFallbackFull.ttf -o icon.png

import (
	"embed"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
)

// FontFile is the file name of the bundled CJK font inside the fonts directory.
const FontFile = "DroidSansFallbackFull.ttf"

// TranslationsDir is the directory of Translations that holds the JSON files.
const TranslationsDir = "translations"

//go:embed fonts/DroidSansFallbackFull.ttf
var cjkFont []byte

//go:embed fonts/NotoSansSC-Bold-subset.otf
var cjkBoldFont []byte

//go:embed icon.png
var icon []byte

// CJKFont is the bundled Chinese font (DroidSansFallbackFull, Apache-2.0).
var CJKFont fyne.Resource = fyne.NewStaticResource(FontFile, cjkFont)

// BoldFontFile is the file name of the bundled bold CJK font.
const BoldFontFile = "NotoSansSC-Bold-subset.otf"

// CJKBoldFont is the bundled bold Chinese font (Noto Sans CJK SC Bold, subset,
// SIL OFL 1.1).
var CJKBoldFont fyne.Resource = fyne.NewStaticResource(BoldFontFile, cjkBoldFont)

// Icon is the app icon: 帮 in white on a rounded red square, 512×512 PNG.
var Icon fyne.Resource = fyne.NewStaticResource("icon.png", icon)

// Translations holds translations/zh_Hans.json and translations/en.json.
//
//go:embed translations/*.json
var Translations embed.FS

// LoadTranslations adds the embedded translations to Fyne's lang package.
// Call it once at start-up, before the first window is built; the user's locale
// then picks the language, with English as the fallback for other locales.
func LoadTranslations() error {
	if err := lang.AddTranslationsFS(Translations, TranslationsDir); err != nil {
		return fmt.Errorf("assets: load translations: %w", err)
	}
	return nil
}
