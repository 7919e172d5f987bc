package roster_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"bangfu/cmd/bangfud/internal/roster"
	"bangfu/domain"
)

// TestExportMembersOrder: the members sheet lists each household's members as
// its card does — the head first, then by full birth date (the date, else
// the ID number's), those gone last — whatever order the snapshot holds them
// in, so two exports of the same roster are the same file.
func TestExportMembersOrder(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, cst) }
	meta := func() domain.Meta { return domain.Meta{ID: uuid.New()} }
	town := &domain.Place{Meta: meta(), Level: domain.Town, Name: "王坪镇"}
	vil := &domain.Place{Meta: meta(), Level: domain.Village, Name: "王坪村", Parent: town.ID}
	grp := &domain.Place{Meta: meta(), Level: domain.Group, Name: "一社", Parent: vil.ID}
	h := &domain.Household{Meta: meta(), HeadName: "马福林", Group: grp.ID}
	ms := []*domain.Member{
		{Meta: meta(), Household: h.ID, Name: "马小雪", Relation: "女", Birth: day(2003, 11, 2), BirthYear: 2003},
		{Meta: meta(), Household: h.ID, Name: "马老汉", Relation: "父", BirthYear: 1941, Gone: domain.Deceased, GoneOn: day(2024, 2, 1)},
		{Meta: meta(), Household: h.ID, Name: "马小军", Relation: "子", IDNumber: "62290120030305031" + string(domain.IDCheckDigit("62290120030305031"))},
		{Meta: meta(), Household: h.ID, Name: "马福林", Relation: "户主", BirthYear: 1975},
		{Meta: meta(), Household: h.ID, Name: "马小兰", Relation: "女", Birth: day(2003, 7, 9)},
	}
	want := []string{"马福林", "马小军", "马小兰", "马小雪", "马老汉"}
	for r := range ms {
		in := append(append([]*domain.Member(nil), ms[r:]...), ms[:r]...)
		var buf bytes.Buffer
		if _, err := roster.Export(&buf, roster.Snapshot{Places: []*domain.Place{town, vil, grp}, Households: []*domain.Household{h}, Members: in}); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows(roster.SheetMembers)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, row := range rows[1:] {
			got = append(got, row[5]) // 成员姓名
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("snapshot order %d: members %v, want %v", r, got, want)
		}
	}
}
