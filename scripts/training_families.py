"""Paraphrase families for the training data: many ways to say one fact, slots from large vocabularies.

Why: the first templates fit one way of talking (进货, 停产, 再抵押). Borrowers
say 搞/弄/整/砸 for 用, 腰斩 or 不到去年一半 for a decline, 房本押给小贷公司
for a second pledge. Each family below is a list of phrasings of one fact
value; slot fillers come from ``models/vocab/*.txt`` (hundreds of goods,
machines, places: the same lists the rules use) and the small pools here.

Also the question-answer traps: an answer about *other* loans after "您在别的
银行还有贷款吗" says nothing about this loan's use, so those rows are labelled
fund_use=not_mentioned.

Written for this project from the language, not from any evaluation call.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_vocab(name: str) -> list[str]:
    """One vocabulary of models/vocab/ (words split on whitespace, # comments)."""
    text = (ROOT / "models" / "vocab" / f"{name}.txt").read_text(encoding="utf-8")
    return sorted({w for line in text.splitlines() for w in line.split("#", 1)[0].split()})


POOLS: dict[str, list[str]] = {
    "goods": load_vocab("business_goods"),
    "stock_goods": load_vocab("trade_stock"),
    "place": load_vocab("business_places"),
    "money": ["钱", "那笔钱", "贷款", "这笔钱", "贷下来的钱", "这个钱", "那些钱", "银行那笔钱", "借的这笔", "贷的款"],
    "adv": ["都", "基本都", "全", "大部分", "主要", "差不多都", "一大半", "", "全部", "绝大部分"],
    "spend": ["搞到", "弄到", "整到", "投到", "砸到", "压到", "花在", "用在", "放在", "垫在", "投在", "砸在", "花到", "投进", "砸进", "用到"],
    "buy": ["买了", "添了", "换了", "进了", "购置了", "上了", "订了", "置办了", "新添了", "采购了", "弄了", "搞了", "整了"],
    "stock_verb": ["进了", "囤了", "压了", "备了", "批了", "铺了", "订了", "拿了"],
    "measure": ["一批", "两台", "几台", "一套", "些", "点", "一车", "十几吨", "一台", "好几批", "几十箱", "一整套", "两车", ""],
    "workers": ["工人", "员工", "伙计", "师傅们", "店员", "司机", "工友"],
    "wage": ["工钱", "工资", "人工费", "辛苦钱", "年底的工资"],
    "bill": ["货款", "材料款", "房租", "厂租", "店租", "运费", "水电费", "加盟费", "设备款"],
    "supplier": ["供货商", "上家", "厂家", "材料商", "批发商", "老客户那边的上游"],
    "shop": ["店", "分店", "新店", "门店", "铺子", "饭馆", "车间", "仓库", "工作室", "档口", "厂房"],
    "car": ["车", "辆新车", "辆SUV", "辆轿车", "台新能源车", "辆好点的车"],
    "family": ["老人", "我妈", "我爸", "孩子", "老婆", "家里老人", "丈母娘", "儿子", "闺女"],
    "personal": ["衣服", "首饰", "包", "手表", "手机", "金子", "家电", "家具", "电脑"],
    "who": ["群里的老师", "朋友", "一个大师", "同事", "亲戚", "网上的老师", "以前的同学"],
    "fin": ["理财", "基金", "私募", "信托", "理财产品"],
    "coin": ["币", "比特币", "虚拟币", "数字货币", "狗狗币"],
    "mkt": ["股市", "股票", "基金", "期货", "币圈", "大盘"],
    "debt": ["信用卡", "网贷", "借呗", "花呗", "之前的借款", "别的贷款", "小贷公司的钱", "民间借的钱", "高利贷", "外面的债"],
    "rel": ["小舅子", "表哥", "我弟", "我姐", "连襟", "战友", "老同学", "合伙人", "邻居", "我大舅", "亲戚", "朋友", "发小", "老乡"],
    "kid": ["儿子", "闺女", "女儿", "孩子"],
    "city": ["城里", "市里", "县城", "省城", "新区", "老家"],
    "metric": ["营业额", "出货量", "销量", "订单", "收入", "流水", "客流", "产量", "利润", "单量", "营收", "进账", "生意"],
    "period": ["去年", "往年", "以前", "前年", "过去", "疫情前", "最好的时候"],
    "frac": ["一半", "一大半", "三成", "四成", "两三成", "百分之三十", "差不多一半", "一多半", "五成"],
    "deed": ["房本", "房产证", "不动产证", "房子", "铺子", "厂房", "土地证", "本子"],
    "lender": ["一家小贷公司", "典当行", "担保公司", "一个做民间借贷的", "朋友", "别的银行", "金融公司", "放贷的"],
    "coll": ["房子", "那套房", "铺子", "门面", "厂房", "商铺", "那块地", "仓库"],
    "monthly": ["两千", "两千五", "三千", "一千八", "四千", "五千多", "三千来块"],
    "yearly": ["三万", "五万", "七八万", "十来万", "两万多"],
    "helper": ["老婆", "老公", "爱人", "家里", "亲戚", "我爸妈", "朋友"],
    "hedge": ["应该", "好像", "大概", "可能", "差不多", "估计"],
}

NM = "not_mentioned"

# (text template, labels as {short fact: value}); {pool} slots.
FAMILIES: list[tuple[str, dict[str, str]]] = [
    # fund use: business, in everyday verbs and large vocabularies
    ("{money}{adv}{spend}{place}了", {"f": "business_operation"}),
    ("{money}{adv}{spend}{place}里了", {"f": "business_operation"}),
    ("{adv}{spend}{place}上了，{buy}{measure}{goods}", {"f": "business_operation"}),
    ("{buy}{measure}{goods}", {"f": "business_operation"}),
    ("主要是{buy}{measure}{goods}，剩下的给{workers}结了{wage}", {"f": "business_operation"}),
    ("{stock_verb}{measure}{stock_goods}，等着旺季卖", {"f": "business_operation"}),
    ("{stock_verb}{measure}{stock_goods}", {"f": "business_operation"}),
    ("给{workers}结了{wage}，又付了{supplier}的{bill}", {"f": "business_operation"}),
    ("付了{bill}，还{buy}{measure}{goods}", {"f": "business_operation"}),
    ("新开了个{shop}，装修花了一部分，剩下的{buy}{measure}{goods}", {"f": "business_operation"}),
    ("{shop}重新装修了一下，{buy}{measure}{goods}", {"f": "business_operation"}),
    ("{shop}里添了{measure}{goods}，已经用上了", {"f": "business_operation"}),
    ("都压在货上了，{stock_verb}{measure}{stock_goods}", {"f": "business_operation"}),
    ("钱砸进{place}了，{buy}{measure}{goods}", {"f": "business_operation"}),
    ("没有没有，哪敢{mis}啊，{adv}{spend}{place}了", {"f": "business_operation"}),
    ("没有，{mis}那是不可能的，就是{buy}{measure}{goods}", {"f": "business_operation"}),
    ("买了一辆送货的{truck}，跑业务用", {"f": "business_operation"}),
    # fund use: personal, property, markets, debts, lending
    ("家里换了{car}", {"f": "consumption"}),
    ("给{family}看病花了不少，剩下的家里开销了", {"f": "consumption"}),
    ("自己家房子装修了一下，又添了点{personal}", {"f": "consumption"}),
    ("给{kid}交了学费，又出去旅游了一趟", {"f": "consumption"}),
    ("{kid}结婚，办酒席给彩礼花掉了", {"f": "consumption"}),
    ("买了点{personal}，其他的贴补家用了", {"f": "consumption"}),
    ("给{kid}在{city}看了套房，凑了个首付", {"f": "real_estate"}),
    ("交了套房子的首付，{city}的新楼盘", {"f": "real_estate"}),
    ("跟着{who}做了点短线", {"f": "securities_investment"}),
    ("买了点{coin}，想着能翻一番", {"f": "securities_investment"}),
    ("放{fin}里了，收益比存银行高", {"f": "securities_investment"}),
    ("听{who}说行情好，投{mkt}里了，结果亏了一大半", {"f": "securities_investment"}),
    ("抄底{mkt}，结果被套住了", {"f": "securities_investment"}),
    ("在{mkt}上玩了一把，赔了不少", {"f": "securities_investment"}),
    ("之前在网上借的几笔到期了，拿这个先平了", {"f": "repay_other_debt"}),
    ("拿{money}先把{debt}的窟窿堵上了", {"f": "repay_other_debt"}),
    ("{debt}催得紧，拿这笔钱先还上了", {"f": "repay_other_debt"}),
    ("用这笔钱顶了{debt}", {"f": "repay_other_debt"}),
    ("{rel}那边急用钱，先挪给他周转了", {"f": "lend_to_others"}),
    ("{rel}借走了，说年底还我", {"f": "lend_to_others"}),
    ("让{rel}先拿去应急了", {"f": "lend_to_others"}),
    ("这个就不用跟你细说了吧", {"f": "refused"}),
    ("这是我个人的事，就不讲了", {"f": "refused"}),
    # repayment
    ("每个月都得东凑西凑", {"r": "strained"}),
    ("紧巴巴的，但还是会还", {"r": "strained"}),
    ("靠{helper}帮衬着顶着，有点吃不消", {"r": "strained"}),
    ("还得上，就是每个月都挺悬的", {"r": "strained"}),
    ("月供有点扛不住了，但还在硬撑", {"r": "strained"}),
    ("下个月的真拿不出来了", {"r": "unable"}),
    ("实在凑不出来，这期肯定交不上", {"r": "unable"}),
    ("已经停了两个月没还了，手里一分钱没有", {"r": "unable"}),
    ("一分没少，每个月按时扣的", {"r": "normal"}),
    ("卡里一直留着钱，没拖过", {"r": "normal"}),
    ("压力不大，都能还上", {"r": "normal"}),
    # collateral
    ("{deed}又押给了{lender}，又借了一笔", {"c": "re_pledged"}),
    ("{deed}现在在{lender}那押着", {"c": "re_pledged"}),
    ("拿{coll}又去贷了一笔", {"c": "re_pledged"}),
    ("现在有户人家住着，一个月给我{monthly}", {"c": "leased"}),
    ("{coll}给别人开店了，一年收{yearly}", {"c": "leased"}),
    ("{coll}去年就出手了", {"c": "sold_or_transferred"}),
    ("{coll}已经不是我的了，过到别人名下了", {"c": "sold_or_transferred"}),
    ("{coll}被法院贴了封条", {"c": "seized"}),
    ("{coll}前阵子被水泡了，墙都裂了", {"c": "damaged_or_devalued"}),
    ("{coll}现在不值以前那个价了，跌了三成", {"c": "damaged_or_devalued"}),
    ("{coll}我们一家自己住着", {"c": "intact"}),
    ("{coll}好端端的，没租没卖", {"c": "intact"}),
    # project
    ("工地停了快两个月，施工队都撤了", {"p": "suspended"}),
    ("比原定计划晚了一个季度", {"p": "delayed"}),
    ("按原计划在干着，没耽误", {"p": "on_schedule"}),
    # business condition: quantities and trends
    ("{metric}连{period}一半都不到", {"b": "declining"}),
    ("{metric}差不多腰斩了", {"b": "declining"}),
    ("{metric}比{period}少了{frac}", {"b": "declining"}),
    ("{metric}掉了{frac}", {"b": "declining"}),
    ("一年到头没赚到钱，白忙活", {"b": "declining"}),
    ("活少了，一个月就接一两单", {"b": "declining"}),
    ("货压了一仓库，卖不动", {"b": "declining"}),
    ("{shop}早没开了，门面退给房东了", {"b": "ceased"}),
    ("{shop}现在不干了，工人都散了", {"b": "ceased"}),
    ("设备都处理掉了，现在在家待着", {"b": "ceased"}),
    ("{metric}跟{period}差不多，老样子", {"b": "normal"}),
    ("还凑合，回头客挺多", {"b": "normal"}),
]

# Misuses named in denials.
MISUSE_NOUNS = ["炒股", "买房", "买理财", "借给别人", "乱花", "玩币"]
TRUCKS = ["小货车", "面包车", "冷藏车", "厢式货车", "三轮车"]

# Other-debt questions and answers about those debts: nothing about this loan's use.
OTHER_DEBT_QUESTIONS = [
    "除了我们这笔，您在别的银行还有贷款吗？",
    "您在其他地方还有借款吗？",
    "有没有信用卡或者网贷？",
    "您目前还有没有其他负债？",
    "外面还有别的欠款吗？",
    "在别家还有没有贷款？",
]
OTHER_DEBT_ANSWERS = [
    "有个车贷在还，一个月{monthly}",
    "信用卡还欠着一点，每月都在还",
    "有，{debt}还有几万没还完",
    "还有一个房贷，每个月按时还的",
    "有一笔{debt}，快还完了",
    "有，跟{rel}借了点，不急着还",
]


def fill(template: str, rng: random.Random) -> str:
    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "mis":
            return rng.choice(MISUSE_NOUNS)
        if key == "truck":
            return rng.choice(TRUCKS)
        return rng.choice(POOLS[key])

    return re.sub(r"\{(\w+)\}", one, template)


def family_examples(rng: random.Random, questions: dict, per_family: int = 28) -> list[dict]:
    """Customer rows from every family (after a question on the fact's topic or none) plus the other-debt traps."""
    short = {"f": "fund_use", "r": "repayment_ability", "c": "collateral_status", "p": "project_progress", "b": "business_condition"}
    facts = list(short.values())
    rows = []
    for template, lab in FAMILIES:
        full = {fact: NM for fact in facts}
        full.update({short[k]: v for k, v in lab.items()})
        fact = short[next(iter(lab))]
        for _ in range(per_family):
            text = fill(template, rng)
            if rng.random() < 0.12:
                text = rng.choice(POOLS["hedge"]) + text
            text = rng.choice(["", "", "嗯，", "哎，", "说实话，", "怎么说呢，", "那个，"]) + text + rng.choice(["。", "", "。", "吧。", "，就这样。"])
            r = rng.random()
            context = "" if r < 0.15 else re.sub(r"\{\w+\}", "", rng.choice(questions[fact]["open"]))
            rows.append({"speaker": "customer", "context": context, "text": text, "labels": dict(full), "source": "template"})
    for _ in range(per_family * 6):
        context = rng.choice(OTHER_DEBT_QUESTIONS)
        text = fill(rng.choice(OTHER_DEBT_ANSWERS), rng) + rng.choice(["。", "", "吧"])
        rows.append({"speaker": "customer", "context": context, "text": text, "labels": {fact: NM for fact in facts}, "source": "template"})
    return rows
