package photo

import (
	"image"
	"image/color"
	"math"
	"testing"

	xdraw "golang.org/x/image/draw"

	"bangfu/photo/phototest"
)

// TestScaleMatchesReference compares Prepare's integer plane scaler with
// x/image/draw's Catmull-Rom (float, RGBA) on a photo-like picture: the
// luma must agree closely (PSNR), for downscaling by 1.25 (no halving),
// 2.5 (one halving then resampling) and 6.
func TestScaleMatchesReference(t *testing.T) {
	src := phototest.Image(1200, 900, 7)
	for _, w := range []int{960, 480, 200} {
		h := w * 3 / 4
		got := scale(src, w, h, 1)
		ref := image.NewRGBA(image.Rect(0, 0, w, h))
		xdraw.CatmullRom.Scale(ref, ref.Rect, src, src.Bounds(), xdraw.Src, nil)
		var se float64
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := ref.RGBAAt(x, y)
				ry, _, _ := color.RGBToYCbCr(c.R, c.G, c.B)
				d := float64(got.Y[got.YOffset(x, y)]) - float64(ry)
				se += d * d
			}
		}
		psnr := 10 * math.Log10(255*255/(se/float64(w*h)))
		t.Logf("%dx%d: luma PSNR %.1f dB against x/image/draw CatmullRom", w, h, psnr)
		if psnr < 35 {
			t.Errorf("%dx%d: luma PSNR %.1f dB, want ≥ 35", w, h, psnr)
		}
	}
}

// TestScaleFlat scales flat pictures of every chroma subsampling, odd and
// even sizes, to sizes down and up, in every orientation: the result must
// have the right size and be exactly as flat (the weights sum to one).
func TestScaleFlat(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	sizes := [][2]int{{1, 1}, {1, 7}, {7, 1}, {5, 3}, {33, 17}, {64, 48}, {301, 199}}
	for _, ratio := range ratios {
		for _, sz := range sizes {
			m := image.NewYCbCr(image.Rect(0, 0, sz[0], sz[1]), ratio)
			for i := range m.Y {
				m.Y[i] = 100
			}
			for i := range m.Cb {
				m.Cb[i], m.Cr[i] = 80, 170
			}
			for _, to := range [][2]int{{1, 1}, {sz[0], sz[1]}, {max(1, sz[0]/3), max(1, sz[1]/3)}, {sz[0] + 2, sz[1] + 1}} {
				for o := 1; o <= 8; o++ {
					d := scale(m, to[0], to[1], o)
					w, h := to[0], to[1]
					if o >= 5 {
						w, h = h, w
					}
					if d.Rect.Dx() != w || d.Rect.Dy() != h {
						t.Fatalf("%v %v -> %v o%d: size %v", ratio, sz, to, o, d.Rect)
					}
					for y := 0; y < h; y++ {
						for x := 0; x < w; x++ {
							if d.Y[d.YOffset(x, y)] != 100 || d.Cb[d.COffset(x, y)] != 80 || d.Cr[d.COffset(x, y)] != 170 {
								t.Fatalf("%v %v -> %v o%d: pixel %d,%d not flat", ratio, sz, to, o, x, y)
							}
						}
					}
				}
			}
		}
	}
}

// TestScaleGrey keeps a grey picture grey: its chroma is neutral.
func TestScaleGrey(t *testing.T) {
	m := image.NewGray(image.Rect(0, 0, 90, 60))
	for i := range m.Pix {
		m.Pix[i] = uint8(i)
	}
	d := scale(m, 30, 20, 6)
	if d.Rect.Dx() != 20 || d.Rect.Dy() != 30 {
		t.Fatalf("size %v", d.Rect)
	}
	for i := range d.Cb {
		if d.Cb[i] != 128 || d.Cr[i] != 128 {
			t.Fatalf("chroma %d,%d at %d", d.Cb[i], d.Cr[i], i)
		}
	}
}
