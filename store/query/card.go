package query

import (
	"sort"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// HouseholdCard is the household card (一口清): everything a cadre recites at the
// door, in one call.
type HouseholdCard struct {
	Household      *domain.Household
	Group, Village *domain.Place
	NaturalVillage *domain.Place     // nil if unset
	Members        []*domain.Member  // current members: head first, then by birth year
	FormerMembers  []*domain.Member  // deceased or moved away (Member.Gone), in the same order
	Helpers        []Helper          // group cadre, county, section, helper (in that order; only those assigned)
	Visits         []*domain.Visit   // the last 10, newest first
	Plan           *domain.Plan      // nil if none
	Measures       []*domain.Measure // by due date
	Reviews        []*domain.Review  // newest first
	Problems       []*domain.Problem // open ones, oldest first
	LastVisit      time.Time
	DaysSince      int // -1 if never
}

// Helper is a cadre responsible for a household, in a role: GroupCadre for
// the group cadre of its group, PairCounty, PairSection or Helper for a
// pairing.
type Helper struct {
	Role  domain.Role
	Cadre *domain.Cadre
}

// CardVisits is how many visits a HouseholdCard holds.
const CardVisits = 10

// helperRoles is the order of HouseholdCard.Helpers.
var helperRoles = []domain.Role{domain.GroupCadre, domain.PairCounty, domain.PairSection, domain.Helper}

// Card returns the household card of a household at now, or an error matching
// domain.ErrNotFound if the household does not exist or is deleted.
func Card(db *store.DB, household uuid.UUID, now time.Time) (*HouseholdCard, error) {
	var c *HouseholdCard
	err := view(db, func(r *reader) error {
		h := r.household(household)
		if h == nil {
			return notFoundErr("card", domain.KindHousehold, household)
		}
		c = &HouseholdCard{Household: h, DaysSince: -1}
		c.Group = r.place(h.Group)
		if c.Group != nil {
			c.Village = r.place(c.Group.Parent)
		}
		if h.NaturalVillage != uuid.Nil {
			c.NaturalVillage = r.place(h.NaturalVillage)
		}

		for _, id := range r.ids("member_hh", h.ID[:]) {
			if rec := r.get(domain.KindMember, id); rec != nil {
				if m := rec.(*domain.Member); m.Current() {
					c.Members = append(c.Members, m)
				} else {
					c.FormerMembers = append(c.FormerMembers, m)
				}
			}
		}
		domain.SortMembers(c.Members, h.HeadName)
		domain.SortMembers(c.FormerMembers, h.HeadName)

		assigned := r.assignmentsTo(h.ID)
		for _, a := range r.assignmentsTo(h.Group) {
			if a.Role == domain.GroupCadre {
				assigned = append(assigned, a)
			}
		}
		for _, role := range helperRoles {
			var hs []Helper
			for _, a := range assigned {
				if a.Role != role {
					continue
				}
				if cd := r.cadre(a.Cadre); cd != nil && cd.Current() {
					hs = append(hs, Helper{Role: role, Cadre: cd})
				}
			}
			sort.SliceStable(hs, func(i, j int) bool { return hs[i].Cadre.Name < hs[j].Cadre.Name })
			c.Helpers = append(c.Helpers, hs...)
		}

		scanRecords(r, "visit_hh", h.ID[:], domain.KindVisit, CardVisits, func(rec domain.Record) {
			c.Visits = append(c.Visits, rec.(*domain.Visit))
		})
		if len(c.Visits) > 0 {
			c.LastVisit = c.Visits[0].At
			c.DaysSince = daysSince(c.LastVisit, now)
		}

		scanRecords(r, "plan_hh", h.ID[:], domain.KindPlan, 1, func(rec domain.Record) {
			c.Plan = rec.(*domain.Plan)
		})
		if c.Plan != nil {
			scanRecords(r, "measure_plan", c.Plan.ID[:], domain.KindMeasure, 0, func(rec domain.Record) {
				c.Measures = append(c.Measures, rec.(*domain.Measure))
			})
			sort.SliceStable(c.Measures, func(i, j int) bool {
				a, b := c.Measures[i], c.Measures[j]
				if !a.Due.Equal(b.Due) {
					return a.Due.Before(b.Due)
				}
				return a.Created.Before(b.Created)
			})
			scanRecords(r, "review_plan", c.Plan.ID[:], domain.KindReview, 0, func(rec domain.Record) {
				c.Reviews = append(c.Reviews, rec.(*domain.Review))
			})
		}
		scanRecords(r, "problem_open_hh", h.ID[:], domain.KindProblem, 0, func(rec domain.Record) {
			c.Problems = append(c.Problems, rec.(*domain.Problem))
		})
		return nil
	})
	return c, err
}

// scanRecords calls fn with the live records of kind found under prefix in
// index name, in key order, at most max of them (max <= 0: all).
func scanRecords(r *reader, name string, prefix []byte, kind domain.Kind, max int, fn func(domain.Record)) {
	n := 0
	r.tx.Scan(name, prefix, func(_ []byte, id uuid.UUID) bool {
		if rec := r.get(kind, id); rec != nil {
			fn(rec)
			n++
		}
		return max <= 0 || n < max
	})
}
