package store

import (
	"bytes"
	"slices"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// Partitions: where the walk of a scope's current state (StateIn) finds the
// records a device may read, in indexes that keep deleted records and
// households that are history (keptIndexNames), as the state sends those too:
//
//	part_group  group + household: every household, by the group its row names
//	part_hh     household + kind + 0 + record: every record of a household
//	            (the household its row names; a pairing's target), uuid.Nil
//	            for those that name none (a conflict on the roster)
//	part_place  target + assignment: every assignment that is not a pairing,
//	            by the place it targets
//
// Places and cadres need none: every place is judged (there are few, and a
// deleted place or one whose parent is gone is where no index would say),
// and the cadres a scope reads are named (Within.Cadres).
var (
	partGroup = index{name: "part_group", keys: func(r domain.Record) [][]byte {
		h := r.(*domain.Household)
		return one(h.Group[:], h.ID[:])
	}}
	partHousehold = index{name: "part_hh", keys: func(r domain.Record) [][]byte {
		h := domain.HouseholdOf(r)
		if a, ok := r.(*domain.Assignment); ok {
			if !a.Role.IsPairing() {
				return nil
			}
			h = a.Target
		}
		id := r.Metadata().ID
		return one(h[:], []byte(r.Kind()), []byte{0}, id[:])
	}}
	partPlace = index{name: "part_place", keys: func(r domain.Record) [][]byte {
		a := r.(*domain.Assignment)
		if a.Role.IsPairing() {
			return nil
		}
		return one(a.Target[:], a.ID[:])
	}}
)

// keptIndexNames are the indexes that keep the keys of deleted records.
var keptIndexNames = map[string]bool{"part_group": true, "part_hh": true, "part_place": true}

// The partition indexes join the others, by the kinds' declarations: every
// kind of a household's records has part_hh.
func init() {
	for _, d := range domain.Decls {
		switch {
		case d.Kind == domain.KindHousehold:
			indexes[d.Kind] = append(indexes[d.Kind], partGroup)
		case d.Kind == domain.KindAssignment:
			indexes[d.Kind] = append(indexes[d.Kind], partHousehold, partPlace)
		case d.Household != nil:
			indexes[d.Kind] = append(indexes[d.Kind], partHousehold)
		}
	}
}

// buildPartitions puts the keys of every record, deleted ones included, in
// the partition indexes (a migration: their buckets are new).
func buildPartitions(tx *bolt.Tx) error {
	idx := tx.Bucket(bucketIdx)
	for kind, ixs := range indexes {
		var kept []index
		for _, ix := range ixs {
			if keptIndexNames[ix.name] {
				kept = append(kept, ix)
			}
		}
		b := kindBucket(tx, kind)
		if len(kept) == 0 || b == nil {
			continue
		}
		buckets := make([]*bolt.Bucket, len(kept))
		for i, ix := range kept {
			var err error
			if buckets[i], err = idx.CreateBucketIfNotExists([]byte(ix.name)); err != nil {
				return err
			}
		}
		err := b.ForEach(func(k, v []byte) error {
			r, err := openRow(tx, kind, k, v)
			if err != nil {
				return err
			}
			rec, err := r.record(kind, uuid.UUID(k))
			if err != nil {
				return err
			}
			for i, ix := range kept {
				for _, key := range ix.keysOf(rec) {
					if err := buckets[i].Put(key, nil); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// partition returns, by kind, the IDs of the records in says a scope may
// read, sorted and without repeats: what StateIn judges instead of every
// record of the store. Places are not listed (every place is judged); the
// village and town of each, worked out here once, are remembered in sc.
func (db *DB) partition(tx *bolt.Tx, sc *scoper, in *Within) (map[domain.Kind][]uuid.UUID, error) {
	heads, err := db.placeHeads(tx)
	if err != nil {
		return nil, err
	}
	var groups []uuid.UUID         // where the households in may read are
	roster := map[uuid.UUID]bool{} // where the assignments in may read are
	for id, h := range heads {
		sc.places[id] = h
		v, t := h[0], h[1]
		if in.Villages[v] || in.Towns[t] {
			groups = append(groups, id)
		}
		if in.Villages[v] || in.RosterVillages[v] || in.Towns[t] || in.RosterTowns[t] || (v == uuid.Nil && t == uuid.Nil) {
			roster[id] = true
		}
	}
	out := map[domain.Kind][]uuid.UUID{}
	households := map[uuid.UUID]bool{}
	for _, g := range groups {
		scan(tx, partGroup.name, g[:], func(_ []byte, id uuid.UUID) bool {
			households[id] = true
			return true
		})
	}
	for _, id := range in.Households {
		households[id] = true
	}
	// Their records, and those of no household (readable by anyone).
	households[uuid.Nil] = true
	for h := range households {
		if h != uuid.Nil {
			out[domain.KindHousehold] = append(out[domain.KindHousehold], h)
		}
		scan(tx, partHousehold.name, h[:], func(k []byte, id uuid.UUID) bool {
			if len(k) >= 16+1+16 {
				kind := domain.Kind(k[16 : len(k)-17])
				out[kind] = append(out[kind], id)
			}
			return true
		})
	}
	// The assignments at the places of the roster in reads, and at targets
	// that are no place (their entries name no village nor town).
	if ix := indexOf(tx, partPlace.name); ix != nil {
		c := ix.cursor()
		for k, _ := c.First(); k != nil; {
			if len(k) != 32 {
				k, _ = c.Next()
				continue
			}
			target := uuid.UUID(k[:16])
			if _, place := heads[target]; place && !roster[target] {
				next := successor(target[:])
				if next == nil {
					break
				}
				k, _ = c.Seek(next)
				continue
			}
			for ; k != nil && hasPrefix(k, target[:]); k, _ = c.Next() {
				if len(k) == 32 {
					out[domain.KindAssignment] = append(out[domain.KindAssignment], uuid.UUID(k[16:]))
				}
			}
		}
	}
	out[domain.KindAssignment] = append(out[domain.KindAssignment], in.Pairings...)
	out[domain.KindCadre] = append(out[domain.KindCadre], in.Cadres...)
	for kind, ids := range out {
		out[kind] = sortedIDs(ids)
	}
	return out, nil
}

// placeHeads returns the village and town of every place, deleted ones
// included, as placeScope works them out, each place decoded once
// (db.places).
func (db *DB) placeHeads(tx *bolt.Tx) (map[uuid.UUID][2]uuid.UUID, error) {
	b := kindBucket(tx, domain.KindPlace)
	if b == nil {
		return nil, nil
	}
	loaded := map[uuid.UUID]*domain.Place{}
	err := b.ForEach(func(k, v []byte) error {
		p, err := db.places.get(tx, uuid.UUID(k), v)
		if err != nil {
			return err
		}
		loaded[uuid.UUID(k)] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	load := func(id uuid.UUID) (*domain.Place, error) {
		if p, ok := loaded[id]; ok {
			return p, nil
		}
		return nil, notFound(domain.KindPlace, id)
	}
	heads := make(map[uuid.UUID][2]uuid.UUID, len(loaded))
	for id, p := range loaded {
		v, t := placeScopeWith(p, load)
		heads[id] = [2]uuid.UUID{v, t}
	}
	return heads, nil
}

// successor returns the first key after every key that starts with prefix,
// nil if there is none.
func successor(prefix []byte) []byte {
	next := bytes.Clone(prefix)
	for i := len(next) - 1; i >= 0; i-- {
		next[i]++
		if next[i] != 0 {
			return next
		}
	}
	return nil
}

// after returns the IDs of ids (sorted) that sort after id.
func after(ids []uuid.UUID, id uuid.UUID) []uuid.UUID {
	i, found := slices.BinarySearchFunc(ids, id, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	if found {
		i++
	}
	return ids[i:]
}
