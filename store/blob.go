package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/seal"
)

// Photos' bytes live in the store beside the records that name them
// (domain.Photo.Hash), so that a photo and its record are written in one
// transaction: a crash never leaves a record pointing at nothing. The
// buckets are keyed by the 32 bytes of the SHA-256:
//
//	blob        hash -> the JPEG (sealed in a sealed store)
//	thumb       hash -> its thumbnail (sealed in a sealed store)
//	blob_sent   hash -> nothing: the upstream holds the JPEG
//	blob_draft  hash, draft key -> nothing: a draft (a visit being typed)
//	            holds the photo before any record names it
//
// A blob is kept while a live photo record names it (index photo_hash) or a
// draft does. The last reference going — the record deleted, or removed
// when it left the device's scope, or the draft dropped — removes the bytes
// in the same transaction; SweepBlobs removes any that a file written by an
// older version left behind.
var (
	bucketBlob      = []byte("blob")
	bucketThumb     = []byte("thumb")
	bucketBlobSent  = []byte("blob_sent")
	bucketBlobDraft = []byte("blob_draft")
)

// Blob is a photo's bytes and its thumbnail, named by the SHA-256 of Data
// in lowercase hex. Either may be nil where only the other is held (a
// leader's tablet fetches thumbnails first).
type Blob struct {
	Hash  string
	Data  []byte
	Thumb []byte
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Hash string
	Size int
}

// HashKey returns the key a hash is stored under: its 32 bytes. It panics
// on a hash that domain.ValidHash refuses; callers check first.
func HashKey(hash string) []byte {
	k, err := hex.DecodeString(hash)
	if err != nil || len(k) != sha256.Size {
		panic(fmt.Sprintf("store: not a SHA-256: %q", hash))
	}
	return k
}

func blobAD(bucket, key []byte) []byte {
	ad := append([]byte(nil), bucket...)
	return append(append(ad, 0), key...)
}

// check refuses a blob whose hash is not that of its data.
func (b Blob) check() error {
	if !domain.ValidHash(b.Hash) {
		return domain.Errorf(domain.EINVALID, "hash", "照片的校验值无效", "the photo's hash is not a SHA-256 in hex")
	}
	if b.Data != nil {
		sum := sha256.Sum256(b.Data)
		if hex.EncodeToString(sum[:]) != b.Hash {
			return domain.Errorf(domain.EINVALID, "hash", "照片内容与校验值不符", "the photo's bytes do not match its hash")
		}
		if len(b.Data) == 0 || len(b.Data) > domain.MaxPhotoBytes {
			return domain.Errorf(domain.EINVALID, "size", "照片大小 %[1]d 字节无效（最大 %[2]d 字节）", "a photo of %[1]d bytes is not allowed (at most %[2]d)", len(b.Data), domain.MaxPhotoBytes)
		}
	}
	if len(b.Thumb) > domain.MaxPhotoBytes {
		return domain.Errorf(domain.EINVALID, "thumb", "缩略图太大", "the thumbnail is too large")
	}
	return nil
}

// putBlob stores b's data and thumbnail (those it has) under its hash.
func putBlob(tx *bolt.Tx, b Blob) error {
	if err := b.check(); err != nil {
		return err
	}
	k := HashKey(b.Hash)
	for _, p := range []struct {
		bucket, data []byte
	}{{bucketBlob, b.Data}, {bucketThumb, b.Thumb}} {
		if p.data == nil {
			continue
		}
		v, err := vaultOf(tx).sealValue(p.data, blobAD(p.bucket, k), false)
		if err != nil {
			return err
		}
		if err := tx.Bucket(p.bucket).Put(k, clone(v)); err != nil {
			return err
		}
	}
	return nil
}

func getBlob(tx *bolt.Tx, bucket []byte, hash string) ([]byte, error) {
	if !domain.ValidHash(hash) {
		return nil, nil
	}
	k := HashKey(hash)
	v := tx.Bucket(bucket).Get(k)
	if v == nil {
		return nil, nil
	}
	out, err := vaultOf(tx).openValue(v, blobAD(bucket, k), false)
	if err != nil {
		return nil, err
	}
	return clone(out), nil
}

// PutBlobs is PutDraft that first stores blobs, all in one transaction: the
// photo records among recs name bytes that are there, and a crash keeps
// both or neither. Each blob's hash is checked against its data.
func (db *DB) PutBlobs(author uuid.UUID, draft string, blobs []Blob, recs ...domain.Record) error {
	now := db.Now()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, b := range blobs {
			if err := putBlob(tx, b); err != nil {
				return err
			}
		}
		for _, rec := range recs {
			if err := db.put(tx, author, rec, now); err != nil {
				return err
			}
		}
		if draft != "" {
			if err := dropDraft(tx, draft); err != nil {
				return err
			}
		}
		return db.saveClock(tx)
	})
	if err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	return nil
}

// SaveDraftBlob stores a photo picked for the draft saved under key (a
// visit being typed) before any record names it: the app saves the photo as
// soon as it is picked, so that it survives the app being killed, and the
// visit's PutDraft or PutBlobs with the same key turns it into the record's.
// DeleteDraft of key lets it go.
func (db *DB) SaveDraftBlob(key string, b Blob) error {
	if key == "" {
		return domain.Errorf(domain.EINVALID, "key", "草稿缺少名称", "the draft has no key")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := putBlob(tx, b); err != nil {
			return err
		}
		return tx.Bucket(bucketBlobDraft).Put(append(HashKey(b.Hash), key...), nil)
	})
	if err != nil {
		return fmt.Errorf("store: save draft photo: %w", err)
	}
	return nil
}

// dropDraft removes the draft saved under key and its photos' references,
// and the photos no record names.
func dropDraft(tx *bolt.Tx, key string) error {
	if err := tx.Bucket(bucketDraft).Delete([]byte(key)); err != nil {
		return err
	}
	refs := tx.Bucket(bucketBlobDraft)
	var gone [][]byte
	c := refs.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) > sha256.Size && string(k[sha256.Size:]) == key {
			gone = append(gone, clone(k))
		}
	}
	for _, k := range gone {
		if err := refs.Delete(k); err != nil {
			return err
		}
		if err := dropUnused(tx, k[:sha256.Size]); err != nil {
			return err
		}
	}
	return nil
}

// referenced reports whether a live photo record or a draft names the blob
// stored under key.
func referenced(tx *bolt.Tx, key []byte) bool {
	if b := tx.Bucket(bucketIdx).Bucket([]byte("photo_hash")); b != nil {
		if k, _ := b.Cursor().Seek(key); k != nil && hasPrefix(k, key) {
			return true
		}
	}
	k, _ := tx.Bucket(bucketBlobDraft).Cursor().Seek(key)
	return k != nil && hasPrefix(k, key)
}

// dropUnused removes the blob stored under key if nothing names it.
func dropUnused(tx *bolt.Tx, key []byte) error {
	if referenced(tx, key) {
		return nil
	}
	for _, b := range [][]byte{bucketBlob, bucketThumb, bucketBlobSent} {
		if err := tx.Bucket(b).Delete(key); err != nil {
			return err
		}
	}
	return nil
}

// Blob returns the JPEG stored under hash, nil if this replica does not
// hold it (yet).
func (db *DB) Blob(hash string) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		out, err = getBlob(tx, bucketBlob, hash)
		return err
	})
	return out, err
}

// Thumb returns the thumbnail stored under hash, nil if none.
func (db *DB) Thumb(hash string) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		out, err = getBlob(tx, bucketThumb, hash)
		return err
	})
	return out, err
}

// SaveBlob stores bytes fetched from the upstream: the JPEG, its thumbnail
// or both. Bytes that no live photo record names are not kept (the record
// was deleted while they travelled). A JPEG fetched from the upstream is
// one the upstream holds: it is never sent back.
func (db *DB) SaveBlob(b Blob) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := b.check(); err != nil {
			return err
		}
		k := HashKey(b.Hash)
		if !referenced(tx, k) {
			return nil
		}
		if err := putBlob(tx, b); err != nil {
			return err
		}
		if b.Data != nil {
			return tx.Bucket(bucketBlobSent).Put(k, nil)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save photo: %w", err)
	}
	return nil
}

// BlobsToSend returns the JPEGs held here that live photo records name and
// the upstream is not known to hold, in hash order.
func (db *DB) BlobsToSend() ([]BlobInfo, error) {
	var out []BlobInfo
	err := db.bolt.View(func(tx *bolt.Tx) error {
		sent := tx.Bucket(bucketBlobSent)
		c := tx.Bucket(bucketBlob).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if sent.Get(k) != nil || !photoNames(tx, k) {
				continue
			}
			n := len(v)
			if vaultOf(tx).sealed.Load() {
				n -= sealOverhead
			}
			out = append(out, BlobInfo{Hash: hex.EncodeToString(k), Size: n})
		}
		return nil
	})
	return out, err
}

// photoNames reports whether a live photo record names the blob under key
// (a draft's photo is not sent before its visit is saved).
func photoNames(tx *bolt.Tx, key []byte) bool {
	b := tx.Bucket(bucketIdx).Bucket([]byte("photo_hash"))
	if b == nil {
		return false
	}
	k, _ := b.Cursor().Seek(key)
	return k != nil && hasPrefix(k, key)
}

// MarkBlobSent records that the upstream holds the JPEG under hash.
func (db *DB) MarkBlobSent(hash string) error {
	if !domain.ValidHash(hash) {
		return domain.Errorf(domain.EINVALID, "hash", "照片的校验值无效", "the photo's hash is not a SHA-256 in hex")
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		k := HashKey(hash)
		if tx.Bucket(bucketBlob).Get(k) == nil {
			return nil
		}
		return tx.Bucket(bucketBlobSent).Put(k, nil)
	})
}

// BlobsMissing returns the hashes that live photo records name and this
// replica holds no thumbnail (thumbs) or no JPEG (!thumbs) of, in hash
// order: what a leader's tablet fetches.
func (db *DB) BlobsMissing(thumbs bool) ([]string, error) {
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketIdx).Bucket([]byte("photo_hash"))
		if idx == nil {
			return nil
		}
		have := tx.Bucket(bucketBlob)
		if thumbs {
			have = tx.Bucket(bucketThumb)
		}
		var last []byte
		c := idx.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < sha256.Size {
				continue
			}
			h := k[:sha256.Size]
			if string(h) == string(last) {
				continue
			}
			last = clone(h)
			if have.Get(h) == nil {
				out = append(out, hex.EncodeToString(h))
			}
		}
		return nil
	})
	return out, err
}

// SweepBlobs removes the blobs nothing names and returns how many. Each
// reference's end removes its blob in the same transaction already; this is
// for what an older version or a copied file left behind.
func (db *DB) SweepBlobs() (int, error) {
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var gone [][]byte
		for _, b := range [][]byte{bucketBlob, bucketThumb, bucketBlobSent} {
			c := tx.Bucket(b).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if !referenced(tx, k) {
					gone = append(gone, clone(k))
				}
			}
		}
		for _, k := range gone {
			if tx.Bucket(bucketBlob).Get(k) != nil {
				n++
			}
			if err := dropUnused(tx, k); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// BlobStats counts the JPEGs held here and their bytes (sealed size less
// the AEAD's overhead).
func (db *DB) BlobStats() (count int, bytes int64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		sealed := vaultOf(tx).sealed.Load()
		return tx.Bucket(bucketBlob).ForEach(func(_, v []byte) error {
			count++
			bytes += int64(len(v))
			if sealed {
				bytes -= sealOverhead
			}
			return nil
		})
	})
	return count, bytes, err
}

// sealOverhead is what sealing adds to a blob.
const sealOverhead = seal.Overhead

// checkPhoto checks a photo edited here: what it is attached to is there
// and belongs to its household, its bytes are stored (PutBlobs, or
// SaveDraftBlob before), and a new photo does not pass the number one
// record may carry (domain.Rules.Photos).
func (db *DB) checkPhoto(tx *bolt.Tx, p *domain.Photo, isNew bool) error {
	if err := exists(tx, domain.KindHousehold, p.Household, "household"); err != nil {
		return err
	}
	of, err := load(tx, p.OfKind, p.Of)
	if err != nil {
		return refErr(err, "of")
	}
	if domain.HouseholdOf(of) != p.Household {
		return domain.Errorf(domain.EINVALID, "of", "照片与所属记录不属于同一户", "the photo and what it is attached to belong to different households")
	}
	k := HashKey(p.Hash)
	v := tx.Bucket(bucketBlob).Get(k)
	if v == nil {
		return domain.Errorf(domain.EINVALID, "hash", "照片内容尚未保存", "the photo's bytes are not stored")
	}
	if !isNew {
		return nil
	}
	n := 0
	scan(tx, "photo_of", p.Of[:], func([]byte, uuid.UUID) bool { n++; return true })
	t, err := db.newTx(tx)
	if err != nil {
		return err
	}
	village, _ := householdScope(tx, p.Household)
	if limit := t.Rules(village).PhotoLimit(); n >= limit {
		return domain.Errorf(domain.EINVALID, "of", "每条记录最多 %d 张照片", "a record carries at most %d photos", limit)
	}
	return nil
}

// PhotoPlaces returns where the live photo records naming hash belong, one
// Location per record (index photo_hash), none for a hash no live photo
// names or that is not a SHA-256 in hex. The sync server asks it before it
// serves or accepts a photo's bytes: a device may touch them only when its
// scope reaches one of these places, as it would reach the record.
func (db *DB) PhotoPlaces(hash string) ([]Location, error) {
	if !domain.ValidHash(hash) {
		return nil, nil
	}
	var out []Location
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var ids []uuid.UUID
		scan(tx, "photo_hash", HashKey(hash), func(_ []byte, id uuid.UUID) bool {
			ids = append(ids, id)
			return true
		})
		for _, id := range ids {
			rec, err := load(tx, domain.KindPhoto, id)
			if errors.Is(err, domain.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, locate(tx, rec))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: photo places: %w", err)
	}
	return out, nil
}

// DraftBlobs returns the hashes of the photos kept for the draft saved
// under key (SaveDraftBlob), in hash order: a form restores from them the
// photos picked just before the app was killed, even when the draft
// itself had not been saved again since.
func (db *DB) DraftBlobs(key string) ([]string, error) {
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobDraft).ForEach(func(k, _ []byte) error {
			if len(k) > sha256.Size && string(k[sha256.Size:]) == key {
				out = append(out, hex.EncodeToString(k[:sha256.Size]))
			}
			return nil
		})
	})
	return out, err
}
