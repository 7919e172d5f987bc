package domain_test

import (
	"encoding/json"
	"fmt"
	"time"

	"bangfu/domain"

	"github.com/google/uuid"
)

// A group cadre's phone and the team leader's tablet both change a measure's
// target while offline, each having seen the same value. Whichever reaches a
// replica first, the later stamp wins and the other value is kept as a
// conflict for the team leader.
func ExampleMergeField() {
	phone := uuid.MustParse("11111111-1111-4111-8111-111111111111")
	tablet := uuid.MustParse("22222222-2222-4222-8222-222222222222")
	measure := uuid.MustParse("33333333-3333-4333-8333-333333333333")

	seen := domain.FieldState{Value: json.RawMessage(`"散养鸡 30 只"`), Stamp: domain.Stamp{Wall: 1_717_200_000_000, Device: phone}}
	fromPhone := domain.FieldState{Value: json.RawMessage(`"散养鸡 50 只"`), Stamp: domain.Stamp{Wall: 1_717_203_600_000, Device: phone}}
	fromTablet := domain.FieldState{Value: json.RawMessage(`"散养鸡 80 只"`), Stamp: domain.Stamp{Wall: 1_717_207_200_000, Device: tablet}}

	// The tablet's edit arrives first: its author saw the current value.
	cur, lost := domain.MergeField(seen, true, fromTablet, seen.Stamp)
	fmt.Printf("tablet first: %s, lost: %v\n", cur.Value, lost != nil)

	// The phone's edit arrives later but was made earlier, without seeing the
	// tablet's: it loses and is returned to be kept.
	cur, lost = domain.MergeField(cur, true, fromPhone, seen.Stamp)
	fmt.Printf("then phone: %s, lost: %s\n", cur.Value, lost.Value)

	c := domain.NewConflict(domain.KindMeasure, measure, uuid.Nil, "target", cur, *lost)
	fmt.Println("conflict:", c.ID == domain.ConflictID(measure, "target", fromPhone.Stamp), string(c.Winner), "over", string(c.Loser))
	// Output:
	// tablet first: "散养鸡 80 只", lost: false
	// then phone: "散养鸡 80 只", lost: "散养鸡 50 只"
	// conflict: true "散养鸡 80 只" over "散养鸡 50 只"
}

// Households of 王坪村 (two registered poor, one lifted out of poverty, one
// ordinary) and their cadres: the county-level leader pairs with all three
// followed households, but the section-level cadre with only one, and 王兴文
// has no helper. The ordinary household and the village officer who pairs
// with no one (a village committee member) are not reported; the other cadre
// 孙干事 pairs with two.
func ExampleCheckAssistance() {
	ids := func(n byte) uuid.UUID { return uuid.UUID{15: n} }
	households := []*domain.Household{
		{Meta: domain.Meta{ID: ids(1)}, HeadName: "马有福", Status: domain.Registered},
		{Meta: domain.Meta{ID: ids(2)}, HeadName: "王兴文", Status: domain.Registered},
		{Meta: domain.Meta{ID: ids(3)}, HeadName: "李正清", Status: domain.Lifted},
		{Meta: domain.Meta{ID: ids(4)}, HeadName: "张成林", Status: domain.Ordinary},
	}
	cadres := []*domain.Cadre{
		{Meta: domain.Meta{ID: ids(10)}, Name: "赵县长", Rank: domain.RankCounty},
		{Meta: domain.Meta{ID: ids(11)}, Name: "钱科长", Rank: domain.RankSection},
		{Meta: domain.Meta{ID: ids(12)}, Name: "孙干事", Rank: domain.RankOther},
		{Meta: domain.Meta{ID: ids(13)}, Name: "村委主任", Rank: domain.RankOther},
	}
	pair := func(n byte, cadre byte, role domain.Role, household byte) *domain.Assignment {
		return &domain.Assignment{Meta: domain.Meta{ID: ids(100 + n)}, Cadre: ids(cadre), Role: role, Target: ids(household)}
	}
	assignments := []*domain.Assignment{
		pair(1, 10, domain.PairCounty, 1), pair(2, 10, domain.PairCounty, 2), pair(3, 10, domain.PairCounty, 3),
		pair(4, 11, domain.PairSection, 1),
		pair(6, 12, domain.Helper, 1), pair(7, 12, domain.Helper, 3),
		{Meta: domain.Meta{ID: ids(109)}, Cadre: ids(13), Role: domain.VillageCommittee, Target: ids(50), Title: "村委主任"},
	}
	// 钱科长 used to pair with 王兴文 too; that pairing ended in a round of
	// adjustments (帮扶力量调整), and ended pairings count nowhere.
	gone := pair(8, 11, domain.PairSection, 2)
	gone.End(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "帮扶力量调整")
	assignments = append(assignments, gone)

	g := domain.CheckAssistance(domain.Roster{Households: households, Cadres: cadres, Assignments: assignments}, domain.DefaultQuotas())
	for _, h := range g.Households {
		fmt.Print(h.Household.HeadName, " lacks")
		for _, r := range h.Missing {
			zh, _ := domain.RoleName(r)
			fmt.Print(" ", zh)
		}
		fmt.Println()
	}
	for _, c := range g.Cadres {
		zh, _ := domain.RankName(c.Cadre.Rank)
		fmt.Printf("%s (%s) pairs with %d of %d\n", c.Cadre.Name, zh, c.Have, c.Want)
	}
	// Output:
	// 李正清 lacks 科级干部结对帮扶
	// 王兴文 lacks 科级干部结对帮扶 帮扶责任人
	// 钱科长 (科级干部) pairs with 1 of 2
}
