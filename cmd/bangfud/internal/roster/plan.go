package roster

import (
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Snapshot is the part of a store's roster an import is matched against.
type Snapshot struct {
	Places      []*domain.Place
	Cadres      []*domain.Cadre
	Households  []*domain.Household
	Assignments []*domain.Assignment
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
	Unchanged                        int // rows that match what the store holds
	Rows                             int // data rows read
}

// planner holds the roster as the import sees it: the store's records plus
// what earlier rows added.
type planner struct {
	now    time.Time
	res    *Result
	places map[uuid.UUID]*domain.Place
	kids   map[placeKey][]*domain.Place

	households []*domain.Household
	byIDNumber map[string]*domain.Household
	stored     map[uuid.UUID]bool // records that exist in the store
	touched    map[uuid.UUID]Row  // records an earlier row of the file made or changed

	cadres []*domain.Cadre
	pairs  map[assignKey]bool
	newRec map[uuid.UUID]bool
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
		byIDNumber: map[string]*domain.Household{},
		stored:     map[uuid.UUID]bool{},
		touched:    map[uuid.UUID]Row{},
		pairs:      map[assignKey]bool{},
		newRec:     map[uuid.UUID]bool{},
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
	for _, a := range s.Assignments {
		p.pairs[assignKey{a.Cadre, a.Role, a.Target}] = true
	}
	var places, cadres, households, assignments []domain.Record
	for _, kind := range []TableKind{Households, Cadres, Assignments} {
		for _, t := range tables {
			if t.Kind != kind {
				continue
			}
			for _, row := range t.Rows {
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
				case *domain.Assignment:
					assignments = append(assignments, rec)
				}
			}
		}
	}
	p.res.Records = append(append(append(places, cadres...), households...), assignments...)
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
	var cur *domain.Household
	if id != "" {
		cur = p.byIDNumber[id]
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
	if err := h.Validate(p.now); err != nil {
		return nil, err
	}
	if cur == nil {
		p.addHousehold(h)
		p.touched[h.ID] = row
		p.newRec[h.ID] = true
		p.res.NewHouseholds++
		return h, nil
	}
	p.touched[cur.ID] = row
	if *h == *cur {
		return nil, nil
	}
	*cur = *h // later rows (assignments) see the household as changed
	if h.IDNumber != "" {
		p.byIDNumber[h.IDNumber] = cur
	}
	p.res.UpdatedHouseholds++
	return h, nil
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
	if err := c.Validate(p.now); err != nil {
		return nil, err
	}
	if cur == nil {
		p.cadres = append(p.cadres, c)
		p.touched[c.ID] = row
		p.newRec[c.ID] = true
		p.res.NewCadres++
		return c, nil
	}
	p.touched[cur.ID] = row
	if *c == *cur {
		return nil, nil
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
	a := &domain.Assignment{Meta: domain.Meta{ID: uuid.New()}, Cadre: c.ID, Role: role, Target: target, Title: title, Since: p.now}
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
	if prev, ok := p.touched[assignID(k)]; ok {
		zh, en := prev.Where()
		return nil, bilingual(domain.EINVALID, "role", "与%s重复", "a duplicate of %s", zh, en)
	}
	p.touched[assignID(k)] = row
	if p.pairs[k] {
		return nil, nil
	}
	p.pairs[k] = true
	p.res.NewAssignments++
	return a, nil
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
	out = append(out, fmt.Sprintf("读取 %d 行；新增农户 %d 户，更新 %d 户；新增干部 %d 名，更新 %d 名；新增结对与职责 %d 条；无变化 %d 行",
		r.Rows, r.NewHouseholds, r.UpdatedHouseholds, r.NewCadres, r.UpdatedCadres, r.NewAssignments, r.Unchanged))
	out = append(out, fmt.Sprintf("read %d rows; households: %d new, %d updated; cadres: %d new, %d updated; assignments: %d new; unchanged: %d",
		r.Rows, r.NewHouseholds, r.UpdatedHouseholds, r.NewCadres, r.UpdatedCadres, r.NewAssignments, r.Unchanged))
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
