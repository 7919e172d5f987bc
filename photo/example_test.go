package photo_test

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"time"

	"bangfu/photo"
	"bangfu/photo/phototest"
)

// A phone's portrait photo with its location: Prepare turns it upright,
// makes it small, drops every byte of EXIF, and hands back the location
// only because the cadre chose to keep it.
func ExamplePrepare() {
	var orig bytes.Buffer
	if err := jpeg.Encode(&orig, phototest.Image(2000, 1500, 1), &jpeg.Options{Quality: 92}); err != nil {
		panic(err)
	}
	taken := time.Date(2026, 4, 2, 10, 30, 0, 0, time.FixedZone("CST", 8*3600))
	picked := phototest.WithEXIF(orig.Bytes(), 6, 29.5628, 106.5528, taken)

	p, err := photo.Prepare(bytes.NewReader(picked), photo.Options{KeepLocation: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("size:", p.Width, "x", p.Height)
	fmt.Println("taken:", p.Taken.Format(time.DateTime))
	fmt.Printf("location: %.4f, %.4f\n", p.Lat, p.Lon)
	fmt.Println("under 500 KB:", len(p.JPEG) < 500<<10, "hash:", len(p.Hash), "hex digits")
	_, _, err = photo.Check(p.JPEG, photo.MaxBytes)
	fmt.Println("server accepts:", err == nil)
	// Output:
	// size: 1200 x 1600
	// taken: 2026-04-02 10:30:00
	// location: 29.5628, 106.5528
	// under 500 KB: true hash: 64 hex digits
	// server accepts: true
}

// A server refuses a picture that still carries EXIF: it was not prepared
// on a device and may tell where it was taken.
func ExampleCheck() {
	var orig bytes.Buffer
	if err := jpeg.Encode(&orig, phototest.Image(640, 480, 2), nil); err != nil {
		panic(err)
	}
	_, _, err := photo.Check(phototest.WithEXIF(orig.Bytes(), 1, 30, 120, time.Time{}), photo.MaxBytes)
	fmt.Println(err)
	// Output:
	// 照片带有元数据（如 EXIF 位置信息），应在手机上去除后再上传 (the photo carries metadata (such as EXIF location), which the device must remove before upload)
}
