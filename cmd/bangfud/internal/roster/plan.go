package roster

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Snapshot is the part of a store's roster an import is matched against.
type Snapshot struct {
	Places      []*domain.Place
	Cadres      []*domain.Cadre
	Households  []*domain.Household
	Members     []*domain.Member
	Assignments []*domain.Assignment // current and ended
}

// Change is one line of what an import would do, for -dry-run: Op is
// "added", "changed" or "ended".
type Change struct {
	Op     string
	Zh, En string
}

// Result is what an import would write, or why it cannot.
type Result struct {
	// Records are the new and changed records, parents first: safe to pass to
	// one store Put.
	Records []domain.Record
	// Bad lists every bad row, in file order.
	Bad []*FileError
	// NewPlaces are the places the import creates.
	NewPlaces []*domain.Place
	// Counts of rows by outcome.
	NewHouseholds, UpdatedHouseholds int
	NewCadres, UpdatedCadres         int
	NewAssignments                   int
	NewMembers, UpdatedMembers       int
	Ended                            int // assignments ended, by a row or by a replacement
	Unchanged                        int // rows that match what the store holds
	Rows                             int // data rows read
	// Changes say, record by record, what is added, changed and ended.
	Changes []Change
}

// planner holds the roster as the import sees it: the store's records plus
// what earlier rows added.
type planner struct {
	now    time.Time
	res    *Result
	places map[uuid.UUID]*domain.Place
	kids   map[placeKey][]*domain.Place

	households []*domain.Household
	byID       map[uuid.UUID]*domain.Household
	byIDNumber map[string]*domain.Household
	stored     map[uuid.UUID]bool // records that exist in the store
	touched    map[uuid.UUID]Row  // records an earlier row of the file made or changed

	cadres []*domain.Cadre
	newRec map[uuid.UUID]bool

	members map[uuid.UUID][]*domain.Member // by household

	current map[assignKey]*domain.Assignment // current assignments
	ended   map[endKey]bool                  // ended assignments, by the day they ended
	over    map[assignKey]bool               // assignments that ended, any day
	ending  map[uuid.UUID]*domain.Assignment // assignments this import ends
	fresh   map[uuid.UUID]bool               // assignments this import adds
}

type endKey struct {
	assignKey
	day string
}

type placeKey struct {
	parent uuid.UUID
	level  domain.Level
	name   string
}

type assignKey struct {
	cadre  uuid.UUID
	role   domain.Role
	target uuid.UUID
}

// Plan matches the tables against the snapshot and returns the records to
// write. Households are read first, then cadres, then assignments, whatever
// their order in the file, so that assignments may name households and cadres
// of the same file. now bounds times and stamps new assignments.
func Plan(tables []Table, s Snapshot, now time.Time) *Result {
	p := &planner{
		now:        now,
		res:        &Result{},
		places:     map[uuid.UUID]*domain.Place{},
		kids:       map[placeKey][]*domain.Place{},
		byID:       map[uuid.UUID]*domain.Household{},
		byIDNumber: map[string]*domain.Household{},
		stored:     map[uuid.UUID]bool{},
		touched:    map[uuid.UUID]Row{},
		newRec:     map[uuid.UUID]bool{},
		members:    map[uuid.UUID][]*domain.Member{},
		current:    map[assignKey]*domain.Assignment{},
		ended:      map[endKey]bool{},
		over:       map[assignKey]bool{},
		ending:     map[uuid.UUID]*domain.Assignment{},
		fresh:      map[uuid.UUID]bool{},
	}
	for _, pl := range s.Places {
		p.addPlace(pl)
		p.stored[pl.ID] = true
	}
	for _, h := range s.Households {
		p.addHousehold(h)
		p.stored[h.ID] = true
	}
	for _, c := range s.Cadres {
		p.cadres = append(p.cadres, c)
		p.stored[c.ID] = true
	}
	for _, m := range s.Members {
		c := *m
		p.members[m.Household] = append(p.members[m.Household], &c)
	}
	for _, a := range s.Assignments {
		k := assignKey{a.Cadre, a.Role, a.Target}
		if a.Current() {
			c := *a
			p.current[k] = &c
		} else if !a.Deleted {
			p.ended[endKey{k, dayOf(a.Until)}] = true
			p.over[k] = true
		}
	}
	var places, cadres, households, members, assignments []domain.Record
	for _, kind := range []TableKind{Households, Cadres, Members, Assignments} {
		for _, t := range tables {
			if t.Kind != kind {
				continue
			}
			rows := t.Rows
			if kind == Assignments {
				// Endings first, so that a file that ends one helper and
				// names the next reads the same in any order.
				rows = append([]Row(nil), rows...)
				sort.SliceStable(rows, func(i, j int) bool {
					return rows[i].Get("ended_on") != "" && rows[j].Get("ended_on") == ""
				})
			}
			for _, row := range rows {
				if v := row.Get("head_id"); v != "" && kind != Members {
					if row.Get("id_number") == "" {
						row.Cells["id_number"] = v
					} else if row.Get("id_number") != v {
						p.res.Rows++
						p.bad(row, domain.Errorf(domain.EINVALID, "head_id", "“身份证号”与“户主身份证号”不一致",
							"the 身份证号 and 户主身份证号 columns disagree"))
						continue
					}
				}
				p.res.Rows++
				before := len(p.res.NewPlaces)
				var rec domain.Record
				var err error
				if row.Cells["#extra"] != "" {
					err = domain.Errorf(domain.EINVALID, "row", "此行有超出表头的单元格", "this row has cells beyond the header's columns")
				} else {
					switch kind {
					case Households:
						rec, err = p.household(row)
					case Cadres:
						rec, err = p.cadre(row)
					case Assignments:
						rec, err = p.assignment(row)
					case Members:
						rec, err = p.member(row)
					}
				}
				if err != nil {
					p.bad(row, err)
					continue
				}
				for _, pl := range p.res.NewPlaces[before:] {
					places = append(places, pl)
				}
				switch rec.(type) {
				case nil:
					p.res.Unchanged++
				case *domain.Household:
					households = append(households, rec)
				case *domain.Cadre:
					cadres = append(cadres, rec)
				case *domain.Member:
					members = append(members, rec)
				case *domain.Assignment:
					assignments = append(assignments, rec)
				}
			}
		}
	}
	// The assignments this import ends, in a stable order; those it both adds
	// and ends are written once, ended.
	var ends []*domain.Assignment
	for _, a := range p.ending {
		if !p.fresh[a.ID] {
			ends = append(ends, a)
		}
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i].ID.String() < ends[j].ID.String() })
	for _, a := range ends {
		assignments = append(assignments, a)
	}
	p.res.Records = append(append(append(append(places, cadres...), households...), members...), assignments...)
	order := map[string]int{}
	for _, t := range tables {
		if _, ok := order[t.Sheet]; !ok {
			order[t.Sheet] = len(order)
		}
	}
	sort.SliceStable(p.res.Bad, func(i, j int) bool {
		a, b := p.res.Bad[i], p.res.Bad[j]
		if order[a.Sheet] != order[b.Sheet] {
			return order[a.Sheet] < order[b.Sheet]
		}
		return a.Line < b.Line
	})
	return p.res
}

func (p *planner) bad(row Row, err error) {
	e, ok := err.(*domain.Error)
	if !ok {
		e = domain.Errorf(domain.EINVALID, "", "%v", "%v", err)
	}
	p.res.Bad = append(p.res.Bad, &FileError{Sheet: row.Sheet, Line: row.Line, Err: e})
}

func (p *planner) addPlace(pl *domain.Place) {
	p.places[pl.ID] = pl
	k := placeKey{pl.Parent, pl.Level, pl.Name}
	p.kids[k] = append(p.kids[k], pl)
}

func (p *planner) addHousehold(h *domain.Household) {
	p.households = append(p.households, h)
	p.byID[h.ID] = h
	if h.IDNumber != "" {
		p.byIDNumber[h.IDNumber] = h
	}
}

// placesNamed returns the places of a level with a name, under parent when
// parent is not nil.
func (p *planner) placesNamed(level domain.Level, name string, parent *domain.Place) []*domain.Place {
	if parent != nil {
		return p.kids[placeKey{parent.ID, level, name}]
	}
	var out []*domain.Place
	for _, pl := range p.places {
		if pl.Level == level && pl.Name == name {
			out = append(out, pl)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.String() < out[j].ID.String() })
	return out
}

func (p *planner) newPlace(level domain.Level, name string, parent *domain.Place) (*domain.Place, error) {
	pl := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: level, Name: name}
	if parent != nil {
		pl.Parent = parent.ID
	}
	if err := pl.Validate(p.now); err != nil {
		return nil, err
	}
	p.addPlace(pl)
	p.newRec[pl.ID] = true
	p.res.NewPlaces = append(p.res.NewPlaces, pl)
	return pl, nil
}

// one picks the single place of a list, or explains why it cannot.
func one(list []*domain.Place, level domain.Level, name, hintZh, hintEn string) (*domain.Place, error) {
	zh, en := domain.LevelName(level)
	switch len(list) {
	case 0:
		return nil, nil
	case 1:
		return list[0], nil
	}
	return nil, domain.Errorf(domain.EINVALID, string(level), "有 %[1]d 个名为“%[2]s”的%[3]s，请%[5]s以区分",
		"there are %[1]d %[4]ss named %[2]q; %[6]s to tell them apart", len(list), name, zh, en, hintZh, hintEn)
}

// village resolves the row's 村 (with 镇 and 市 when given). With create, a
// missing village, town or city is created; otherwise it is an error.
func (p *planner) village(row Row, create bool) (*domain.Place, error) {
	name := row.Get("village")
	if name == "" {
		return nil, domain.Errorf(domain.EINVALID, "village", "请填写“村”", "fill in the 村 (village) column")
	}
	var town *domain.Place
	if row.Get("town") != "" {
		var err error
		if town, err = p.town(row, create, false); err != nil {
			return nil, err
		}
	}
	if town != nil || row.Get("town") == "" {
		list := p.placesNamed(domain.Village, name, town)
		v, err := one(list, domain.Village, name, "填写“镇”列", "fill in the 镇 (town) column")
		if err != nil || v != nil {
			return v, err
		}
	}
	if !create {
		return nil, domain.Errorf(domain.ENOTFOUND, "village", "村“%s”不存在", "village %q does not exist", name)
	}
	if row.Get("town") == "" {
		return nil, domain.Errorf(domain.EINVALID, "town", "村“%s”不存在；要新建它，请填写“镇”列",
			"village %q does not exist; to create it, fill in the 镇 (town) column", name)
	}
	if town == nil {
		var err error
		if town, err = p.town(row, true, true); err != nil {
			return nil, err
		}
	}
	return p.newPlace(domain.Village, name, town)
}

// town resolves the row's 镇. When mustExist is false a missing town is not an
// error: the result is nil. With create (and mustExist) a missing town is
// created under the row's 市, or under the only city there is.
func (p *planner) town(row Row, create, mustExist bool) (*domain.Place, error) {
	name := row.Get("town")
	var city *domain.Place
	if row.Get("city") != "" {
		list := p.placesNamed(domain.City, row.Get("city"), nil)
		c, err := one(list, domain.City, row.Get("city"), "核对", "check the names")
		if err != nil {
			return nil, err
		}
		city = c
	}
	if city != nil || row.Get("city") == "" {
		t, err := one(p.placesNamed(domain.Town, name, city), domain.Town, name, "填写“市”列", "fill in the 市 (city) column")
		if err != nil || t != nil {
			return t, err
		}
	}
	if !mustExist {
		return nil, nil
	}
	if !create {
		return nil, domain.Errorf(domain.ENOTFOUND, "town", "镇“%s”不存在", "town %q does not exist", name)
	}
	if city == nil {
		if row.Get("city") != "" {
			c, err := p.newPlace(domain.City, row.Get("city"), nil)
			if err != nil {
				return nil, err
			}
			city = c
		} else {
			var all []*domain.Place
			for _, pl := range p.places {
				if pl.Level == domain.City {
					all = append(all, pl)
				}
			}
			if len(all) != 1 {
				return nil, domain.Errorf(domain.EINVALID, "city", "镇“%s”不存在；要新建它，请填写“市”列",
					"town %q does not exist; to create it, fill in the 市 (city) column", name)
			}
			city = all[0]
		}
	}
	return p.newPlace(domain.Town, name, city)
}

// below resolves a group or natural village of a village by name, creating
// it when create is true.
func (p *planner) below(village *domain.Place, level domain.Level, name string, create bool) (*domain.Place, error) {
	g, err := one(p.placesNamed(level, name, village), level, name, "核对", "check the names")
	if err != nil || g != nil {
		return g, err
	}
	if !create {
		zh, en := domain.LevelName(level)
		return nil, domain.Errorf(domain.ENOTFOUND, string(level), "%[3]s“%[1]s”下没有%[4]s“%[2]s”",
			"village %[1]q has no %[5]s %[2]q", village.Name, name, "村", zh, en)
	}
	return p.newPlace(level, name, village)
}

// household reads a household row: a new household, a changed one, or nil
// when the store already holds it as the row says.
func (p *planner) household(row Row) (domain.Record, error) {
	head := row.Get("head")
	if head == "" {
		return nil, domain.Errorf(domain.EINVALID, "head_name", "户主姓名不能为空", "head of household must not be empty")
	}
	if row.Get("group") == "" {
		return nil, domain.Errorf(domain.EINVALID, "group", "请填写所属的社", "fill in the household's group (社)")
	}
	village, err := p.village(row, true)
	if err != nil {
		return nil, err
	}
	group, err := p.below(village, domain.Group, row.Get("group"), true)
	if err != nil {
		return nil, err
	}
	var natural *domain.Place
	if row.Get("natural_village") != "" {
		if natural, err = p.below(village, domain.NaturalVillage, row.Get("natural_village"), true); err != nil {
			return nil, err
		}
	}

	// Find the household the row describes.
	id := row.Get("id_number")
	if err := checkIDCell("id_number", id); err != nil {
		return nil, err
	}
	cur, err := p.byCode(row)
	if err != nil {
		return nil, err
	}
	if cur != nil && id != "" {
		if other := p.byIDNumber[id]; other != nil && other != cur {
			return nil, domain.Errorf(domain.EINVALID, "id_number", "身份证号 %[1]s 属于另一户（户主%[2]s），与户编号不符",
				"ID number %[1]s belongs to another household (headed by %[2]s), not the one of the 户编号", domain.MaskID(id), other.HeadName)
		}
	}
	if cur == nil && id != "" {
		cur = p.byIDNumber[id]
	}
	if cur == nil && row.Get("from_group") != "" {
		if cur, err = p.movedFrom(row, village, group, head, id); err != nil {
			return nil, err
		}
	}
	if cur == nil {
		// By head and group; with an ID number, only a household that has none.
		var same []*domain.Household
		for _, h := range p.households {
			if h.Group == group.ID && h.HeadName == head && (id == "" || h.IDNumber == "") {
				same = append(same, h)
			}
		}
		if len(same) > 1 {
			return nil, domain.Errorf(domain.EINVALID, "id_number", "%s有 %d 户户主名为“%s”，请填写身份证号以区分",
				"%s has %d households headed by %q; fill in the ID number to tell them apart", group.Name, len(same), head)
		}
		if len(same) == 1 {
			cur = same[0]
		}
	}
	if cur == nil && id == "" {
		if err := p.namesakeElsewhere(village, group, head); err != nil {
			return nil, err
		}
	}
	if cur != nil {
		if prev, ok := p.touched[cur.ID]; ok {
			zh, en := prev.Where()
			return nil, bilingual(domain.EINVALID, "head_name", "与%s是同一户（重复）", "the same household as %s (a duplicate)", zh, en)
		}
	}

	h := &domain.Household{Meta: domain.Meta{ID: uuid.New()}}
	if cur != nil {
		c := *cur
		h = &c
	} else {
		if row.Get("status") == "" {
			return nil, domain.Errorf(domain.EINVALID, "status", "新户请填写户类型", "a new household needs a status (户类型)")
		}
		if row.Get("size") == "" {
			return nil, domain.Errorf(domain.EINVALID, "size", "新户请填写家庭人口", "a new household needs a size (人口)")
		}
	}
	h.HeadName = head
	h.Group = group.ID
	if natural != nil {
		h.NaturalVillage = natural.ID
	} else if nv := p.places[h.NaturalVillage]; nv != nil && nv.Parent != village.ID {
		h.NaturalVillage = uuid.Nil // moved to another village: its natural village stays behind
	}
	set := func(key string, dst *string) {
		if v := row.Get(key); v != "" {
			*dst = v
		}
	}
	set("phone", &h.Phone)
	set("id_number", &h.IDNumber)
	set("address", &h.Address)
	set("income", &h.Income)
	set("notes", &h.Notes)
	if v := row.Get("status"); v != "" {
		if h.Status, err = parseStatus(v); err != nil {
			return nil, err
		}
	}
	if v := row.Get("farmland"); v != "" {
		if h.Farmland, err = parseFarmland(v); err != nil {
			return nil, err
		}
	}
	if v := row.Get("size"); v != "" {
		if h.Size, err = parseSize(v); err != nil {
			return nil, err
		}
	}
	if err := endings(p.now, row, "exit", &h.Exit, &h.ExitOn, &h.ExitReason, parseExit); err != nil {
		return nil, err
	}
	if err := h.Validate(p.now); err != nil {
		return nil, err
	}
	if cur == nil {
		p.addHousehold(h)
		p.touched[h.ID] = row
		p.newRec[h.ID] = true
		p.res.NewHouseholds++
		p.change("added", "新增农户 "+head, "new household "+head)
		return h, nil
	}
	p.touched[cur.ID] = row
	if *h == *cur {
		return nil, nil
	}
	if h.Group != cur.Group {
		// A move: one line for it, another for anything else changed.
		from, to := p.groupName(cur.Group), p.groupName(h.Group)
		p.change("changed", fmt.Sprintf("迁移农户 %s：%s → %s", head, from, to), fmt.Sprintf("move household %s: %s → %s", head, from, to))
		if rest := *h; func() bool { rest.Group, rest.NaturalVillage = cur.Group, cur.NaturalVillage; return rest != *cur }() {
			p.changed("农户 "+head, "household "+head, cur, &rest)
		}
	} else {
		p.changed("农户 "+head, "household "+head, cur, h)
	}
	if h.Exit != "" && cur.Exit == "" {
		// A household that leaves keeps no helpers.
		zh, _ := domain.ExitName(h.Exit)
		p.endAll(func(a *domain.Assignment) bool { return a.Target == h.ID }, h.ExitOn, "户"+zh)
	}
	*cur = *h // later rows (assignments) see the household as changed
	if h.IDNumber != "" {
		p.byIDNumber[h.IDNumber] = cur
	}
	p.res.UpdatedHouseholds++
	return h, nil
}

// byCode finds the household of the row's 户编号 (its record ID), nil when
// the row has none.
func (p *planner) byCode(row Row) (*domain.Household, error) {
	code := row.Get("household_code")
	if code == "" {
		return nil, nil
	}
	id, err := uuid.Parse(code)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "household_code", "户编号“%[1]s”无法识别（应照导出的花名册原样保留；新户请留空）",
			"户编号 (household number) %[1]q is not recognised (keep it as the exported roster has it; leave it empty for a new household)", code)
	}
	h := p.byID[id]
	if h == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "household_code", "户编号 %[1]s 不存在（新户请留空）",
			"no household has the 户编号 (household number) %[1]s (leave it empty for a new household)", code)
	}
	return h, nil
}

// movedFrom finds the household a row moves from its 原社 (in the row's
// village) to its 社: by the ID number when given, else the one household
// headed by head there.
func (p *planner) movedFrom(row Row, village, group *domain.Place, head, id string) (*domain.Household, error) {
	from, err := p.below(village, domain.Group, row.Get("from_group"), false)
	if err != nil {
		return nil, err
	}
	var same []*domain.Household
	for _, h := range p.households {
		if h.Group == from.ID && h.HeadName == head && h.Current() && (id == "" || h.IDNumber == "") {
			same = append(same, h)
		}
	}
	switch len(same) {
	case 0:
		for _, h := range p.households {
			if h.Group == group.ID && h.HeadName == head {
				return nil, nil // moved already (the same file again): found in its 社 as usual
			}
		}
		return nil, domain.Errorf(domain.ENOTFOUND, "from_group", "原社“%[1]s”没有户主为“%[2]s”的户", "%[1]s has no household headed by %[2]q to move", from.Name, head)
	case 1:
		return same[0], nil
	}
	return nil, domain.Errorf(domain.EINVALID, "from_group", "原社“%[1]s”有 %[2]d 户户主名为“%[3]s”，无法确定迁移哪一户：请填写户编号或身份证号",
		"%[1]s has %[2]d households headed by %[3]q, so which one moves is ambiguous: fill in the 户编号 (household number) or the ID number", from.Name, len(same), head)
}

// namesakeElsewhere refuses a new household without an ID number whose head
// already heads a stored household in another 社 of the same village: the
// row may move that household (without 户编号 or 身份证号 nothing says so)
// or add another family of the same name, and guessing either way is wrong
// (a duplicate, or a family lost).
func (p *planner) namesakeElsewhere(village, group *domain.Place, head string) error {
	var groups []string
	for _, h := range p.households {
		g := p.places[h.Group]
		if !p.stored[h.ID] || !h.Current() || h.HeadName != head || h.Group == group.ID || g == nil || g.Parent != village.ID {
			continue
		}
		groups = append(groups, g.Name)
	}
	if len(groups) == 0 {
		return nil
	}
	sort.Strings(groups)
	names := joinNames(groups)
	return domain.Errorf(domain.EINVALID, "from_group",
		"%[1]s%[2]s已有户主为“%[3]s”的户，本行没有户编号和身份证号，无法判断：若是该户迁入%[4]s，请在“原社”列填写“%[2]s”（或填写户编号、身份证号）；若是另一户，请填写身份证号",
		"%[1]s already has a household headed by %[3]q in %[2]s and this row has no 户编号 or ID number, so it is ambiguous: if that household moved to %[4]s, put %[2]s in the 原社 (from_group) column (or give the 户编号 or ID number); if it is another family, give its ID number",
		village.Name, names, head, group.Name)
}

// groupName names a group.
func (p *planner) groupName(id uuid.UUID) string {
	if g := p.places[id]; g != nil {
		return g.Name
	}
	return ""
}

// endings reads the ending columns of a household, cadre or member row: the
// state in column key (户状态, 在岗状态, 成员状态: blank keeps the stored one,
// 在册/在岗 clears it), the day (结束日期; today if blank) and the reason.
func endings[T ~string](now time.Time, row Row, key string, state *T, on *time.Time, reason *string, parse func(string) (T, error)) error {
	v := row.Get(key)
	if v == "" {
		if row.Get("ended_on") != "" || row.Get("end_reason") != "" {
			c := columnOf(key)
			return domain.Errorf(domain.EINVALID, key, "填写了结束日期或原因，但“%[1]s”列为空", "an end date or reason is given but the %[1]s column is empty", c.zh)
		}
		return nil
	}
	st, err := parse(v)
	if err != nil {
		return err
	}
	if st == "" {
		var zero T
		*state, *on, *reason = zero, time.Time{}, ""
		return nil
	}
	day := now
	if d := row.Get("ended_on"); d != "" {
		if day, err = parseDate("ended_on", d); err != nil {
			return err
		}
	}
	if *state != st || !sameDay(*on, day) {
		*state, *on = st, day
	}
	if r := row.Get("end_reason"); r != "" {
		*reason = r
	}
	return nil
}

// cadre reads a cadre row.
func (p *planner) cadre(row Row) (domain.Record, error) {
	name := row.Get("cadre")
	if name == "" {
		return nil, domain.Errorf(domain.EINVALID, "name", "干部姓名不能为空", "cadre name must not be empty")
	}
	phone := row.Get("phone")
	cur, err := p.findCadre(name, phone, true)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		if prev, ok := p.touched[cur.ID]; ok {
			zh, en := prev.Where()
			return nil, bilingual(domain.EINVALID, "name", "与%s是同一名干部（重复）", "the same cadre as %s (a duplicate)", zh, en)
		}
	}
	c := &domain.Cadre{Meta: domain.Meta{ID: uuid.New()}, Name: name}
	if cur != nil {
		cc := *cur
		c = &cc
	} else if row.Get("rank") == "" {
		return nil, domain.Errorf(domain.EINVALID, "rank", "新干部请填写职级", "a new cadre needs a rank (职级)")
	}
	if v := row.Get("rank"); v != "" {
		if c.Rank, err = parseRank(v); err != nil {
			return nil, err
		}
	}
	if phone != "" {
		c.Phone = phone
	}
	if v := row.Get("unit"); v != "" {
		c.Unit = v
	}
	if v := row.Get("title"); v != "" {
		c.Title = v
	}
	if err := endings(p.now, row, "left", &c.Left, &c.LeftOn, &c.LeftReason, parseLeft); err != nil {
		return nil, err
	}
	if err := c.Validate(p.now); err != nil {
		return nil, err
	}
	if cur == nil {
		p.cadres = append(p.cadres, c)
		p.touched[c.ID] = row
		p.newRec[c.ID] = true
		p.res.NewCadres++
		p.change("added", "新增干部 "+name, "new cadre "+name)
		return c, nil
	}
	p.touched[cur.ID] = row
	if *c == *cur {
		return nil, nil
	}
	p.changed("干部 "+name, "cadre "+name, cur, c)
	if c.Left != "" && cur.Left == "" {
		// A cadre who leaves keeps no duties.
		zh, _ := domain.DepartureName(c.Left)
		p.endAll(func(a *domain.Assignment) bool { return a.Cadre == c.ID }, c.LeftOn, "干部"+zh)
	}
	*cur = *c
	p.res.UpdatedCadres++
	return c, nil
}

// findCadre finds a cadre by name, and by phone when several share the name.
// With forRoster (a cadre row) a phone that matches no namesake means a new
// cadre; otherwise (an assignment row) the cadre must exist.
func (p *planner) findCadre(name, phone string, forRoster bool) (*domain.Cadre, error) {
	var same []*domain.Cadre
	for _, c := range p.cadres {
		if c.Name == name {
			same = append(same, c)
		}
	}
	if phone != "" {
		for _, c := range same {
			if c.Phone == phone {
				return c, nil
			}
		}
		if forRoster {
			if len(same) == 1 && same[0].Phone == "" {
				return same[0], nil
			}
			return nil, nil
		}
		return nil, domain.Errorf(domain.ENOTFOUND, "cadre", "找不到电话为 %[2]s 的干部“%[1]s”", "no cadre %[1]q with phone %[2]s", name, phone)
	}
	switch len(same) {
	case 0:
		if forRoster {
			return nil, nil
		}
		return nil, domain.Errorf(domain.ENOTFOUND, "cadre", "找不到干部“%s”（请先在干部表中列出）",
			"no cadre named %q (list them in a cadres table first)", name)
	case 1:
		return same[0], nil
	}
	return nil, domain.Errorf(domain.EINVALID, "cadre", "有 %d 名干部叫“%s”，请填写电话以区分",
		"there are %d cadres named %q; fill in the phone to tell them apart", len(same), name)
}

// assignment reads a pairing or assignment row.
func (p *planner) assignment(row Row) (domain.Record, error) {
	name := row.Get("cadre")
	if name == "" {
		return nil, domain.Errorf(domain.EINVALID, "cadre", "请填写干部姓名", "fill in the cadre's name")
	}
	if row.Get("role") == "" {
		return nil, domain.Errorf(domain.EINVALID, "role", "请填写职责", "fill in the role (职责)")
	}
	role, err := parseRole(row.Get("role"))
	if err != nil {
		return nil, err
	}
	c, err := p.findCadre(name, row.Get("cadre_phone"), false)
	if err != nil {
		return nil, err
	}
	target, err := p.target(row, role)
	if err != nil {
		return nil, err
	}
	title := row.Get("title")
	if title == "" && isCommitteeOffice(row.Get("role")) {
		title = row.Get("role")
	}
	since := p.now
	if row.Get("ended_on") != "" {
		since = time.Time{} // an ending: the start is the stored one, or unknown
	}
	if v := row.Get("since"); v != "" {
		if since, err = parseDate("since", v); err != nil {
			return nil, err
		}
	}
	var until time.Time
	if v := row.Get("ended_on"); v != "" {
		if until, err = parseDate("ended_on", v); err != nil {
			return nil, err
		}
	} else if row.Get("end_reason") != "" {
		return nil, domain.Errorf(domain.EINVALID, "ended_on", "填写了结束原因，请同时填写结束日期", "an end reason is given: fill in the end date too")
	}
	a := &domain.Assignment{Meta: domain.Meta{ID: uuid.New()}, Cadre: c.ID, Role: role, Target: target, Title: title, Since: since}
	if !until.IsZero() {
		a.End(until, row.Get("end_reason"))
	}
	if err := a.Validate(p.now); err != nil {
		return nil, err
	}
	if rank := pairingRank(role); rank != "" && c.Rank != rank {
		rzh, ren := domain.RankName(c.Rank)
		wzh, wen := domain.RankName(rank)
		return nil, domain.Errorf(domain.EINVALID, "role", "“%[1]s”是%[2]s，不能承担%[3]s结对", "%[1]s is a %[4]s and cannot hold a %[5]s pairing",
			c.Name, rzh, wzh, ren, wen)
	}
	k := assignKey{c.ID, role, target}
	touchKey := assignID(k)
	if !until.IsZero() {
		touchKey = uuid.NewSHA1(touchKey, []byte(dayOf(until)))
	}
	if prev, ok := p.touched[touchKey]; ok {
		zh, en := prev.Where()
		return nil, bilingual(domain.EINVALID, "role", "与%s重复", "a duplicate of %s", zh, en)
	}
	p.touched[touchKey] = row
	rzh, ren := domain.RoleName(role)
	what := func(a *domain.Assignment) (string, string) {
		t := p.targetName(a.Target)
		return fmt.Sprintf("%s %s（%s）", c.Name, rzh, t), fmt.Sprintf("%s %s (%s)", c.Name, ren, t)
	}

	if !until.IsZero() {
		// An ending: of the current assignment, or history to record.
		if p.ended[endKey{k, dayOf(until)}] {
			return nil, nil
		}
		p.ended[endKey{k, dayOf(until)}] = true
		p.over[k] = true
		if cur := p.current[k]; cur != nil {
			if until.Before(cur.Since) {
				return nil, domain.Errorf(domain.EINVALID, "ended_on", "结束日期 %[1]s 早于这项安排的开始日期 %[2]s",
					"the end date %[1]s is before the assignment's start, %[2]s", dayOf(until), dayOf(cur.Since))
			}
			p.end(cur, until, row.Get("end_reason"))
			return nil, nil // written with the other endings
		}
		zh, en := what(a)
		p.change("added", "补录已结束的安排 "+zh+"，"+dayOf(until)+" 结束", "ended assignment recorded: "+en+", ended "+dayOf(until))
		p.res.NewAssignments++
		return a, nil
	}
	if p.current[k] != nil {
		return nil, nil
	}
	if gone := p.gone(c, target); gone != "" {
		// The row still lists an assignment of a cadre who left or of a
		// household that left: the ending wins; a new one is an error.
		if p.over[k] {
			return nil, nil
		}
		return nil, domain.Errorf(domain.EINVALID, "role", "%[1]s，不能新增安排", "%[1]s: no new assignment", gone)
	}
	if role.Single() {
		// A new holder ends the previous one's assignment.
		for _, old := range p.current {
			if old.Role != role || old.Target != target {
				continue
			}
			if p.fresh[old.ID] {
				zh, en := domain.RoleName(role)
				t := p.targetName(target)
				return nil, domain.Errorf(domain.EINVALID, "role", "本文件为%[1]s列了两名%[2]s", "this file names two %[3]ss for %[1]s", t, zh, en)
			}
			p.end(old, p.now, "帮扶力量调整："+c.Name+"接替")
		}
	}
	p.current[k] = a
	p.fresh[a.ID] = true
	p.res.NewAssignments++
	zh, en := what(a)
	p.change("added", "新增 "+zh, "new "+en)
	return a, nil
}

// gone says why a cadre or a target household can take no new assignment
// (retired, moved out...), "" if they can.
func (p *planner) gone(c *domain.Cadre, target uuid.UUID) string {
	if c.Left != "" {
		zh, _ := domain.DepartureName(c.Left)
		return c.Name + "已" + strings.TrimPrefix(zh, "已")
	}
	for _, h := range p.households {
		if h.ID == target && h.Exit != "" {
			zh, _ := domain.ExitName(h.Exit)
			return h.HeadName + "户" + zh
		}
	}
	return ""
}

// end ends a current assignment on day for reason (once). An assignment
// that began after day (a household that left before a pairing's recorded
// start) ends the day it began.
func (p *planner) end(a *domain.Assignment, day time.Time, reason string) {
	if _, ok := p.ending[a.ID]; ok {
		return
	}
	if day.Before(a.Since) {
		day = a.Since
	}
	k := assignKey{a.Cadre, a.Role, a.Target}
	delete(p.current, k)
	p.over[k] = true
	p.ended[endKey{k, dayOf(day)}] = true
	c := *a
	c.End(day, reason)
	p.ending[a.ID] = &c
	p.res.Ended++
	rzh, ren := domain.RoleName(a.Role)
	name := ""
	for _, cd := range p.cadres {
		if cd.ID == a.Cadre {
			name = cd.Name
		}
	}
	t := p.targetName(a.Target)
	p.change("ended", fmt.Sprintf("结束 %s %s（%s）：%s", name, rzh, t, reason), fmt.Sprintf("end %s %s (%s): %s", name, ren, t, reason))
}

// endAll ends every current assignment that match selects.
func (p *planner) endAll(match func(*domain.Assignment) bool, day time.Time, reason string) {
	var list []*domain.Assignment
	for _, a := range p.current {
		if match(a) {
			list = append(list, a)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID.String() < list[j].ID.String() })
	for _, a := range list {
		p.end(a, day, reason)
	}
}

// targetName names a household (its head) or a place.
func (p *planner) targetName(id uuid.UUID) string {
	if pl := p.places[id]; pl != nil {
		return pl.Name
	}
	for _, h := range p.households {
		if h.ID == id {
			return h.HeadName
		}
	}
	return id.String()[:8]
}

// change notes one line of the diff.
func (p *planner) change(op, zh, en string) {
	p.res.Changes = append(p.res.Changes, Change{Op: op, Zh: zh, En: en})
}

// changed notes the fields of a record that an import changes.
func (p *planner) changed(zh, en string, old, rec domain.Record) {
	a, err1 := domain.Encode(old)
	b, err2 := domain.Encode(rec)
	if err1 != nil || err2 != nil {
		return
	}
	var fields []string
	for k := range domain.Diff(a, b) {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	p.change("changed", "更改"+zh+"："+joinNames(fields), "change "+en+": "+strings.Join(fields, ", "))
}

// dayOf is a day in China, "" for none: the key of an ending.
func dayOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(China).Format("2006-01-02")
}

func pairingRank(r domain.Role) domain.Rank {
	switch r {
	case domain.PairCounty:
		return domain.RankCounty
	case domain.PairSection:
		return domain.RankSection
	}
	return ""
}

// assignID is a key for an assignment in touched.
func assignID(k assignKey) uuid.UUID {
	return uuid.NewSHA1(k.cadre, append(k.target[:], k.role...))
}

// target resolves what a role's assignment points at: a household for a
// pairing, else a group, village, town or city.
func (p *planner) target(row Row, role domain.Role) (uuid.UUID, error) {
	switch role.TargetLevel() {
	case "":
		return p.targetHousehold(row)
	case domain.Group:
		v, err := p.village(row, false)
		if err != nil {
			return uuid.Nil, err
		}
		if row.Get("group") == "" {
			return uuid.Nil, domain.Errorf(domain.EINVALID, "group", "包社干部请填写“社”", "a group cadre needs the 社 (group) column")
		}
		g, err := p.below(v, domain.Group, row.Get("group"), false)
		if err != nil {
			return uuid.Nil, err
		}
		return g.ID, nil
	case domain.Village:
		v, err := p.village(row, false)
		if err != nil {
			return uuid.Nil, err
		}
		return v.ID, nil
	}
	// A town, or for the office role a town or the city.
	if row.Get("town") == "" {
		if role == domain.Office && row.Get("city") != "" {
			c, err := one(p.placesNamed(domain.City, row.Get("city"), nil), domain.City, row.Get("city"), "核对", "check the names")
			if err != nil {
				return uuid.Nil, err
			}
			if c == nil {
				return uuid.Nil, domain.Errorf(domain.ENOTFOUND, "city", "市“%s”不存在", "city %q does not exist", row.Get("city"))
			}
			return c.ID, nil
		}
		zh, en := domain.RoleName(role)
		return uuid.Nil, bilingual(domain.EINVALID, "town", "%s请填写“镇”", "a %s needs the 镇 (town) column", zh, en)
	}
	t, err := p.town(row, false, true)
	if err != nil {
		return uuid.Nil, err
	}
	return t.ID, nil
}

func (p *planner) targetHousehold(row Row) (uuid.UUID, error) {
	if h, err := p.byCode(row); err != nil || h != nil {
		if err != nil {
			return uuid.Nil, err
		}
		return h.ID, nil
	}
	if id := row.Get("id_number"); id != "" {
		if err := checkIDCell("id_number", id); err != nil {
			return uuid.Nil, err
		}
		if h := p.byIDNumber[id]; h != nil {
			return h.ID, nil
		}
		return uuid.Nil, domain.Errorf(domain.ENOTFOUND, "id_number", "找不到身份证号为 %s 的户", "no household with ID number %s", domain.MaskID(id))
	}
	head := row.Get("head")
	if head == "" {
		return uuid.Nil, domain.Errorf(domain.EINVALID, "head_name", "结对帮扶请填写户主（或身份证号）",
			"a pairing needs the head of household (户主) or the ID number")
	}
	v, err := p.village(row, false)
	if err != nil {
		return uuid.Nil, err
	}
	var group *domain.Place
	if row.Get("group") != "" {
		if group, err = p.below(v, domain.Group, row.Get("group"), false); err != nil {
			return uuid.Nil, err
		}
	}
	var same []*domain.Household
	for _, h := range p.households {
		if h.HeadName != head {
			continue
		}
		if group != nil && h.Group != group.ID {
			continue
		}
		if g := p.places[h.Group]; g == nil || g.Parent != v.ID {
			continue
		}
		same = append(same, h)
	}
	switch len(same) {
	case 0:
		return uuid.Nil, domain.Errorf(domain.ENOTFOUND, "head_name", "%s没有户主为“%s”的户", "%s has no household headed by %q", v.Name, head)
	case 1:
		return same[0].ID, nil
	}
	return uuid.Nil, domain.Errorf(domain.EINVALID, "head_name", "%s有 %d 户户主名为“%s”，请填写“社”或身份证号以区分",
		"%s has %d households headed by %q; fill in the 社 (group) or ID number to tell them apart", v.Name, len(same), head)
}

// Summary returns a few lines in Chinese and English saying what the result
// would write.
func (r *Result) Summary() []string {
	byLevel := map[domain.Level][]string{}
	for _, pl := range r.NewPlaces {
		byLevel[pl.Level] = append(byLevel[pl.Level], pl.Name)
	}
	var out []string
	out = append(out, fmt.Sprintf("读取 %d 行；新增农户 %d 户，更新 %d 户；新增干部 %d 名，更新 %d 名；新增家庭成员 %d 人，更新 %d 人；新增结对与职责 %d 条，结束 %d 条；无变化 %d 行",
		r.Rows, r.NewHouseholds, r.UpdatedHouseholds, r.NewCadres, r.UpdatedCadres, r.NewMembers, r.UpdatedMembers, r.NewAssignments, r.Ended, r.Unchanged))
	out = append(out, fmt.Sprintf("read %d rows; households: %d new, %d updated; cadres: %d new, %d updated; members: %d new, %d updated; assignments: %d new, %d ended; unchanged: %d",
		r.Rows, r.NewHouseholds, r.UpdatedHouseholds, r.NewCadres, r.UpdatedCadres, r.NewMembers, r.UpdatedMembers, r.NewAssignments, r.Ended, r.Unchanged))
	for _, l := range []domain.Level{domain.City, domain.Town, domain.Village, domain.NaturalVillage, domain.Group} {
		if names := byLevel[l]; len(names) > 0 {
			zh, en := domain.LevelName(l)
			out = append(out, fmt.Sprintf("新建%s / new %s: %s", zh, en, joinNames(names)))
		}
	}
	return out
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += "、"
		}
		s += n
	}
	return s
}

// bilingual is domain.Errorf for messages whose Chinese and English take
// different arguments (a location, a name): zhArg goes into zh, enArg into en.
func bilingual(code, field, zh, en string, zhArg, enArg any) *domain.Error {
	return &domain.Error{Code: code, Field: field, Zh: fmt.Sprintf(zh, zhArg), En: fmt.Sprintf(en, enArg)}
}

// member reads a member row (家庭成员): the household by its head, village
// and group; the member by ID number, else by name within the household.
func (p *planner) member(row Row) (domain.Record, error) {
	name := row.Get("member")
	if name == "" {
		return nil, domain.Errorf(domain.EINVALID, "name", "成员姓名不能为空", "member name must not be empty")
	}
	hrow := Row{Sheet: row.Sheet, Line: row.Line, Cells: map[string]string{}}
	for _, k := range []string{"head", "village", "group", "town", "city", "household_code"} {
		if v := row.Get(k); v != "" {
			hrow.Cells[k] = v
		}
	}
	if v := row.Get("head_id"); v != "" {
		hrow.Cells["id_number"] = v
	}
	hid, err := p.targetHousehold(hrow)
	if err != nil {
		return nil, err
	}
	id := row.Get("id_number")
	if err := checkIDCell("id_number", id); err != nil {
		return nil, err
	}
	var cur *domain.Member
	for _, m := range p.members[hid] {
		if id != "" && m.IDNumber == id {
			cur = m
			break
		}
	}
	if cur == nil {
		var same []*domain.Member
		for _, m := range p.members[hid] {
			if m.Name == name && (id == "" || m.IDNumber == "") {
				same = append(same, m)
			}
		}
		if len(same) > 1 {
			return nil, domain.Errorf(domain.EINVALID, "id_number", "这一户有 %d 名成员叫“%s”，请填写身份证号以区分",
				"the household has %d members named %q; fill in the ID number to tell them apart", len(same), name)
		}
		if len(same) == 1 {
			cur = same[0]
		}
	}
	if cur != nil {
		if prev, ok := p.touched[cur.ID]; ok {
			zh, en := prev.Where()
			return nil, bilingual(domain.EINVALID, "name", "与%s是同一名成员（重复）", "the same member as %s (a duplicate)", zh, en)
		}
	}
	m := &domain.Member{Meta: domain.Meta{ID: uuid.New()}, Household: hid}
	if cur != nil {
		c := *cur
		m = &c
	}
	m.Name = name
	set := func(key string, dst *string) {
		if v := row.Get(key); v != "" {
			*dst = v
		}
	}
	set("relation", &m.Relation)
	set("id_number", &m.IDNumber)
	set("health", &m.Health)
	set("education", &m.Education)
	set("work", &m.Work)
	if v := row.Get("gender"); v != "" {
		if m.Gender, err = parseGender(v); err != nil {
			return nil, err
		}
	}
	if v := row.Get("birth"); v != "" {
		date, year, err := parseBirth(v)
		if err != nil {
			return nil, err
		}
		switch {
		case !date.IsZero():
			if !sameDay(m.Birth, date) {
				m.Birth = date
			}
		case m.Birth.Year() != year:
			m.Birth = time.Time{} // another year: the stored day is wrong
		}
		m.BirthYear = year
	}
	if err := endings(p.now, row, "gone", &m.Gone, &m.GoneOn, &m.GoneNote, parseGone); err != nil {
		return nil, err
	}
	if err := m.Validate(p.now); err != nil {
		return nil, err
	}
	head := p.targetName(hid)
	if cur == nil {
		p.members[hid] = append(p.members[hid], m)
		p.touched[m.ID] = row
		p.res.NewMembers++
		p.change("added", fmt.Sprintf("新增家庭成员 %s（%s户）", name, head), fmt.Sprintf("new member %s (household of %s)", name, head))
		return m, nil
	}
	p.touched[cur.ID] = row
	if *m == *cur {
		return nil, nil
	}
	p.changed(fmt.Sprintf("家庭成员 %s（%s户）", name, head), fmt.Sprintf("member %s (household of %s)", name, head), cur, m)
	*cur = *m
	p.res.UpdatedMembers++
	return m, nil
}
