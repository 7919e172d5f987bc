package demo

import (
	"fmt"

	"bangfu/domain"
)

// measureItem is one kind of measure a plan can hold, from the seed.
type measureItem struct {
	kind        domain.MeasureKind
	description func(g *gen, f *family) string
	target      func(g *gen, f *family) string
	craft       bool // a 古枹罕手工作坊 handicraft: at most one per plan
}

// measureMenu lists the measures of the seed: handicrafts of the 古枹罕手工作坊,
// free-range chickens, Sichuan pepper and wild honey sold online, skills
// training, dividends, migrant work, planting and breeding, and the basics.
var measureMenu = []measureItem{
	{domain.MeasureHandicraft, func(g *gen, f *family) string {
		return "参加古枹罕手工作坊，利用农闲时节制作手工布鞋"
	}, func(g *gen, f *family) string {
		n := 40 + 10*g.r.IntN(8)
		return fmt.Sprintf("年制作手工布鞋%d双，增收%d元", n, n*60)
	}, true},
	{domain.MeasureHandicraft, func(g *gen, f *family) string {
		return "参加古枹罕手工作坊，制作绣花鞋垫"
	}, func(g *gen, f *family) string {
		n := 100 + 20*g.r.IntN(10)
		return fmt.Sprintf("年制作绣花鞋垫%d双，增收%d元", n, n*15)
	}, true},
	{domain.MeasureHandicraft, func(g *gen, f *family) string {
		return "参加古枹罕手工作坊，制作特色十字绣"
	}, func(g *gen, f *family) string {
		n := 4 + g.r.IntN(8)
		return fmt.Sprintf("完成十字绣作品%d幅，增收%d元", n, n*400)
	}, true},
	{domain.MeasureFarming, func(g *gen, f *family) string {
		return "发展生态散养鸡养殖"
	}, func(g *gen, f *family) string {
		n := 30 + 10*g.r.IntN(8)
		return fmt.Sprintf("养殖散养鸡%d只，年增收%d元", n, n*50)
	}, false},
	{domain.MeasureEcommerce, func(g *gen, f *family) string {
		return "通过电商平台销售生态散养鸡和土鸡蛋"
	}, func(g *gen, f *family) string {
		return fmt.Sprintf("网上销售土鸡蛋%d枚、散养鸡%d只", 500+100*g.r.IntN(10), 10+5*g.r.IntN(6))
	}, false},
	{domain.MeasureFarming, func(g *gen, f *family) string {
		if f.pepper == 0 {
			f.pepper = 2 + g.r.IntN(3)
		}
		return fmt.Sprintf("种植花椒%d亩，加强修剪和病虫害防治", f.pepper)
	}, func(g *gen, f *family) string {
		return fmt.Sprintf("花椒挂果后年产干椒%d斤，增收%d元", f.pepper*60, f.pepper*2400)
	}, false},
	{domain.MeasureEcommerce, func(g *gen, f *family) string {
		return "野生蜂蜜通过网店和直播销售"
	}, func(g *gen, f *family) string {
		n := 50 + 10*g.r.IntN(10)
		return fmt.Sprintf("销售野生蜂蜜%d斤，增收%d元", n, n*60)
	}, false},
	{domain.MeasureTraining, func(g *gen, f *family) string {
		return fmt.Sprintf("%s参加%s技能培训", f.worker(), pick(g, []string{"电焊", "厨师", "家政服务",
			"挖掘机操作", "农业实用技术", "砌筑", "面点制作", "汽车驾驶"}))
	}, func(g *gen, f *family) string {
		return "取得培训合格证书，实现稳定就业"
	}, false},
	{domain.MeasureDividend, func(g *gen, f *family) string {
		return "以产业奖补资金入股村养殖合作社，按年分红"
	}, func(g *gen, f *family) string {
		return fmt.Sprintf("入股%d元，年分红不少于%d元", 5000*(1+g.r.IntN(2)), 400+100*g.r.IntN(5))
	}, false},
	{domain.MeasureMigrant, func(g *gen, f *family) string {
		return fmt.Sprintf("%s到%s外出务工", f.worker(), pick(g, cities))
	}, func(g *gen, f *family) string {
		return fmt.Sprintf("稳定务工%d个月以上，年务工收入%d元", 8+g.r.IntN(3), 30000+5000*g.r.IntN(6))
	}, false},
	{domain.MeasureFarming, func(g *gen, f *family) string {
		return fmt.Sprintf("养殖%s", pick(g, []string{"肉牛2头", "肉牛3头", "育肥羊10只", "育肥羊15只", "能繁母牛1头"}))
	}, func(g *gen, f *family) string {
		return fmt.Sprintf("出栏后年增收%d元", 4000+1000*g.r.IntN(6))
	}, false},
	{domain.MeasureFarming, func(g *gen, f *family) string {
		return fmt.Sprintf("种植%s%d亩", pick(g, []string{"中药材", "马铃薯", "全膜玉米", "蔬菜"}), 1+g.r.IntN(4))
	}, func(g *gen, f *family) string {
		return fmt.Sprintf("亩均增收%d元", 600+100*g.r.IntN(8))
	}, false},
	{domain.MeasureHousing, func(g *gen, f *family) string {
		return "实施危房改造，住上安全住房"
	}, func(g *gen, f *family) string {
		return "房屋安全等级鉴定为A级或B级"
	}, false},
	{domain.MeasureWater, func(g *gen, f *family) string {
		return "自来水管道入户改造"
	}, func(g *gen, f *family) string {
		return "自来水入户，全年稳定供水"
	}, false},
}

// cities where people of the village go for work.
var cities = []string{"兰州", "西宁", "新疆", "广州", "宁波", "临夏市区", "银川", "西安"}

// planGoals are a plan's goal, formatted with the year and an income figure.
var planGoals = []string{
	"巩固脱贫成果，%d年家庭人均纯收入达到%d元以上",
	"稳定增收、防止返贫，%d年人均纯收入不低于%d元",
	"发展庭院经济和劳务输出，%d年家庭人均纯收入达到%d元",
}

// reviewComments are a team leader's comments on a plan, by verdict.
var reviewComments = map[domain.Verdict][]string{
	domain.VerdictComment: {
		"请结合家中劳动力情况，补充务工措施",
		"花椒管护措施可再具体些，写明修剪时间",
		"增收目标与去年收入对照一下，不要定得过高",
		"请补充户主签字确认",
	},
	domain.VerdictReturn: {
		"措施目标不够具体，请细化增收目标后重新提交",
		"完成期限与产业周期不符，请修改",
		"缺少家庭劳动力外出务工的安排，请补充",
		"请与帮扶责任人一起入户核实后再提交",
	},
	domain.VerdictApprove: {
		"",
		"措施具体可行，同意",
		"同意，请按期推进并及时更新进度",
	},
}

// policies explained on visits (政策宣传).
var policies = []string{
	"城乡居民基本医疗保险缴费政策", "城乡居民养老保险政策", "雨露计划", "产业奖补政策",
	"防返贫动态监测和帮扶政策", "耕地保护政策", "脱贫人口小额信贷政策", "低保和临时救助政策",
	"惠民政策和法律法规", "稳岗就业和技能培训补贴政策", "危房改造政策", "森林防火和安全生产常识",
}

// problemKind is a problem a visit can find, and how it was resolved.
type problemKind struct {
	text, resolution, follow string
	water, fees              bool // the visit found the water unsafe / the fees unpaid
}

var problemKinds = []problemKind{
	{"饮水管道破损，自来水时断时续", "已联系镇水管站更换破损管道，恢复正常供水", "饮水管道维修", true, false},
	{"房屋漏雨，后墙有裂缝", "已申请危房改造补助，屋面已重新翻修", "房屋维修", false, false},
	{"今年医保未缴，家中资金困难", "协调村集体经济代缴，已完成缴费", "医保缴费", false, true},
	{"入户道路被雨水冲毁，车辆无法通行", "镇上组织机械修复道路，已恢复通行", "道路修复", false, false},
	{"花椒树病虫害严重，缺乏技术指导", "联系农技站技术员入户指导，已完成防治", "花椒病虫害防治", false, false},
	{"老人慢性病药费负担重，未办理慢病卡", "已协助办理慢性病门诊卡，报销比例提高", "慢病卡办理", false, false},
	{"散养鸡销路不畅，积压较多", "通过村电商服务点线上销售，积压已售完", "散养鸡销售", false, false},
	{"院内电线老化，存在安全隐患", "联系供电所更换入户线路，隐患已排除", "线路改造", false, false},
	{"孩子上学路远，申请寄宿", "已联系学校安排住校，享受寄宿生生活补助", "孩子就学", false, false},
	{"厕所改造未完成", "已纳入今年改厕计划，施工完成", "改厕", false, false},
}

// followUps are what a routine visit leaves owed.
var followUps = []string{
	"下次走访核实两费缴纳情况", "协助联系技能培训名额", "督促落实一户一策措施",
	"了解外出务工人员返乡情况", "协助申请产业奖补资金", "回访老人身体状况",
}

// healthNotes, houseNotes and waterNotes are pieces of a visit's notes.
var (
	houseNotes = []string{
		"查看房屋安全情况，房屋结构稳固", "院落整洁，人居环境较好", "家中新添置了冰箱和洗衣机",
		"冬季取暖用煤已备足", "家中卫生厕所使用正常",
	}
	waterNotes = []string{
		"查看饮水情况，自来水入户，水质正常", "询问饮水情况，供水正常", "自来水管道已做防冻处理",
	}
	talkNotes = []string{
		"了解家庭收支情况，今年主要收入来自务工和种植", "户主对帮扶工作满意",
		"宣传医保政策，动员按时缴纳城乡居民医疗保险", "讲解防返贫监测政策，告知申报渠道",
		"询问今年收入预期，预计比去年有所增加", "村情户情民情已记录，家庭情况无变化",
	}
)
