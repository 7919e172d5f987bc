package server

import (
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
)

// Partitions are the parts of the log a device reads, as a storage that
// indexes its log by them selects entries: what scope.readable accepts,
// said as sets of IDs. An entry belongs to the partitions its header names
// (store.Entry: Household, Village, Town; Change.Kind and Change.Record):
//
//   - everything, when All;
//   - a cadre record in Cadres;
//   - an assignment whose record is in Records (pairings read from afar);
//   - other entries of a household, when the household is in Households,
//     its village in Villages or its town in Towns;
//   - other entries of a village (places, assignments) without a household,
//     when the village is in Villages or RosterVillages, or its town in Towns;
//   - other entries of a town alone, when the town is in Towns or RosterTowns;
//   - entries that belong to no place (the city, conflicts on the roster).
//
// The server still judges every entry selected with readable: Partitions
// only narrow what a storage reads.
type Partitions struct {
	All                         bool
	Cadres, Records             []uuid.UUID
	Households, Villages, Towns []uuid.UUID
	RosterVillages, RosterTowns []uuid.UUID
}

// PartitionedLog is a Store whose log is indexed by partition
// (pgstore.Replica): a pull reads the entries of its partitions after its
// cursor instead of every entry after it.
type PartitionedLog interface {
	// LogIn is LogWhere for the entries in the partitions p.
	LogIn(after uint64, p Partitions, keep func(*replica.Entry) bool, fn func(replica.Entry) (bool, error)) error
}

// Readable reports whether an entry belongs to the partitions, the rule
// the type describes: what a storage's selection must return.
func (p Partitions) Readable(e *replica.Entry) bool {
	in := func(l []uuid.UUID, id uuid.UUID) bool {
		for _, x := range l {
			if x == id {
				return true
			}
		}
		return false
	}
	switch {
	case p.All:
		return true
	case e.Change.Kind == domain.KindCadre:
		return in(p.Cadres, e.Change.Record)
	case e.Change.Kind == domain.KindAssignment && in(p.Records, e.Change.Record):
		return true
	case e.Household != uuid.Nil:
		return in(p.Households, e.Household) || in(p.Villages, e.Village) || in(p.Towns, e.Town)
	case e.Village != uuid.Nil:
		return in(p.Villages, e.Village) || in(p.RosterVillages, e.Village) || in(p.Towns, e.Town)
	case e.Town != uuid.Nil:
		return in(p.Towns, e.Town) || in(p.RosterTowns, e.Town)
	}
	return true
}

// partitions returns the partitions of the device's scope; the cadres it
// may read must be loaded (loadStaffNow).
func (s *scope) partitions() Partitions {
	keys := func(m map[uuid.UUID]bool) []uuid.UUID {
		l := make([]uuid.UUID, 0, len(m))
		for id := range m {
			l = append(l, id)
		}
		return l
	}
	p := Partitions{All: s.all, Records: keys(s.pairings), Households: keys(s.households),
		Villages: keys(s.villages), Towns: keys(s.towns),
		RosterVillages: keys(s.rosterVillages), RosterTowns: keys(s.rosterTowns)}
	p.Cadres = append(keys(s.staff), s.cadre)
	return p
}
