package roster

import (
	"math"
	"strconv"
	"strings"
	"time"

	"bangfu/domain"
)

// statusNames maps the words a roster uses for a household's status.
var statusNames = map[string]domain.Status{
	"建档立卡贫困户": domain.Registered, "建档立卡户": domain.Registered, "贫困户": domain.Registered,
	"未脱贫户": domain.Registered, "未脱贫": domain.Registered, "registered": domain.Registered,
	"registered poor": domain.Registered,
	"已脱贫户":            domain.Lifted, "脱贫户": domain.Lifted, "已脱贫": domain.Lifted, "lifted": domain.Lifted,
	"lifted out of poverty": domain.Lifted,
	"监测户":                   domain.Monitored, "监测对象": domain.Monitored, "边缘户": domain.Monitored, "边缘易致贫户": domain.Monitored,
	"monitored": domain.Monitored, "monitored for relapse": domain.Monitored,
	"一般户": domain.Ordinary, "一般农户": domain.Ordinary, "非贫困户": domain.Ordinary, "ordinary": domain.Ordinary,
}

// rankNames maps the words a roster uses for a cadre's rank.
var rankNames = map[string]domain.Rank{
	"县级领导": domain.RankCounty, "县级": domain.RankCounty, "县级干部": domain.RankCounty, "county": domain.RankCounty,
	"county-level leader": domain.RankCounty,
	"科级干部":                domain.RankSection, "科级": domain.RankSection, "科级领导": domain.RankSection, "section": domain.RankSection,
	"section-level cadre": domain.RankSection,
	"其他党员干部":              domain.RankOther, "其他": domain.RankOther, "一般干部": domain.RankOther, "党员干部": domain.RankOther,
	"other": domain.RankOther, "other cadre": domain.RankOther,
}

// roleNames maps the words a roster uses for a role. Village committee
// offices (支部书记, 村委主任, 村监委主任) become the village committee role with
// the office as the assignment's title.
var roleNames = func() map[string]domain.Role {
	m := map[string]domain.Role{
		"县级结对": domain.PairCounty, "县级领导": domain.PairCounty, "县级领导结对": domain.PairCounty,
		"科级结对": domain.PairSection, "科级干部": domain.PairSection, "科级干部结对": domain.PairSection,
		"责任人": domain.Helper, "帮扶人": domain.Helper, "第一社长": domain.GroupCadre, "包社": domain.GroupCadre,
		"包社组长": domain.GroupCadreLead, "工作队长": domain.TeamLeader, "队长": domain.TeamLeader,
		"工作队员": domain.TeamMember, "队员": domain.TeamMember, "包镇": domain.TownLead, "包村": domain.VillageLead,
		"两委": domain.VillageCommittee, "联系村": domain.CityContact,
	}
	for _, r := range []domain.Role{domain.PairCounty, domain.PairSection, domain.Helper, domain.GroupCadre,
		domain.GroupCadreLead, domain.FirstSecretary, domain.TeamLeader, domain.TeamMember, domain.VillageLead,
		domain.VillageCommittee, domain.CityContact, domain.TownLead, domain.Office} {
		zh, en := domain.RoleName(r)
		m[zh] = r
		m[strings.ToLower(en)] = r
		m[string(r)] = r
	}
	for _, office := range committeeOffices {
		m[office] = domain.VillageCommittee
	}
	return m
}()

var committeeOffices = []string{"支部书记", "村支书", "村党支部书记", "村委主任", "村委会主任", "村监委主任"}

func isCommitteeOffice(s string) bool {
	for _, o := range committeeOffices {
		if s == o {
			return true
		}
	}
	return false
}

func lookup[T any](m map[string]T, s string) (T, bool) {
	v, ok := m[s]
	if !ok {
		v, ok = m[strings.ToLower(strings.TrimSpace(s))]
	}
	return v, ok
}

func parseStatus(s string) (domain.Status, error) {
	if v, ok := lookup(statusNames, s); ok {
		return v, nil
	}
	return "", domain.Errorf(domain.EINVALID, "status",
		"户类型“%s”无法识别（可填：建档立卡贫困户、已脱贫户、监测户、一般户）",
		"status %q is not recognised (use registered, lifted, monitored or ordinary)", s)
}

func parseRank(s string) (domain.Rank, error) {
	if v, ok := lookup(rankNames, s); ok {
		return v, nil
	}
	return "", domain.Errorf(domain.EINVALID, "rank",
		"职级“%s”无法识别（可填：县级领导、科级干部、其他党员干部）",
		"rank %q is not recognised (use county, section or other)", s)
}

func parseRole(s string) (domain.Role, error) {
	if v, ok := lookup(roleNames, s); ok {
		return v, nil
	}
	return "", domain.Errorf(domain.EINVALID, "role",
		"职责“%s”无法识别（可填：县级结对、科级结对、帮扶责任人、包社干部、驻村工作队长、第一书记等，见 bangfud import -h）",
		"role %q is not recognised (e.g. pair_county, pair_section, helper, group_cadre, team_leader; see bangfud import -h)", s)
}

// parseFarmland reads an area in mu: "12.5", "12.5亩", "1,592.4".
func parseFarmland(s string) (float64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "亩"), "mu"))
	t = strings.ReplaceAll(t, ",", "")
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, domain.Errorf(domain.EINVALID, "farmland", "耕地面积“%s”不是数字", "farmland %q is not a number", s)
	}
	return math.Round(v*100) / 100, nil
}

// parseSize reads a number of people: "5", "5人", "5.0" (as a spreadsheet
// may store it).
func parseSize(s string) (int, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "人"))
	if v, err := strconv.Atoi(t); err == nil {
		return v, nil
	}
	if v, err := strconv.ParseFloat(t, 64); err == nil && v == math.Trunc(v) && math.Abs(v) < 1e6 {
		return int(v), nil
	}
	return 0, domain.Errorf(domain.EINVALID, "size", "家庭人口“%s”不是整数", "household size %q is not a whole number", s)
}

// checkIDCell explains an ID number that a spreadsheet stored as a number: it
// comes back in scientific notation with its last digits lost, and only
// retyping it in a text column brings them back.
func checkIDCell(field, v string) error {
	if strings.ContainsAny(v, "Ee") && strings.Contains(v, "+") {
		return domain.Errorf(domain.EINVALID, field,
			"身份证号“%[1]s”被 Excel 存成了数字，后几位已丢失：请把该列设为文本格式后重新输入",
			"the ID number %[1]q was stored as a number by Excel and lost its last digits: format the column as text and type it again", v)
	}
	return nil
}

// China is the time zone of the dates in a roster file.
var China = time.FixedZone("CST", 8*3600)

// parseDate reads a day: 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日.
func parseDate(field, s string) (time.Time, error) {
	t := strings.TrimSpace(s)
	t = strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-", ".", "-").Replace(t)
	t = strings.TrimSuffix(t, "-")
	if i := strings.IndexAny(t, " T"); i > 0 {
		t = t[:i] // a time of day after the date
	}
	for _, layout := range []string{"2006-1-2", "2006-01-02"} {
		if d, err := time.ParseInLocation(layout, t, China); err == nil {
			return d, nil
		}
	}
	return time.Time{}, domain.Errorf(domain.EINVALID, field, "日期“%s”无法识别（请写成 2024-03-01）",
		"date %q is not recognised (write it as 2024-03-01)", s)
}

// sameDay reports whether a and b fall on the same day in China.
func sameDay(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.In(China).Format("2006-01-02") == b.In(China).Format("2006-01-02")
}

// current are the words that say a household, member or cadre is still
// there: the way to clear an ending.
var current = map[string]bool{"在册": true, "正常": true, "在岗": true, "current": true, "-": true}

var exitNames = map[string]domain.Exit{
	"迁出": domain.MovedOut, "已迁出": domain.MovedOut, "外迁": domain.MovedOut, "moved out": domain.MovedOut, "moved_out": domain.MovedOut,
	"并户": domain.Merged, "已并户": domain.Merged, "合户": domain.Merged, "merged": domain.Merged,
	"注销": domain.Gone, "已注销": domain.Gone, "户已消亡": domain.Gone, "消亡": domain.Gone, "gone": domain.Gone,
	"no longer exists": domain.Gone,
}

func parseExit(s string) (domain.Exit, error) {
	if current[strings.TrimSpace(s)] {
		return "", nil
	}
	if v, ok := lookup(exitNames, s); ok {
		return v, nil
	}
	return "", domain.Errorf(domain.EINVALID, "exit", "户状态“%s”无法识别（可填：在册、已迁出、已并户、已注销）",
		"household state %q is not recognised (use 在册, moved out, merged or gone)", s)
}

var leftNames = map[string]domain.Departure{
	"退休": domain.Retired, "已退休": domain.Retired, "retired": domain.Retired,
	"调离": domain.Transferred, "已调离": domain.Transferred, "调出": domain.Transferred, "transferred": domain.Transferred,
}

func parseLeft(s string) (domain.Departure, error) {
	if current[strings.TrimSpace(s)] {
		return "", nil
	}
	if v, ok := lookup(leftNames, s); ok {
		return v, nil
	}
	return "", domain.Errorf(domain.EINVALID, "left", "在岗状态“%s”无法识别（可填：在岗、退休、调离）",
		"cadre state %q is not recognised (use 在岗, retired or transferred)", s)
}

var goneNames = map[string]domain.MemberExit{
	"已故": domain.Deceased, "死亡": domain.Deceased, "去世": domain.Deceased, "deceased": domain.Deceased,
	"迁出": domain.MovedAway, "已迁出": domain.MovedAway, "外迁": domain.MovedAway, "婚出": domain.MovedAway,
	"moved away": domain.MovedAway, "moved_away": domain.MovedAway,
}

func parseGone(s string) (domain.MemberExit, error) {
	if current[strings.TrimSpace(s)] {
		return "", nil
	}
	if v, ok := lookup(goneNames, s); ok {
		return v, nil
	}
	return "", domain.Errorf(domain.EINVALID, "gone", "成员状态“%s”无法识别（可填：在册、已故、已迁出）",
		"member state %q is not recognised (use 在册, deceased or moved away)", s)
}

func parseGender(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "男", "男性", "m", "male":
		return "男", nil
	case "女", "女性", "f", "female":
		return "女", nil
	}
	return "", domain.Errorf(domain.EINVALID, "gender", "性别“%s”无法识别（可填：男、女）", "gender %q is not recognised (男 or 女)", s)
}

// parseBirth reads a birth date — 1970-03-12, 1970/3/12, 1970.3.12,
// 1970年3月12日, 19700312 — or, where a roster gives less, the year alone
// (1970, 1970年, and 出生年月 such as 1970.03 or 1970年3月): date is zero
// then. A time of day after the date is ignored.
func parseBirth(s string) (date time.Time, year int, err error) {
	t := strings.TrimSpace(s)
	if i := strings.IndexAny(t, " T"); i > 0 {
		t = t[:i]
	}
	bad := domain.Errorf(domain.EINVALID, "birth", "出生日期“%s”无法识别（如 1970-03-12，或只写年份 1970）",
		"birth date %q is not recognised (e.g. 1970-03-12, or the year alone, 1970)", s)
	parts := strings.FieldsFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	// Only digits and the separators of a date: 1970-03-12, 1970年3月12日.
	for _, r := range strings.NewReplacer("-", "", "/", "", ".", "", "年", "", "月", "", "日", "").Replace(t) {
		if r < '0' || r > '9' {
			return time.Time{}, 0, bad
		}
	}
	num := func(p string) int { n, _ := strconv.Atoi(p); return n }
	switch {
	case len(parts) == 1 && len(parts[0]) == 8:
		parts = []string{parts[0][:4], parts[0][4:6], parts[0][6:]}
	case len(parts) == 1 && len(parts[0]) == 4:
		return time.Time{}, num(parts[0]), nil
	case len(parts) == 2 && len(parts[0]) == 4 && len(parts[1]) <= 2 && num(parts[1]) >= 1 && num(parts[1]) <= 12:
		return time.Time{}, num(parts[0]), nil
	}
	if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) > 2 || len(parts[2]) > 2 {
		return time.Time{}, 0, bad
	}
	y, m, d := num(parts[0]), num(parts[1]), num(parts[2])
	date = time.Date(y, time.Month(m), d, 0, 0, 0, 0, China)
	if date.Year() != y || int(date.Month()) != m || date.Day() != d {
		return time.Time{}, 0, bad // 1970-02-30
	}
	return date, y, nil
}

// ParseRole reads a role as a roster names it: 驻村工作队长, team_leader, 包镇...
func ParseRole(s string) (domain.Role, error) { return parseRole(s) }
