package photo

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"

	"bangfu/photo/phototest"
)

// BenchmarkPrepare12MP prepares a phone's 12-megapixel photo (4000×3000,
// quality 92, about 4.6 MB, portrait EXIF orientation and GPS) with the
// default options: read, decode, downscale, turn, encode, thumbnail, hash.
func BenchmarkPrepare12MP(b *testing.B) {
	orig := phototest.WithEXIF(phototest.JPEG(b, 4000, 3000, 1), 6, 30.5, 114.3, time.Now())
	b.SetBytes(int64(len(orig)))
	var p *Photo
	cpu0, ok := cpuTime()
	for b.Loop() {
		var err error
		if p, err = Prepare(bytes.NewReader(orig), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, ok)
	b.ReportMetric(float64(len(orig)), "in-bytes")
	b.ReportMetric(float64(len(p.JPEG)), "out-bytes")
	b.ReportMetric(float64(len(p.Thumb)), "thumb-bytes")
}

// BenchmarkDecode12MP is the part of Prepare no scaler can save: decoding
// the original.
func BenchmarkDecode12MP(b *testing.B) {
	orig := phototest.JPEG(b, 4000, 3000, 1)
	cpu0, ok := cpuTime()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(orig)); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, ok)
}

// BenchmarkScale12MP compares ways to bring a decoded 12 MP photo to
// 1600×1200: Prepare's (box halving then Catmull-Rom on the YCbCr planes,
// integer arithmetic) and single-pass x/image/draw scalers to RGBA. Each reports the output's encoded size
// at quality 75 (sharper scaling keeps more detail, so more bytes).
func BenchmarkScale12MP(b *testing.B) {
	m, err := jpeg.Decode(bytes.NewReader(phototest.JPEG(b, 4000, 3000, 1)))
	if err != nil {
		b.Fatal(err)
	}
	single := func(s xdraw.Scaler) func() image.Image {
		return func() image.Image {
			d := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
			s.Scale(d, d.Rect, m, m.Bounds(), xdraw.Src, nil)
			return d
		}
	}
	for _, tt := range []struct {
		name string
		f    func() image.Image
	}{
		{"Planes", func() image.Image { return scale(m, 1600, 1200, 1) }},
		{"CatmullRom", single(xdraw.CatmullRom)},
		{"ApproxBiLinear", single(xdraw.ApproxBiLinear)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var d image.Image
			cpu0, ok := cpuTime()
			for b.Loop() {
				d = tt.f()
			}
			reportCPU(b, cpu0, ok)
			out, err := encode(d, DefaultQuality)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(out)), "out-bytes")
		})
	}
}

// BenchmarkThumbnail makes the 240-pixel thumbnail of a prepared
// 1600×1200 photo, as a server or a leader's tablet does.
func BenchmarkThumbnail(b *testing.B) {
	p, err := Prepare(bytes.NewReader(phototest.JPEG(b, 4000, 3000, 1)), Options{})
	if err != nil {
		b.Fatal(err)
	}
	var th []byte
	cpu0, ok := cpuTime()
	for b.Loop() {
		if th, err = Thumbnail(p.JPEG, DefaultThumbSide); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, ok)
	b.ReportMetric(float64(len(th)), "thumb-bytes")
}

// BenchmarkCheck is what a server spends accepting one prepared photo.
func BenchmarkCheck(b *testing.B) {
	p, err := Prepare(bytes.NewReader(phototest.JPEG(b, 4000, 3000, 1)), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Check(p.JPEG, MaxBytes); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the processor time per operation since cpu0 (garbage
// collection included), when the system tells it.
func reportCPU(b *testing.B, cpu0 time.Duration, ok bool) {
	if cpu1, ok1 := cpuTime(); ok && ok1 && b.N > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}
