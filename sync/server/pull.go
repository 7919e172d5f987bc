package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// cursor is where a device's pull stands, as the opaque string of the
// protocol carries it:
//
//	<seq>@<server>~<scope>[~<pos>[~<window>[~<from>]]]!<mac>
//
// seq is the last log sequence the device has been answered for; server the
// first 8 hex digits of the server's replica ID and its epoch (see tag), so
// that a cursor from another server, a replaced database or a restored
// backup is recognised; scope the
// fingerprint of the readable units the cursor was issued under
// (store.ScopePrint). During a catch-up, pos is where the walk of the current
// state resumes (store.StatePos); window is the newest log sequence a page of
// the catch-up has reflected: log entries through it, which the state may
// already show newer values of, are sent as state too (pos empty once the
// state is sent and the tail is still within the window). from, during a
// catch-up of what entered the scope and until the tail passes its window,
// is the fingerprint the device's scope had before: the records of its
// units are not sent again, and their entries through the window are sent
// as the tail's. mac seals the rest to the device's token (sealCursor).
type cursor struct {
	seq    uint64
	scope  string
	pos    *store.StatePos
	window uint64
	from   string
}

// tag names the log a cursor points into: the server's replica ID and, after
// a restore from a backup, its epoch ("<first 8 hex of the ID>.<epoch in
// hex>"). A cursor handed out before the restore points into a log the
// server no longer has, and is refused (the device then pulls from the start
// and pushes its own changes again).
func (s *Server) tag() string {
	t := s.db.Device().String()[:8]
	if e, err := s.db.Epoch(); err == nil && e != 0 {
		t += "." + strconv.FormatUint(e, 16)
	}
	return t
}

func (s *Server) encodeCursor(c cursor, token string) string {
	b := strconv.FormatUint(c.seq, 10) + "@" + s.tag() + "~" + c.scope
	switch {
	case c.pos != nil:
		b += "~" + c.pos.String() + "~" + strconv.FormatUint(c.window, 10)
		if c.from != "" {
			b += "~" + c.from
		}
	case c.window > c.seq:
		b += "~~" + strconv.FormatUint(c.window, 10)
		if c.from != "" {
			b += "~" + c.from
		}
	}
	return sealCursor(b, token)
}

// sealCursor appends to cursor c its MAC under token, the token of the
// device it is issued to (<cursor>!<mac>). A cursor names scopes the server
// remembers the units of, and a catch-up from one names as left what its
// units hold that the device may no longer read: a cursor copied from
// another device would have the server name, by kind and ID, records of
// that device's scope. One that does not open under the token of the
// device that hands it back keeps its position only (parseCursor): its
// scope is taken as unknown, and the device catches up with a reset, as a
// device enrolled again (with a new token) does once.
func sealCursor(c, token string) string { return c + "!" + cursorMAC(c, token) }

// openCursor splits the MAC off c, and reports whether it is c's under
// token.
func openCursor(c, token string) (body string, sealed bool) {
	i := strings.LastIndexByte(c, '!')
	if i < 0 {
		return c, false
	}
	body = c[:i]
	return body, hmac.Equal([]byte(c[i+1:]), []byte(cursorMAC(body, token)))
}

func cursorMAC(c, token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(c))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

// parseCursor reads the cursor c of the device whose token is token. A
// cursor of an older server (without a scope fingerprint), or one not
// sealed under token, reads as one with an unknown scope: the device
// catches up once.
func (s *Server) parseCursor(c, token string) (cursor, error) {
	if c == "" {
		return cursor{}, nil
	}
	c, sealed := openCursor(c, token)
	parts := strings.Split(c, "~")
	num, tag, ok := strings.Cut(parts[0], "@")
	seq, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil || tag != s.tag() || len(parts) > 5 {
		return cursor{}, protocol.ErrCursor
	}
	cur := cursor{seq: seq}
	if len(parts) > 1 {
		cur.scope = parts[1]
	}
	if len(parts) > 2 && parts[2] != "" {
		pos, ok := store.ParseStatePos(parts[2])
		if !ok {
			return cursor{}, protocol.ErrCursor
		}
		cur.pos = &pos
	}
	if len(parts) > 3 {
		if cur.window, err = strconv.ParseUint(parts[3], 10, 64); err != nil {
			return cursor{}, protocol.ErrCursor
		}
	}
	if len(parts) > 4 {
		if parts[4] == "" || cur.pos == nil && cur.window <= seq {
			return cursor{}, protocol.ErrCursor
		}
		cur.from = parts[4]
	}
	last, err := s.db.LastSeq()
	if err != nil {
		return cursor{}, err
	}
	if seq > last || cur.window > last {
		return cursor{}, protocol.ErrCursor
	}
	if !sealed {
		return cursor{seq: seq}, nil
	}
	return cur, nil
}

// pull fills resp with a page for the device dev whose scope is sc, after
// cur, and sets resp.Cursor; it returns how many changes it put in.
//
// When the readable units differ from those the cursor was issued under (a
// new device; a reassignment; a household moved in or out), a catch-up
// starts: the current state of every readable record (store.State), paged by
// position, then the log entries written meanwhile as state, then the tail.
// Whatever sc.readable accepts now is sent whatever it accepted before, so
// the catch-up does not depend on how the scope is worked out.
func (s *Server) pull(dev uuid.UUID, token string, sc *scope, cur cursor, delta bool, resp *protocol.SyncResponse) (int, error) {
	sc.loadStaffNow() // before ScopePrint, State and LogWhere call readable in their transactions
	if sc.staffErr != nil {
		return 0, sc.staffErr
	}
	us, _ := s.db.(unitStore)
	if !delta {
		us = nil // a device that would not understand a catch-up of what entered
	}
	var print string
	var last uint64
	var units []uuid.UUID
	var err error
	// The units are looked for where the scope reaches only, when the
	// storage can (the same fingerprint as the walk of every unit).
	in, narrow := sc.within()
	uin, _ := us.(unitsIn)
	pin, _ := s.db.(printIn)
	switch {
	case us != nil && narrow && uin != nil:
		print, last, units, err = uin.ScopeUnitsIn(in, sc.readable)
	case us != nil:
		print, last, units, err = us.ScopeUnits(sc.readable)
	case narrow && pin != nil:
		print, last, err = pin.ScopePrintIn(in, sc.readable)
	default:
		print, last, err = s.db.ScopePrint(sc.readable)
	}
	if err != nil {
		return 0, err
	}
	if cur.scope != print {
		// The scope the device holds: the cursor's. During a catch-up it
		// holds nothing for sure (a catch-up of what entered may have
		// removed some of what left already): a whole one, then.
		held := cur.scope
		if cur.pos != nil {
			held = ""
		}
		if known, err := s.known(us, held); err != nil {
			return 0, err
		} else if known {
			cur = cursor{seq: cur.seq, scope: print, pos: &store.StatePos{}, window: max(cur.window, last), from: held}
		} else {
			cur = cursor{seq: last, scope: print, pos: &store.StatePos{}, window: last}
			resp.Reset = true
		}
	}
	if us != nil {
		if err := us.RememberScope(print, units, s.now()); err != nil {
			return 0, err
		}
	}
	var now map[uuid.UUID]bool // the units readable now: households among them
	if us != nil {
		now = unitSet(units)
	}
	// In a catch-up of what entered the scope, the walk of the current
	// state sends the records readable now that the device did not hold,
	// and names those it held that are no longer readable. Through the
	// window of one, its state was what entered alone: a household the
	// device held before was not sent again, so its entries there are the
	// tail's like any other — sent as changes, and one skipped tells that
	// it went away and came back (keep) while the catch-up's pages were
	// read.
	readable, left := sc.readable, false
	var was map[uuid.UUID]bool // the units held before a catch-up of what entered
	if cur.from != "" {
		var old []uuid.UUID
		ok := false
		if us != nil {
			if old, ok, err = us.ScopeUnitsOf(cur.from); err != nil {
				return 0, err
			}
		}
		switch {
		case ok:
			was = unitSet(old)
		case cur.pos != nil: // forgotten meanwhile, or a device that stopped naming the feature
			cur = cursor{seq: last, scope: print, pos: &store.StatePos{}, window: last}
			resp.Reset = true
		default:
			cur.from = "" // forgotten: the state is taken to reflect the window, as before
		}
		if was != nil && cur.pos != nil {
			held := store.HeldUnder(old)
			in = in.Union(store.HeldWithin(old)) // what left is named too
			// A record that was a unit of its own (a pairing or duty
			// elsewhere) and is readable now through its household or
			// place comes again: what was written about it while it was
			// elsewhere (its ending, its deletion) named a village the
			// device does not read, and the tail skipped it.
			readable = func(e *store.Entry) bool {
				r, h := sc.readable(e), held(e)
				left = h && !r
				home := r && h && was[e.Change.Record] && !now[e.Change.Record]
				return r != h || home
			}
		}
	}
	pulled, size := 0, 0
	add := func(list *[]protocol.Change, wc protocol.Change) bool {
		n := wc.Size()
		if pulled > 0 && size+n > s.page {
			resp.More = true
			return false
		}
		*list = append(*list, wc)
		pulled++
		size += n
		return true
	}
	if cur.pos != nil {
		// The records of the device's partitions only, when the storage
		// can find them (the same records as the walk of every one).
		state := s.db.State
		if sin, ok := s.db.(stateIn); ok && narrow {
			state = func(pos store.StatePos, readable func(*store.Entry) bool, fn func(store.StatePos, []domain.Change) (bool, error)) (uint64, error) {
				return sin.StateIn(in, pos, readable, fn)
			}
		}
		seen, err := state(*cur.pos, readable, func(next store.StatePos, changes []domain.Change) (bool, error) {
			if left { // readable called just before, for this record
				if pulled > 0 && size+len(changes[0].Kind)+64 > s.page {
					resp.More = true
					return false, nil
				}
				resp.Left = append(resp.Left, protocol.Ref{Kind: changes[0].Kind, Record: changes[0].Record.String()})
				pulled++
				size += len(changes[0].Kind) + 64
				*cur.pos = next
				return true, nil
			}
			wcs, err := protocol.EncodeChanges(changes)
			if err != nil {
				s.log.Error("record state does not convert to the wire", "kind", changes[0].Kind, "record", changes[0].Record, "err", err)
				*cur.pos = next
				return true, nil
			}
			n := 0
			for _, wc := range wcs {
				n += wc.Size()
			}
			// A record's state travels whole, in one page.
			if pulled > 0 && size+n > s.page {
				resp.More = true
				return false, nil
			}
			resp.State = append(resp.State, wcs...)
			pulled += len(wcs)
			size += n
			*cur.pos = next
			return true, nil
		})
		if err != nil {
			return 0, err
		}
		cur.window = max(cur.window, seen)
		if resp.More {
			resp.Cursor = s.encodeCursor(cur, token)
			return pulled, nil
		}
		cur.pos = nil
		// Also at the end of a catch-up of what entered the scope: the
		// device holds no catch-up's marks then (it began without Reset),
		// so it removes nothing, and it offers the changes it set aside
		// again, as after any catch-up.
		resp.Settled = true
	}
	// Entries the device may not have, or sent itself, are skipped from
	// their header alone; the cursor passes them, so they are not walked again.
	//
	// But an entry of a household readable now, skipped because its header
	// is not, was written while the household was elsewhere: it moved away
	// and back since the device's last sync, which leaves the fingerprint
	// as it was. What was written meanwhile would never reach the device;
	// the household's records as they are now do, in a catch-up of what
	// entered (below). Entries through the window are reflected by the
	// state of a catch-up just made.
	heldBefore := func(e *store.Entry) bool { return e.Household != uuid.Nil && was[e.Household] }
	// The walk of the log after the cursor: the device's partitions only,
	// when the storage can read them. What it passes over is out of scope.
	// The households readable now are read wherever their entries were
	// written, to find one that came back (keep).
	pl, partitioned := s.db.(PartitionedLog)
	walk := s.db.LogWhere
	if partitioned {
		p := sc.partitions()
		if now != nil && !p.All {
			p.Households = append(p.Households, units...)
		}
		walk = func(after uint64, keep func(*store.Entry) bool, fn func(store.Entry) (bool, error)) error {
			return pl.LogIn(after, p, keep, fn)
		}
	}
	// An entry whose header the device reads, of a household that is not
	// among the units readable now, was written while the household was
	// in the scope: it left since. Through the window of a catch-up the
	// state has named it as left; after it, the household came in and
	// went out again since the device's last sync, and the device never
	// held it. Sent, the entry would bring back a piece of what was named
	// as left, or give the device a household made of one edit (no head,
	// no members). Where the household is now decides, as the state
	// would (store.DB.Locate; a deleted household stays where it was, so
	// its deletion reaches the devices that hold it): the walk stops at
	// the first household not yet located, and goes on once it is.
	loc, _ := s.db.(locator)
	if now == nil {
		loc = nil // without units, headers decide
	}
	whereNow := map[uuid.UUID]bool{} // households located: readable where they are now
	var ask uuid.UUID                // the household to locate before the walk goes on
	gone := func(e *store.Entry) (gone, unknown bool) {
		h := e.Household
		if loc == nil || h == uuid.Nil || now[h] || now[e.Change.Record] {
			return false, false
		}
		readable, located := whereNow[h]
		return located && !readable, !located
	}
	var back uuid.UUID // the first household found to have come back
	keep := func(e *store.Entry) bool {
		if back != uuid.Nil {
			return false // the walk stopped there: see below
		}
		if s.sendable(dev, sc, e) {
			g, unknown := gone(e)
			if unknown {
				ask = e.Household
				return true // each stops the walk there
			}
			if !g {
				return true
			}
		}
		if (e.Seq > cur.window || heldBefore(e)) && e.Household != uuid.Nil && now[e.Household] && !own(dev, e) {
			back = e.Household
		}
		cur.seq = e.Seq
		return false
	}
	each := func(e store.Entry) (bool, error) {
		if ask != uuid.Nil {
			return false, nil // not passed: walked again once located
		}
		wc, err := protocol.FromDomain(e.Change)
		if err != nil {
			// A change that cannot travel is logged and skipped, so that one
			// bad entry does not stop every device behind it.
			s.log.Error("log entry does not convert to the wire", "seq", e.Seq, "err", err)
			cur.seq = e.Seq
			return true, nil
		}
		list := &resp.Changes
		if e.Seq <= cur.window && !heldBefore(&e) {
			list = &resp.State // the catch-up's state may already be newer
		}
		if !add(list, wc) {
			return false, nil
		}
		cur.seq = e.Seq
		return true, nil
	}
	// What a partitioned storage passes over is out of scope, so a pull
	// that ends passes the log's end as it stood before the read (entries
	// commit in sequence order).
	var through uint64
	if partitioned {
		if through, err = s.db.LastSeq(); err != nil {
			return 0, err
		}
	}
	for {
		ask = uuid.Nil
		if err := walk(cur.seq, keep, each); err != nil {
			return 0, err
		}
		if ask == uuid.Nil {
			break
		}
		where, err := loc.Locate([]uuid.UUID{ask})
		if err != nil {
			return 0, err
		}
		l := where[ask]
		whereNow[ask] = sc.readable(&store.Entry{Household: ask, Village: l.Village, Town: l.Town,
			Change: domain.Change{Kind: domain.KindHousehold, Record: ask}})
	}
	if partitioned && !resp.More && back == uuid.Nil && through > cur.seq {
		cur.seq = through
	}
	if back != uuid.Nil {
		// The device is taken to hold what is readable now but the
		// household that came back: remembered under a fingerprint of its
		// own, for the catch-up of what entered to start from.
		held := slices.DeleteFunc(slices.Clone(units), func(u uuid.UUID) bool { return u == back })
		from := print + "^" + back.String()
		if err := us.RememberScope(from, held, s.now()); err != nil {
			return 0, err
		}
		cur = cursor{seq: cur.seq, scope: print, pos: &store.StatePos{}, window: max(cur.window, last), from: from}
		resp.More = true
	}
	if cur.window <= cur.seq {
		cur.window = 0
		if cur.pos == nil {
			cur.from = ""
		}
	}
	resp.Cursor = s.encodeCursor(cur, token)
	return pulled, nil
}

func unitSet(units []uuid.UUID) map[uuid.UUID]bool {
	set := make(map[uuid.UUID]bool, len(units))
	for _, u := range units {
		set[u] = true
	}
	return set
}

// locator is what a Store offers to tell where households are now
// (store.DB does).
type locator interface {
	Locate(households []uuid.UUID) (map[uuid.UUID]store.Location, error)
}

// unitStore is what a Store offers to catch a device up on only what
// entered its scope (store.DB does): the units behind fingerprints.
type unitStore interface {
	ScopeUnits(readable func(*store.Entry) bool) (string, uint64, []uuid.UUID, error)
	RememberScope(print string, units []uuid.UUID, now time.Time) error
	ScopeUnitsOf(print string) ([]uuid.UUID, bool, error)
}

// printIn and unitsIn are what a Store offers to fingerprint a scope by
// walking only where it reaches (store.DB does): ScopePrint and ScopeUnits
// with the candidates of scope.within.
type printIn interface {
	ScopePrintIn(in store.Within, readable func(*store.Entry) bool) (string, uint64, error)
}

type unitsIn interface {
	ScopeUnitsIn(in store.Within, readable func(*store.Entry) bool) (string, uint64, []uuid.UUID, error)
}

// stateIn is what a Store offers to walk the current state of a scope's
// partitions only (store.DB does): State with the candidates of
// scope.within.
type stateIn interface {
	StateIn(in store.Within, pos store.StatePos, readable func(*store.Entry) bool, fn func(next store.StatePos, changes []domain.Change) (bool, error)) (uint64, error)
}

// known reports whether the units behind fingerprint held are remembered:
// a catch-up of what entered the scope (and of what left it) can start from
// them.
func (s *Server) known(us unitStore, held string) (bool, error) {
	if us == nil || held == "" {
		return false, nil
	}
	_, ok, err := us.ScopeUnitsOf(held)
	return ok, err
}

// entered reports whether the device that sent r understands a catch-up of
// what entered its scope (protocol.FeatureEntered).
func entered(r *http.Request) bool {
	for _, v := range r.Header.Values(protocol.HeaderFeatures) {
		for f := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(f) == protocol.FeatureEntered {
				return true
			}
		}
	}
	return false
}

// sendable reports whether log entry e goes to device dev: in its scope, and
// not from it. A conflict record is sent even when stamped with the device's
// own winning edit, as the device may not have detected the loss itself.
func (s *Server) sendable(dev uuid.UUID, sc *scope, e *store.Entry) bool {
	return !own(dev, e) && sc.readable(e)
}

// own reports whether the device dev sent or made the entry e, and so holds
// it already; a conflict record it stamped is not its own (see sendable).
func own(dev uuid.UUID, e *store.Entry) bool {
	return e.From == dev || e.Change.Stamp.Device == dev && e.Change.Kind != domain.KindConflict
}

// Roster is what Readable reads of a Store: a cadre's assignments and who
// is assigned where (a *store.DB is one).
type Roster interface {
	Reach(cadre uuid.UUID) ([]replica.Assigned, error)
	Staff(within, at []uuid.UUID) (map[uuid.UUID]bool, error)
}

// Readable returns the predicate that decides which records the devices of
// cadre may read now, as a sync would work it out: what tests and tools
// compare a device's records with (a device holds exactly the records whose
// current state store.State yields for it).
func Readable(db Roster, cadre uuid.UUID) (func(*store.Entry) bool, error) {
	reach, err := db.Reach(cadre)
	if err != nil {
		return nil, err
	}
	sc := newScope(cadre, uuid.Nil, reach, nil)
	sc.loadStaff = db.Staff
	sc.loadStaffNow()
	return sc.readable, sc.staffErr
}
