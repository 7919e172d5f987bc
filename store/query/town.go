package query

import (
	"sort"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// VillageStats are the figures of one village of a town, or of the whole
// town in TownFigures.Total.
type VillageStats struct {
	Village         *domain.Place // nil in the Total row
	Households      int
	VisitsThisMonth int // visits in the calendar month of now
	Overdue         int // households overdue for a visit (the village's rule)
	OpenProblems    int // problems not resolved, wherever they sit
	AtTown          int // of which reported to the town
	AwaitingReview  int // plans with status submitted
	Gaps            int // households missing a level of three-level assistance
}

// TownFigures are a town at a glance for a town lead or the office: one
// row per village, by name, with totals. Facts to act on, in the villages'
// own order: no ranking.
type TownFigures struct {
	Town     *domain.Place
	Villages []VillageStats
	Total    VillageStats
}

// TownOverview returns the figures of a town's villages at now, or an
// error matching domain.ErrNotFound if there is no such town.
func TownOverview(db *store.DB, town uuid.UUID, now time.Time) (*TownFigures, error) {
	var o *TownFigures
	err := view(db, func(r *reader) error {
		t := r.place(town)
		if t == nil || t.Level != domain.Town {
			return notFoundErr("town overview", domain.KindPlace, town)
		}
		o = &TownFigures{Town: t}
		submitted := map[uuid.UUID]int{}
		for _, p := range r.submittedPlans() {
			submitted[p.Household]++
		}
		atTown := map[uuid.UUID]int{}
		scanRecords(r, "problem_open", nil, domain.KindProblem, 0, func(rec domain.Record) {
			if p := rec.(*domain.Problem); p.Status == domain.ProblemTown {
				atTown[p.Household]++
			}
		})
		month := monthStart(now)
		for _, v := range r.children(town, domain.Village) {
			st := VillageStats{Village: v}
			gaps := map[uuid.UUID]bool{}
			ga, err := r.assistance(v.ID)
			if err != nil {
				return err
			}
			for _, g := range ga.Households {
				gaps[g.Household.ID] = true
			}
			// The figures of each household's list line (reader.row),
			// without its search key: a town has thousands.
			overdue := r.tx.Rules(v.ID).OverdueDays
			for _, id := range r.householdsOfVillage(v.ID) {
				if r.household(id) == nil {
					continue
				}
				st.Households++
				st.VisitsThisMonth += r.visitsSince("visit_hh", id[:], month)
				if days := daysSince(r.lastVisit(id), now); days < 0 || days >= overdue {
					st.Overdue++
				}
				st.OpenProblems += r.openProblems(id)
				st.AtTown += atTown[id]
				st.AwaitingReview += submitted[id]
				if gaps[id] {
					st.Gaps++
				}
			}
			o.Total.add(st)
			o.Villages = append(o.Villages, st)
		}
		return nil
	})
	return o, err
}

func (s *VillageStats) add(t VillageStats) {
	s.Households += t.Households
	s.VisitsThisMonth += t.VisitsThisMonth
	s.Overdue += t.Overdue
	s.OpenProblems += t.OpenProblems
	s.AtTown += t.AtTown
	s.AwaitingReview += t.AwaitingReview
	s.Gaps += t.Gaps
}

// VisitRow is a visit with its household and the cadre who made it.
type VisitRow struct {
	Visit     *domain.Visit
	Household HouseholdRow
	Cadre     *domain.Cadre // nil if unknown
}

// VillageVisits returns the visits to a village's households made at or
// after since, the latest first: the list behind "visits this month".
func VillageVisits(db *store.DB, village uuid.UUID, since, now time.Time) ([]VisitRow, error) {
	var out []VisitRow
	err := view(db, func(r *reader) error {
		for _, id := range r.householdsOfVillage(village) {
			h := r.household(id)
			if h == nil {
				continue
			}
			var row *HouseholdRow
			r.tx.Scan("visit_hh", id[:], func(k []byte, vid uuid.UUID) bool {
				if newestTime(k[16:24]).Before(since) {
					return false
				}
				rec := r.get(domain.KindVisit, vid)
				if rec == nil {
					return true
				}
				if row == nil {
					hr := r.row(h, now)
					row = &hr
				}
				v := rec.(*domain.Visit)
				out = append(out, VisitRow{Visit: v, Household: *row, Cadre: r.cadre(v.Cadre)})
				return true
			})
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Visit.At.After(out[j].Visit.At) })
	return out, err
}
