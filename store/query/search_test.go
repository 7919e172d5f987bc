package query_test

import (
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

func TestMatch(t *testing.T) {
	wang := query.HouseholdRow{HeadName: "王兴文", Phone: "13800000001", IDTail: "123X"}
	latin := query.HouseholdRow{HeadName: "Ma Li", Phone: "0930-5551234"}
	lv := query.HouseholdRow{HeadName: "吕长青"}
	cases := []struct {
		row   query.HouseholdRow
		query string
		want  bool
	}{
		{wang, "", true},
		{wang, "   ", true},
		{wang, "王兴文", true},
		{wang, "兴文", true},
		{wang, "王 兴", true},
		{wang, "王兴武", false},
		{wang, "wxw", true}, // the example
		{wang, "WXW", true},
		{wang, "wx", true},
		{wang, "xw", true},
		{wang, "wxm", false},
		{wang, "wangxingwen", true},
		{wang, "Wang Xing Wen", true},
		{wang, "xingwen", true},
		{wang, "wangxw", false}, // mixed full pinyin and initials is not supported
		{wang, "13800000001", true},
		{wang, "0001", true},
		{wang, "139", false},
		{wang, "123x", true}, // the ID tail, either case
		{wang, "123X", true},
		{wang, "3x", true},
		{wang, "wen138", false}, // a match never spans two parts of the key
		{wang, "0001123", false},
		{latin, "mali", true},
		{latin, "ma li", true},
		{latin, "ml", false},
		{latin, "5551234", true},
		{latin, "0930-555", true},
		{lv, "lcq", true},
		{lv, "lvchangqing", true}, // ü is written v
		{lv, "吕", true},
		{query.HouseholdRow{HeadName: "曾乐"}, "zl", true}, // 曾 as a surname is zeng; 乐 elsewhere le
		{query.HouseholdRow{HeadName: "曾乐"}, "zengle", true},
		{query.HouseholdRow{HeadName: "乐曾"}, "yc", true},
	}
	for _, c := range cases {
		if got := query.Match(c.row, c.query); got != c.want {
			t.Errorf("Match(%s, %q) = %v, want %v", c.row.HeadName, c.query, got, c.want)
		}
	}
}

func TestSearch(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)

	cases := []struct {
		village uuid.UUID
		query   string
		limit   int
		want    []string
	}{
		{v.Vil.ID, "wxw", 0, []string{"王兴文"}},
		{uuid.Nil, "wxw", 0, []string{"王兴文"}},
		{v.Vil.ID, "WXW", 10, []string{"王兴文"}},
		{v.Vil.ID, "wangxingwen", 0, []string{"王兴文"}},
		{v.Vil.ID, "兴文", 0, []string{"王兴文"}},
		{v.Vil.ID, "王", 0, []string{"王兴文", "王小红"}},    // 3 days, then 1 day
		{v.Vil.ID, "w", 0, []string{"王兴文", "王小红"}},    // initials of both
		{v.Vil.ID, "13800000002", 0, []string{"马玉兰"}}, // phone
		{v.Vil.ID, "0000000", 0, []string{"张海军", "马玉兰", "王兴文"}},
		{v.Vil.ID, v.Wangxh.IDNumber[14:], 0, []string{"王小红"}}, // ID tail
		{v.Vil.ID, "", 0, []string{"张海军", "韩东生", "马玉兰", "王兴文", "王小红"}},
		{v.Vil.ID, "", 2, []string{"张海军", "韩东生"}},
		{v.Vil.ID, "zhanghaijun", 1, []string{"张海军"}},
		{v.Vil.ID, "nobody", 0, nil},
		{uuid.New(), "wxw", 0, nil}, // another village
		{v.G1.ID, "wxw", 0, nil},    // a group is not a village
	}
	for _, c := range cases {
		rows, err := query.Search(db, c.village, c.query, v.Now, c.limit)
		must(t, err)
		wantNames(t, "Search("+c.query+")", rows, c.want...)
		for _, r := range rows {
			if !query.Match(r, c.query) {
				t.Errorf("Search(%q) returned %s, which Match rejects", c.query, r.HeadName)
			}
			if r.Key == "" || r.GroupName == "" || r.Village != v.Vil.ID {
				t.Errorf("Search row %+v is incomplete", r)
			}
		}
	}

	// The rows are the same as the lists'.
	all, err := query.VillageHouseholds(db, v.Vil.ID, v.Now)
	must(t, err)
	found, err := query.Search(db, v.Vil.ID, "", v.Now, 0)
	must(t, err)
	for i := range all {
		if all[i] != found[i] {
			t.Errorf("row %d: Search %+v\nlist %+v", i, found[i], all[i])
		}
	}

	// Renaming and deleting move the index.
	h, err := db.Get(domain.KindHousehold, v.Wang.ID)
	must(t, err)
	h.(*domain.Household).HeadName = "李兴文"
	mustPut(t, db, v.Office, h)
	rows, err := query.Search(db, uuid.Nil, "wxw", v.Now, 0)
	must(t, err)
	wantNames(t, "Search(wxw) after the rename", rows)
	rows, err = query.Search(db, uuid.Nil, "lxw", v.Now, 0)
	must(t, err)
	wantNames(t, "Search(lxw) after the rename", rows, "李兴文")
	must(t, db.Delete(v.Office, domain.KindHousehold, v.Wang.ID))
	rows, err = query.Search(db, uuid.Nil, "lxw", v.Now, 0)
	must(t, err)
	wantNames(t, "Search(lxw) after the deletion", rows)
}

// TestSearchDashesAndMembers (issue 10, finding 11): a phone stored with
// dashes is found by its digits and the other way round, and a household is
// found by the name of any member, in the index walk and in memory.
func TestSearchDashesAndMembers(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	h, err := db.Get(domain.KindHousehold, v.Mayu.ID)
	must(t, err)
	h.(*domain.Household).Phone = "138-0000-0002"
	mustPut(t, db, v.Office, h)
	mustPut(t, db, v.Office, &domain.Member{Household: v.Wang.ID, Name: "李秀英", Relation: "配偶", Gender: "女", BirthYear: 1970})

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"13800000002", []string{"马玉兰"}},
		{"138-0000-0002", []string{"马玉兰"}},
		{"0000-0002", []string{"马玉兰"}},
		{"秀英", []string{"王兴文"}},
		{"李秀英", []string{"王兴文"}},
	} {
		rows, err := query.Search(db, v.Vil.ID, c.query, v.Now, 0)
		must(t, err)
		wantNames(t, "Search("+c.query+")", rows, c.want...)
		all, err := query.VillageHouseholds(db, v.Vil.ID, v.Now)
		must(t, err)
		var names []string
		for _, r := range all {
			if query.Match(r, c.query) {
				names = append(names, r.HeadName)
			}
		}
		if len(names) != len(c.want) || len(names) > 0 && names[0] != c.want[0] {
			t.Errorf("Match(%q) over the list: %v, want %v", c.query, names, c.want)
		}
	}
}
