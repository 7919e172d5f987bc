package protocol

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Change is a domain.Change on the wire. Its fields are text in canonical
// form (lowercase UUIDs, stamps as domain.Stamp.String writes them), so that
// converting to the domain and back gives the same bytes. Convert with
// [FromDomain] and [Change.Domain], which validate; nothing else converts.
type Change struct {
	ID     string                     `json:"id"`     // the change's UUID: a retry carries the same
	Kind   domain.Kind                `json:"kind"`   // the record's kind
	Record string                     `json:"record"` // the record's UUID
	Author string                     `json:"author"` // the cadre's UUID; all zeros for none
	Stamp  string                     `json:"stamp"`  // "<wall ms>.<logical>.<device uuid>"
	Fields map[string]json.RawMessage `json:"fields"` // field name -> new JSON value
	Base   map[string]string          `json:"base,omitempty"`
}

// FromDomain converts c to the wire, checking it as [Change.Domain] does.
// Values are compacted.
func FromDomain(c domain.Change) (Change, error) {
	w := Change{
		ID:     c.ID.String(),
		Kind:   c.Kind,
		Record: c.Record.String(),
		Author: c.Author.String(),
		Stamp:  c.Stamp.String(),
		Fields: make(map[string]json.RawMessage, len(c.Fields)),
	}
	for name, v := range c.Fields {
		w.Fields[name] = v
	}
	if len(c.Base) > 0 {
		w.Base = make(map[string]string, len(c.Base))
		for name, s := range c.Base {
			w.Base[name] = s.String()
		}
	}
	d, err := w.Domain()
	if err != nil {
		return Change{}, err
	}
	for name, v := range d.Fields {
		w.Fields[name] = v // compacted copies
	}
	return w, nil
}

// Domain converts c from the wire, checking that the UUIDs and stamps parse
// and are in canonical form, that the ID and record are not all zeros, that
// the kind is known, that field names are 1 to MaxFieldName bytes and that
// every value is JSON. The values are compacted copies. A failed check is an
// EINVALID *domain.Error naming the wire field.
func (c Change) Domain() (domain.Change, error) { return c.convert(true, unchecked) }

// check checks c as Domain does, without making the domain change.
func (c Change) check() error {
	_, err := c.convert(false, unchecked)
	return err
}

// trust is what convert may take for granted about a change's values.
type trust int

const (
	unchecked trust = iota // nothing: they are checked and compacted
	valid                  // they are JSON (decoded as parts of a document checked whole): those already compact are taken as they are
	compact                // they are compact JSON: taken as they are
)

// convert checks c and, if build, makes the domain change, trusting its
// values as much as values says.
func (c Change) convert(build bool, values trust) (domain.Change, error) {
	id, err := parseID("id", c.ID)
	if err != nil {
		return domain.Change{}, err
	}
	rec, err := parseID("record", c.Record)
	if err != nil {
		return domain.Change{}, err
	}
	author, err := parseUUID("author", c.Author)
	if err != nil {
		return domain.Change{}, err
	}
	if !slices.Contains(domain.Kinds, c.Kind) {
		return domain.Change{}, domain.Errorf(domain.EINVALID, "kind",
			"未知的记录类型 %q（请升级应用）", "unknown record kind %q (update the app)", clip(string(c.Kind)))
	}
	stamp, err := parseStamp("stamp", c.Stamp)
	if err != nil {
		return domain.Change{}, err
	}
	d := domain.Change{ID: id, Kind: c.Kind, Record: rec, Author: author, Stamp: stamp}
	var compacted *bytes.Buffer // one array for all the compacted values
	if build {
		d.Fields = make(domain.Fields, len(c.Fields))
		n := 0
		for _, v := range c.Fields {
			n += len(v)
		}
		if values == unchecked {
			compacted = bytes.NewBuffer(make([]byte, 0, n))
		}
	}
	for name, v := range c.Fields {
		if err := checkFieldName("fields", name); err != nil {
			return domain.Change{}, err
		}
		bad := len(v) == 0
		if build && !bad && (values == compact || values == valid && domain.IsCompact(v)) {
			d.Fields[name] = v[:len(v):len(v)]
			continue
		}
		if build && !bad {
			if compacted == nil {
				compacted = new(bytes.Buffer)
			}
			start := compacted.Len()
			bad = json.Compact(compacted, v) != nil
			d.Fields[name] = compacted.Bytes()[start:compacted.Len():compacted.Len()]
		} else if !bad {
			bad = !json.Valid(v)
		}
		if bad {
			return domain.Change{}, domain.Errorf(domain.EINVALID, "fields",
				"字段 %q 的值不是有效的 JSON", "the value of field %q is not valid JSON", clip(name))
		}
	}
	if len(c.Base) > 0 && build {
		d.Base = make(map[string]domain.Stamp, len(c.Base))
	}
	for name, s := range c.Base {
		if err := checkFieldName("base", name); err != nil {
			return domain.Change{}, err
		}
		st, err := parseStamp("base", s)
		if err != nil {
			return domain.Change{}, err
		}
		if build {
			d.Base[name] = st
		}
	}
	return d, nil
}

// Size returns the length in bytes of c's JSON encoding, exact when field
// names need no escaping and values are compact: what [PageBytes] budgets.
func (c Change) Size() int {
	// {"id":"","kind":"","record":"","author":"","stamp":"","fields":{}}
	n := 66 + len(c.ID) + len(c.Kind) + len(c.Record) + len(c.Author) + len(c.Stamp)
	for name, v := range c.Fields {
		n += len(name) + len(v) + 4 // "name":v,
	}
	if len(c.Fields) > 0 {
		n-- // no comma after the last
	}
	if len(c.Base) > 0 {
		n += len(`,"base":{}`)
		for name, s := range c.Base {
			n += len(name) + len(s) + 6 // "name":"s",
		}
		n--
	}
	return n
}

// EncodeChanges converts changes to the wire with [FromDomain]. An error
// names the index of the change at fault.
func EncodeChanges(changes []domain.Change) ([]Change, error) {
	out := make([]Change, len(changes))
	for i, c := range changes {
		w, err := FromDomain(c)
		if err != nil {
			return nil, at(i, err)
		}
		out[i] = w
	}
	return out, nil
}

// DecodeChanges converts changes from the wire with [Change.Domain]. An
// error names the index of the change at fault.
func DecodeChanges(changes []Change) ([]domain.Change, error) {
	out := make([]domain.Change, len(changes))
	for i, c := range changes {
		d, err := c.Domain()
		if err != nil {
			return nil, at(i, err)
		}
		out[i] = d
	}
	return out, nil
}

// CheckStamps returns an error matching [ErrClockAhead] when a change is
// stamped, or names a base stamp, more than domain.MaxSkew ahead of now, the
// receiver's clock: a base is a stamp the editor saw, and no replica holds
// one from the future. The
// server calls it on every push; a device calls it before pushing to find
// the changes it must restamp.
func CheckStamps(changes []domain.Change, now time.Time) error {
	limit := now.Add(domain.MaxSkew).UnixMilli()
	for i, c := range changes {
		if c.Stamp.Wall > limit {
			ahead := (time.Duration(c.Stamp.Wall-now.UnixMilli()) * time.Millisecond).Round(time.Second)
			return domain.Errorf(domain.EINVALID, ErrClockAhead.Field,
				"第 %d 条更改（%s）的时间比服务器快 %s，超过允许的 %s：请校准设备时间后重新同步",
				"change %d (%s) is stamped %s ahead of the server's clock, more than the %s allowed: correct the device clock and sync again",
				i, c.ID, ahead, domain.MaxSkew)
		}
		for _, name := range slices.Sorted(maps.Keys(c.Base)) {
			if b := c.Base[name]; b.Wall > limit {
				ahead := (time.Duration(b.Wall-now.UnixMilli()) * time.Millisecond).Round(time.Second)
				return domain.Errorf(domain.EINVALID, ErrClockAhead.Field,
					"第 %d 条更改（%s）的字段“%s”所依据的时间比服务器快 %s，超过允许的 %s：请校准设备时间后重新同步",
					"change %d (%s) has a base stamp of field %q %s ahead of the server's clock, more than the %s allowed: correct the device clock and sync again",
					i, c.ID, name, ahead, domain.MaxSkew)
			}
		}
	}
	return nil
}

// at prefixes err, an *domain.Error from converting one change, with the
// change's index.
func at(i int, err error) error {
	e, ok := err.(*domain.Error)
	if !ok {
		return err
	}
	n := strconv.Itoa(i)
	return &domain.Error{Code: e.Code, Field: e.Field,
		Zh: "第 " + n + " 条更改：" + e.Zh, En: "change " + n + ": " + e.En}
}

func parseUUID(field, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || !canonical(s) {
		return uuid.Nil, domain.Errorf(domain.EINVALID, field,
			"%s 不是有效的 UUID：%q", "%s is not a valid UUID: %q", field, clip(s))
	}
	return id, nil
}

// canonical reports whether s is a UUID as uuid.UUID.String writes it:
// 8-4-4-4-12 lowercase hex digits.
func canonical(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

func parseID(field, s string) (uuid.UUID, error) {
	id, err := parseUUID(field, s)
	if err == nil && id == uuid.Nil {
		return uuid.Nil, domain.Errorf(domain.EINVALID, field, "%s 不能全为零", "%s must not be all zeros", field)
	}
	return id, err
}

func parseStamp(field, s string) (domain.Stamp, error) {
	st, err := domain.ParseStamp(s)
	if err != nil || !canonicalStamp(s) {
		return domain.Stamp{}, domain.Errorf(domain.EINVALID, field,
			"时间戳无效：%q", "bad stamp %q (want <wall ms>.<logical>.<device uuid>)", clip(s))
	}
	return st, nil
}

// canonicalStamp reports whether s, a stamp domain.ParseStamp reads, is in
// the form domain.Stamp.String writes: both numbers in decimal without a
// sign or leading zeros, the device's UUID canonical.
func canonicalStamp(s string) bool {
	wall, rest, _ := strings.Cut(s, ".")
	logical, dev, _ := strings.Cut(rest, ".")
	return decimal(wall) && decimal(logical) && canonical(dev)
}

// decimal reports whether s is a number as strconv.FormatUint writes it.
func decimal(s string) bool {
	if s == "" || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func checkFieldName(field, name string) error {
	if name == "" || len(name) > MaxFieldName {
		return domain.Errorf(domain.EINVALID, field,
			"字段名 %q 无效（应为 1 到 %d 字节）", "bad field name %q (want 1 to %d bytes)", clip(name), MaxFieldName)
	}
	return nil
}

// checkChanges checks changes as DecodeChanges does, without converting.
// checkUnique refuses a push that carries two changes with one ID: a device
// never makes that (IDs are fresh UUIDs), and the second would be
// acknowledged without being applied.
func checkUnique(changes []Change) error {
	seen := make(map[string]int, len(changes))
	for i, c := range changes {
		if j, dup := seen[c.ID]; dup {
			return domain.Errorf(domain.EINVALID, "changes",
				"第 %[1]d 条更改与第 %[2]d 条更改的 id 相同（%[3]s）", "change %[1]d has the same id as change %[2]d (%[3]s)", i, j, c.ID)
		}
		seen[c.ID] = i
	}
	return nil
}

func checkChanges(changes []Change) error {
	for i, c := range changes {
		if err := c.check(); err != nil {
			return at(i, err)
		}
	}
	return nil
}
