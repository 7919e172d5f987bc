// Package fonts embeds the bundled CJK font without Fyne, for the server
// binary's PDFs (the app reads the same file through package assets).
package fonts

import _ "embed"

// CJK is DroidSansFallbackFull.ttf (Apache-2.0, see NOTICE): a TrueType font
// with the Chinese characters the boards and cards print.
//
//go:embed DroidSansFallbackFull.ttf
var CJK []byte
