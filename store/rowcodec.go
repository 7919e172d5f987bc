package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Rows are stored in a compact binary form (schema 4 and later):
//
//	format   byte     rowBinary
//	updated  uvarint  wall ms of the latest change
//	nstamps  uvarint  then per stamp: wall uvarint, logical uvarint, device [16], author [16]
//	nfields  uvarint  then per field: name (uvarint length + bytes), stamp index uvarint,
//	                  value (uvarint length + JSON bytes)
//
// Most records are written by one change, so their fields share one stamp and
// the table holds it once. Fields are written in name order, so equal rows
// encode to equal bytes. Files of schema 3 and earlier stored rows as JSON
// (first byte '{'); decodeRow still reads those, and migration rewrites them.
const rowBinary = 0x01

var errRowFormat = errors.New("unknown row format")

func decodeRow(b []byte) (*row, error) {
	if len(b) > 0 && b[0] == '{' {
		return decodeJSONRow(b)
	}
	r, err := decodeBinaryRow(b)
	if err != nil {
		return nil, fmt.Errorf("decode row: %w", err)
	}
	return r, nil
}

type stampAuthor struct {
	s domain.Stamp
	a uuid.UUID
}

func (r *row) encode() ([]byte, error) {
	names := sortedNames(r.Fields)
	size := 16
	for _, name := range names {
		size += len(name) + len(r.Fields[name].V) + 6
	}
	// The stamps of the fields, each once, in the order first met; most
	// rows have one or two, so a search beats a map.
	var table []stampAuthor
	at := make([]uint64, len(names))
	for i, name := range names {
		c := r.Fields[name]
		k := stampAuthor{c.S, c.A}
		j := slices.Index(table, k)
		if j < 0 {
			j = len(table)
			table = append(table, k)
		}
		at[i] = uint64(j)
	}
	b := make([]byte, 0, size+len(table)*48)
	b = append(b, rowBinary)
	b = binary.AppendUvarint(b, uint64(r.Updated))
	b = binary.AppendUvarint(b, uint64(len(table)))
	for _, t := range table {
		b = binary.AppendUvarint(b, uint64(t.s.Wall))
		b = binary.AppendUvarint(b, uint64(t.s.Logical))
		b = append(b, t.s.Device[:]...)
		b = append(b, t.a[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(names)))
	for i, name := range names {
		c := r.Fields[name]
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
		b = binary.AppendUvarint(b, at[i])
		b = binary.AppendUvarint(b, uint64(len(c.V)))
		b = append(b, c.V...)
	}
	return b, nil
}

// encodeFresh encodes the row of a new record made by ch alone — every
// field of ch with its stamp and author — as encoding that row would,
// without building it.
func encodeFresh(ch *domain.Change) []byte {
	names := sortedNames(ch.Fields)
	size := 16 + 48
	for name, v := range ch.Fields {
		size += len(name) + len(v) + 6
	}
	b := make([]byte, 0, size)
	b = append(b, rowBinary)
	b = binary.AppendUvarint(b, uint64(max(ch.Stamp.Wall, 0)))
	b = binary.AppendUvarint(b, 1)
	b = binary.AppendUvarint(b, uint64(ch.Stamp.Wall))
	b = binary.AppendUvarint(b, uint64(ch.Stamp.Logical))
	b = append(b, ch.Stamp.Device[:]...)
	b = append(b, ch.Author[:]...)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, name := range names {
		v := ch.Fields[name]
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
		b = append(b, 0) // the stamp's index
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// sortedNames returns the keys of m in order, in a slice the caller must
// not change. The rows of a kind and the changes that make them mostly have
// the same fields: the order last found for a set of that size is reused
// when m has exactly those keys, and a first sync sorts far less.
func sortedNames[V any](m map[string]V) []string {
	sum := len(m)
	for name := range m {
		sum += len(name) << 4
	}
	slot := &nameOrders[uint(sum)%uint(len(nameOrders))]
	if last := slot.Load(); last != nil && len(*last) == len(m) {
		same := true
		for _, name := range *last {
			if _, ok := m[name]; !ok {
				same = false
				break
			}
		}
		if same {
			return *last
		}
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	slot.Store(&names)
	return names
}

var nameOrders [61]atomic.Pointer[[]string]

// rowReader reads the binary form, remembering the first error.
type rowReader struct {
	b   []byte
	err error
}

func (d *rowReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated row")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *rowReader) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errors.New("truncated row")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func decodeBinaryRow(b []byte) (*row, error) {
	if len(b) == 0 || b[0] != rowBinary {
		return nil, errRowFormat
	}
	// One copy for all the values, which must not alias b (bbolt's page).
	d := &rowReader{b: clone(b[1:])}
	r := &row{Updated: int64(d.uvarint())}
	nt := d.uvarint()
	if nt > uint64(len(d.b)) {
		return nil, errors.New("bad stamp count")
	}
	table := make([]stampAuthor, nt)
	for i := range table {
		table[i].s.Wall = int64(d.uvarint())
		table[i].s.Logical = uint32(d.uvarint())
		copy(table[i].s.Device[:], d.bytes(16))
		copy(table[i].a[:], d.bytes(16))
	}
	nf := d.uvarint()
	if nf > uint64(len(d.b)) {
		return nil, errors.New("bad field count")
	}
	r.Fields = make(map[string]cell, nf)
	for i := uint64(0); i < nf && d.err == nil; i++ {
		name := string(d.bytes(d.uvarint()))
		si := d.uvarint()
		v := d.bytes(d.uvarint())
		if d.err == nil && si >= uint64(len(table)) {
			d.err = errors.New("bad stamp index")
		}
		if d.err != nil {
			break
		}
		t := table[si]
		r.Fields[name] = cell{V: v, S: t.s, A: t.a}
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}

// decodeJSONRow reads the JSON rows of schema 3 and earlier.
func decodeJSONRow(b []byte) (*row, error) {
	var old struct {
		Fields map[string]struct {
			V json.RawMessage `json:"v"`
			S string          `json:"s"`
			A uuid.UUID       `json:"a"`
		} `json:"f"`
		Updated int64 `json:"u"`
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return nil, fmt.Errorf("decode row: %w", err)
	}
	r := &row{Fields: make(map[string]cell, len(old.Fields)), Updated: old.Updated}
	for name, c := range old.Fields {
		s, err := domain.ParseStamp(c.S)
		if err != nil {
			return nil, fmt.Errorf("decode row: field %s: %w", name, err)
		}
		r.Fields[name] = cell{V: c.V, S: s, A: c.A}
	}
	return r, nil
}
