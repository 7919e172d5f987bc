package photo

import (
	"image"
	"image/color"
	"image/draw"
	"math"
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

// plane is one 8-bit channel of a picture: luma or a chroma component.
type plane struct {
	pix       []byte
	stride    int
	w, h      int
	constant  bool // every sample is pix[0] (the chroma of a grey picture)
	fillValue byte
}

// planes returns the Y, Cb and Cr planes of m without copying them when m
// is the decoder's *image.YCbCr (a JPEG's or a lossy WebP's own planes, at
// their own chroma resolution) or *image.Gray; any other picture (PNG,
// lossless WebP, CMYK JPEG) is laid on white — transparent parts become
// white, as a page would show them — and converted to full-resolution
// YCbCr once.
func planes(m image.Image) (y, cb, cr plane) {
	r := m.Bounds()
	switch s := m.(type) {
	case *image.YCbCr:
		cw, ch := chromaSize(r, s.SubsampleRatio)
		co := s.COffset(r.Min.X, r.Min.Y)
		return plane{pix: s.Y[s.YOffset(r.Min.X, r.Min.Y):], stride: s.YStride, w: r.Dx(), h: r.Dy()},
			plane{pix: s.Cb[co:], stride: s.CStride, w: cw, h: ch},
			plane{pix: s.Cr[co:], stride: s.CStride, w: cw, h: ch}
	case *image.Gray:
		grey := plane{constant: true, fillValue: 128, w: 1, h: 1}
		return plane{pix: s.Pix[s.PixOffset(r.Min.X, r.Min.Y):], stride: s.Stride, w: r.Dx(), h: r.Dy()}, grey, grey
	}
	w, h := r.Dx(), r.Dy()
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(rgba, rgba.Rect, m, r.Min, draw.Over)
	y = plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
	cb = plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
	cr = plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
	for j := 0; j < h; j++ {
		row := rgba.Pix[j*rgba.Stride:]
		for i := 0; i < w; i++ {
			yy, u, v := color.RGBToYCbCr(row[4*i], row[4*i+1], row[4*i+2])
			y.pix[j*w+i], cb.pix[j*w+i], cr.pix[j*w+i] = yy, u, v
		}
	}
	return y, cb, cr
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

// scale returns m resized to w×h and turned as EXIF orientation o says
// (w×h is the size before turning), as a 4:2:0 YCbCr picture ready for the
// JPEG encoder. It works on the decoder's own planes, so a JPEG's pixels
// are never converted to RGB and back; all arithmetic is integer, so the
// result is the same on every machine (a phone, a tablet, the server).
func scale(m image.Image, w, h, o int) *image.YCbCr {
	y, cb, cr := planes(m)
	cw, ch := (w+1)/2, (h+1)/2
	y = resize(y, w, h)
	cb = resize(cb, cw, ch)
	cr = resize(cr, cw, ch)
	if o >= 5 && o <= 8 {
		w, h = h, w
	}
	d := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	turn(d.Y, d.YStride, y, o)
	turn(d.Cb, d.CStride, cb, o)
	turn(d.Cr, d.CStride, cr, o)
	return d
}

// resize returns p resized to w×h: halved with a 2×2 box filter while it is
// at least twice the target (cheap, and alias-free for exact halves), then
// resampled the rest of the way (a factor under 2) with a Catmull-Rom
// kernel widened by the factor, which keeps edges sharp without the
// ringing of Lanczos and without the aliasing of a plain bilinear step.
func resize(p plane, w, h int) plane {
	if p.constant {
		return plane{pix: []byte{p.fillValue}, w: w, h: h, constant: true, fillValue: p.fillValue}
	}
	for p.w >= 2*w && p.h >= 2*h && p.w >= 2 && p.h >= 2 {
		p = halve(p)
	}
	if p.w == w && p.h == h {
		return p
	}
	// Horizontal pass into tmp (w×p.h), then vertical into the result.
	hx := newKernel(p.w, w)
	tmp := make([]byte, w*p.h)
	for j := 0; j < p.h; j++ {
		src := p.pix[j*p.stride : j*p.stride+p.w]
		dst := tmp[j*w : j*w+w]
		for i := range dst {
			s, ws := hx.taps(i)
			src := src[s : s+len(ws)]
			sum := int32(1 << (fixBits - 1))
			for k, wt := range ws {
				sum += wt * int32(src[k])
			}
			dst[i] = clamp8(sum)
		}
	}
	vy := newKernel(p.h, h)
	out := plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
	acc := make([]int32, w)
	for j := 0; j < h; j++ {
		s, ws := vy.taps(j)
		for i := range acc {
			acc[i] = 1 << (fixBits - 1)
		}
		for k, wt := range ws {
			row := tmp[(s+k)*w : (s+k)*w+w]
			for i, v := range row {
				acc[i] += wt * int32(v)
			}
		}
		dst := out.pix[j*w : j*w+w]
		for i, a := range acc {
			dst[i] = clamp8(a)
		}
	}
	return out
}

// fixBits is the precision of the resampling weights: they sum to 1<<14.
const fixBits = 14

func clamp8(v int32) byte {
	v >>= fixBits
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return byte(v)
}

// kernel holds, for each output sample, the first input sample it reads
// and the integer weights of the inputs from there.
type kernel struct {
	start, count []int
	n            int // weights per output sample in w (some unused)
	w            []int32
}

func (k *kernel) taps(i int) (int, []int32) {
	return k.start[i], k.w[i*k.n : i*k.n+k.count[i]]
}

// newKernel computes the Catmull-Rom weights for resampling src samples to
// dst, sample centres aligned. Downscaling widens the kernel by the factor
// so that every input sample contributes (antialiasing). Taps outside the
// input are dropped and the rest normalised; the integer weights are made
// to sum exactly to 1<<fixBits, so a flat area stays exactly flat.
func newKernel(src, dst int) *kernel {
	f := float64(src) / float64(dst)
	fs := max(f, 1)
	support := 2 * fs
	n := int(math.Ceil(2*support)) + 1
	k := &kernel{start: make([]int, dst), count: make([]int, dst), n: n, w: make([]int32, dst*n)}
	fw := make([]float64, n)
	for i := 0; i < dst; i++ {
		c := float64(float64(i)+0.5) * f
		lo := max(int(math.Floor(c-support)), 0)
		hi := min(int(math.Ceil(c+support)), src)
		hi = min(hi, lo+n)
		var total float64
		for j := lo; j < hi; j++ {
			v := catmullRom(float64(float64(j)+0.5-c) / fs)
			fw[j-lo] = v
			total += v
		}
		ws := k.w[i*n : i*n+hi-lo]
		var sum int32
		big := 0
		for j := range ws {
			ws[j] = int32(math.Round(fw[j] / total * (1 << fixBits)))
			sum += ws[j]
			if ws[j] > ws[big] {
				big = j
			}
		}
		ws[big] += 1<<fixBits - sum
		k.start[i], k.count[i] = lo, hi-lo
	}
	return k
}

// catmullRom is the Catmull-Rom cubic (Keys, a = -0.5). The explicit
// conversions keep the compiler from fusing multiply-adds, which some
// processors would round differently.
func catmullRom(x float64) float64 {
	x = math.Abs(x)
	x2 := float64(x * x)
	x3 := float64(x2 * x)
	switch {
	case x < 1:
		return float64(1.5*x3) - float64(2.5*x2) + 1
	case x < 2:
		return float64(-0.5*x3) + float64(2.5*x2) - float64(4*x) + 2
	}
	return 0
}

// halve returns p at half its size (rounded down, at least 1) by averaging
// 2×2 blocks.
func halve(p plane) plane {
	w, h := max(p.w/2, 1), max(p.h/2, 1)
	d := plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
	for y := 0; y < h; y++ {
		r0 := p.pix[min(2*y, p.h-1)*p.stride:]
		r1 := p.pix[min(2*y+1, p.h-1)*p.stride:]
		dst := d.pix[y*w : y*w+w]
		for x := range dst {
			x0, x1 := min(2*x, p.w-1), min(2*x+1, p.w-1)
			dst[x] = byte((uint(r0[x0]) + uint(r0[x1]) + uint(r1[x0]) + uint(r1[x1]) + 2) >> 2)
		}
	}
	return d
}

// turn writes p into dst (stride ds) turned as EXIF orientation o says a
// picture must be shown: 1 as it is, 2 mirrored left-right, 3 turned 180°,
// 4 mirrored top-bottom, 5 mirrored along the top-left diagonal, 6 turned
// 90° clockwise (a phone held upright), 7 mirrored along the other
// diagonal, 8 turned 90° anticlockwise. Orientations 5–8 swap width and
// height.
func turn(dst []byte, ds int, p plane, o int) {
	w, h := p.w, p.h
	dw, dh := w, h
	if o >= 5 && o <= 8 {
		dw, dh = h, w
	}
	if p.constant {
		for y := 0; y < dh; y++ {
			row := dst[y*ds : y*ds+dw]
			for x := range row {
				row[x] = p.fillValue
			}
		}
		return
	}
	// (x0, y0) is the source of the destination's top-left pixel; moving one
	// pixel right in the destination moves (dxx, dxy) in the source, one
	// down (dyx, dyy).
	var x0, y0, dxx, dxy, dyx, dyy int
	switch o {
	case 2:
		x0, y0, dxx, dyy = w-1, 0, -1, 1
	case 3:
		x0, y0, dxx, dyy = w-1, h-1, -1, -1
	case 4:
		x0, y0, dxx, dyy = 0, h-1, 1, -1
	case 5:
		x0, y0, dxy, dyx = 0, 0, 1, 1
	case 6:
		x0, y0, dxy, dyx = 0, h-1, -1, 1
	case 7:
		x0, y0, dxy, dyx = w-1, h-1, -1, -1
	case 8:
		x0, y0, dxy, dyx = w-1, 0, 1, -1
	default:
		for y := 0; y < h; y++ {
			copy(dst[y*ds:y*ds+w], p.pix[y*p.stride:y*p.stride+w])
		}
		return
	}
	for y := 0; y < dh; y++ {
		sx, sy := x0+y*dyx, y0+y*dyy
		row := dst[y*ds : y*ds+dw]
		for x := range row {
			row[x] = p.pix[sy*p.stride+sx]
			sx += dxx
			sy += dxy
		}
	}
}
