package demo

import (
	"strings"
	"unicode/utf8"
)

// nameChar is a character used in names, with the initial of its pinyin, so
// that the generator can keep every name but one off the initials "wxw" (the
// search test types wxw and expects 王兴文).
type nameChar struct {
	c       string
	initial byte
}

// parseChars reads "建j国g…": each character followed by its pinyin initial.
func parseChars(s string) []nameChar {
	var out []nameChar
	for s != "" {
		r, n := utf8.DecodeRuneInString(s)
		if n == len(s) || s[n] < 'a' || s[n] > 'z' {
			panic("demo: malformed name table near " + s)
		}
		out = append(out, nameChar{c: string(r), initial: s[n]})
		s = s[n+1:]
	}
	return out
}

// Surnames common around Linxia, most frequent first, repeated by weight.
var surnames = parseChars(strings.Repeat("马m", 24) + strings.Repeat("王w", 10) +
	strings.Repeat("张z", 6) + strings.Repeat("李l", 5) + strings.Repeat("赵z", 4) +
	strings.Repeat("何h", 4) + strings.Repeat("杨y", 4) + strings.Repeat("刘l", 4) +
	strings.Repeat("韩h", 3) + strings.Repeat("罗l", 2) + strings.Repeat("陈c", 2) +
	"周z苏s冯f祁q妥t孔k魏w汪w董d闵m喇l")

// Characters of given names.
var (
	maleChars = parseChars("建j国g明m文w华h军j平p志z忠z福f德d林l成c海h兴x发f全q有y" +
		"贵g荣r祥x俊j伟w强q东d生s学x龙l山s虎h武w宝b春c永y刚g晓x鹏p亮l斌b义y仁r")
	femaleChars = parseChars("秀x英y兰l花h梅m芳f霞x玲l燕y红h丽l娟j萍p珍z凤f琴q" +
		"艳y月y桂g云y莲l翠c彩c静j雪x婷t慧h晓x敏m娜n")
)

// Units (派出单位) of the city that send helpers and work teams.
var cityUnits = []string{
	"临夏市农业农村局", "临夏市财政局", "临夏市教育局", "临夏市卫生健康局",
	"临夏市人力资源和社会保障局", "临夏市自然资源局", "临夏市住房和城乡建设局",
	"临夏市水务局", "临夏市商务局", "临夏市民政局", "临夏市交通运输局",
	"临夏市市场监督管理局", "临夏市文化和旅游局", "临夏市林业和草原局",
	"临夏市乡村振兴局", "临夏市发展和改革局", "临夏市审计局", "临夏市统计局",
	"临夏市应急管理局", "临夏市生态环境局", "中共临夏市委组织部", "中共临夏市委宣传部",
	"临夏市科学技术局", "临夏市退役军人事务局",
}

// countyTitles are county-level leaders (县级领导) with their units; the first
// four are the principal leaders of the four bodies (四大班子主要领导).
var countyTitles = []struct{ title, unit string }{
	{"市委书记", "中共临夏市委"},
	{"市长", "临夏市人民政府"},
	{"市人大常委会主任", "临夏市人大常委会"},
	{"市政协主席", "政协临夏市委员会"},
	{"市委副书记", "中共临夏市委"},
	{"市委常委、常务副市长", "临夏市人民政府"},
	{"市委常委、组织部部长", "中共临夏市委"},
	{"市委常委、宣传部部长", "中共临夏市委"},
	{"市委常委、纪委书记、监委主任", "中共临夏市委"},
	{"市委常委、政法委书记", "中共临夏市委"},
	{"市委常委、统战部部长", "中共临夏市委"},
	{"市委常委、副市长", "临夏市人民政府"},
	{"副市长", "临夏市人民政府"},
	{"市人大常委会副主任", "临夏市人大常委会"},
	{"市政协副主席", "政协临夏市委员会"},
	{"市人民法院院长", "临夏市人民法院"},
	{"市人民检察院检察长", "临夏市人民检察院"},
}

// Section-level titles (科级) in a city unit, and in the town.
var (
	sectionTitles = []string{"局长", "副局长", "党组书记、局长", "党组成员、副局长", "四级调研员"}
	townSection   = []string{"镇党委副书记", "副镇长", "镇人大主席", "镇党委委员、武装部长",
		"镇纪委书记", "镇党委委员、组织委员", "镇党委委员、宣传委员", "镇人大副主席"}
	otherTitles = []string{"科员", "一级科员", "二级科员", "专业技术人员", "干部"}
	townUnits   = []string{"枹罕镇人民政府", "枹罕镇农业农村综合服务中心", "枹罕镇社会保障服务中心",
		"枹罕镇党群服务中心", "枹罕镇综治中心"}
)

// Place names: natural villages (自然村) and the other villages of the town,
// all synthetic.
var (
	naturalNames = []string{"阳洼", "大湾", "阴屲", "山根", "后沟", "梁头", "上庄", "下庄",
		"红崖", "柳树湾", "杏树坪", "石门", "新庄", "沙沟", "麻地湾", "松树岭", "河滩",
		"东坡", "西坡", "前川", "马家台", "槐树坪", "张家湾", "尕庄", "草滩", "水泉"}
	villageNames = []string{"红台村", "罗家村", "马家庄村", "杨家沟村", "大庄村", "后山村",
		"新民村", "团结村", "双城村", "尹家村", "石头村", "杜家村", "韩家庄村", "何家村",
		"刘家庄村", "张家寺村", "李家沟村", "赵家山村", "上川村", "下川村", "光明村",
		"和平村", "前进村", "苏家台村", "祁家坪村", "妥家村", "孔家寺村", "魏家庄村"}
)

var numerals = []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// chineseNumber writes 1 to 99 in Chinese numerals (一, 十, 十二, 二十一).
func chineseNumber(n int) string {
	switch {
	case n <= 10:
		return numerals[n-1]
	case n < 20:
		return "十" + numerals[n-11]
	case n%10 == 0:
		return numerals[n/10-1] + "十"
	}
	return numerals[n/10-1] + "十" + numerals[n%10-1]
}
