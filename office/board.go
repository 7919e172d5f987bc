package office

import (
	"sort"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// Person is one line of a board or card: a role, a name and a phone.
type Person struct {
	Role, Title, Name, Phone, Unit string
}

// BoardGroup is one 社 on the supervision board.
type BoardGroup struct {
	Name       string
	Households int
	People     int
	Cadres     []Person // its 包社干部
}

// Board is a village's 岗位监督栏: who answers for what, with phones, as the
// village posts it.
type Board struct {
	City, Town, Village string
	Leads               []Person // 联系村县级领导, 包村领导
	Committee           []Person // 村两委
	Team                []Person // 第一书记, 驻村工作队长 and members, 驻村包社组长
	Groups              []BoardGroup
	Made                time.Time
}

// roleOrder is the order people appear in within a section.
var roleOrder = map[domain.Role]int{
	domain.CityContact: 0, domain.VillageLead: 1,
	domain.VillageCommittee: 2,
	domain.FirstSecretary:   3, domain.TeamLeader: 4, domain.GroupCadreLead: 5, domain.TeamMember: 6,
}

func person(role domain.Role, title string, c *domain.Cadre) Person {
	zh, _ := domain.RoleName(role)
	if title == "" {
		title = zh
	}
	return Person{Role: zh, Title: title, Name: c.Name, Phone: c.Phone, Unit: c.Unit}
}

// BoardOf assembles the supervision board of a village at now.
func BoardOf(db *store.DB, village uuid.UUID, now time.Time) (*Board, error) {
	o, err := query.Overview(db, village, now)
	if err != nil {
		return nil, err
	}
	b := &Board{Village: o.Village.Name, Made: now}
	if t, err := db.Get(domain.KindPlace, o.Village.Parent); err == nil {
		town := t.(*domain.Place)
		b.Town = town.Name
		if c, err := db.Get(domain.KindPlace, town.Parent); err == nil {
			b.City = c.(*domain.Place).Name
		}
	}
	ro, err := query.Roster(db, village)
	if err != nil {
		return nil, err
	}
	cadres := map[uuid.UUID]*domain.Cadre{}
	for _, c := range ro.Cadres {
		cadres[c.ID] = c
	}
	groupCadres := map[uuid.UUID][]Person{}
	type ranked struct {
		order int
		p     Person
	}
	var leads, committee, team []ranked
	for _, a := range ro.Assignments {
		c := cadres[a.Cadre]
		if c == nil {
			continue
		}
		if a.Role == domain.GroupCadre {
			groupCadres[a.Target] = append(groupCadres[a.Target], person(a.Role, "包社干部（第一社长）", c))
			continue
		}
		if a.Target != village {
			continue
		}
		r := ranked{roleOrder[a.Role], person(a.Role, a.Title, c)}
		switch a.Role {
		case domain.CityContact, domain.VillageLead:
			leads = append(leads, r)
		case domain.VillageCommittee:
			committee = append(committee, r)
		case domain.FirstSecretary, domain.TeamLeader, domain.TeamMember, domain.GroupCadreLead:
			team = append(team, r)
		}
	}
	flat := func(rs []ranked) []Person {
		sort.SliceStable(rs, func(i, j int) bool {
			if rs[i].order != rs[j].order {
				return rs[i].order < rs[j].order
			}
			return rs[i].p.Name < rs[j].p.Name
		})
		out := make([]Person, len(rs))
		for i, r := range rs {
			out[i] = r.p
		}
		return out
	}
	b.Leads, b.Committee, b.Team = flat(leads), flat(committee), flat(team)
	for _, g := range o.Groups {
		ps := groupCadres[g.Group.ID]
		sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
		b.Groups = append(b.Groups, BoardGroup{Name: g.Group.Name, Households: g.Households, People: g.People, Cadres: ps})
	}
	return b, nil
}

// Card is a household's 帮扶明白卡: who helps it, how to reach them, and its
// plan's measures, as handed to the household.
type Card struct {
	Town, Village, Group string
	Head, Status         string
	Size                 int
	Farmland             float64
	Helpers              []Person
	Goal                 string
	Measures             []string
}

// CardsOf returns the cards of a village's households, or of one group's
// when group is not zero, in the order of the group's list.
func CardsOf(db *store.DB, village, group uuid.UUID, now time.Time) ([]Card, error) {
	var rows []query.HouseholdRow
	var err error
	if group != uuid.Nil {
		rows, err = query.GroupHouseholds(db, group, now)
	} else {
		rows, err = query.VillageHouseholds(db, village, now)
	}
	if err != nil {
		return nil, err
	}
	town := ""
	if v, err := db.Get(domain.KindPlace, village); err == nil {
		if t, err := db.Get(domain.KindPlace, v.(*domain.Place).Parent); err == nil {
			town = t.(*domain.Place).Name
		}
	}
	// By group as the village lists them (一社, 二社, … 十社), then by name.
	order := map[uuid.UUID]int{}
	if groups, err := query.Places(db, domain.Group, village); err == nil {
		for i, g := range groups {
			order[g.ID] = i
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if gi, gj := order[rows[i].Group], order[rows[j].Group]; gi != gj {
			return gi < gj
		}
		return rows[i].HeadName < rows[j].HeadName
	})
	var out []Card
	for _, r := range rows {
		c, err := query.Card(db, r.ID, now)
		if err != nil {
			return nil, err
		}
		st, _ := domain.StatusName(c.Household.Status)
		card := Card{Town: town, Village: c.Village.Name, Group: c.Group.Name, Head: c.Household.HeadName,
			Status: st, Size: c.Household.Size, Farmland: c.Household.Farmland}
		for _, h := range c.Helpers {
			title := ""
			switch h.Role {
			case domain.PairCounty:
				title = "县级帮扶领导"
			case domain.PairSection:
				title = "科级帮扶干部"
			case domain.Helper:
				title = "帮扶责任人"
			case domain.GroupCadre:
				title = "包社干部"
			}
			card.Helpers = append(card.Helpers, person(h.Role, title, h.Cadre))
		}
		if c.Plan != nil {
			card.Goal = c.Plan.Goal
			for _, m := range c.Measures {
				kind, _ := domain.MeasureKindName(m.Type)
				card.Measures = append(card.Measures, kind+"："+m.Description)
			}
		}
		out = append(out, card)
	}
	return out, nil
}
