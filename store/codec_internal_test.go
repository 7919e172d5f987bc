package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
)

func sampleRow() *row {
	dev, author := uuid.MustParse("11111111-1111-4111-8111-111111111111"), uuid.MustParse("22222222-2222-4222-8222-222222222222")
	s1 := domain.Stamp{Wall: 1_760_000_000_000, Logical: 3, Device: dev}
	s2 := domain.Stamp{Wall: 1_760_000_500_000, Device: dev}
	return &row{Updated: s2.Wall, Fields: map[string]cell{
		"head_name": {V: json.RawMessage(`"王兴文"`), S: s1, A: author},
		"size":      {V: json.RawMessage(`4`), S: s1, A: author},
		"phone":     {V: json.RawMessage(`"13800000001"`), S: s2, A: uuid.Nil},
	}}
}

func TestRowCodecRoundTrip(t *testing.T) {
	r := sampleRow()
	b, err := r.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRow(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
	}
	again, _ := got.encode()
	if !bytes.Equal(again, b) {
		t.Fatal("encoding is not deterministic")
	}
	// Two fields share a stamp and author: the table holds it once, so the
	// binary form is well under the old JSON form.
	old, _ := json.Marshal(map[string]any{"u": r.Updated, "f": map[string]any{
		"head_name": map[string]any{"v": r.Fields["head_name"].V, "s": r.Fields["head_name"].S.String(), "a": r.Fields["head_name"].A},
		"size":      map[string]any{"v": r.Fields["size"].V, "s": r.Fields["size"].S.String(), "a": r.Fields["size"].A},
		"phone":     map[string]any{"v": r.Fields["phone"].V, "s": r.Fields["phone"].S.String(), "a": r.Fields["phone"].A},
	}})
	fromOld, err := decodeRow(old)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromOld, r) {
		t.Fatalf("old JSON row decodes to %+v", fromOld)
	}
	if len(b)*2 > len(old) {
		t.Errorf("binary row is %d bytes, JSON %d: expected less than half", len(b), len(old))
	}
}

func TestEntryCodecRoundTrip(t *testing.T) {
	e := Entry{Seq: 7, From: uuid.New(), Household: uuid.New(), Village: uuid.New(), Town: uuid.New(),
		Change: domain.Change{ID: uuid.New(), Kind: domain.KindVisit, Record: uuid.New(), Author: uuid.New(),
			Stamp:  domain.Stamp{Wall: 1_760_000_000_000, Logical: 9, Device: uuid.New()},
			Fields: domain.Fields{"notes": json.RawMessage(`"家中种植花椒3亩"`), "water": json.RawMessage(`"safe"`)},
			Base:   map[string]domain.Stamp{"notes": {Wall: 1_750_000_000_000, Device: uuid.New()}}}}
	b, err := encodeEntry(&e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeEntry(7, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
	}
	h, body, err := decodeHeader(7, b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Change.Fields != nil || h.Household != e.Household || h.Change.Stamp != e.Change.Stamp || body == nil {
		t.Fatalf("header: %+v", h)
	}
}

// FuzzDecodeRow: a damaged row is an error, never a panic, and whatever
// decodes re-encodes to a row that decodes the same.
func FuzzDecodeRow(f *testing.F) {
	b, _ := sampleRow().encode()
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{rowBinary, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 0 && b[0] == '{' {
			return // the old JSON form is encoding/json's business
		}
		r, err := decodeBinaryRow(b)
		if err != nil {
			return
		}
		again, err := r.encode()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := decodeBinaryRow(again)
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// FuzzDecodeEntry: a damaged log entry is an error, never a panic.
func FuzzDecodeEntry(f *testing.F) {
	e := Entry{Change: domain.Change{ID: uuid.New(), Kind: domain.KindHousehold, Record: uuid.New(),
		Fields: domain.Fields{"size": json.RawMessage(`3`)}}}
	b, _ := encodeEntry(&e)
	f.Add(b)
	f.Add(b[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 0 && b[0] == '{' {
			return
		}
		decodeEntry(1, b)
	})
}

// TestEncodeFreshMatchesRow: a new record's row encoded straight from the
// change that makes it is the bytes the row built from that change encodes
// to (a pulled state writes it so; every later read decodes the row).
func TestEncodeFreshMatchesRow(t *testing.T) {
	dev, author := uuid.MustParse("11111111-1111-4111-8111-111111111111"), uuid.MustParse("22222222-2222-4222-8222-222222222222")
	long := json.RawMessage(`"` + strings.Repeat("入户走访，了解家庭近况。", 40) + `"`)
	for _, ch := range []domain.Change{
		{Stamp: domain.Stamp{Wall: 1_760_000_000_000, Logical: 3, Device: dev}, Author: author,
			Fields: domain.Fields{"head_name": json.RawMessage(`"王兴文"`), "size": json.RawMessage(`4`), "notes": long}},
		{Stamp: domain.Stamp{Wall: 0, Logical: 70000, Device: dev}, Author: uuid.Nil,
			Fields: domain.Fields{"a": nil, strings.Repeat("n", 200): json.RawMessage(`[]`)}},
		{Stamp: domain.Stamp{Wall: -5, Device: dev}, Author: author, Fields: domain.Fields{"x": json.RawMessage(`true`)}},
	} {
		got := encodeFresh(&ch)
		want, err := freshRow(&ch).encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encodeFresh(%v):\n got %x\nwant %x", ch.Stamp, got, want)
		}
		if _, err := decodeRow(got); err != nil {
			t.Fatal(err)
		}
	}
}
