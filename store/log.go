package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
)

// Entry is one change in a replica's log (replica.Entry).
type Entry = replica.Entry

// A log entry is stored as a fixed binary header followed by the change's
// fields as JSON (schema 4 and later):
//
//	format     byte      logBinary
//	from, household, village, town, id, record, author   [16] each
//	stamp      wall uvarint, logical uvarint, device [16]
//	kind       uvarint length + bytes
//	body       JSON {"f": fields, "b": {field: stamp}}
//
// The header is what a server reads to decide who may pull an entry, so it
// can skip entries out of a device's scope without decoding their fields.
// Files of schema 3 and earlier stored whole entries as JSON (first byte '{');
// decodeEntry still reads those, and migration rewrites them.
const logBinary = 0x01

// entryJSON is the stored form of schema 3 and earlier.
type entryJSON struct {
	From      uuid.UUID         `json:"from"`
	Household uuid.UUID         `json:"hh"`
	Village   uuid.UUID         `json:"vil"`
	Town      uuid.UUID         `json:"town"`
	ID        uuid.UUID         `json:"id"`
	Kind      domain.Kind       `json:"k"`
	Record    uuid.UUID         `json:"r"`
	Author    uuid.UUID         `json:"a"`
	Stamp     string            `json:"s"`
	Fields    domain.Fields     `json:"f"`
	Base      map[string]string `json:"b,omitempty"`
}

// entryBody is the JSON tail of the binary form.
type entryBody struct {
	Fields domain.Fields     `json:"f"`
	Base   map[string]string `json:"b,omitempty"`
}

func encodeEntry(e *Entry) ([]byte, error) {
	b := make([]byte, 0, headSize(&e.Change)+bodySize(&e.Change))
	return appendBody(appendHead(b, e), &e.Change)
}

// headSize bounds the length of an entry's binary header.
func headSize(ch *domain.Change) int { return 1 + 7*16 + 30 + len(ch.Kind) }

// appendHead appends the binary header of e to b.
func appendHead(b []byte, e *Entry) []byte {
	ch := &e.Change
	b = append(b, logBinary)
	for _, id := range [...]uuid.UUID{e.From, e.Household, e.Village, e.Town, ch.ID, ch.Record, ch.Author} {
		b = append(b, id[:]...)
	}
	b = binary.AppendUvarint(b, uint64(ch.Stamp.Wall))
	b = binary.AppendUvarint(b, uint64(ch.Stamp.Logical))
	b = append(b, ch.Stamp.Device[:]...)
	b = binary.AppendUvarint(b, uint64(len(ch.Kind)))
	return append(b, ch.Kind...)
}

// bodySize is about the length of an entry's JSON body (more if a value
// is not compact).
func bodySize(ch *domain.Change) int {
	size := 16 + len(ch.Base)*72
	for k, v := range ch.Fields {
		size += len(k) + len(v) + 4
	}
	return size
}

// appendBody appends the JSON tail of an entry to b as json.Marshal of an
// entryBody would write it (keys in order, values compacted), without
// reflection: a first sync logs thousands of entries.
func appendBody(b []byte, ch *domain.Change) ([]byte, error) {
	names := sortedNames(ch.Fields)
	b = append(b, `{"f":{`...)
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if v := ch.Fields[k]; len(v) > 0 && domain.IsCompact(v) {
			// Every value merged was decoded into its record first, so it
			// is JSON; and values arrive compacted.
			b = append(b, v...)
			continue
		}
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, ch.Fields[k]); err != nil {
			return nil, fmt.Errorf("field %q: %w", k, err)
		}
		b = buf.Bytes()
	}
	b = append(b, '}')
	if len(ch.Base) > 0 {
		bases := make([]string, 0, len(ch.Base))
		for k := range ch.Base {
			bases = append(bases, k)
		}
		slices.Sort(bases)
		b = append(b, `,"b":{`...)
		for i, k := range bases {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, ch.Base[k].String())
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string, as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// decodeHeader decodes everything but the change's fields and bases, and
// returns the undecoded JSON body (nil for the old JSON form, which it decodes
// whole).
func decodeHeader(seq uint64, b []byte) (Entry, []byte, error) {
	if len(b) > 0 && b[0] == '{' {
		e, err := decodeJSONEntry(seq, b)
		return e, nil, err
	}
	if len(b) == 0 || b[0] != logBinary {
		return Entry{}, nil, fmt.Errorf("decode log entry %d: unknown format", seq)
	}
	d := &rowReader{b: b[1:]}
	e := Entry{Seq: seq}
	ch := &e.Change
	for _, id := range [...]*uuid.UUID{&e.From, &e.Household, &e.Village, &e.Town, &ch.ID, &ch.Record, &ch.Author} {
		copy(id[:], d.bytes(16))
	}
	ch.Stamp.Wall = int64(d.uvarint())
	ch.Stamp.Logical = uint32(d.uvarint())
	copy(ch.Stamp.Device[:], d.bytes(16))
	ch.Kind = domain.Kind(d.bytes(d.uvarint()))
	if d.err != nil {
		return Entry{}, nil, fmt.Errorf("decode log entry %d: %w", seq, d.err)
	}
	return e, d.b, nil
}

// decodeBody fills in the change's fields and bases from the JSON body.
func decodeBody(e *Entry, body []byte) error {
	if body == nil {
		return nil // decoded whole already
	}
	var s entryBody
	if err := json.Unmarshal(body, &s); err != nil {
		return fmt.Errorf("decode log entry %d: %w", e.Seq, err)
	}
	e.Change.Fields = s.Fields
	base, err := parseBase(s.Base)
	if err != nil {
		return fmt.Errorf("decode log entry %d: %w", e.Seq, err)
	}
	e.Change.Base = base
	return nil
}

func decodeEntry(seq uint64, b []byte) (Entry, error) {
	e, body, err := decodeHeader(seq, b)
	if err != nil {
		return Entry{}, err
	}
	return e, decodeBody(&e, body)
}

func decodeJSONEntry(seq uint64, b []byte) (Entry, error) {
	var s entryJSON
	if err := json.Unmarshal(b, &s); err != nil {
		return Entry{}, fmt.Errorf("decode log entry %d: %w", seq, err)
	}
	stamp, err := domain.ParseStamp(s.Stamp)
	if err != nil {
		return Entry{}, fmt.Errorf("decode log entry %d: %w", seq, err)
	}
	base, err := parseBase(s.Base)
	if err != nil {
		return Entry{}, fmt.Errorf("decode log entry %d: %w", seq, err)
	}
	return Entry{Seq: seq, From: s.From, Household: s.Household, Village: s.Village, Town: s.Town,
		Change: domain.Change{ID: s.ID, Kind: s.Kind, Record: s.Record, Author: s.Author, Stamp: stamp,
			Fields: s.Fields, Base: base}}, nil
}

func parseBase(m map[string]string) (map[string]domain.Stamp, error) {
	if len(m) == 0 {
		return nil, nil
	}
	base := make(map[string]domain.Stamp, len(m))
	for k, v := range m {
		s, err := domain.ParseStamp(v)
		if err != nil {
			return nil, err
		}
		base[k] = s
	}
	return base, nil
}

// appendLog adds e to the log under the next sequence number and marks its
// change as seen.
func appendLog(tx *bolt.Tx, e *Entry) error {
	return appendLogSeen(tx, e, nil)
}

// seenBatch holds the seen marks of logged changes (change ID -> log
// sequence) until flush writes them in key order, as indexBatch does.
type seenBatch map[uuid.UUID][]byte

// flush writes the marks of batch in key order and empties it.
func (batch seenBatch) flush(tx *bolt.Tx) error {
	ids := slices.SortedFunc(maps.Keys(batch), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	seen := tx.Bucket(bucketSeen)
	for _, id := range ids {
		if err := seen.Put(id[:], batch[id]); err != nil {
			return err
		}
	}
	clear(batch)
	return nil
}

// appendLogSeen is appendLog that adds the seen mark to batch, if not nil,
// instead of writing it.
func appendLogSeen(tx *bolt.Tx, e *Entry, batch seenBatch) error {
	log := tx.Bucket(bucketLog)
	log.FillPercent = 1 // keys only ever grow: pack pages full
	seq, err := log.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	v, err := sealEntry(vaultOf(tx), e)
	if err != nil {
		return err
	}
	if err := log.Put(u64(seq), v); err != nil {
		return err
	}
	if batch != nil {
		batch[e.Change.ID] = u64(seq)
		return nil
	}
	return tx.Bucket(bucketSeen).Put(e.Change.ID[:], u64(seq))
}

// Log calls fn for every log entry after sequence after, in order, until fn
// returns false or an error.
func (db *DB) Log(after uint64, fn func(Entry) (bool, error)) error {
	return db.LogWhere(after, nil, fn)
}

// LogWhere is Log for entries that keep accepts. keep sees each entry with its
// header decoded — Seq, From, Household, Village, Town and the change's ID,
// Kind, Record, Author and Stamp — but not its fields or bases, which are
// decoded only for the entries kept: a server can skip what is out of a
// device's scope cheaply. A nil keep keeps everything.
func (db *DB) LogWhere(after uint64, keep func(*Entry) bool, fn func(Entry) (bool, error)) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
			e, body, err := decodeHeader(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			if keep != nil && !keep(&e) {
				continue
			}
			if err := openBody(vaultOf(tx), &e, body); err != nil {
				return err
			}
			more, err := fn(e)
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
}

// LastSeq returns the sequence of the newest log entry, 0 if the log is empty.
func (db *DB) LastSeq() (uint64, error) {
	var seq uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLog).Cursor().Last(); k != nil {
			seq = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return seq, err
}

// Seen reports whether the replica has applied the change with this ID.
func (db *DB) Seen(id uuid.UUID) (bool, error) {
	if err := db.settle(); err != nil {
		return false, err
	}
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketSeen).Get(id[:]) != nil
		return nil
	})
	return ok, err
}

// EntryOf returns the log entry of the change with this ID, and whether
// the log holds it.
func (db *DB) EntryOf(id uuid.UUID) (Entry, bool, error) {
	if err := db.settle(); err != nil {
		return Entry{}, false, err
	}
	var e Entry
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketSeen).Get(id[:])
		if len(seq) != 8 {
			return nil
		}
		v := tx.Bucket(bucketLog).Get(seq)
		if v == nil {
			return nil
		}
		var err error
		e, err = openEntry(vaultOf(tx), binary.BigEndian.Uint64(seq), v)
		ok = err == nil
		return err
	})
	return e, ok, err
}

// Outbox returns up to max log entries after sequence after that were not
// received from upstream: what this replica owes upstream. max <= 0 means all.
func (db *DB) Outbox(upstream uuid.UUID, after uint64, max int) ([]Entry, error) {
	var out []Entry
	err := db.Log(after, func(e Entry) (bool, error) {
		if e.From != upstream || upstream == uuid.Nil {
			out = append(out, e)
		}
		return max <= 0 || len(out) < max, nil
	})
	return out, err
}

// Pending counts the log entries after sequence after not received from
// upstream: the changes waiting to be sent.
func (db *DB) Pending(upstream uuid.UUID, after uint64) (int, error) {
	n := 0
	err := db.LogWhere(after, func(e *Entry) bool {
		if e.From != upstream {
			n++
		}
		return false // counted from the header alone
	}, nil)
	return n, err
}

// Cursor returns the value stored under name, "" if none.
func (db *DB) Cursor(name string) (string, error) {
	var v string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b, err := getCursor(tx, name)
		v = string(b)
		return err
	})
	return v, err
}

// SetCursor stores value under name.
func (db *DB) SetCursor(name, value string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return putCursor(tx, name, value)
	})
}

// SetCursors stores several values (name -> value) in one transaction: all
// or none of them are stored.
func (db *DB) SetCursors(cursors map[string]string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return putCursors(tx, cursors) })
}

func putCursors(tx *bolt.Tx, cursors map[string]string) error {
	for name, value := range cursors {
		if err := putCursor(tx, name, value); err != nil {
			return err
		}
	}
	return nil
}
