// Package photo turns a picture a cadre picked (from the phone's gallery or
// a file) into what the app stores and syncs: a downscaled, upright JPEG
// without metadata, its SHA-256 name, a thumbnail, and the time it was taken.
//
// # Size: 1600 pixels, quality 75
//
// A phone's 12-megapixel photo is 3–6 MB; over a weak rural link (a few
// hundred kbit/s) that is minutes per photo, and a phone's storage fills.
// What a photo here must show — a cracked pipe, a wall, a greenhouse, a
// signed card — is clear at 1600 pixels on the long side (a tablet's screen
// is about that wide), and JPEG quality 75 is where artefacts stop being
// visible on such content while the file is a tenth of the original:
// typically 150–500 KB. A picture smaller than that is never enlarged.
// Thumbnails (240 pixels, quality 70, a few KB) are what a leader's tablet
// fetches first. [Check] lets a server refuse anything larger than
// [MaxBytes] or [MaxSide], or that is not such a JPEG.
//
// # Orientation applied, metadata dropped
//
// A phone stores a portrait photo as landscape pixels plus an EXIF
// Orientation tag. The stored JPEG carries no EXIF at all, so the turn is
// applied to the pixels (all eight orientations); the photo is upright
// everywhere without any viewer having to read a tag. It is applied to the
// downscaled pixels: the filters are symmetric, so the picture is the same
// as turning first, for a fraction of the work.
//
// # No location in the file
//
// The 2023 rules against 指尖上的形式主义 name forced "留痕" photos as a
// burden: a photo here is never a check-in. EXIF carries the GPS position,
// the device's make and model and often its serial number; none of it is
// written into the stored JPEG (no APP segments at all, which tests check by
// walking its markers). If the cadre chooses to keep the location, Prepare
// returns it in [Photo.Lat] and [Photo.Lon] for the record that refers to
// the photo, where scope and sync govern it like any other field — the
// bytes themselves never tell where they were taken.
//
// # Safe on hostile files
//
// The EXIF reader is written here, small and bounded: it walks at most a
// fixed number of segments, follows only the two pointers from IFD0 (Exif
// and GPS), checks every offset against the data, and is fuzzed. A picture
// is sniffed by its first bytes (JPEG, PNG, WebP only), its declared size is
// checked before decoding (more than [MaxPixels] is refused as a
// decompression bomb), and every refusal is a *domain.Error with the reason
// in Chinese and English.
//
// # Deterministic
//
// The same input and options always give the same bytes, so the same
// picture prepared twice has the same hash and is stored and sent once.
package photo
