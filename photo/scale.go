package photo

import (
	"image"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// fit returns the size of a w×h picture whose long side is at most long,
// keeping the aspect ratio; a picture already small enough keeps its size
// (never upscaled).
func fit(w, h, long int) (int, int) {
	if w <= long && h <= long {
		return w, h
	}
	if w >= h {
		return long, max(1, (h*long+w/2)/w)
	}
	return max(1, (w*long+h/2)/h), long
}

// scale returns src resized to w×h as an opaque *image.RGBA (transparent
// parts are laid on white, as a page would show them). It first halves the
// picture with a 2×2 box filter — integer arithmetic on the decoder's own
// planes, cheap and alias-free for exact halves — while it stays at least
// twice the target, then resamples the rest (a factor between 1 and 2) with
// Catmull-Rom, which keeps edges sharp without the ringing of Lanczos.
func scale(src image.Image, w, h int) *image.RGBA {
	for src.Bounds().Dx() >= 2*w && src.Bounds().Dy() >= 2*h {
		half := halve(src)
		if half == nil {
			break
		}
		src = half
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if src.Bounds().Dx() == w && src.Bounds().Dy() == h {
		draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
	} else {
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), xdraw.Src, nil)
	}
	flatten(dst)
	return dst
}

// flatten lays the premultiplied pixels of m on white and makes them opaque.
func flatten(m *image.RGBA) {
	for i := 0; i < len(m.Pix); i += 4 {
		a := m.Pix[i+3]
		if a == 0xFF {
			continue
		}
		t := 0xFF - a
		m.Pix[i+0] += t
		m.Pix[i+1] += t
		m.Pix[i+2] += t
		m.Pix[i+3] = 0xFF
	}
}

// halve returns src at half its size (rounded down) by averaging 2×2
// blocks; nil when src is too small to halve.
func halve(src image.Image) image.Image {
	r := src.Bounds()
	if r.Dx() < 2 || r.Dy() < 2 {
		return nil
	}
	switch s := src.(type) {
	case *image.YCbCr:
		return halveYCbCr(s)
	case *image.Gray:
		d := image.NewGray(image.Rect(0, 0, r.Dx()/2, r.Dy()/2))
		halvePlane(d.Pix, d.Stride, d.Rect.Dx(), d.Rect.Dy(), s.Pix[s.PixOffset(r.Min.X, r.Min.Y):], s.Stride, r.Dx(), r.Dy(), 1)
		return d
	case *image.RGBA:
		d := image.NewRGBA(image.Rect(0, 0, r.Dx()/2, r.Dy()/2))
		halvePlane(d.Pix, d.Stride, d.Rect.Dx(), d.Rect.Dy(), s.Pix[s.PixOffset(r.Min.X, r.Min.Y):], s.Stride, r.Dx(), r.Dy(), 4)
		return d
	case *image.NRGBA:
		// Averaging non-premultiplied values lets a transparent pixel's
		// colour bleed into its neighbours; premultiply first.
		p := image.NewRGBA(r)
		draw.Draw(p, r, s, r.Min, draw.Src)
		return halve(p)
	}
	// Paletted, 16-bit and CMYK pictures: convert once, then halve.
	p := image.NewRGBA(r)
	draw.Draw(p, r, src, r.Min, draw.Src)
	return halve(p)
}

// halveYCbCr halves each plane of a YCbCr picture on its own, keeping its
// chroma subsampling, so no colour conversion happens at full size.
func halveYCbCr(s *image.YCbCr) *image.YCbCr {
	r := s.Bounds()
	d := image.NewYCbCr(image.Rect(0, 0, r.Dx()/2, r.Dy()/2), s.SubsampleRatio)
	halvePlane(d.Y, d.YStride, d.Rect.Dx(), d.Rect.Dy(), s.Y[s.YOffset(r.Min.X, r.Min.Y):], s.YStride, r.Dx(), r.Dy(), 1)
	// Chroma planes: the destination's chroma size follows from its own
	// rectangle; the source's from its own.
	dcw, dch := chromaSize(d.Rect, d.SubsampleRatio)
	scw, sch := chromaSize(r, s.SubsampleRatio)
	off := s.COffset(r.Min.X, r.Min.Y)
	halvePlane(d.Cb, d.CStride, dcw, dch, s.Cb[off:], s.CStride, scw, sch, 1)
	halvePlane(d.Cr, d.CStride, dcw, dch, s.Cr[off:], s.CStride, scw, sch, 1)
	return d
}

// chromaSize returns the size of the chroma planes of a YCbCr picture of
// rectangle r, as image.NewYCbCr lays them out.
func chromaSize(r image.Rectangle, ratio image.YCbCrSubsampleRatio) (int, int) {
	w, h := r.Dx(), r.Dy()
	switch ratio {
	case image.YCbCrSubsampleRatio422:
		return (r.Max.X+1)/2 - r.Min.X/2, h
	case image.YCbCrSubsampleRatio420:
		return (r.Max.X+1)/2 - r.Min.X/2, (r.Max.Y+1)/2 - r.Min.Y/2
	case image.YCbCrSubsampleRatio440:
		return w, (r.Max.Y+1)/2 - r.Min.Y/2
	case image.YCbCrSubsampleRatio411:
		return (r.Max.X+3)/4 - r.Min.X/4, h
	case image.YCbCrSubsampleRatio410:
		return (r.Max.X+3)/4 - r.Min.X/4, (r.Max.Y+1)/2 - r.Min.Y/2
	}
	return w, h
}

// halvePlane writes into dst (dw×dh samples of n bytes, stride ds) the 2×2
// averages of src (sw×sh, stride ss). Where the source has an odd last
// row or column for the block, the last source sample is used again.
func halvePlane(dst []byte, ds, dw, dh int, src []byte, ss, sw, sh, n int) {
	for y := 0; y < dh; y++ {
		y0 := min(2*y, sh-1)
		y1 := min(2*y+1, sh-1)
		r0, r1 := src[y0*ss:], src[y1*ss:]
		d := dst[y*ds:]
		for x := 0; x < dw; x++ {
			x0 := min(2*x, sw-1) * n
			x1 := min(2*x+1, sw-1) * n
			for c := 0; c < n; c++ {
				d[x*n+c] = uint8((uint(r0[x0+c]) + uint(r0[x1+c]) + uint(r1[x0+c]) + uint(r1[x1+c]) + 2) >> 2)
			}
		}
	}
}

// orient returns m turned as EXIF orientation o says it must be shown
// (1 or unknown: as it is). Orientations 5–8 swap width and height.
func orient(m *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return m
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	d := image.NewRGBA(image.Rect(0, 0, dw, dh))
	// src maps a destination pixel to the source pixel shown there.
	var src func(x, y int) (int, int)
	switch o {
	case 2: // mirrored left-right
		src = func(x, y int) (int, int) { return w - 1 - x, y }
	case 3: // turned 180°
		src = func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
	case 4: // mirrored top-bottom
		src = func(x, y int) (int, int) { return x, h - 1 - y }
	case 5: // mirrored along the top-left diagonal
		src = func(x, y int) (int, int) { return y, x }
	case 6: // must be turned 90° clockwise (a phone held upright)
		src = func(x, y int) (int, int) { return y, h - 1 - x }
	case 7: // mirrored along the top-right diagonal
		src = func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }
	case 8: // must be turned 90° anticlockwise
		src = func(x, y int) (int, int) { return w - 1 - y, x }
	}
	for y := 0; y < dh; y++ {
		row := d.Pix[y*d.Stride:]
		for x := 0; x < dw; x++ {
			sx, sy := src(x, y)
			copy(row[4*x:4*x+4], m.Pix[sy*m.Stride+4*sx:])
		}
	}
	return d
}
