package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
)

// Put saves records edited by author, all in one transaction: each record is
// validated on its own and against the records it points at, compared with the
// stored version, and only the fields that changed become a change, stamped by
// the replica's clock and logged for sync. A record that did not change writes
// nothing. If any record is invalid, nothing is written and the error says
// which and why.
//
// A new record (zero ID) gets a fresh UUID; Put sets the IDs and Meta of the
// records it is given.
func (db *DB) Put(author uuid.UUID, recs ...domain.Record) error {
	return db.PutDraft(author, "", recs...)
}

// PutDraft is Put that also removes the draft saved under key (see SaveDraft)
// in the same transaction: a visit typed as a draft becomes a record, and a
// crash can leave the draft or the record but never both, nor neither.
func (db *DB) PutDraft(author uuid.UUID, key string, recs ...domain.Record) error {
	return db.PutBlobs(author, key, nil, recs...)
}

func (db *DB) put(tx *bolt.Tx, author uuid.UUID, rec domain.Record, now time.Time) error {
	m := rec.Metadata()
	if m.ID == uuid.Nil {
		m.ID = uuid.New()
	}
	r, err := getRow(tx, rec.Kind(), m.ID)
	if err != nil {
		return err
	}
	if r == nil {
		if m.Created.IsZero() {
			m.Created = now
		}
		if m.Author == uuid.Nil {
			m.Author = author
		}
		if m.Device == uuid.Nil {
			m.Device = db.device
		}
	} else if stored, err := r.record(rec.Kind(), m.ID); err == nil {
		sm := stored.Metadata()
		if m.Created.IsZero() {
			m.Created = sm.Created
		}
		if m.Author == uuid.Nil {
			m.Author = sm.Author
		}
		if m.Device == uuid.Nil {
			m.Device = sm.Device
		}
	}
	if !m.Deleted {
		if err := rec.Validate(now); err != nil {
			return err
		}
		if err := checkRefs(tx, rec); err != nil {
			return err
		}
		if p, ok := rec.(*domain.Photo); ok {
			if err := db.checkPhoto(tx, p, r == nil); err != nil {
				return err
			}
		}
	}
	fields, err := domain.Encode(rec)
	if err != nil {
		return err
	}
	var prev domain.Fields
	if r != nil {
		prev = r.fields()
	}
	diff := domain.Diff(prev, fields)
	if len(diff) == 0 {
		return nil
	}
	ch := domain.Change{ID: uuid.New(), Kind: rec.Kind(), Record: m.ID, Author: author, Stamp: db.clock.Now(), Fields: diff}
	if r != nil {
		for name := range diff {
			if st, ok := r.state(name); ok {
				if ch.Base == nil {
					ch.Base = map[string]domain.Stamp{}
				}
				ch.Base[name] = st.Stamp
			}
		}
	}
	_, err = db.merge(tx, uuid.Nil, ch)
	return err
}

// Delete marks a record deleted (a tombstone): it disappears from queries but
// stays for sync, so that every replica learns of the deletion.
func (db *DB) Delete(author uuid.UUID, kind domain.Kind, id uuid.UUID) error {
	now := db.Now()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := load(tx, kind, id)
		if err != nil {
			return err
		}
		rec.Metadata().Deleted = true
		if err := db.put(tx, author, rec, now); err != nil {
			return err
		}
		return db.saveClock(tx)
	})
	if err != nil {
		return fmt.Errorf("store: delete %s %s: %w", kind, id, err)
	}
	return nil
}

// Apply merges changes received from the replica from, in one transaction.
// A change already seen is skipped, so applying a batch twice is harmless.
// A change that cannot be merged (see checkChange) is not applied and its
// error is returned at its index in rejected (nil elsewhere); the others are.
// The error result is for failures of the store itself, after which nothing
// was written.
func (db *DB) Apply(from uuid.UUID, changes []domain.Change) (rejected []error, err error) {
	return db.ApplyChecked(from, changes, nil)
}

// Check decides whether a change received from another replica may be
// applied, given where its record was before (existed false for a new
// record) and where it will be after. A non-nil error refuses the batch.
type Check func(ch domain.Change, before Location, existed bool, after Location) error

// Refused is the error ApplyChecked returns when its check refused changes
// (replica.Refused).
type Refused = replica.Refused

// ApplyChecked is Apply with a check of every change against the state the
// earlier changes of the batch left, in the same transaction. If the check
// refuses any change, ApplyChecked writes nothing and returns a *Refused
// naming every refused change, so that the sender can set exactly those aside
// and send the rest at once. Changes already seen are not checked (they
// change nothing). A nil check allows everything. A server uses it to refuse
// a push that reaches outside the device's scope.
func (db *DB) ApplyChecked(from uuid.UUID, changes []domain.Change, check Check) (rejected []error, err error) {
	if check == nil {
		return db.apply(from, changes, nil, nil)
	}
	guard := func(p *Proposal) error {
		if err := check(p.Change, p.Before, p.Existed, p.After); err != nil {
			return refuse{err}
		}
		return nil
	}
	return db.apply(from, changes, guard, nil)
}

// Proposal is a change received from another replica as a [Guard] sees it
// (replica.Proposal).
type Proposal = replica.Proposal

// ProposalReader reads a storage for a Proposal (replica.Reader).
type ProposalReader = replica.Reader

// NewProposal returns p, whose exported fields the caller has set, reading
// the storage through r.
func NewProposal(p Proposal, r ProposalReader) *Proposal { return replica.NewProposal(p, r) }

// Guard decides whether a change received from another replica may be
// applied (replica.Guard). An error with code domain.EINVALID rejects that
// change alone; any other error refuses the batch (see [Refused]).
type Guard = replica.Guard

// txReader reads a bbolt transaction for a Proposal of the change to the
// record kind/id, whose stored row (nil when new) it keeps at hand.
type txReader struct {
	tx   *bolt.Tx
	kind domain.Kind
	id   uuid.UUID
	row  *row
}

// Record returns the live record of kind with id and where it is.
func (r txReader) Record(kind domain.Kind, id uuid.UUID) (domain.Record, Location, bool) {
	rec, err := load(r.tx, kind, id)
	if err != nil {
		return nil, Location{}, false
	}
	return rec, locate(r.tx, rec), true
}

// State returns the stored state of field of the record of kind with id.
func (r txReader) State(kind domain.Kind, id uuid.UUID, field string) (domain.FieldState, bool) {
	row := r.row
	if kind != r.kind || id != r.id {
		var err error
		if row, err = getRow(r.tx, kind, id); err != nil {
			return domain.FieldState{}, false
		}
	}
	if row == nil {
		return domain.FieldState{}, false
	}
	return row.state(field)
}

// ApplyGuarded is ApplyChecked with a [Guard], which sees more of the
// change than a Check does and can reject a change alone. Before the guard,
// a change whose record ID is stored as a record of another kind is
// rejected: one ID names one record.
func (db *DB) ApplyGuarded(from uuid.UUID, changes []domain.Change, guard Guard) (rejected []error, err error) {
	return db.apply(from, changes, guard, nil)
}

// refuse marks a Check's error as refusing the batch whatever its code.
type refuse struct{ error }

func (r refuse) Unwrap() error { return r.error }

// ApplyPull is Apply for a page of changes pulled from the upstream from,
// that also stores cursors (name -> value, as SetCursors does) in the same
// transaction: the changes and the cursor past them are durable together or
// not at all, so a crash can neither lose a page behind a stored cursor nor
// separate the page from the device's other sync state written with it (the
// push cursor the answer acknowledged, the rejections it listed). With no
// changes it stores only the cursors.
func (db *DB) ApplyPull(from uuid.UUID, changes []domain.Change, cursors map[string]string) (rejected []error, err error) {
	return db.apply(from, changes, nil, func(tx *bolt.Tx, _ uint64) error { return putCursors(tx, cursors) })
}

// apply merges changes as ApplyGuarded describes, then calls also, if not
// nil, in the same transaction, with the log's sequence before the merges
// (the entries they logged follow it).
func (db *DB) apply(from uuid.UUID, changes []domain.Change, check Guard, also func(tx *bolt.Tx, start uint64) error) (rejected []error, err error) {
	rejected = make([]error, len(changes))
	var refused *Refused
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		start := tx.Bucket(bucketLog).Sequence()
		for i, ch := range changes {
			if tx.Bucket(bucketSeen).Get(ch.ID[:]) != nil {
				continue
			}
			if err := checkChange(tx, ch); err != nil {
				rejected[i] = err
				continue
			}
			if check != nil {
				err := guard(tx, ch, check)
				var r refuse
				switch {
				case err == nil:
				case errors.As(err, &r):
					err = r.error
					fallthrough
				case domain.ErrorCode(err) != domain.EINVALID:
					if refused == nil {
						refused = &Refused{Err: err}
					}
					refused.Indexes = append(refused.Indexes, i)
					continue // judged as the batch without it will be
				default:
					rejected[i] = err
					continue
				}
			}
			if _, err := db.merge(tx, from, ch); err != nil {
				return err
			}
			db.clock.Observe(ch.Stamp)
		}
		if refused != nil {
			return refused // rolls the transaction back
		}
		if also != nil {
			if err := also(tx, start); err != nil {
				return err
			}
		}
		return db.saveClock(tx)
	})
	if refused != nil && err == error(refused) {
		return nil, refused
	}
	if err != nil {
		return nil, fmt.Errorf("store: apply %d changes: %w", len(changes), err)
	}
	return rejected, nil
}

// guard calls check with ch as a Proposal, after rejecting a change whose
// record is stored as another kind.
func guard(tx *bolt.Tx, ch domain.Change, check Guard) error {
	r, err := getRow(tx, ch.Kind, ch.Record)
	if err != nil {
		return err
	}
	if r == nil {
		for _, k := range domain.Kinds {
			if k == ch.Kind {
				continue
			}
			if other, err := getRow(tx, k, ch.Record); err != nil {
				return err
			} else if other != nil {
				zh, en := domain.KindName(k)
				return domain.Errorf(domain.EINVALID, "record",
					"记录 %[3]s 已是一条%[1]s，不能再用作其他类型的记录", "record %[3]s is already a %[2]s; its ID cannot name a record of another kind",
					zh, en, ch.Record)
			}
		}
	}
	p := Proposal{Change: ch, Existed: r != nil}
	f := domain.Fields{}
	if r != nil {
		if p.Old, err = r.record(ch.Kind, ch.Record); err != nil {
			return err
		}
		p.Before = locate(tx, p.Old)
		f = r.fields()
	}
	for k, v := range ch.Fields {
		f[k] = v
	}
	if p.New, err = domain.Decode(ch.Kind, ch.Record, f); err != nil {
		return err // checkChange decoded the same fields
	}
	p.After = locate(tx, p.New)
	return check(NewProposal(p, txReader{tx: tx, kind: ch.Kind, id: ch.Record, row: r}))
}

// checkChange reports whether ch can be merged: it names a record and sets
// fields whose values fit the record's type. Content rules (Validate, the
// references of checkRefs) are not applied to changes from other replicas:
// their origin applied them when the edit was made, and a merge that refused
// on content could refuse on one replica what another accepted, leaving them
// different for good (two concurrent edits, each valid, can merge into a record
// that no single edit made). Merging never refuses valid-typed edits, so every
// replica that sees the same changes holds the same records.
func checkChange(tx *bolt.Tx, ch domain.Change) error {
	if ch.ID == uuid.Nil || ch.Record == uuid.Nil || len(ch.Fields) == 0 {
		return domain.Errorf(domain.EINVALID, "change", "变更不完整", "the change is incomplete")
	}
	r, err := getRow(tx, ch.Kind, ch.Record)
	if err != nil {
		return err
	}
	f := domain.Fields{}
	if r != nil {
		f = r.fields()
	}
	for k, v := range ch.Fields {
		f[k] = v
	}
	if _, err := domain.Decode(ch.Kind, ch.Record, f); err != nil {
		for _, name := range slices.Sorted(maps.Keys(ch.Fields)) {
			if _, err := domain.Decode(ch.Kind, ch.Record, domain.Fields{name: ch.Fields[name]}); err != nil {
				return domain.Errorf(domain.EINVALID, "fields",
					"变更无法合并：字段“%s”的值类型不符（发出它的应用可能有误或版本过旧）",
					"the change cannot be merged: the value of field %q has the wrong type (the app that sent it may be faulty or out of date)",
					name)
			}
		}
		return domain.Errorf(domain.EINVALID, "fields", "变更内容无法读取：%v", "the change cannot be read: %v", err)
	}
	return nil
}

// merge applies one change: field by field with domain.MergeField, keeping
// lost values as conflicts, then the indexes and the log. It reports whether
// the change was new.
func (db *DB) merge(tx *bolt.Tx, from uuid.UUID, ch domain.Change) (bool, error) {
	return db.mergeEntry(tx, &Entry{From: from, Change: ch}, true)
}

// mergeEntry merges e's change as merge describes and logs e. With
// conflicts false it neither works out where the record belongs (e says)
// nor records the values the change displaced: a mirror installs another
// replica's log, whose conflict records are entries of their own.
func (db *DB) mergeEntry(tx *bolt.Tx, e *Entry, conflicts bool) (bool, error) {
	ch := e.Change
	if tx.Bucket(bucketSeen).Get(ch.ID[:]) != nil {
		return false, nil
	}
	r, err := getRow(tx, ch.Kind, ch.Record)
	if err != nil {
		return false, err
	}
	var old domain.Record
	if r == nil {
		r = &row{Fields: map[string]cell{}}
	} else if old, err = r.record(ch.Kind, ch.Record); err != nil {
		return false, err
	}
	type loss struct {
		field         string
		winner, loser domain.FieldState
	}
	var losses []loss
	var early []replica.Early
	for name, value := range ch.Fields {
		cur, has := r.state(name)
		in := domain.FieldState{Value: clone(value), Stamp: ch.Stamp, Author: ch.Author}
		next, lost := domain.MergeField(cur, has, in, ch.Base[name])
		r.set(name, next)
		var conflict uuid.UUID
		if lost != nil && ch.Kind != domain.KindConflict && conflicts {
			losses = append(losses, loss{name, next, *lost})
			conflict = domain.ConflictID(ch.Record, name, lost.Stamp)
		}
		// A mirror installs another replica's log: that replica reported it.
		if conflicts && domain.ArrivedEarly(cur, has, ch.Base[name]) {
			early = append(early, replica.NewEarly(e.From, ch, name, cur.Stamp, conflict))
		}
	}
	if len(early) > 0 && db.early != nil {
		tx.OnCommit(func() {
			for _, x := range early {
				db.early(x)
			}
		})
	}
	if err := putRow(tx, ch.Kind, ch.Record, r); err != nil {
		return false, err
	}
	rec, err := r.record(ch.Kind, ch.Record)
	if err != nil {
		return false, err
	}
	if err := reindex(tx, ch.Kind, old, rec); err != nil {
		return false, err
	}
	if conflicts {
		e.Household, e.Village, e.Town = scopeOf(tx, rec)
	}
	if err := appendLog(tx, e); err != nil {
		return false, err
	}
	for _, l := range losses {
		c := domain.NewConflict(ch.Kind, ch.Record, e.Household, l.field, l.winner, l.loser)
		cc, err := domain.ConflictChange(c, l.winner.Stamp)
		if err != nil {
			return false, err
		}
		if _, err := db.merge(tx, uuid.Nil, cc); err != nil {
			return false, err
		}
	}
	return true, nil
}
