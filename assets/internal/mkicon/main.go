// Command mkicon draws the app icon of 帮扶走访: the character 帮 in white on a
// rounded square in a warm red, as a 512×512 PNG with a transparent background.
// The glyph comes from the bundled CJK font, so the icon needs nothing from the
// system. The output is deterministic: running it again writes the same bytes.
//
// Usage (from the assets directory, as go:generate runs it):
//
//	go run ./internal/mkicon -font fonts/DroidSansFallbackFull.ttf -o icon.png
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

const (
	size   = 512   // width and height of the icon in pixels
	margin = 16    // transparent border around the square
	radius = 96    // corner radius of the square
	glyph  = "帮"   // the character drawn
	em     = 330.0 // font size in pixels
)

var (
	// top and bottom of a vertical gradient from a warm vermilion to a deeper red.
	top    = color.NRGBA{R: 0xE0, G: 0x4A, B: 0x32, A: 0xFF}
	bottom = color.NRGBA{R: 0xB8, G: 0x2A, B: 0x22, A: 0xFF}
	ink    = color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}
)

func main() {
	fontPath := flag.String("font", "fonts/DroidSansFallbackFull.ttf", "TrueType font with the glyph 帮")
	out := flag.String("o", "icon.png", "output PNG file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("mkicon: ")

	ttf, err := os.ReadFile(*fontPath)
	if err != nil {
		log.Fatal(err)
	}
	img, err := drawIcon(ttf)
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// drawIcon renders the icon with the font in ttf.
func drawIcon(ttf []byte) (*image.NRGBA, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("parse font: %w", err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: em, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("font face: %w", err)
	}
	defer face.Close()

	img := image.NewNRGBA(image.Rect(0, 0, size, size))

	// The rounded square, anti-aliased, filled with the gradient.
	mask := roundedSquare()
	grad := image.NewNRGBA(img.Bounds())
	for y := 0; y < size; y++ {
		t := float64(y-margin) / float64(size-2*margin)
		t = math.Max(0, math.Min(1, t))
		c := color.NRGBA{R: mix(top.R, bottom.R, t), G: mix(top.G, bottom.G, t), B: mix(top.B, bottom.B, t), A: 0xFF}
		for x := 0; x < size; x++ {
			grad.SetNRGBA(x, y, c)
		}
	}
	draw.DrawMask(img, img.Bounds(), grad, image.Point{}, mask, image.Point{}, draw.Over)

	// The glyph, centred on its ink bounds rather than its advance box.
	bounds, _, ok := face.GlyphBounds([]rune(glyph)[0])
	if !ok {
		return nil, fmt.Errorf("font has no glyph for %q", glyph)
	}
	w := (bounds.Max.X - bounds.Min.X).Round()
	h := (bounds.Max.Y - bounds.Min.Y).Round()
	dot := fixed.P((size-w)/2, (size-h)/2).Sub(bounds.Min)
	d := font.Drawer{Dst: img, Src: image.NewUniform(ink), Face: face, Dot: dot}
	d.DrawString(glyph)
	return img, nil
}

// roundedSquare returns the anti-aliased coverage mask of the icon's square.
func roundedSquare() *image.Alpha {
	const (
		lo = float32(margin)
		hi = float32(size - margin)
		r  = float32(radius)
		k  = float32(0.5523 * radius) // cubic Bézier handle for a quarter circle
	)
	z := vector.NewRasterizer(size, size)
	z.MoveTo(lo+r, lo)
	z.LineTo(hi-r, lo)
	z.CubeTo(hi-r+k, lo, hi, lo+r-k, hi, lo+r)
	z.LineTo(hi, hi-r)
	z.CubeTo(hi, hi-r+k, hi-r+k, hi, hi-r, hi)
	z.LineTo(lo+r, hi)
	z.CubeTo(lo+r-k, hi, lo, hi-r+k, lo, hi-r)
	z.LineTo(lo, lo+r)
	z.CubeTo(lo, lo+r-k, lo+r-k, lo, lo+r, lo)
	z.ClosePath()
	mask := image.NewAlpha(image.Rect(0, 0, size, size))
	z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	return mask
}

// mix blends two channel values: t=0 gives a, t=1 gives b.
func mix(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a) + (float64(b)-float64(a))*t))
}
