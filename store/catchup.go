package store

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
)

// Catch-up: the current state of a scope, and what a device does with it.
//
// A server answers a device whose scope changed (or a new device) with the
// current state of every record it may read — State — before the log's
// tail; the device applies it with ApplyPage, marking each record it receives
// as held, and once the whole state has arrived it removes the records it
// holds that were not in it (they left its scope), except those it has
// written something about that is not yet sent, or that its user has still
// to see refused (Page.Keep): those wait in a "leaving" list until they are
// sent or seen. See sync/protocol (Catch-up) for the wire side.
//
// Device-side buckets, never synced:
//
//	held      id + kind -> nil, the records received since the catch-up began;
//	          key {0} -> the log sequence when it began
//	leaving   id + kind -> nil, records out of scope kept for unsent work
var (
	bucketHeld    = []byte("held")
	bucketLeaving = []byte("leaving")
	keyHeldStart  = []byte{0}
)

// StatePos is where a walk of the current state resumes (replica.StatePos).
type StatePos = replica.StatePos

// ParseStatePos reads what StatePos.String wrote.
func ParseStatePos(s string) (StatePos, bool) { return replica.ParseStatePos(s) }

// stateSpace derives the IDs of the changes that carry a record's state.
var stateSpace = uuid.MustParse("3c9e5a71-0d4b-4f62-8e17-a5b2c6d9f043")

// StateChangeID is the ID of the change that carries the fields of a record
// set by the edit stamped stamp by author: the same on every replica, so a
// state sent twice is applied once.
func StateChangeID(kind domain.Kind, record uuid.UUID, stamp domain.Stamp, author uuid.UUID) uuid.UUID {
	b := make([]byte, 0, 16+len(kind)+48)
	b = append(b, record[:]...)
	b = append(b, kind...)
	b = binary.BigEndian.AppendUint64(b, uint64(stamp.Wall))
	b = binary.BigEndian.AppendUint32(b, stamp.Logical)
	b = append(b, stamp.Device[:]...)
	b = append(b, author[:]...)
	return uuid.NewSHA1(stateSpace, b)
}

// stateChanges splits a row into one change per edit that set its fields
// (same stamp and author), oldest first.
func stateChanges(kind domain.Kind, id uuid.UUID, r *row) []domain.Change {
	var out []domain.Change
	at := map[stampAuthor]int{}
	for name, c := range r.Fields {
		k := stampAuthor{c.S, c.A}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, domain.Change{ID: StateChangeID(kind, id, c.S, c.A), Kind: kind, Record: id,
				Author: c.A, Stamp: c.S, Fields: domain.Fields{}})
		}
		out[i].Fields[name] = c.V
	}
	slices.SortFunc(out, func(a, b domain.Change) int { return a.Stamp.Compare(b.Stamp) })
	return out
}

// scoper works out where records belong, remembering households and places
// for the length of one transaction.
type scoper struct {
	tx     *bolt.Tx
	places map[uuid.UUID][2]uuid.UUID // place -> village, town
	hh     map[uuid.UUID][2]uuid.UUID // household -> village, town
}

func newScoper(tx *bolt.Tx) *scoper {
	return &scoper{tx: tx, places: map[uuid.UUID][2]uuid.UUID{}, hh: map[uuid.UUID][2]uuid.UUID{}}
}

func (s *scoper) place(id uuid.UUID) [2]uuid.UUID {
	if v, ok := s.places[id]; ok {
		return v
	}
	var v [2]uuid.UUID
	if p, err := loadPlace(s.tx, id); err == nil {
		v[0], v[1] = placeScope(s.tx, p)
	}
	s.places[id] = v
	return v
}

func (s *scoper) household(id uuid.UUID) [2]uuid.UUID {
	if v, ok := s.hh[id]; ok {
		return v
	}
	// Through the places remembered: a group's households share them.
	var v [2]uuid.UUID
	if g := householdGroup(s.tx, id); g != uuid.Nil {
		v = s.place(g)
	}
	s.hh[id] = v
	return v
}

// entry returns the header a log entry of rec would have: what a server's
// readable predicate judges.
func (s *scoper) entry(rec domain.Record) Entry {
	e := Entry{Change: domain.Change{Kind: rec.Kind(), Record: rec.Metadata().ID}}
	switch r := rec.(type) {
	case *domain.Place:
		e.Village, e.Town = placeScope(s.tx, r)
		return e
	case *domain.Assignment:
		if !r.Role.IsPairing() {
			v := s.place(r.Target)
			e.Village, e.Town = v[0], v[1]
			return e
		}
		e.Household = r.Target
	case *domain.Household:
		// Its own group, as stored in rec (it may be newer than the row).
		v := s.place(r.Group)
		e.Household, e.Village, e.Town = r.ID, v[0], v[1]
		return e
	default:
		e.Household = domain.HouseholdOf(rec)
	}
	if e.Household != uuid.Nil {
		v := s.household(e.Household)
		e.Village, e.Town = v[0], v[1]
	}
	return e
}

// ScopePrint returns a fingerprint of what readable accepts among the
// units of scope — every live household, every place, every pairing readable
// without its household, every duty readable without its place and every
// cadre, each
// judged by the header its log entries would have — and the sequence of the
// newest log entry, read in one transaction. Two calls return the same
// fingerprint when the same units are readable: a server compares it with the
// one a device's cursor was issued under to tell that records came into or
// left the device's scope, whether because the device's assignments changed,
// a household moved, or the predicate itself did.
func (db *DB) ScopePrint(readable func(*Entry) bool) (string, uint64, error) {
	print, last, _, err := db.scopeUnits(nil, readable, false)
	return print, last, err
}

// Within says where the units a readable predicate accepts can be, so that
// ScopePrintIn and ScopeUnitsIn walk those instead of every household,
// assignment and cadre of the store: a sync then costs what the device's
// scope holds, not what the server does. The predicate must accept
//
//   - a live household only if Households names it, or the village or town
//     of its group (as its header says) is in Villages or Towns;
//   - a pairing whose household it does not accept only if Pairings names it;
//   - another assignment (a duty) whose place it does not accept only if
//     Pairings names it;
//   - a cadre only if Cadres names it.
//
// Every place is still judged (a deleted place, or one whose parent is gone,
// is found by no index). Within names candidates: the predicate still
// decides, so naming too many is harmless, and naming too few changes the
// fingerprint (a server's readable and its Within come from one scope).
//
// StateIn, which walks records rather than units, asks more of the
// predicate: it must accept
//
//   - a household (deleted or history too), or a record of one (a pairing
//     included), only as above for its household, or if it names none;
//   - another assignment only if Pairings names it, or the village of its
//     target is in Villages or RosterVillages, or its town in Towns or
//     RosterTowns, or its target lies in neither a village nor a town;
//   - a cadre only if Cadres names it.
type Within struct {
	Households      []uuid.UUID
	Villages, Towns map[uuid.UUID]bool
	// Pairings are assignments readable wherever they are: pairings, and
	// duties (domain.Post.Pairings).
	Pairings []uuid.UUID
	Cadres   []uuid.UUID
	// RosterVillages and RosterTowns are where the places and assignments
	// (the roster) are readable besides Villages and Towns (StateIn).
	RosterVillages, RosterTowns map[uuid.UUID]bool
}

// Union returns where the units of w or of o can be.
func (w Within) Union(o Within) Within {
	set := func(a, b map[uuid.UUID]bool) map[uuid.UUID]bool {
		m := make(map[uuid.UUID]bool, len(a)+len(b))
		for _, x := range []map[uuid.UUID]bool{a, b} {
			for id, ok := range x {
				if ok {
					m[id] = true
				}
			}
		}
		return m
	}
	return Within{
		Households:     slices.Concat(w.Households, o.Households),
		Villages:       set(w.Villages, o.Villages),
		Towns:          set(w.Towns, o.Towns),
		Pairings:       slices.Concat(w.Pairings, o.Pairings),
		Cadres:         slices.Concat(w.Cadres, o.Cadres),
		RosterVillages: set(w.RosterVillages, o.RosterVillages),
		RosterTowns:    set(w.RosterTowns, o.RosterTowns),
	}
}

// ScopePrintIn is ScopePrint walking only the units in (see Within): the
// same fingerprint, for a predicate that keeps Within's promise.
func (db *DB) ScopePrintIn(in Within, readable func(*Entry) bool) (string, uint64, error) {
	print, last, _, err := db.scopeUnits(&in, readable, false)
	return print, last, err
}

// scopeUnits is ScopePrint that also returns the units, if collect; with
// in, it walks only the households, pairings and cadres in names, in the
// order the whole walk meets them (their index or bucket keys), so that
// the fingerprint is the same.
func (db *DB) scopeUnits(in *Within, readable func(*Entry) bool, collect bool) (string, uint64, []uuid.UUID, error) {
	h := sha256.New()
	var last uint64
	var units []uuid.UUID
	unit := func(id []byte) {
		h.Write(id)
		if collect {
			units = append(units, uuid.UUID(id))
		}
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLog).Cursor().Last(); k != nil {
			last = binary.BigEndian.Uint64(k)
		}
		sc := newScoper(tx)
		var groups [][]byte // with in: the places whose households may be readable
		loaded := map[uuid.UUID]*domain.Place{}
		load := func(id uuid.UUID) (*domain.Place, error) {
			if p, ok := loaded[id]; ok {
				if p == nil {
					return nil, notFound(domain.KindPlace, id)
				}
				return p, nil
			}
			p, err := db.places.load(tx, id)
			loaded[id] = p // nil if it cannot be read: placeScope stops there
			return p, err
		}
		if b := kindBucket(tx, domain.KindPlace); b != nil {
			err := b.ForEach(func(k, v []byte) error {
				// Decoded once while its bytes stay the same (db.places).
				p, err := db.places.get(tx, uuid.UUID(k), v)
				if err != nil {
					return err
				}
				// The header sc.entry gives a place, each place loaded once
				// for the walk up from every other.
				loaded[p.ID] = p
				e := Entry{Change: domain.Change{Kind: domain.KindPlace, Record: p.ID}}
				e.Village, e.Town = placeScopeWith(p, load)
				// What sc.place would work out for it (the same row).
				sc.places[p.ID] = [2]uuid.UUID{e.Village, e.Town}
				if in != nil && (in.Villages[e.Village] || in.Towns[e.Town]) {
					groups = append(groups, slices.Clone(k))
				}
				if readable(&e) {
					unit(k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		h.Write([]byte("households"))
		// hh_group: group + household, for every live household.
		household := func(key []byte, id uuid.UUID) bool {
			v := sc.place(uuid.UUID(key[:16]))
			// What householdScope would read from the row: the pairings
			// below find it here rather than decoding every household.
			sc.hh[id] = v
			e := Entry{Household: id, Village: v[0], Town: v[1],
				Change: domain.Change{Kind: domain.KindHousehold, Record: id}}
			if readable(&e) {
				unit(id[:])
			}
			return true
		}
		if in == nil {
			scan(tx, "hh_group", nil, household)
		} else {
			// The index keys of the groups' households and of those named,
			// in key order as the whole walk meets them.
			var keys [][]byte
			for _, g := range groups {
				scan(tx, "hh_group", g, func(key []byte, _ uuid.UUID) bool {
					keys = append(keys, slices.Clone(key))
					return true
				})
			}
			if ix := indexOf(tx, "hh_group"); ix != nil {
				for _, id := range in.Households {
					g := householdGroup(tx, id)
					key := append(append(make([]byte, 0, 32), g[:]...), id[:]...)
					if k, _ := ix.cursor().Seek(key); k != nil && string(k) == string(key) {
						keys = append(keys, key)
					}
				}
			}
			slices.SortFunc(keys, bytes.Compare)
			keys = slices.CompactFunc(keys, bytes.Equal)
			for _, k := range keys {
				household(k, uuid.UUID(k[16:]))
			}
		}
		// Pairings readable although their household is not, and duties
		// readable although the roster of their place is not: the pairings
		// and current duties elsewhere of a village's cadres, which a device
		// reading the village receives (a server's crossPairing). Those of
		// readable households and places follow them.
		// Only its role and target are read from an assignment's row, not
		// the whole record decoded.
		h.Write([]byte("pairings"))
		pairing := func(k, v []byte) error {
			r, err := openRow(tx, domain.KindAssignment, k, v)
			if err != nil {
				return fmt.Errorf("%s %x: %w", domain.KindAssignment, k, err)
			}
			var role domain.Role
			var target uuid.UUID
			if c, ok := r.Fields["role"]; ok {
				if err := json.Unmarshal(c.V, &role); err != nil {
					return fmt.Errorf("%s %x role: %w", domain.KindAssignment, k, err)
				}
			}
			if c, ok := r.Fields["target"]; ok {
				if err := json.Unmarshal(c.V, &target); err != nil {
					return fmt.Errorf("%s %x target: %w", domain.KindAssignment, k, err)
				}
			}
			if !role.IsPairing() {
				// The header sc.entry gives a duty: its place's, which a
				// place's own header has too.
				v := sc.place(target)
				e := Entry{Village: v[0], Town: v[1], Change: domain.Change{Kind: domain.KindAssignment, Record: uuid.UUID(k)}}
				at := Entry{Village: v[0], Town: v[1], Change: domain.Change{Kind: domain.KindPlace, Record: target}}
				if !readable(&at) && readable(&e) {
					unit(k)
				}
				return nil
			}
			// The header sc.entry gives a pairing: its household's.
			e := Entry{Household: target, Change: domain.Change{Kind: domain.KindAssignment, Record: uuid.UUID(k)}}
			if target != uuid.Nil {
				v := sc.household(target)
				e.Village, e.Town = v[0], v[1]
			}
			hh := Entry{Household: e.Household, Village: e.Village, Town: e.Town,
				Change: domain.Change{Kind: domain.KindHousehold, Record: e.Household}}
			if !readable(&hh) && readable(&e) {
				unit(k)
			}
			return nil
		}
		if b := kindBucket(tx, domain.KindAssignment); b != nil {
			if in == nil {
				// Every assignment, at every sync.
				if err := b.ForEach(pairing); err != nil {
					return err
				}
			} else {
				for _, id := range sortedIDs(in.Pairings) {
					if v := b.Get(id[:]); v != nil {
						if err := pairing(id[:], v); err != nil {
							return err
						}
					}
				}
			}
		}
		h.Write([]byte("cadres"))
		if b := kindBucket(tx, domain.KindCadre); b != nil {
			cadre := func(k, _ []byte) error {
				e := Entry{Change: domain.Change{Kind: domain.KindCadre, Record: uuid.UUID(k)}}
				if readable(&e) {
					unit(k)
				}
				return nil
			}
			if in == nil {
				b.ForEach(cadre)
			} else {
				for _, id := range sortedIDs(in.Cadres) {
					if v := b.Get(id[:]); v != nil {
						cadre(id[:], v)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", 0, nil, fmt.Errorf("store: scope fingerprint: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), last, units, nil
}

// sortedIDs returns ids sorted and without repeats, as a bucket's keys.
func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(out)
}

// State calls fn with the current state of each record that readable
// accepts, after pos, in the order of domain.Kinds and then of IDs: the
// record's fields, deleted records included, as one change per edit that set
// them (same stamp and author, with change IDs from StateChangeID), and the
// position after it. fn returns false to stop. readable sees the header a
// log entry of the record would have now. State returns the sequence of the
// newest log entry, read in the same transaction: every change after it is
// in the log's tail.
//
// State judges every record of the store: what a device reading everything
// needs. StateIn judges only those of a scope.
func (db *DB) State(pos StatePos, readable func(*Entry) bool, fn func(next StatePos, changes []domain.Change) (bool, error)) (uint64, error) {
	return db.state(nil, pos, readable, fn)
}

// StateIn is State judging only the records in says the scope may read (see
// Within), found through the partition indexes (partition.go), deleted
// ones included: for a predicate that keeps Within's promise, it yields
// what State yields — the same records, states and positions — at the cost
// of the scope rather than of the store. Every place is still judged.
func (db *DB) StateIn(in Within, pos StatePos, readable func(*Entry) bool, fn func(next StatePos, changes []domain.Change) (bool, error)) (uint64, error) {
	return db.state(&in, pos, readable, fn)
}

// state is State, or with in StateIn: the records judged are those of the
// partitions in names instead of every one, judged the same way.
func (db *DB) state(in *Within, pos StatePos, readable func(*Entry) bool, fn func(next StatePos, changes []domain.Change) (bool, error)) (uint64, error) {
	var last uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLog).Cursor().Last(); k != nil {
			last = binary.BigEndian.Uint64(k)
		}
		sc := newScoper(tx)
		var part map[domain.Kind][]uuid.UUID
		if in != nil {
			var err error
			if part, err = db.partition(tx, sc, in); err != nil {
				return err
			}
		}
		for ki := pos.Kind; ki < len(domain.Kinds); ki++ {
			kind := domain.Kinds[ki]
			b := kindBucket(tx, kind)
			if b == nil {
				continue
			}
			// The records of households (all but households, places,
			// assignments and cadres) are placed by their household field.
			d := domain.Declared(kind)
			byCell := d != nil && d.Household != nil && kind != domain.KindHousehold
			// send judges record k, stored as v, and yields its state if
			// readable accepts it; false: stop.
			send := func(k, v []byte) (bool, error) {
				id := uuid.UUID(k)
				r, err := openRow(tx, kind, k, v)
				if err != nil {
					return false, fmt.Errorf("%s %s: %w", kind, id, err)
				}
				if h, ok := sc.places[id]; ok && in != nil && kind == domain.KindPlace {
					// The header sc.entry gives a place, worked out for
					// every place of this transaction by partition, which
					// decoded them all (db.places): not again for each.
					e := Entry{Change: domain.Change{Kind: kind, Record: id}, Village: h[0], Town: h[1]}
					if !readable(&e) {
						return true, nil
					}
				} else if byCell && !stateDecodeAll {
					// The header sc.entry gives a record of a household:
					// its "household" field and the household's place, read
					// without decoding the record; decoded only if sent,
					// so that a record that cannot be read still fails.
					e := Entry{Change: domain.Change{Kind: kind, Record: id}, Household: r.uuid("household")}
					if e.Household != uuid.Nil {
						v := sc.household(e.Household)
						e.Village, e.Town = v[0], v[1]
					}
					if !readable(&e) {
						return true, nil
					}
					if _, err := r.record(kind, id); err != nil {
						return false, fmt.Errorf("%s %s: %w", kind, id, err)
					}
				} else {
					rec, err := r.record(kind, id)
					if err != nil {
						return false, fmt.Errorf("%s %s: %w", kind, id, err)
					}
					if e := sc.entry(rec); !readable(&e) {
						return true, nil
					}
				}
				return fn(StatePos{Kind: ki, After: id}, stateChanges(kind, id, r))
			}
			resume := ki == pos.Kind && pos.After != uuid.Nil
			if in == nil || !partitioned(kind) {
				c := b.Cursor()
				k, v := c.First()
				if resume {
					k, v = c.Seek(pos.After[:])
					if k != nil && string(k) == string(pos.After[:]) {
						k, v = c.Next()
					}
				}
				for ; k != nil; k, v = c.Next() {
					if more, err := send(k, v); err != nil || !more {
						return err
					}
				}
				continue
			}
			ids := part[kind]
			if resume {
				ids = after(ids, pos.After)
			}
			for _, id := range ids {
				v := b.Get(id[:])
				if v == nil {
					continue // named, not stored
				}
				if more, err := send(id[:], v); err != nil || !more {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: state: %w", err)
	}
	return last, nil
}

// stateDecodeAll makes State decode every record to judge it, as it did
// before reading the household field from the row: what its tests compare.
var stateDecodeAll bool

// Page is one answer of a pull as a device applies it (ApplyPage).
type Page struct {
	// Reset says a catch-up begins: the records held so far are forgotten,
	// and those of State and later pages marked held.
	Reset bool
	// State is the current state of records (see DB.State): merged field by
	// field, the newer stamp winning, without recording conflicts (the
	// upstream that sent it detects any when this device's own edits reach
	// it), and marking each record held.
	State []domain.Change
	// Changes are the log's tail, merged as Apply does; during a catch-up
	// their records are marked held too (the upstream sent them as in
	// scope).
	Changes []domain.Change
	// Settled says the whole state has arrived: every record not held is
	// removed, unless Keep names it or the device wrote something about it
	// that is unsent (after log sequence Unsent) or made since the catch-up
	// began; those wait in the leaving list, and go once neither holds —
	// but for those of a household held, which are in scope with it.
	Settled bool
	// Unsent is the push cursor: log entries after it that were not
	// received from the upstream are not yet acknowledged.
	Unsent uint64
	// Keep are records the device still shows its user (changes about them
	// the upstream refused): kept, with their households, until gone from it.
	// A change the upstream takes later says nothing of its record's scope
	// (it may have taken it while the record was back for a moment, and
	// acknowledge it again once it is gone): a record back in scope is one
	// whose state comes again.
	Keep []uuid.UUID
	// Cursors are stored in the same transaction, as ApplyPull does.
	Cursors map[string]string
	// Held are records whose state came in earlier parts of this page
	// (ApplyPart): marked held as State's are, after Reset.
	Held []Ref
	// Left are records that left the device's scope (a catch-up of what
	// entered it, which removes no record it did not name): they leave now,
	// or wait in the leaving list as those of a settled catch-up do; so do
	// the records of the changes Aside (set aside, never taken upstream)
	// that belong to a household named in Left.
	Left  []Ref
	Aside []uuid.UUID
	// Continues says this page is part of a catch-up of what entered the
	// scope that goes on in the next page: nothing waiting to leave goes
	// before the catch-up ends, as its state still to come may bring it
	// back (a household that left and returned, whose plan the walk by
	// kind sends after it). Without it, what waits to leave goes at once
	// once nothing keeps it.
	Continues bool
}

// Ref names a record.
type Ref struct {
	Kind domain.Kind
	ID   uuid.UUID
}

// ApplyPart merges part of a pulled page in one transaction — state first,
// then changes, as ApplyPage merges them — and nothing else: no cursor, no
// held mark, no removal. A device that applies a big page in parts applies
// the last with ApplyPage, naming in Page.Held the records whose state the
// parts brought. A crash between the parts and the last leaves merged
// changes behind a cursor that has not moved: the page is pulled again, and
// what is merged already is skipped by change ID. A record's state must not
// be split between two parts. It returns the changes not applied as
// ApplyPage does.
func (db *DB) ApplyPart(from uuid.UUID, state, changes []domain.Change) (rejected []error, err error) {
	rejected = make([]error, len(state)+len(changes))
	err = db.bolt.holding(func(tx *bolt.Tx) error {
		if db.held.repair.Load() {
			if err := db.settleHeld(tx); err != nil {
				return err
			}
		}
		before := tx.Bucket(bucketLog).Sequence()
		// A part of state alone may hold its new records' keys for a later
		// transaction (held.go); changes are merged against every key.
		if err := db.mergePage(tx, from, nil, state, changes, rejected, len(changes) == 0); err != nil {
			return err
		}
		if err := db.markHeld(tx, before, db.held.count() > 0); err != nil {
			return err
		}
		return db.saveClock(tx)
	})
	if err != nil {
		db.held.drop()
		return nil, fmt.Errorf("store: apply part of a pulled page: %w", err)
	}
	return rejected, nil
}

// mergePage merges state, marking each record held in held if not nil,
// then changes; rejected has one slot per change, state's first. If hold,
// the seen marks and index keys of the records the state creates join those
// DB.held keeps, and stay there unless enough are held (held.go).
func (db *DB) mergePage(tx *bolt.Tx, from uuid.UUID, held *bolt.Bucket, state, changes []domain.Change, rejected []error, hold bool) error {
	sc := newScoper(tx)
	lk := newLookups(tx)
	if hold {
		lk.marks, lk.keys = db.held.marks, db.held.keys
	}
	var leaving *bolt.Cursor
	if b := tx.Bucket(bucketLeaving); b != nil {
		leaving = b.Cursor()
	}
	// A record's state comes as consecutive changes: merged at once.
	for i := 0; i < len(state); {
		j := i + 1
		for j < len(state) && state[j].Record == state[i].Record && state[j].Kind == state[i].Kind {
			j++
		}
		group := state[i:j]
		var key []byte
		if held != nil || leaving != nil {
			key = heldKey(group[0].Kind, group[0].Record)
		}
		if held != nil {
			if err := held.Put(key, []byte{1}); err != nil {
				return err
			}
		}
		// A record waiting to leave whose state comes again is back in
		// scope (a catch-up of what entered the scope, without Reset).
		if leaving != nil && seek(leaving, key) != nil {
			if err := leaving.Bucket().Delete(key); err != nil {
				return err
			}
		}
		if err := db.mergeState(tx, sc, lk, from, group, rejected[i:j]); err != nil {
			return err
		}
		i = j
	}
	if !hold || db.held.full(db.now()) {
		if err := lk.flush(); err != nil {
			return err
		}
	}
	for i, ch := range changes {
		// The tail of a catch-up's page is in scope as its state is:
		// written upstream after the walk read its kind, and sent.
		if held != nil {
			if err := held.Put(heldKey(ch.Kind, ch.Record), []byte{1}); err != nil {
				return err
			}
		}
		if lk.seen(ch.ID) {
			continue
		}
		if err := checkChange(tx, ch); err != nil {
			rejected[len(state)+i] = err
			continue
		}
		if _, err := db.merge(tx, from, ch); err != nil {
			return err
		}
		db.clock.Observe(ch.Stamp)
	}
	return nil
}

// lookups reads what merging a page looks up once per change or record —
// seen, and the rows — through cursors kept for the transaction: bbolt's
// Bucket.Get allocates a cursor and its stack at every call, and a first
// pull makes tens of thousands. Each lookup seeks from the root, so the
// writes between two lookups do not mislead it.
//
// It also holds the seen marks and the index keys of the new records
// merged, written in key order by flush (see indexBatch).
type lookups struct {
	tx       *bolt.Tx
	seenKeys *bolt.Cursor
	rows     map[domain.Kind]*bolt.Cursor
	marks    seenBatch
	keys     indexBatch
}

func newLookups(tx *bolt.Tx) *lookups {
	return &lookups{tx: tx, seenKeys: tx.Bucket(bucketSeen).Cursor(), rows: map[domain.Kind]*bolt.Cursor{},
		marks: seenBatch{}, keys: indexBatch{}}
}

// seen reports whether the change with this ID is merged already.
func (l *lookups) seen(id uuid.UUID) bool {
	if _, ok := l.marks[id]; ok {
		return true
	}
	return seek(l.seenKeys, id[:]) != nil
}

// flush writes the seen marks and index keys held back.
func (l *lookups) flush() error {
	if err := l.marks.flush(l.tx); err != nil {
		return err
	}
	return l.keys.flush(l.tx)
}

// row is getRow.
func (l *lookups) row(kind domain.Kind, id uuid.UUID) (*row, error) {
	c, ok := l.rows[kind]
	if !ok {
		c = kindBucket(l.tx, kind).Cursor()
		l.rows[kind] = c
	}
	v := seek(c, id[:])
	if v == nil {
		return nil, nil
	}
	return openRow(l.tx, kind, id[:], v)
}

// seek returns the value stored under key in c's bucket, nil if none (or
// a nested bucket), as Bucket.Get does.
func seek(c *bolt.Cursor, key []byte) []byte {
	k, v := c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// ApplyPage applies one pulled page in one transaction: the state, the
// changes, the cursors and, when the catch-up is settled, the removal of
// what left the device's scope (see Page). It returns the changes not
// applied as Apply does, State's first and then Changes'. With no catch-up
// under way it also removes leaving records that are no longer kept.
func (db *DB) ApplyPage(from uuid.UUID, p Page) (rejected []error, removed int, err error) {
	rejected = make([]error, len(p.State)+len(p.Changes))
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		if p.Reset {
			if err := resetHeld(tx, p.Unsent); err != nil {
				return err
			}
		}
		held := tx.Bucket(bucketHeld)
		if held != nil {
			// In key order: the records of a pulled state come by kind,
			// and a key is ID then kind.
			keys := make([][]byte, len(p.Held))
			for i, r := range p.Held {
				keys[i] = heldKey(r.Kind, r.ID)
			}
			slices.SortFunc(keys, bytes.Compare)
			for _, k := range keys {
				if err := held.Put(k, []byte{1}); err != nil {
					return err
				}
			}
		}
		if err := db.mergePage(tx, from, held, p.State, p.Changes, rejected, false); err != nil {
			return err
		}
		if err := putCursors(tx, p.Cursors); err != nil {
			return err
		}
		if len(p.Left) > 0 {
			lv, err := tx.CreateBucketIfNotExists(bucketLeaving)
			if err != nil {
				return err
			}
			gone := map[uuid.UUID]bool{} // households that left
			for _, r := range p.Left {
				if row, err := getRow(tx, r.Kind, r.ID); err != nil {
					return err
				} else if row != nil {
					if err := lv.Put(heldKey(r.Kind, r.ID), []byte{1}); err != nil {
						return err
					}
				}
				if r.Kind == domain.KindHousehold {
					gone[r.ID] = true
				}
			}
			// What the device wrote about a household that left and the
			// upstream never took (changes set aside) is not named: it
			// leaves with the household, once nothing keeps it.
			if len(gone) > 0 {
				if err := leaveWith(tx, lv, gone, p.Aside); err != nil {
					return err
				}
			}
		}
		var err error
		switch {
		case p.Settled && held != nil:
			removed, err = settle(tx, from, p.Unsent, p.Keep)
		case held == nil && !p.Continues:
			removed, err = purgeLeaving(tx, from, p.Unsent, p.Keep)
		}
		if err != nil {
			return err
		}
		return db.saveClock(tx)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: apply pulled page: %w", err)
	}
	return rejected, removed, nil
}

func heldKey(kind domain.Kind, id uuid.UUID) []byte {
	return append(append(make([]byte, 0, 16+len(kind)), id[:]...), kind...)
}

// resetHeld starts a catch-up: no record held, and the push cursor
// remembered: what the device writes or sends after it may reach the
// upstream after its walk of the current state passed the record.
func resetHeld(tx *bolt.Tx, unsent uint64) error {
	if tx.Bucket(bucketHeld) != nil {
		if err := tx.DeleteBucket(bucketHeld); err != nil {
			return err
		}
	}
	b, err := tx.CreateBucket(bucketHeld)
	if err != nil {
		return err
	}
	return b.Put(keyHeldStart, u64(unsent))
}

// mergeState merges the changes of one record's state: each field takes
// the newer of the two stamps, and no conflict is recorded. A change that
// cannot be merged (see checkChange) is not, and its error is set in
// rejected. The changes that changed something are logged (as received from
// from), so that a state sent again costs no log entry; the record is
// decoded, indexed and located once.
func (db *DB) mergeState(tx *bolt.Tx, sc *scoper, lk *lookups, from uuid.UUID, chs []domain.Change, rejected []error) error {
	kind, id := chs[0].Kind, chs[0].Record
	r, err := lk.row(kind, id)
	if err != nil {
		return err
	}
	var old domain.Record
	if r != nil {
		if old, err = r.record(kind, id); err != nil {
			return err
		}
	}
	// A new record's first change is its whole row: kept as the change
	// and encoded from it (encodeFresh), unless a later change of the
	// state changes it too. A first pull is mostly such records.
	var fresh *domain.Change
	var logged []domain.Change
	var rec domain.Record // the row decoded
	for i := range chs {
		ch := &chs[i]
		if lk.seen(ch.ID) {
			continue
		}
		if ch.ID == uuid.Nil || len(ch.Fields) == 0 {
			rejected[i] = domain.Errorf(domain.EINVALID, "change", "变更不完整", "the change is incomplete")
			continue
		}
		if r == nil && fresh == nil {
			dec, err := (&row{Updated: max(ch.Stamp.Wall, 0)}).recordOf(kind, id, ch.Fields)
			if err != nil {
				rejected[i] = rejectState(tx, *ch, err)
				continue
			}
			fresh, rec = ch, dec
			logged = append(logged, *ch)
			db.clock.Observe(ch.Stamp)
			continue
		}
		if r == nil {
			r = freshRow(fresh)
		}
		changed := false
		for name := range ch.Fields {
			cur, has := r.state(name)
			if has && !ch.Stamp.After(cur.Stamp) {
				continue
			}
			changed = true
			break
		}
		if !changed {
			continue
		}
		next := &row{Fields: make(map[string]cell, len(r.Fields)+len(ch.Fields)), Updated: r.Updated}
		maps.Copy(next.Fields, r.Fields)
		values := cloneValues(ch.Fields)
		for name, value := range ch.Fields {
			if cur, has := next.state(name); has && !ch.Stamp.After(cur.Stamp) {
				continue
			}
			next.set(name, domain.FieldState{Value: values(value), Stamp: ch.Stamp, Author: ch.Author})
		}
		dec, err := next.record(kind, id)
		if err != nil {
			rejected[i] = rejectState(tx, *ch, err)
			continue
		}
		r, rec = next, dec
		logged = append(logged, *ch)
		db.clock.Observe(ch.Stamp)
	}
	if len(logged) == 0 {
		return nil
	}
	// A state comes in ID order (see State): its records are appended to
	// their bucket, or inserted as sorted runs, and bbolt's default split
	// at half a page left a fresh device's visits two to a page, 40 %
	// used, written out twice the size they are.
	kindBucket(tx, kind).FillPercent = 1
	if r != nil {
		err = putRow(tx, kind, id, r)
	} else {
		err = putEncodedRow(tx, kind, id, encodeFresh(fresh))
	}
	if err != nil {
		return err
	}
	if old != nil {
		// Its keys may be held back (a record merged twice in a page),
		// and a photo's reindex reads photo_hash.
		if err := lk.flush(); err != nil {
			return err
		}
	}
	if err := reindexInto(tx, kind, old, rec, lk.keys); err != nil {
		return err
	}
	switch kind {
	case domain.KindHousehold:
		delete(sc.hh, id) // its group may have changed
	case domain.KindPlace:
		clear(sc.places) // its parent may have changed
		clear(sc.hh)
	}
	at := sc.entry(rec)
	for _, ch := range logged {
		e := &Entry{From: from, Household: at.Household, Village: at.Village, Town: at.Town, Change: ch}
		if err := appendLogSeen(tx, e, lk.marks); err != nil {
			return err
		}
	}
	return nil
}

// rejectState returns the error of a state's change whose fields, merged,
// cannot be decoded (err): checkChange's, which says which field.
func rejectState(tx *bolt.Tx, ch domain.Change, err error) error {
	if bad := checkChange(tx, ch); bad != nil {
		return bad
	}
	return domain.Errorf(domain.EINVALID, "fields", "变更内容无法读取：%v", "the change cannot be read: %v", err)
}

// freshRow is the row of a new record made by ch alone.
func freshRow(ch *domain.Change) *row {
	r := &row{Fields: make(map[string]cell, len(ch.Fields))}
	values := cloneValues(ch.Fields)
	for name, value := range ch.Fields {
		r.set(name, domain.FieldState{Value: values(value), Stamp: ch.Stamp, Author: ch.Author})
	}
	return r
}

// leaveWith puts in the leaving list the records of the changes aside
// (set aside: the upstream never took them) that belong to one of the
// households gone.
func leaveWith(tx *bolt.Tx, lv *bolt.Bucket, gone map[uuid.UUID]bool, aside []uuid.UUID) error {
	seen, log := tx.Bucket(bucketSeen), tx.Bucket(bucketLog)
	for _, id := range aside {
		seq := seen.Get(id[:])
		if len(seq) != 8 {
			continue
		}
		v := log.Get(seq)
		if v == nil {
			continue
		}
		e, _, err := decodeHeader(binary.BigEndian.Uint64(seq), v)
		if err != nil {
			return err
		}
		if gone[e.Household] || gone[e.Change.Record] {
			if err := lv.Put(heldKey(e.Change.Kind, e.Change.Record), []byte{1}); err != nil {
				return err
			}
		}
	}
	return nil
}

// kept returns the records and households a device must keep although they
// left its scope: those of log entries after sequence after that it did not
// receive from upstream, and keep.
func kept(tx *bolt.Tx, upstream uuid.UUID, after uint64, keep []uuid.UUID) map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	keepAlso(tx, keep, out)
	c := tx.Bucket(bucketLog).Cursor()
	for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
		if len(v) > 17 && v[0] == logBinary && string(v[1:17]) == string(upstream[:]) {
			continue // received from upstream, said by the header's first field
		}
		e, _, err := decodeHeader(binary.BigEndian.Uint64(k), v)
		if err != nil || e.From == upstream {
			continue
		}
		out[e.Change.Record] = true
		if e.Household != uuid.Nil {
			out[e.Household] = true
		}
	}
	return out
}

// keepAlso adds to out the records of keep and their households.
func keepAlso(tx *bolt.Tx, keep []uuid.UUID, out map[uuid.UUID]bool) {
	for _, id := range keep {
		out[id] = true
		for _, kind := range domain.Kinds {
			if r, err := getRow(tx, kind, id); err == nil && r != nil {
				if h := rowHousehold(kind, id, r); h != uuid.Nil {
					out[h] = true
				}
			}
		}
	}
}

// settle ends a catch-up: every record not held leaves, now or (if kept)
// once nothing keeps it.
func settle(tx *bolt.Tx, upstream uuid.UUID, unsent uint64, keep []uuid.UUID) (int, error) {
	held := tx.Bucket(bucketHeld)
	if held == nil {
		return 0, nil
	}
	start := unsent
	if v := held.Get(keyHeldStart); len(v) == 8 {
		start = min(start, binary.BigEndian.Uint64(v))
	}
	if tx.Bucket(bucketLeaving) != nil {
		if err := tx.DeleteBucket(bucketLeaving); err != nil {
			return 0, err
		}
	}
	leaving, err := tx.CreateBucket(bucketLeaving)
	if err != nil {
		return 0, err
	}
	// Records the device wrote about since the catch-up began (fresh) may
	// be missing from the state: the walk passed them before the upstream
	// took them. One of a household held is in scope with it, and stays;
	// so is one of the roster whose village (or town) is held.
	// Any other waits to leave like the rest, kept while the write is
	// unsent or its refusal shown: the upstream may refuse it, or take it
	// while the household is back in scope for a moment and answer when
	// it is gone again (a write it has already is not judged again), and
	// then nothing would ever name the household to the device as left.
	fresh := kept(tx, upstream, start, nil)
	sc := newScoper(tx)
	hc := held.Cursor() // one cursor and key for every record's lookup
	var key, hkey []byte
	for _, kind := range domain.Kinds {
		b := kindBucket(tx, kind)
		if b == nil {
			continue
		}
		err := b.ForEach(func(k, v []byte) error {
			id := uuid.UUID(k)
			key = append(append(key[:0], k...), kind...)
			if seek(hc, key) != nil {
				return nil
			}
			h := uuid.Nil
			r, err := openRow(tx, kind, k, v)
			if err == nil {
				h = rowHousehold(kind, id, r)
			}
			if fresh[id] || h != uuid.Nil && fresh[h] {
				// Its unit: its household, or the village (else town) of
				// a record of the roster; a cadre has none, and stays.
				unit, unitKind := h, domain.KindHousehold
				if r == nil {
					return nil
				}
				if h == uuid.Nil {
					rec, err := r.record(kind, id)
					if err != nil {
						return nil
					}
					e := sc.entry(rec)
					unit, unitKind = cmp.Or(e.Village, e.Town), domain.KindPlace
					if unit == uuid.Nil {
						return nil
					}
				}
				hkey = append(append(hkey[:0], unit[:]...), unitKind...)
				if unit != id && seek(hc, hkey) != nil {
					return nil
				}
			}
			return leaving.Put(key, []byte{1})
		})
		if err != nil {
			return 0, err
		}
	}
	if err := tx.DeleteBucket(bucketHeld); err != nil {
		return 0, err
	}
	// What waits to leave goes now unless a write about it is unsent or
	// its refusal shown: one taken upstream keeps nothing (see above).
	return removeLeaving(tx, kept(tx, upstream, unsent, keep))
}

// purgeLeaving removes the leaving records nothing keeps any more.
func purgeLeaving(tx *bolt.Tx, upstream uuid.UUID, unsent uint64, keep []uuid.UUID) (int, error) {
	b := tx.Bucket(bucketLeaving)
	if b == nil {
		return 0, nil
	}
	if k, _ := b.Cursor().First(); k == nil {
		return 0, nil
	}
	return removeLeaving(tx, kept(tx, upstream, unsent, keep))
}

// removeLeaving removes every leaving record that keep names neither nor
// by its household: its row, index keys and log entries. A record whose
// household the device holds and does not see leave is back in scope with
// it (its household came back, or its own state did while its plan's did
// not): it no longer waits to leave. A household's records go with it.
func removeLeaving(tx *bolt.Tx, keep map[uuid.UUID]bool) (int, error) {
	leaving := tx.Bucket(bucketLeaving)
	type gone struct {
		kind domain.Kind
		id   uuid.UUID
	}
	var out []gone
	var back [][]byte
	err := leaving.ForEach(func(k, _ []byte) error {
		id, kind := uuid.UUID(k[:16]), domain.Kind(k[16:])
		if keep[id] {
			return nil
		}
		r, err := getRow(tx, kind, id)
		if err != nil {
			return err
		}
		if r != nil {
			h := rowHousehold(kind, id, r)
			if h != uuid.Nil && keep[h] {
				return nil
			}
			if h != uuid.Nil && h != id && leaving.Get(heldKey(domain.KindHousehold, h)) == nil {
				if hr, err := getRow(tx, domain.KindHousehold, h); err != nil {
					return err
				} else if hr != nil {
					back = append(back, slices.Clone(k))
					return nil
				}
			}
		}
		out = append(out, gone{kind, id})
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range back {
		if err := leaving.Delete(k); err != nil {
			return 0, err
		}
	}
	// A household's records go with it, those never named too: the
	// device's own, which the upstream took while the household was in
	// its scope there but not in the scope the device held (index part_hh:
	// household, kind, 0, ID). Not its pairings: one of a cadre whose
	// pairings elsewhere the device reads stays, and the upstream names
	// any other.
	named := make(map[uuid.UUID]bool, len(out))
	for _, g := range out {
		named[g.id] = true
	}
	for _, g := range out {
		if g.kind != domain.KindHousehold {
			continue
		}
		scan(tx, "part_hh", g.id[:], func(k []byte, id uuid.UUID) bool {
			if len(k) <= 33 || named[id] || keep[id] {
				return true
			}
			if kind := domain.Kind(k[16 : len(k)-17]); kind != domain.KindAssignment {
				named[id] = true
				out = append(out, gone{kind, id})
			}
			return true
		})
	}
	if len(out) == 0 {
		return 0, nil
	}
	ids := make(map[uuid.UUID]bool, len(out))
	for _, g := range out {
		if err := leaving.Delete(heldKey(g.kind, g.id)); err != nil {
			return 0, err
		}
		r, err := getRow(tx, g.kind, g.id)
		if err != nil || r == nil {
			continue
		}
		if old, err := r.record(g.kind, g.id); err == nil {
			if err := reindex(tx, g.kind, old, nil); err != nil {
				return 0, err
			}
		}
		if err := kindBucket(tx, g.kind).Delete(g.id[:]); err != nil {
			return 0, err
		}
		ids[g.id] = true
	}
	// Their log entries go too: what left the device's scope does not stay
	// in its history either.
	log, seen := tx.Bucket(bucketLog), tx.Bucket(bucketSeen)
	var drop [][]byte
	var dropSeen []uuid.UUID
	c := log.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		e, _, err := decodeHeader(binary.BigEndian.Uint64(k), v)
		if err != nil || !ids[e.Change.Record] {
			continue
		}
		drop = append(drop, slices.Clone(k))
		dropSeen = append(dropSeen, e.Change.ID)
	}
	for _, k := range drop {
		if err := log.Delete(k); err != nil {
			return 0, err
		}
	}
	for _, id := range dropSeen {
		if err := seen.Delete(id[:]); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// rowHousehold returns the household a stored row belongs to, from its
// "household" field (or its own ID for a household, its target for a
// pairing).
func rowHousehold(kind domain.Kind, id uuid.UUID, r *row) uuid.UUID {
	switch kind {
	case domain.KindHousehold:
		return id
	case domain.KindAssignment:
		rec, err := r.record(kind, id)
		if err == nil && rec.(*domain.Assignment).Role.IsPairing() {
			return rec.(*domain.Assignment).Target
		}
		return uuid.Nil
	}
	c, ok := r.Fields["household"]
	if !ok {
		return uuid.Nil
	}
	var h uuid.UUID
	if json.Unmarshal(c.V, &h) != nil {
		return uuid.Nil
	}
	return h
}

// Leaving returns how many records wait to leave the device: out of its
// scope, kept for work not yet sent or a refusal not yet seen.
func (db *DB) Leaving() (int, error) {
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketLeaving); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}
