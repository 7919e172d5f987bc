package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// Notes writes the notes and follow-ups of visits for benchmarks, as varied
// as cadres' own: each sentence is composed from large pools (people and
// their kin, places, crops and livestock, work and illness, amounts, dates,
// prices, what was done and what is owed) by one of many sentence shapes,
// with numbers drawn freely, so that as a corpus they compress with gzip
// about as typed notes do — about 2× (BenchmarkNotesGzip) — and not as the
// seed's phrase menus do (Village's and Town's notes, which users see, are
// left as they were). A Notes is deterministic for its seed and not safe
// for concurrent use.
type Notes struct {
	r *rand.Rand
}

// NewNotes returns a Notes drawing from seed.
func NewNotes(seed uint64) *Notes {
	return &Notes{r: rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc909))}
}

// Note returns a visit's notes: one to five sentences, 20 to 150 characters.
func (n *Notes) Note() string {
	want := 20 + n.r.IntN(60)
	if n.r.IntN(4) == 0 {
		want += n.r.IntN(70) // some cadres write at length
	}
	var b strings.Builder
	for b.Len() == 0 || utf8.RuneCountInString(b.String()) < want {
		s := n.sentence()
		if b.Len() > 0 && utf8.RuneCountInString(b.String())+utf8.RuneCountInString(s) > 148 {
			break
		}
		if b.Len() > 0 {
			b.WriteString(n.pick(joiners))
		}
		b.WriteString(s)
	}
	out := b.String()
	for utf8.RuneCountInString(out) < 20 {
		out += "，" + n.pick(shortTails)
	}
	if utf8.RuneCountInString(out) > 149 {
		out = string([]rune(out)[:149])
	}
	return out + "。"
}

// FollowUp returns what a visit leaves owed, 8 to 40 characters.
func (n *Notes) FollowUp() string {
	s := pickOf(n, followShapes)(n)
	if n.r.IntN(2) == 0 {
		s += "，" + n.remark()
	}
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40])
	}
	return s
}

// VaryNotes gives every visit of d notes, and every visit that leaves
// something owed a follow-up, written by NewNotes(seed): text for
// benchmarks, whose bytes on the wire depend on how it compresses.
func (d *Data) VaryNotes(seed uint64) {
	n := NewNotes(seed)
	for _, v := range d.Visits {
		v.Notes = n.Note()
		if v.FollowUp != "" {
			v.FollowUp = n.FollowUp()
		}
	}
}

func (n *Notes) pick(xs []string) string { return xs[n.r.IntN(len(xs))] }

// pickOf is pick for any pool.
func pickOf[T any](n *Notes, xs []T) T { return xs[n.r.IntN(len(xs))] }

// sentence is one sentence of a note. Of a note's sentences, 45 in 100 are free remarks, 27 free clauses and
// 28 of the shapes below: as a corpus, about 2.1× under gzip.
func (n *Notes) sentence() string {
	switch x := n.r.IntN(100); {
	case x < 45:
		return n.remark()
	case x < 72:
		return n.clause()
	}
	return pickOf(n, sentenceShapes)(n)
}

// name returns a person's name: a surname and one or two given characters.
func (n *Notes) name() string {
	s := pickOf(n, surnames).c
	chars := maleChars
	if n.r.IntN(2) == 0 {
		chars = femaleChars
	}
	s += pickOf(n, chars).c
	if n.r.IntN(4) != 0 {
		s += pickOf(n, chars).c
	}
	return s
}

// person is someone of the household: a name, a kin term, or both.
func (n *Notes) person() string {
	switch n.r.IntN(3) {
	case 0:
		return n.name()
	case 1:
		return n.pick(kin)
	}
	return n.pick(kin) + n.name()
}

// place is a place in or around the village: a made-up hamlet, or a field
// or landmark.
func (n *Notes) place() string {
	switch n.r.IntN(3) {
	case 0:
		return n.pick(placeHeads) + n.pick(placeTails)
	case 1:
		return n.pick(placeHeads) + n.pick(placeTails) + n.pick(landmarks)
	}
	return n.pick(landmarks)
}

// date is a day or a time of the year, as cadres write it.
func (n *Notes) date() string {
	switch n.r.IntN(5) {
	case 0:
		return fmt.Sprintf("%d月%d日", 1+n.r.IntN(12), 1+n.r.IntN(28))
	case 1:
		return fmt.Sprintf("%d号", 1+n.r.IntN(30))
	case 2:
		return fmt.Sprintf("农历%s", n.pick(lunarDays))
	}
	return n.pick(relDays)
}

// amount is a sum of money, varied in size and in how it is written.
func (n *Notes) amount() string {
	switch n.r.IntN(4) {
	case 0:
		return fmt.Sprintf("%d元", 50+n.r.IntN(4950))
	case 1:
		return fmt.Sprintf("%d.%d万元", 1+n.r.IntN(9), n.r.IntN(10))
	case 2:
		return fmt.Sprintf("%d多元", 100*(1+n.r.IntN(99)))
	}
	return fmt.Sprintf("%d元左右", 1000*(1+n.r.IntN(40))+100*n.r.IntN(10))
}

// qty is a quantity of something with its unit.
func (n *Notes) qty(units []string) string {
	return fmt.Sprintf("%d%s", 1+n.r.IntN(n.pick3(30, 200, 3000)), n.pick(units))
}

func (n *Notes) pick3(a, b, c int) int {
	switch n.r.IntN(3) {
	case 0:
		return a
	case 1:
		return b
	}
	return c
}

// phone is a mobile number, written out.
func (n *Notes) phone() string {
	return fmt.Sprintf("1%d%d%08d", 3+n.r.IntN(7), n.r.IntN(10), n.r.IntN(100_000_000))
}

var joiners = []string{"，", "；", "。", "，", "；"}

var shortTails = []string{"情况已记录", "家中无其他变化", "户主表示满意", "已拍照留存", "已告知村委会", "下次再看"}

var kin = []string{"户主", "妻子", "丈夫", "长子", "次子", "小儿子", "大女儿", "二女儿", "小女儿", "儿媳", "女婿",
	"孙子", "孙女", "外孙", "老母亲", "老父亲", "婆婆", "公公", "弟弟", "妹妹", "侄子", "岳母", "爷爷", "奶奶"}

var placeHeads = []string{"上", "下", "前", "后", "东", "西", "南", "北", "大", "小", "阳", "阴", "高", "新", "老",
	"马", "王", "张", "何", "杨", "石", "红", "黄", "柳", "杏", "梨", "桃", "松", "泉", "沙", "刘", "韩", "祁"}

var placeTails = []string{"家山", "坪", "湾", "沟", "庄", "塬", "台", "滩", "岔", "咀", "岭", "峡", "梁", "家河", "家坪",
	"窑", "社", "沟门", "水泉", "圈", "崖", "家庄", "岗", "坡"}

var landmarks = []string{"村口", "老井边", "渠沿上", "水窖旁", "大路边", "半山腰", "河滩地", "后山", "打麦场", "村小学后面",
	"清真寺旁", "卫生室对面", "合作社院里", "桥头", "梯田里", "果园边", "新修的路口", "老宅子", "养殖小区", "集市上"}

var lunarDays = []string{"正月初八", "正月十五", "二月二", "三月初三", "四月初八", "五月端午", "六月六", "七月十五",
	"八月十五", "九月初九", "十月初一", "腊月初八", "腊月二十三", "腊月底"}

var relDays = []string{"上周", "这周三", "前天", "昨天下午", "月底前", "下个月初", "开春后", "麦收后", "秋收前", "入冬前",
	"过完年", "开学前", "雨季前", "下周一", "节后", "这几天", "半个月后", "上个月中旬", "国庆前后", "五一假期"}

var crops = []string{"花椒", "马铃薯", "全膜玉米", "小麦", "油菜", "蚕豆", "当归", "黄芪", "党参", "枸杞", "百合", "辣椒",
	"大蒜", "洋葱", "胡萝卜", "娃娃菜", "核桃", "苹果", "软儿梨", "啤酒花", "中药材", "胡麻", "燕麦", "藜麦", "青稞",
	"葡萄", "大棚蔬菜", "牡丹", "菊芋", "蒜苗", "豌豆", "荞麦", "甘蓝", "西葫芦", "食用菌"}

// livestock, with the unit it is counted in and a plausible most.
var livestock = []struct {
	name, unit string
	most       int
}{{"肉牛", "头", 12}, {"能繁母牛", "头", 6}, {"育肥羊", "只", 80}, {"滩羊", "只", 60}, {"土鸡", "只", 300},
	{"散养鸡", "只", 500}, {"蛋鸡", "只", 800}, {"生猪", "头", 30}, {"獭兔", "只", 200}, {"蜜蜂", "箱", 40},
	{"鸭子", "只", 100}, {"鸽子", "只", 150}, {"奶山羊", "只", 30}, {"牦牛", "头", 20}, {"鹅", "只", 60}}

var works = []string{"建筑工地", "拉面馆", "电子厂", "物流公司", "餐馆后厨", "牛肉面馆", "汽修厂", "砖厂", "农家乐",
	"快递站", "家政公司", "保安公司", "清真食品厂", "服装厂", "装修队", "枸杞园", "采棉", "煤矿", "水泥厂", "超市"}

var cityPool = []string{"兰州", "西宁", "乌鲁木齐", "库尔勒", "格尔木", "银川", "西安", "天津", "苏州", "宁波", "义乌",
	"广州", "东莞", "深圳", "厦门", "拉萨", "成都", "郑州", "临夏市区", "和政", "广河", "康乐", "永靖", "东乡",
	"武威", "张掖", "酒泉", "嘉峪关", "北京", "上海", "青岛", "昆山", "合肥", "杭州", "喀什", "伊宁"}

var illnesses = []string{"高血压", "糖尿病", "腰椎间盘突出", "风湿性关节炎", "慢性支气管炎", "脑梗后遗症", "白内障",
	"肾结石", "冠心病", "胃病", "类风湿", "乙肝", "尿毒症", "肺气肿", "骨折", "偏瘫", "哮喘", "甲状腺结节", "颈椎病",
	"贫血", "精神障碍", "听力残疾", "肢体残疾", "视力残疾"}

var verbsSee = []string{"了解到", "询问得知", "查看发现", "核实", "听户主说", "据邻居反映", "入户看到", "电话联系后得知",
	"和村医一起看了", "翻看台账发现", "对照一户一策看了", "跟村干部一起核实了"}

var doneActs = []string{"已报村委会", "已联系镇上", "已帮忙填好申请表", "已拍照上传", "已登记在册", "已电话告知帮扶责任人",
	"已协调合作社", "已联系农技员", "已和村医沟通", "已对接劳务公司", "已送去申报材料", "已讲清办理流程",
	"已提醒按时缴费", "已帮着网上下单", "已约好下次入户时间", "已联系供电所", "已反映给水管站"}

var policiesPool = []string{"医保缴费", "养老保险", "雨露计划", "产业奖补", "防返贫监测", "小额信贷", "低保", "临时救助",
	"残疾人两项补贴", "高龄补贴", "危房改造", "改厕补助", "教育资助", "稳岗补贴", "技能培训补贴", "耕地地力补贴",
	"农机购置补贴", "公益性岗位", "光伏收益分配", "易地搬迁后续扶持"}

var feelings = []string{"情绪稳定", "心情不错", "有些着急", "担心收成", "盼着早点办下来", "表示感谢", "说话比上次多了",
	"精神头好了不少", "愁孩子的学费", "想多养几头", "打算明年扩种", "不太愿意出门", "想学门手艺", "说今年比去年强"}

var problems = []string{"水管冻裂", "房顶漏雨", "院墙塌了一角", "电线老化", "路被冲坏", "厕所没改完", "灶台漏烟", "窗户玻璃碎了",
	"羊圈塌了", "水窖渗水", "地膜没收完", "化肥不够", "种子发芽差", "牛生病了", "鸡瘟死了几只", "花椒挂果少", "手机欠费停机",
	"孩子辍学在家", "医药费报销没到账", "低保金没到账", "贷款快到期", "务工工资被拖欠"}

var owed = []string{"核实", "回访", "落实", "跟进", "催办", "协调", "督促", "确认", "联系", "帮助办理", "上报", "再看看"}

// sentenceShapes are the ways a sentence of a note is put together.
var sentenceShapes = []func(n *Notes) string{
	func(n *Notes) string {
		return fmt.Sprintf("%s%s在%s%s，%s", n.pick(verbsSee), n.person(), n.pick(cityPool), n.pick(works),
			n.pick([]string{"月收入" + n.amount(), "干了" + fmt.Sprint(1+n.r.IntN(11)) + "个月", n.date() + "回来", "活不稳定", "包吃住"}))
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s种%s%d亩，%s", n.person(), n.pick(crops), 1+n.r.IntN(12),
			n.pick([]string{"长势还行", "今年雨水少", "预计亩产" + n.qty([]string{"斤", "公斤"}), "已卖了" + n.amount(), "刚追完肥", "地膜已覆好", "打算" + n.date() + "收"}))
	},
	func(n *Notes) string {
		animal := pickOf(n, livestock)
		return fmt.Sprintf("家里养%s%d%s，%s", animal.name, 1+n.r.IntN(animal.most), animal.unit,
			n.pick([]string{"前段时间卖了" + n.amount(), "草料够吃到" + n.date(), "防疫针已打", "圈舍需要加固", "想申请" + n.pick(policiesPool), "产了" + n.qty([]string{"只羔", "窝", "斤蜜", "个蛋"})}))
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s%s%s", n.person(), n.pick([]string{"患", "得了", "查出", "一直有"}), n.pick(illnesses)) +
			n.pick([]string{"，在" + n.pick(cityPool) + "住院", "，每月药费" + n.amount(), "，慢病卡已办", "，报销了" + n.amount(), "，需要长期吃药", "，" + n.date() + "去复查"})
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s说%s%s，%s", n.person(), n.place(), n.pick(problems), n.pick(doneActs))
	},
	func(n *Notes) string {
		return fmt.Sprintf("宣传了%s和%s，%s%s", n.pick(policiesPool), n.pick(policiesPool), n.person(), n.pick(feelings))
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s领到%s%s", n.date(), n.pick(policiesPool), n.amount())
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s%s，%s", n.person(), n.pick(feelings), n.pick(shortTails))
	},
	func(n *Notes) string {
		return fmt.Sprintf("今年%s收入约%s，比去年%s", n.pick([]string{"务工", "种植", "养殖", "家庭", "人均", "经营"}), n.amount(),
			n.pick([]string{"多了", "少了", "差不多", "多了" + n.amount(), "少了一些"}))
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s在%s上%s，%s", n.person(), n.pick([]string{"村小", "镇中学", "市一中", "职校", "大学", "幼儿园", "技校"}),
			n.pick([]string{"一年级", "三年级", "初二", "高一", "高三", "大二", "中班"}),
			n.pick([]string{"成绩不错", "申请了" + n.pick(policiesPool), "住校", "每周回家", "学费" + n.amount(), "明年毕业"}))
	},
	func(n *Notes) string {
		return fmt.Sprintf("电话%s打不通，%s", n.phone(), n.pick([]string{"换成" + n.phone(), "留了邻居的号", "托" + n.person() + "转告", "下次当面问"}))
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s%s%s%s", n.place(), n.pick([]string{"新修了", "冲坏了", "通了", "堵了", "装了", "拆了"}),
			n.pick([]string{"路灯", "水渠", "便桥", "护栏", "水管", "垃圾池", "路面", "围墙"}), n.pick([]string{"", "，" + n.pick(doneActs), "，户主很高兴", "，还没人管"}))
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s和%s一起%s", n.person(), n.person(),
			n.pick([]string{"去镇上办了" + n.pick(policiesPool), "到合作社干活", "去" + n.pick(cityPool) + "看病", "在家照顾老人", "收" + n.pick(crops), "赶集卖" + pickOf(n, livestock).name}))
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s借了%s买%s，%s还", n.person(), n.amount(),
			n.pick([]string{"种子", "化肥", "三轮车", "饲料", "牛犊", "羊羔", "旋耕机", "手机", "地膜"}), n.date())
	},
	func(n *Notes) string {
		return fmt.Sprintf("%s%s%s", n.pick(verbsSee), n.pick([]string{"房屋", "厕所", "厨房", "饮水", "院落", "用电", "取暖"}),
			n.pick([]string{"正常", "有隐患", "已改造", "还没修好", "比上次好", "需要再看", "问题不大"}))
	},
}

// followShapes are the ways a follow-up is put together.
var followShapes = []func(n *Notes) string{
	func(n *Notes) string { return n.date() + n.pick(owed) + n.person() + "的" + n.pick(policiesPool) },
	func(n *Notes) string { return n.pick(owed) + n.place() + n.pick(problems) + "的处理" },
	func(n *Notes) string {
		return n.date() + "前" + n.pick(owed) + n.pick(crops) + "销路，约" + n.qty([]string{"斤", "公斤", "吨"})
	},
	func(n *Notes) string {
		return n.pick(owed) + n.person() + "在" + n.pick(cityPool) + "务工工资" + n.amount()
	},
	func(n *Notes) string {
		return "帮" + n.person() + n.pick([]string{"办", "问", "交", "补"}) + n.pick(policiesPool) + "，" + n.date()
	},
	func(n *Notes) string { return n.pick(owed) + n.person() + n.pick(illnesses) + "复查结果" },
}

// clause is a free clause built word by word from the pools below: who,
// when, how, what was done to what, and how it stands. Words are drawn
// independently, so the clauses repeat words, as typed notes do, but
// seldom a phrase.
func (n *Notes) clause() string {
	var b strings.Builder
	if n.r.IntN(3) == 0 {
		b.WriteString(n.pick(whenWords))
	}
	switch n.r.IntN(4) {
	case 0:
		b.WriteString(n.person())
	case 1:
		b.WriteString(n.pick(kin))
	}
	if n.r.IntN(2) == 0 {
		b.WriteString(n.pick(adverbs))
	}
	b.WriteString(n.pick(verbs))
	if n.r.IntN(3) == 0 {
		b.WriteString(fmt.Sprintf("%d%s", 1+n.r.IntN(n.pick3(9, 60, 900)), n.pick(measureWords)))
	} else if n.r.IntN(2) == 0 {
		b.WriteString(n.pick(adjectives))
		b.WriteString("的")
	}
	b.WriteString(n.pick(nouns))
	if n.r.IntN(2) == 0 {
		b.WriteString("，")
		if n.r.IntN(2) == 0 {
			b.WriteString(n.pick(nouns))
		}
		b.WriteString(n.pick(adverbs))
		b.WriteString(n.pick(states))
	}
	return b.String()
}

var whenWords = []string{"今早", "昨天", "前天", "上周", "这几天", "最近", "年前", "开春", "麦收时", "秋后", "入冬后", "下雨后",
	"赶集时", "晚上", "中午", "上次走访时", "月初", "月底", "节前", "前段时间", "去年冬天", "今年开春", "农闲时", "放假后"}

var adverbs = []string{"刚", "已经", "还没", "正在", "打算", "准备", "按时", "及时", "主动", "又", "也", "都", "差不多",
	"基本", "暂时", "一直", "经常", "偶尔", "尽快", "陆续", "重新", "顺便", "亲自", "专门", "照常", "勉强", "总算"}

var verbs = []string{"修好", "买了", "卖了", "种上", "收完", "拉回", "换了", "补上", "送来", "交了", "领了", "借了", "还了",
	"盖起", "清理", "翻修", "平整", "浇了", "施了", "剪完", "装上", "拆掉", "搬进", "挖开", "堵住", "备好", "晒干", "储存",
	"登记", "核对", "上报", "填写", "申请", "办理", "咨询", "商量", "答应", "签了", "开具", "复印", "打印", "缴纳", "报销",
	"照顾", "看望", "接回", "送走", "陪着", "帮忙", "动员", "劝说", "提醒", "讲解", "宣传", "学会", "考取", "参加", "报名"}

var adjectives = []string{"新", "旧", "破", "好", "干净", "整齐", "结实", "漏水", "松动", "发霉", "便宜", "贵", "够用",
	"不够", "闲置", "多余", "急用", "现成", "自家", "邻居家", "村里", "镇上", "合作社的", "去年的", "政府补贴的", "二手"}

var nouns = []string{"门窗", "屋顶", "院墙", "炕", "火炉", "煤", "柴火", "水缸", "水窖", "水管", "电表", "电线", "灯泡",
	"电视", "冰箱", "洗衣机", "太阳能", "热水器", "锅灶", "橱柜", "被褥", "棉衣", "口粮", "面粉", "清油", "化肥", "农药",
	"种子", "地膜", "饲料", "草料", "秸秆", "架子车", "三轮车", "摩托车", "旋耕机", "播种机", "喷雾器", "剪刀", "梯子",
	"羊圈", "牛棚", "鸡舍", "蜂箱", "果树", "树苗", "菜地", "坡地", "水浇地", "旱地", "梯田", "责任田", "宅基地",
	"户口本", "身份证", "存折", "银行卡", "社保卡", "医保卡", "残疾证", "低保证", "合同", "发票", "收据", "申请书",
	"证明", "病历", "药", "轮椅", "拐杖", "助听器", "老花镜", "书包", "校服", "学费", "生活费", "车票", "工钱", "贷款",
	"利息", "分红", "补贴", "奖补资金", "工资卡", "手机", "话费", "网店", "快递", "订单", "货款", "样品", "包装", "标签"}

var measureWords = []string{"袋", "斤", "公斤", "吨", "方", "米", "亩", "棵", "株", "只", "头", "箱", "件", "张", "本",
	"份", "次", "天", "个月", "块", "桶", "车", "捆", "筐", "元"}

var states = []string{"还行", "不错", "一般", "够用", "不够", "坏了", "没问题", "有隐患", "已解决", "待处理", "已到位",
	"没到账", "到账了", "还差一些", "比较紧张", "基本稳定", "有所好转", "需要更换", "正在办理", "已经交齐", "还欠着"}

// remark is a free remark: a run of common characters drawn by their
// frequency in written Chinese (commonChars, most frequent first; the
// rank's weight is 1/(rank+8)). It is not made of words, but its bytes are
// as varied as free text's, which phrase pools alone are not: it is what
// brings a corpus of notes down from about 3× under gzip to about 2×.
func (n *Notes) remark() string {
	k := 6 + n.r.IntN(14)
	out := make([]rune, 0, k)
	for range k {
		out = append(out, commonRunes[n.zipf()])
	}
	return string(out)
}

// zipf draws a rank of commonRunes.
func (n *Notes) zipf() int {
	x := n.r.Float64() * commonTotal
	i, j := 0, len(commonCum)
	for i < j {
		h := (i + j) / 2
		if commonCum[h] < x {
			i = h + 1
		} else {
			j = h
		}
	}
	return min(i, len(commonRunes)-1)
}

// commonChars are common characters of written Chinese, roughly most
// frequent first (repeats are dropped).
const commonChars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严首底液官德随病苏失尔死讲配女黄推显谈罪神艺呢席含企望密批营项防举球英氧势告李台落木帮轮破亚师围注远字材排供河态封另施减树溶怎止案言士均武固叶鱼波视仅费紧爱左章早朝害续轻服试食充兵源判护司足某练差致板田降黑犯负击范继兴似余坚曲输修故城夫够送笔船占右财吃富春职觉汉画功巴跟虽杂飞检吸助升阳互初创抗考投坏策古径换未跑留钢曾端责站简述钱副尽帝射草冲承独令限阿宣环双请超微让控州良轴找否纪益依优顶础载倒房突坐粉敌略客袁冷胜绝析块剂测丝协诉念陈仍罗盐友洋错苦夜刑移频逐靠混母短皮终聚汽村云哪既距卫停烈央察烧迅境若印洲刻括激孔搞甚室待核校散侵吧甲游久菜味旧模湖货损预阻毫普稳乙妈植息扩银语挥酒守拿序纸医缺雨吗针刘啊急唱误训愿审附获茶鲜粮斤孩脱硫肥善龙演父渐血欢械掌歌沙刚攻谓盾讨晚粒乱燃矛乎杀药宁鲁贵钟煤读班伯香介迫句丰培握兰担弦蛋沉假穿执答乐谁顺烟缩征脸喜松脚困异免背星福买染井概慢怕磁倍祖皇促静补评翻肉践尼衣宽扬棉希伤操垂秋宜氢套督振架亮末宪庆编牛触映雷销诗座居抓裂胞呼娘景威绿晶厚盟衡鸡孙延危胶屋乡临陆顾掉呀灯岁措束耐剧玉赵跳哥季课凯胡额款绍卷齐伟蒸殖永宗苗川炉岩弱零杨奏沿露杆探滑镇饭浓航怀赶库夺伊灵税途灭赛归召鼓播盘裁险康唯录菌纯借糖盖横符私努堂域枪润幅哈竟熟虫泽脑壤碳欧遍侧寨敢彻虑斜薄庭纳弹饲伸折麦湿暗荷瓦塞床筑恶户访塔奇透梁刀旋迹卡氯遇份毒泥退洗摆灰彩卖耗夏择忙铜献硬予繁圈雪函亦抽篇阵阴丁尺追堆雄迎泛爸楼避谋吨野猪旗累偏典馆索秦脂潮爷豆忽托惊塑遗愈朱替纤粗倾尚痛楚谢奋购磨君池旁碎骨监捕弟暴割贯殊释词亡壁顿宝午尘闻揭炮残冬桥妇警综招吴付浮遭徐您摇谷赞箱隔订男吹园纷唐败宋玻巨耕坦荣闭湾键凡驻锅救恩剥凝碱齿截炼麻纺禁废盛版缓净睛昌婚涉筒嘴插岸朗庄街藏姑贸腐奴啦惯乘伙恢匀纱扎辩耳彪臣亿璃抵脉秀萨俄网舞店喷纵寸汗挂洪贺闪柬爆烯津稻墙软勇像滚厘蒙芳肯坡柱荡腿仪旅尾轧冰贡登黎削钻勒逃障氨郭峰币港伏轨亩毕擦莫刺浪秘援株健售股岛甘泡睡童铸汤阀休汇舍牧绕炸哲磷绩朋淡尖启陷柴呈徒颜泪稍忘泵蓝拖洞授镜辛壮锋贫虚弯摩泰幼廷尊窗纲弄隶疑氏宫姐震瑞怪尤琴循描膜违夹腰缘珠穷森枝竹沟催绳忆邦剩幸浆栏拥牙贮礼滤钠纹罢拍咱喊袖埃勤罚焦潜伍墨欲缝姓刊饱仿奖铝鬼丽跨默挖链扫喝袋炭污幕诸弧励梅奶洁灾舟鉴苯讼抱毁懂寒智埔寄届跃渡挑丹艰贝碰拔爹戴码梦芽熔赤渔哭敬颗奔铅仲虎稀妹乏珍申桌遵允隆螺仓魏锐晓氮兼隐碍赫拨忠肃缸牵抢博巧壳兄杜讯诚碧祥柯页巡矩悲灌龄伦票寻桂铺圣恐恰郑趣抬荒腾贴柔滴猛阔辆妻填撤储签闹扰紫砂递戏吊陶伐喂疗瓶婆抚臂摸忍虾蜡邻胸巩挤偶弃槽劲乳邓吉仁烂砖租乌舰伴瓜浅丙暂燥橡柳迷暖牌秧胆详簧踏瓷谱呆宾糊洛辉愤竞隙怒粘乃绪肩籍敏涂熙皆侦悬掘享纠醒狂锁淀恨牲霸爬赏逆玩陵祝秒浙貌役彼悉鸭趋凤晨畜辈秩卵署梯炎滩棋驱筛峡冒啥寿译浸泉帽迟硅疆贷漏稿冠嫩胁芯牢叛蚀奥鸣岭羊凭串塘绘酵融盆锡庙筹冻辅摄袭筋拒僚旱钾鸟漆沈眉疏添棒穗硝韩逼扭侨凉挺碗栽炒杯患馏劝豪辽勃鸿旦吏拜狗埋辊掩饮搬骂辞勾扣估蒋绒雾丈朵姆拟宇辑陕雕偿蓄崇剪倡厅咬驶薯刷斥番赋奉佛浇漫曼扇钙桃扶仔返俗亏腔鞋棱覆框悄叔撞骗勘旺沸孤吐孟渠屈疾妙惜仰狠胀谐抛霉桑岗嘛衰盗渗脏赖涌甜曹阅肌哩厉烃纬毅昨伪症煮叹钉搭茎笼酷偷弓锥恒杰坑鼻翼纶叙狱逮罐络棚抑膨蔬寺骤穆冶枯册尸凸绅坯牺焰轰欣晋瘦御锭锦丧旬锻垄搜扑邀亭酯迈舒脆酶闲忧酚顽羽涨卸仗陪辟惩杭姚肚捉飘漂昆欺吾郎烷汁呵饰萧雅邮迁燕撒姻赴宴烦债帐斑铃旨醇董饼雏姿拌傅腹妥揉贤拆歪葡胺丢浩徽昂垫挡览贪慰缴汪慌冯诺姜谊凶劣诬耀昏躺盈骑乔溪丛卢抹闷咨刮驾缆悟摘铒掷颇幻柄惠惨佳仇腊窝涤剑瞧堡泼葱罩霍捞胎苍滨俩捅湘砍霞邵萄疯淮遂熊粪烘宿档戈驳嫂裕徙箭捐肠撑晒辨殿莲摊搅酱屏疫哀蔡堵沫皱畅叠阁莱敲辖钩痕坝巷饿祸丘玄溜曰逻彭尝卿妨艇吞韦怨矮歇"

var (
	commonRunes []rune
	commonCum   []float64
	commonTotal float64
)

func init() {
	seen := map[rune]bool{}
	for _, r := range commonChars {
		if !seen[r] {
			seen[r] = true
			commonRunes = append(commonRunes, r)
		}
	}
	for i := range commonRunes {
		commonTotal += 1 / float64(i+8)
		commonCum = append(commonCum, commonTotal)
	}
}
