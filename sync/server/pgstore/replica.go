package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/server"
)

// The replica on PostgreSQL.
//
// The log is the record of truth: table log, one row per change, its
// sequence the primary key, with the partitions it belongs to (household,
// village, town) in columns of their own, indexed with the sequence, so
// that a pull reads the entries of its scope after its cursor and no others
// (LogIn). Pushes are serialised across instances by an advisory lock held
// for their transaction: the sequences are dense and commit in order, so a
// reader never sees an entry before an earlier one.
//
// Rows, indexes and the roster are worked out by store, the replica engine,
// from a mirror: each instance keeps a bbolt file whose log is the shared
// log entry for entry (store.DB.Install), brought up to date from it before
// it is read. A push is merged into the mirror inside a bbolt transaction
// that first writes the entries it logged to PostgreSQL and commits there:
// PostgreSQL has every entry a mirror has, and a mirror behind it (an
// instance killed between the two commits, a new instance) catches up. A
// mirror that does not continue the shared log is rebuilt from it.

// pushLock is the advisory lock key that serialises pushes.
const pushLock = 0x62616e6766750002

// ReplicaOptions configure OpenReplica.
type ReplicaOptions struct {
	// Mirror is the path of this instance's bbolt mirror. A new file in a
	// temporary directory, removed on Close, if empty: the instance then
	// reads the whole log once when it starts, and first removes the
	// temporary mirrors of instances that died without Close (a SIGKILL)
	// and no live instance holds.
	Mirror string
}

// Replica is the sync server's storage on PostgreSQL: server.Store for any
// number of instances on one database. It embeds the registry (DB).
type Replica struct {
	*DB
	id     uuid.UUID
	epoch  uint64
	mirror *store.DB
	tmp    string // the mirror's temporary directory, if it has one

	// write serialises this instance's pushes; catch holds the mirror
	// while it catches up or takes a push, and reads that find it held
	// read the mirror as it is (the log itself is read from PostgreSQL).
	write sync.Mutex
	catch sync.Mutex
}

var _ server.Store = (*Replica)(nil)

// OpenReplica connects to the database at url, migrates it, and opens or
// builds this instance's mirror. The first instance on an empty database
// gives the server its ID, which every instance shares (devices' cursors
// name it).
func OpenReplica(ctx context.Context, url string, opt ReplicaOptions) (*Replica, error) {
	r := &Replica{}
	db, err := Open(ctx, url, Options{Cadre: r.cadre})
	if err != nil {
		return nil, err
	}
	r.DB = db
	if err := r.init(ctx, opt); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Replica) init(ctx context.Context, opt ReplicaOptions) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO replica (id) VALUES ($1) ON CONFLICT DO NOTHING`, uuid.New().String())
	if err != nil {
		return fmt.Errorf("pgstore: replica: %w", err)
	}
	var id string
	var epoch int64
	if err := r.pool.QueryRow(ctx, `SELECT id::text, epoch FROM replica`).Scan(&id, &epoch); err != nil {
		return fmt.Errorf("pgstore: replica: %w", err)
	}
	if r.id, err = uuid.Parse(id); err != nil {
		return err
	}
	r.epoch = uint64(epoch)
	r.opt.Server = r.id
	path := opt.Mirror
	if path == "" {
		// Mirrors that instances killed without Close left behind go
		// first; those of live instances stay (sweepMirrors).
		sweepMirrors(os.TempDir(), mirrorGrace, time.Now())
		if r.tmp, err = os.MkdirTemp("", mirrorPrefix); err != nil {
			return fmt.Errorf("pgstore: mirror: %w", err)
		}
		path = filepath.Join(r.tmp, "mirror.db")
	}
	for attempt := 0; ; attempt++ {
		// The mirror is derived data, written without fsync: one that does
		// not open (torn by a power cut), belongs to another database or
		// does not continue the shared log is built again.
		rebuild := false
		r.mirror, err = store.Open(path, &store.Options{Device: r.id, NoSync: true})
		if err != nil {
			rebuild = !errors.Is(err, store.ErrLocked)
		} else {
			err = r.check(ctx)
			if err == nil {
				err = r.catchUp(ctx, r.pool)
			}
			rebuild = errors.Is(err, store.ErrNotMirror)
		}
		if err == nil {
			return nil
		}
		if r.mirror != nil {
			r.mirror.Close()
			r.mirror = nil
		}
		if attempt > 0 || !rebuild {
			return fmt.Errorf("pgstore: mirror %s: %w", path, err)
		}
		// Not this database's mirror: build it again.
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("pgstore: mirror %s: %w", path, err)
		}
	}
}

// check verifies that the mirror's newest entry is the shared log's at its
// sequence.
func (r *Replica) check(ctx context.Context) error {
	last, err := r.mirror.LastSeq()
	if err != nil || last == 0 {
		return err
	}
	id, _, err := r.mirror.EntryID(last)
	if err != nil {
		return err
	}
	var shared string
	err = r.pool.QueryRow(ctx, `SELECT id::text FROM log WHERE seq = $1`, int64(last)).Scan(&shared)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && shared != id.String() {
		return fmt.Errorf("entry %d is not the shared log's: %w", last, store.ErrNotMirror)
	}
	return err
}

// Close closes the mirror and the connections.
func (r *Replica) Close() {
	if r.mirror != nil {
		r.mirror.Close()
	}
	if r.tmp != "" {
		os.RemoveAll(r.tmp)
	}
	r.DB.Close()
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// catchUp installs the entries of the shared log the mirror lacks. The
// caller holds catch, or is opening the replica.
func (r *Replica) catchUp(ctx context.Context, q querier) error {
	for {
		last, err := r.mirror.LastSeq()
		if err != nil {
			return err
		}
		var entries []store.Entry
		err = scanLog(ctx, q, `SELECT `+logColumns+` FROM log WHERE seq > $1 ORDER BY seq LIMIT 2000`,
			[]any{int64(last)}, nil, func(e store.Entry) (bool, error) {
				entries = append(entries, e)
				return true, nil
			})
		if err != nil || len(entries) == 0 {
			return err
		}
		if err := r.mirror.Install(entries); err != nil {
			return err
		}
	}
}

// fresh brings the mirror up to date before a read, unless a push or
// another catch-up holds it: the read then sees it a moment older, which a
// pull tolerates (its cursor is the sequence the mirror's state reflects,
// and the log after it is read from PostgreSQL).
func (r *Replica) fresh() error {
	if !r.catch.TryLock() {
		return nil
	}
	defer r.catch.Unlock()
	return r.catchUp(context.Background(), r.pool)
}

// Device returns the server's ID, which every instance shares.
func (r *Replica) Device() uuid.UUID { return r.id }

// Epoch returns the database's epoch.
func (r *Replica) Epoch() (uint64, error) { return r.epoch, nil }

// ApplyGuarded merges a push: under the push lock, the mirror catches up,
// the push is merged into it, and the entries it logged are written to the
// shared log and committed before the mirror commits. A push seen before
// logs nothing. Pushes to any instance are serialised.
func (r *Replica) ApplyGuarded(from uuid.UUID, changes []domain.Change, guard store.Guard) ([]error, error) {
	var rejected []error
	err := r.push(func(then func([]store.Entry) error) error {
		var err error
		rejected, err = r.mirror.ApplyGuardedThen(from, changes, guard, then)
		return err
	})
	if err != nil {
		var refused *store.Refused
		if errors.As(err, &refused) {
			return nil, err
		}
		return nil, fmt.Errorf("pgstore: push: %w", err)
	}
	return rejected, nil
}

// Put saves records edited by author, as store.DB.Put does, through the
// shared log: under the push lock the mirror catches up, the changes are
// made against it, and the entries they log are written to the shared log
// and committed before the mirror commits, exactly as a push is. The office
// console saves settings this way; writing to the mirror alone would
// separate it from the log.
func (r *Replica) Put(author uuid.UUID, recs ...domain.Record) error {
	err := r.push(func(then func([]store.Entry) error) error {
		return r.mirror.PutThen(author, then, recs...)
	})
	if err != nil {
		return fmt.Errorf("pgstore: put: %w", err)
	}
	return nil
}

// push runs write on the mirror under the push lock, after the mirror has
// caught up; write hands the entries it logged to then, which copies them
// into the shared log and commits it.
func (r *Replica) push(write func(then func([]store.Entry) error) error) error {
	r.write.Lock()
	defer r.write.Unlock()
	ctx := context.Background()
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pushLock)); err != nil {
		return err
	}
	// Reads keep catching up while the push waits for the lock; from here
	// the mirror is the push's.
	r.catch.Lock()
	defer r.catch.Unlock()
	if err := r.catchUp(ctx, tx); err != nil {
		return err
	}
	return write(func(added []store.Entry) error {
		if len(added) == 0 {
			return nil
		}
		rows := make([][]any, len(added))
		for i, e := range added {
			row, err := logRow(e)
			if err != nil {
				return err
			}
			rows[i] = row
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"log"}, logInsertColumns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// LogWhere reads the shared log after sequence after, all partitions.
func (r *Replica) LogWhere(after uint64, keep func(*store.Entry) bool, fn func(store.Entry) (bool, error)) error {
	return r.LogIn(after, server.Partitions{All: true}, keep, fn)
}

// LogIn reads the entries of the shared log after sequence after that
// belong to the partitions p, through the partitions' indexes; keep and fn
// are called as for LogWhere.
func (r *Replica) LogIn(after uint64, p server.Partitions, keep func(*store.Entry) bool, fn func(store.Entry) (bool, error)) error {
	where, args := partitionSQL(p)
	ctx := context.Background()
	for {
		n, last, stop := 0, after, false
		err := scanLog(ctx, r.pool, `SELECT `+logColumns+` FROM log WHERE seq > $1 AND (`+where+`) ORDER BY seq LIMIT 500`,
			append([]any{int64(after)}, args...), keep, func(e store.Entry) (bool, error) {
				more, err := fn(e)
				stop = !more
				return more, err
			}, func(seq uint64) { n++; last = seq })
		if err != nil {
			return fmt.Errorf("pgstore: log: %w", err)
		}
		if stop || n < 500 {
			return nil
		}
		after = last
	}
}

// partitionSQL is the condition on a log row that mirrors
// server.Partitions' reading rule, with its arguments from $2.
func partitionSQL(p server.Partitions) (string, []any) {
	if p.All {
		return "true", nil
	}
	ids := func(l []uuid.UUID) []string {
		s := make([]string, len(l))
		for i, id := range l {
			s[i] = id.String()
		}
		return s
	}
	// One arm per kind of entry, each with the conditions an index (or
	// the partial index log_city) answers.
	const none = `'00000000-0000-0000-0000-000000000000'`
	const other = `kind <> 'cadre' AND `
	return `kind = 'cadre' AND record = ANY($2::uuid[])
		OR kind = 'assignment' AND record = ANY($3::uuid[])
		OR ` + other + `household <> ` + none + ` AND household = ANY($4::uuid[])
		OR ` + other + `household <> ` + none + ` AND village = ANY($5::uuid[])
		OR ` + other + `household <> ` + none + ` AND town = ANY($6::uuid[])
		OR ` + other + `household = ` + none + ` AND village <> ` + none + ` AND (village = ANY($5::uuid[]) OR village = ANY($7::uuid[]))
		OR ` + other + `household = ` + none + ` AND village <> ` + none + ` AND town = ANY($6::uuid[])
		OR ` + other + `household = ` + none + ` AND village = ` + none + ` AND town <> ` + none + ` AND (town = ANY($6::uuid[]) OR town = ANY($8::uuid[]))
		OR ` + other + `household = ` + none + ` AND village = ` + none + ` AND town = ` + none,
		[]any{ids(p.Cadres), ids(p.Records), ids(p.Households), ids(p.Villages), ids(p.Towns), ids(p.RosterVillages), ids(p.RosterTowns)}
}

// LastSeq returns the sequence of the shared log's newest entry.
func (r *Replica) LastSeq() (uint64, error) {
	var seq int64
	err := r.pool.QueryRow(context.Background(), `SELECT coalesce(max(seq), 0) FROM log`).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("pgstore: last sequence: %w", err)
	}
	return uint64(seq), nil
}

// Reach returns a cadre's assignments, from the mirror.
func (r *Replica) Reach(cadre uuid.UUID) ([]store.Assigned, error) {
	if err := r.fresh(); err != nil {
		return nil, err
	}
	return r.mirror.Reach(cadre)
}

// Staff returns the cadres a device may read, from the mirror.
func (r *Replica) Staff(within, at []uuid.UUID) (map[uuid.UUID]bool, error) {
	if err := r.fresh(); err != nil {
		return nil, err
	}
	return r.mirror.Staff(within, at)
}

// PlanApprovers returns who approves plans in a village, from the mirror.
func (r *Replica) PlanApprovers(village uuid.UUID) ([]domain.Role, error) {
	if err := r.fresh(); err != nil {
		return nil, err
	}
	return r.mirror.PlanApprovers(village)
}

// Rules returns a village's rules, from the mirror.
func (r *Replica) Rules(village uuid.UUID) (domain.Rules, error) {
	if err := r.fresh(); err != nil {
		return domain.Rules{}, err
	}
	return r.mirror.Rules(village)
}

// ScopePrint fingerprints a scope in the mirror.
func (r *Replica) ScopePrint(readable func(*store.Entry) bool) (string, uint64, error) {
	if err := r.fresh(); err != nil {
		return "", 0, err
	}
	return r.mirror.ScopePrint(readable)
}

// ScopePrintIn fingerprints a scope in the mirror, walking only where it
// reaches (store.Within).
func (r *Replica) ScopePrintIn(in store.Within, readable func(*store.Entry) bool) (string, uint64, error) {
	if err := r.fresh(); err != nil {
		return "", 0, err
	}
	return r.mirror.ScopePrintIn(in, readable)
}

// Locate returns where households are now, from the mirror
// (store.DB.Locate).
func (r *Replica) Locate(households []uuid.UUID) (map[uuid.UUID]store.Location, error) {
	if err := r.fresh(); err != nil {
		return nil, err
	}
	return r.mirror.Locate(households)
}

// State walks the current state of a scope in the mirror.
func (r *Replica) State(pos store.StatePos, readable func(*store.Entry) bool, fn func(next store.StatePos, changes []domain.Change) (bool, error)) (uint64, error) {
	if err := r.fresh(); err != nil {
		return 0, err
	}
	return r.mirror.State(pos, readable, fn)
}

// StateIn walks the current state of a scope's partitions in the mirror
// (store.DB.StateIn).
func (r *Replica) StateIn(in store.Within, pos store.StatePos, readable func(*store.Entry) bool, fn func(next store.StatePos, changes []domain.Change) (bool, error)) (uint64, error) {
	if err := r.fresh(); err != nil {
		return 0, err
	}
	return r.mirror.StateIn(in, pos, readable, fn)
}

// Mirror returns this instance's mirror, for reading only: the roster,
// the records, exports. Writing to it separates it from the shared log.
func (r *Replica) Mirror() (*store.DB, error) {
	if err := r.fresh(); err != nil {
		return nil, err
	}
	return r.mirror, nil
}

// cadre reports whether a cadre is on the roster, for the registry.
func (r *Replica) cadre(id uuid.UUID) (bool, error) {
	if err := r.fresh(); err != nil {
		return false, err
	}
	_, err := r.mirror.Get(domain.KindCadre, id)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Load copies the log of src, a bbolt store, into an empty database, and
// makes src's replica ID the server's: a town's server moves to
// PostgreSQL and its devices' cursors stay valid. Its enrolled devices
// enrol again.
func Load(ctx context.Context, url string, src *store.DB) (int, error) {
	db, err := Open(ctx, url, Options{Cadre: func(uuid.UUID) (bool, error) { return false, nil }})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	n := 0
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pushLock)); err != nil {
			return err
		}
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM replica) OR EXISTS (SELECT 1 FROM log)`).Scan(&used); err != nil {
			return err
		}
		if used {
			return domain.Errorf(domain.EINVALID, "db", "PostgreSQL 数据库已有数据：只能导入到空数据库",
				"the PostgreSQL database is in use: load into an empty one")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO replica (id) VALUES ($1)`, src.Device().String()); err != nil {
			return err
		}
		rebuild, err := dropLogIndexes(ctx, tx)
		if err != nil {
			return err
		}
		var rows [][]any
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"log"}, logInsertColumns, pgx.CopyFromRows(rows))
			rows = rows[:0]
			return err
		}
		err = src.Log(0, func(e store.Entry) (bool, error) {
			row, err := logRow(e)
			if err != nil {
				return false, err
			}
			rows = append(rows, row)
			n++
			if len(rows) == 5000 {
				return true, flush()
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		for _, q := range rebuild {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: load: %w", err)
	}
	return n, nil
}

// dropLogIndexes drops the log's indexes and unique constraints but its
// primary key (the sequence, which the copy fills in order), and returns
// the statements that make them again: built after the copy, each by one
// sort, rather than entry by entry where random IDs fall. A store of
// millions of entries loads several times faster so.
func dropLogIndexes(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var drop, remake []string
	rows, err := tx.Query(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'log'::regclass AND contype = 'u' ORDER BY conname`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		id := pgx.Identifier{name}.Sanitize()
		drop = append(drop, `ALTER TABLE log DROP CONSTRAINT `+id)
		remake = append(remake, `ALTER TABLE log ADD CONSTRAINT `+id+` `+def)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = 'log'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		drop = append(drop, `DROP INDEX `+name)
		remake = append(remake, def)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, q := range append(drop, `SET LOCAL maintenance_work_mem = '512MB'`) {
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return remake, nil
}

// The log's columns, as written and as read.
var logInsertColumns = []string{"seq", "id", "origin", "household", "village", "town", "kind", "record", "author", "wall", "logical", "device", "body"}

const logColumns = `seq, id::text, origin::text, household::text, village::text, town::text, kind, record::text, author::text, wall, logical, device::text, body`

// body is a log entry's fields and bases.
type body struct {
	Fields domain.Fields     `json:"f"`
	Base   map[string]string `json:"b,omitempty"`
}

func logRow(e store.Entry) ([]any, error) {
	b := body{Fields: e.Change.Fields}
	if len(e.Change.Base) > 0 {
		b.Base = make(map[string]string, len(e.Change.Base))
		for k, s := range e.Change.Base {
			b.Base[k] = s.String()
		}
	}
	js, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	ch := e.Change
	return []any{int64(e.Seq), ch.ID, e.From, e.Household, e.Village, e.Town, string(ch.Kind), ch.Record, ch.Author,
		ch.Stamp.Wall, int64(ch.Stamp.Logical), ch.Stamp.Device, js}, nil
}

// scanLog runs a query of logColumns and calls fn for the rows keep
// accepts (all if keep is nil), decoding the body only for those; each
// row's sequence is also passed to every seen.
func scanLog(ctx context.Context, q querier, sql string, args []any, keep func(*store.Entry) bool, fn func(store.Entry) (bool, error), seen ...func(uint64)) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var ids [8]string
	for rows.Next() {
		var e store.Entry
		var seq, wall, logical int64
		var kind string
		var raw []byte
		if err := rows.Scan(&seq, &ids[0], &ids[1], &ids[2], &ids[3], &ids[4], &kind, &ids[5], &ids[6], &wall, &logical, &ids[7], &raw); err != nil {
			return err
		}
		e.Seq = uint64(seq)
		for _, s := range seen {
			s(e.Seq)
		}
		ch := &e.Change
		for i, dst := range [...]*uuid.UUID{&ch.ID, &e.From, &e.Household, &e.Village, &e.Town, &ch.Record, &ch.Author, &ch.Stamp.Device} {
			if *dst, err = uuid.Parse(ids[i]); err != nil {
				return err
			}
		}
		ch.Kind, ch.Stamp.Wall, ch.Stamp.Logical = domain.Kind(kind), wall, uint32(logical)
		if keep != nil && !keep(&e) {
			continue
		}
		var b body
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("log entry %d: %w", seq, err)
		}
		ch.Fields = b.Fields
		if len(b.Base) > 0 {
			ch.Base = make(map[string]domain.Stamp, len(b.Base))
			for k, s := range b.Base {
				if ch.Base[k], err = domain.ParseStamp(s); err != nil {
					return fmt.Errorf("log entry %d: %w", seq, err)
				}
			}
		}
		more, err := fn(e)
		if err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

// PhotoPlaces returns where the live photos naming hash belong, from the
// mirror.
func (r *Replica) PhotoPlaces(hash string) ([]store.Location, error) {
	if err := r.fresh(); err != nil {
		return nil, err
	}
	return r.mirror.PhotoPlaces(hash)
}
