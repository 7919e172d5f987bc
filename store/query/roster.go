package query

import (
	"sort"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// Roster returns what the three-level check reads for a village: its
// households, the cadres assigned to the village or its places or paired with
// its households, and every live assignment of those cadres (their pairings
// elsewhere included). uuid.Nil: everything the replica holds. Households and
// cadres are sorted by name.
func Roster(db *store.DB, village uuid.UUID) (domain.Roster, error) {
	var ro domain.Roster
	err := view(db, func(r *reader) error {
		var err error
		ro, err = r.rosterOf(village)
		return err
	})
	return ro, err
}

// Assistance runs the three-level check (domain.CheckAssistance) for a
// village (uuid.Nil: everything) with the replica's quotas. A cadre of the
// village is held to their quota over all their current pairings, in this
// village or another (those elsewhere count whatever the household's status),
// so that a county-level leader paired with one household in each of three
// villages is no gap; household gaps and rank mismatches are those of the
// village's households.
func Assistance(db *store.DB, village uuid.UUID) (domain.Gaps, error) {
	var g domain.Gaps
	err := view(db, func(r *reader) error {
		var err error
		g, err = r.assistance(village)
		return err
	})
	return g, err
}

// assistance is Assistance within a transaction.
func (r *reader) assistance(village uuid.UUID) (domain.Gaps, error) {
	ro, err := r.rosterOf(village)
	q := r.tx.Rules(village).Quotas()
	if err != nil || village == uuid.Nil {
		return domain.CheckAssistance(ro, q), err
	}
	mine := map[uuid.UUID]bool{}
	for _, h := range ro.Households {
		mine[h.ID] = true
	}
	// The households the village's cadres pair with elsewhere count towards
	// their quotas, whether or not the replica holds them: a team leader's
	// tablet receives those pairings but not the households
	// (domain.Roster.Outside), and the server must count them the same way.
	ext := ro
	ext.Outside = map[uuid.UUID]bool{}
	for _, a := range ro.Assignments {
		if a.Role.IsPairing() && a.Current() && !mine[a.Target] {
			ext.Outside[a.Target] = true
		}
	}
	g := domain.CheckAssistance(ext, q)
	hs := g.Households[:0]
	for _, x := range g.Households {
		if mine[x.Household.ID] {
			hs = append(hs, x)
		}
	}
	g.Households = hs
	ms := g.Mismatches[:0]
	for _, x := range g.Mismatches {
		if mine[x.Assignment.Target] {
			ms = append(ms, x)
		}
	}
	g.Mismatches = ms
	return g, nil
}

// rosterOf returns the roster of a village, or everything for uuid.Nil.
func (r *reader) rosterOf(village uuid.UUID) (domain.Roster, error) {
	if village == uuid.Nil {
		return r.everything()
	}
	return r.roster(village), nil
}

// roster returns the roster of a village (see Roster).
func (r *reader) roster(village uuid.UUID) domain.Roster {
	var ro domain.Roster
	targets := []uuid.UUID{village}
	for _, level := range []domain.Level{domain.Group, domain.NaturalVillage} {
		for _, p := range r.children(village, level) {
			targets = append(targets, p.ID)
		}
	}
	for _, id := range r.householdsOfVillage(village) {
		if h := r.household(id); h != nil {
			ro.Households = append(ro.Households, h)
			targets = append(targets, id)
		}
	}
	seen := map[uuid.UUID]bool{}
	for _, t := range targets {
		for _, a := range r.assignmentsTo(t) {
			if seen[a.Cadre] {
				continue
			}
			seen[a.Cadre] = true
			if c := r.cadre(a.Cadre); c != nil && c.Current() {
				ro.Cadres = append(ro.Cadres, c)
				ro.Assignments = append(ro.Assignments, r.assignmentsOf(c.ID)...)
			}
		}
	}
	sortRoster(&ro)
	return ro
}

// everything returns the whole current roster the replica holds: households
// still followed, cadres still helping, assignments not ended.
func (r *reader) everything() (domain.Roster, error) {
	var ro domain.Roster
	err := r.tx.Each(domain.KindHousehold, func(rec domain.Record) error {
		if h := rec.(*domain.Household); h.Current() {
			ro.Households = append(ro.Households, h)
		}
		return nil
	})
	if err == nil {
		err = r.tx.Each(domain.KindCadre, func(rec domain.Record) error {
			if c := rec.(*domain.Cadre); c.Current() {
				ro.Cadres = append(ro.Cadres, c)
			}
			return nil
		})
	}
	if err == nil {
		err = r.tx.Each(domain.KindAssignment, func(rec domain.Record) error {
			if a := rec.(*domain.Assignment); a.Current() {
				ro.Assignments = append(ro.Assignments, a)
			}
			return nil
		})
	}
	sortRoster(&ro)
	return ro, err
}

func sortRoster(ro *domain.Roster) {
	sort.SliceStable(ro.Households, func(i, j int) bool {
		a, b := ro.Households[i], ro.Households[j]
		if a.HeadName != b.HeadName {
			return a.HeadName < b.HeadName
		}
		return string(a.ID[:]) < string(b.ID[:])
	})
	sortCadres(ro.Cadres)
	sort.SliceStable(ro.Assignments, func(i, j int) bool {
		a, b := ro.Assignments[i], ro.Assignments[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return string(a.ID[:]) < string(b.ID[:])
	})
}

func sortCadres(cs []*domain.Cadre) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Name != cs[j].Name {
			return cs[i].Name < cs[j].Name
		}
		return string(cs[i].ID[:]) < string(cs[j].ID[:])
	})
}

// Assignments returns a cadre's live assignments, oldest first (by Since,
// then creation).
func Assignments(db *store.DB, cadre uuid.UUID) ([]*domain.Assignment, error) {
	var out []*domain.Assignment
	err := view(db, func(r *reader) error {
		out = r.assignmentsOf(cadre)
		sort.SliceStable(out, func(i, j int) bool {
			a, b := out[i], out[j]
			if !a.Since.Equal(b.Since) {
				return a.Since.Before(b.Since)
			}
			return a.Created.Before(b.Created)
		})
		return nil
	})
	return out, err
}

// Places returns the live places at level under parent (uuid.Nil: all places
// at level), by name (see sortPlaces: 二社 before 十社).
func Places(db *store.DB, level domain.Level, parent uuid.UUID) ([]*domain.Place, error) {
	var out []*domain.Place
	err := view(db, func(r *reader) error {
		if parent != uuid.Nil {
			out = r.children(parent, level)
			return nil
		}
		err := r.tx.Each(domain.KindPlace, func(rec domain.Record) error {
			if p := rec.(*domain.Place); p.Level == level {
				out = append(out, p)
			}
			return nil
		})
		sortPlaces(out)
		return err
	})
	return out, err
}

// Cadres returns every live cadre, by name.
func Cadres(db *store.DB) ([]*domain.Cadre, error) {
	var out []*domain.Cadre
	err := view(db, func(r *reader) error {
		err := r.tx.Each(domain.KindCadre, func(rec domain.Record) error {
			out = append(out, rec.(*domain.Cadre))
			return nil
		})
		sortCadres(out)
		return err
	})
	return out, err
}

// CadreRow is what a village's supervision (岗位在村、责任在村、工作在村) shows of
// one cadre: facts, not a ranking.
type CadreRow struct {
	Cadre           *domain.Cadre
	Groups          []*domain.Place // groups where they are GroupCadre
	LastVisit       time.Time       // their latest visit anywhere; zero if none
	VisitsThisMonth int
	NotVisited      []HouseholdRow // their households overdue (by store.Settings.OverdueDays)
}

// CadreActivity returns the cadres of a village's roster (uuid.Nil: every
// cadre) by name, with their groups in the village, their latest visit
// anywhere, their visits in now's calendar month, and their households in the
// village that are overdue, in the order of MyHouseholds.
func CadreActivity(db *store.DB, village uuid.UUID, now time.Time) ([]CadreRow, error) {
	var out []CadreRow
	err := view(db, func(r *reader) error {
		var cadres []*domain.Cadre
		if village == uuid.Nil {
			if err := r.tx.Each(domain.KindCadre, func(rec domain.Record) error {
				cadres = append(cadres, rec.(*domain.Cadre))
				return nil
			}); err != nil {
				return err
			}
			sortCadres(cadres)
		} else {
			cadres = r.roster(village).Cadres
		}
		month := monthStart(now)
		for _, c := range cadres {
			cr := CadreRow{Cadre: c}
			for _, a := range r.assignmentsOf(c.ID) {
				if a.Role != domain.GroupCadre {
					continue
				}
				if g := r.place(a.Target); g != nil && (village == uuid.Nil || g.Parent == village) {
					cr.Groups = append(cr.Groups, g)
				}
			}
			sortPlaces(cr.Groups)
			r.tx.Scan("visit_cadre", c.ID[:], func(k []byte, _ uuid.UUID) bool {
				cr.LastVisit = newestTime(k[16:24]).In(now.Location())
				return false
			})
			cr.VisitsThisMonth = r.visitsSince("visit_cadre", c.ID[:], month)
			var mine []uuid.UUID
			for _, id := range r.householdsOf(c.ID) {
				if village == uuid.Nil || r.householdVillage(id) == village {
					mine = append(mine, id)
				}
			}
			for _, row := range r.rows(mine, now) {
				if row.Overdue {
					cr.NotVisited = append(cr.NotVisited, row)
				}
			}
			out = append(out, cr)
		}
		return nil
	})
	return out, err
}

// VisitsBy returns a cadre's visits, newest first, at most limit of them
// (limit <= 0: all).
func VisitsBy(db *store.DB, cadre uuid.UUID, limit int) ([]*domain.Visit, error) {
	var out []*domain.Visit
	err := view(db, func(r *reader) error {
		scanRecords(r, "visit_cadre", cadre[:], domain.KindVisit, limit, func(rec domain.Record) {
			out = append(out, rec.(*domain.Visit))
		})
		return nil
	})
	return out, err
}

// Figures are the roster in figures, for `bangfud stats`.
type Figures struct {
	Towns, Villages, NaturalVillages, Groups, Households, People int
	Farmland                                                     float64 // mu, rounded to 0.01
	CadresByRank                                                 map[domain.Rank]int
	Visits, OpenProblems, AwaitingReview                         int
	HouseholdGaps, CadreGaps, Mismatches                         int
}

// Summary counts everything the replica holds.
func Summary(db *store.DB) (*Figures, error) {
	s := &Figures{CadresByRank: map[domain.Rank]int{}}
	err := view(db, func(r *reader) error {
		if err := r.tx.Each(domain.KindPlace, func(rec domain.Record) error {
			switch rec.(*domain.Place).Level {
			case domain.Town:
				s.Towns++
			case domain.Village:
				s.Villages++
			case domain.NaturalVillage:
				s.NaturalVillages++
			case domain.Group:
				s.Groups++
			}
			return nil
		}); err != nil {
			return err
		}
		ro, err := r.everything()
		if err != nil {
			return err
		}
		for _, h := range ro.Households {
			s.Households++
			s.People += h.Size
			s.Farmland += h.Farmland
		}
		s.Farmland = roundMu(s.Farmland)
		for _, c := range ro.Cadres {
			s.CadresByRank[c.Rank]++
		}
		s.Visits = r.count("visit_hh")
		s.OpenProblems = r.count("problem_open")
		s.AwaitingReview = len(r.submittedPlans())
		g := domain.CheckAssistance(ro, r.tx.Rules(uuid.Nil).Quotas())
		s.HouseholdGaps, s.CadreGaps, s.Mismatches = len(g.Households), len(g.Cadres), len(g.Mismatches)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// count returns the number of keys in an index: the live records it holds
// for an index with one key per record.
func (r *reader) count(name string) int {
	n := 0
	r.tx.Scan(name, nil, func([]byte, uuid.UUID) bool { n++; return true })
	return n
}
