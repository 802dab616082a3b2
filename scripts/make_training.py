"""Generate the labelled utterances the fact classifiers are trained on.

Writes ``data/training/utterances.jsonl`` and the data card
``data/training/README.md``. Deterministic: the same seed gives byte-identical
files. Run with the project venv::

    .venv/bin/python scripts/make_training.py [--seed 20260601] [--out data/training]

How the data is made (see the data card for the full story):

* **templates**: customer answers are assembled from hand-written phrase pools
  (fillers, acknowledgements, hedges, one or more fact clauses with slots for
  goods, relatives, amounts, dates ...), usually after an agent question that
  sets the topic. Short answers ("没有", "有一点", "对") get their labels from
  the question they answer. Agent turns (questions, recording notice, greetings)
  are labelled not_mentioned, except the agent's own declarative summaries.
* **handwritten**: free sentences written one by one, not from the pools.
* **augmented**: copies with typical ASR errors (pypinyin homophones and
  near-homophones, dropped punctuation, digits <-> Chinese numerals, a dropped
  character, traditional characters), labels unchanged.

It was written without looking at any evaluation call (data/sample/ is
another person's work); the test suite checks there is no shared sentence.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

import cn2an
import jieba
import opencc
from pypinyin import lazy_pinyin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pipeline.labels import FACT_VALUES, FACTS  # noqa: E402
from scripts.training_families import family_examples  # noqa: E402

NM = "not_mentioned"
DEFAULT_SEED = 20260601
SHORT = {"f": "fund_use", "r": "repayment_ability", "c": "collateral_status",
         "p": "project_progress", "b": "business_condition"}

Labels = dict[str, str]


def labels(**kw: str) -> Labels:
    """All five facts, not_mentioned unless given (keys may be f/r/c/p/b or full names)."""
    out = {fact: NM for fact in FACTS}
    for key, value in kw.items():
        fact = SHORT.get(key, key)
        if value not in FACT_VALUES[fact]:
            raise ValueError(f"{value!r} is not a value of {fact}")
        out[fact] = value
    return out


def lines(block: str) -> list[str]:
    """Non-empty stripped lines of a block, so pools read like lists of phrases."""
    return [ln.strip() for ln in block.strip().splitlines() if ln.strip() and not ln.strip().startswith("#")]


# ---------------------------------------------------------------------------
# Slot pools
# ---------------------------------------------------------------------------
CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """Chinese numeral for n."""
    return str(cn2an.an2cn(str(n)))


def gen_amount(rng: random.Random) -> str:
    """A loan-sized amount, in digits or Chinese numerals, with the ways people say it."""
    n = rng.choice([3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 300])
    num = str(n) if rng.random() < 0.45 else cn_number(n).replace("二百", "两百")
    form = rng.choice(["{}万", "{}万", "{}万块", "{}来万", "{}多万", "{}万块钱", "{}万元"])
    if n >= 100 and "来" in form:
        form = "{}万"
    return form.format(num)


def gen_small_amount(rng: random.Random) -> str:
    """A monthly instalment."""
    return rng.choice(["三千多", "五千", "6000", "八千", "1万2", "一万出头", "4500", "七千来块", "两万", "9千"])


def gen_months(rng: random.Random) -> str:
    n = rng.choice([1, 2, 3, 4, 5, 6])
    if rng.random() < 0.4:
        return f"{n}个月"
    return {1: "一个月", 2: "两个月", 3: "三个月", 4: "四个月", 5: "五个月", 6: "半年"}[n]


def gen_day(rng: random.Random) -> str:
    d = rng.choice([1, 5, 8, 10, 15, 18, 20, 25, 28])
    return f"{d}号" if rng.random() < 0.5 else f"{cn_number(d)}号"


def gen_month_name(rng: random.Random) -> str:
    m = rng.randint(1, 12)
    return f"{m}月份" if rng.random() < 0.5 else f"{cn_number(m)}月份"


def gen_floor(rng: random.Random) -> str:
    n = rng.choice([3, 5, 6, 8, 11, 12, 15, 18, 21])
    return f"{n}层" if rng.random() < 0.5 else f"{cn_number(n)}层"


def gen_pct(rng: random.Random) -> str:
    return rng.choice(["一半", "三成", "两三成", "30%", "百分之四十", "一大半", "四成", "20%", "差不多一半"])


def gen_last4(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(4))
    return digits if rng.random() < 0.6 else "".join(CN_DIGITS[int(d)] for d in digits)


SLOT_FUNCS: dict[str, Callable[[random.Random], str]] = {
    "last4": gen_last4, "amt": gen_amount, "monthly": gen_small_amount, "months": gen_months, "day": gen_day,
    "month": gen_month_name, "floor": gen_floor, "pct": gen_pct,
}

SLOTS: dict[str, list[str]] = {
    "money": ["钱", "那笔钱", "贷款", "这笔贷款", "贷的钱", "这个钱", "银行的钱", "那{amt}", "贷下来的{amt}", "这{amt}"],
    "goods": lines("""
        钢板
        手机
        化工原料
        棉纱
        农资
        汽配
        原材料
        钢材
        布料
        面料
        饲料
        化肥
        种子
        建材
        水泥
        木材
        塑料颗粒
        纸箱
        茶叶
        药材
        配件
        电子元器件
        冻品
        服装
        五金件
        铝型材
        玻璃
        白酒
        粮食
        板材
        货
        一批货
        猪苗
        鸡苗
    """),
    "equip": lines("""
        几台新设备
        一台激光切割机
        两台烤箱
        一套冷链设备
        设备
        一台数控机床
        两台注塑机
        一条新的生产线
        冷库设备
        一台挖机
        十几台缝纫机
        印刷机
        烘干设备
        一辆叉车
        一台冷藏车
        几台新机器
        检测设备
        包装机
    """),
    "supplier": ["供货商", "上游厂家", "材料商", "供应商", "老板那边", "批发市场那边"],
    "rel": lines("""
        表弟
        表哥
        小舅子
        姐夫
        妹夫
        我哥
        我弟
        一个朋友
        老同学
        老乡
        亲戚
        我姐
        堂哥
        战友
        合伙人
        邻居
        我大舅
        朋友
    """),
    "coll": ["房子", "那套房子", "抵押的房子", "铺子", "商铺", "门面", "厂房", "那块地", "办公楼", "仓库", "店面", "抵押那套房"],
    "proj": ["工程", "项目", "工地", "那个项目", "楼", "厂房扩建", "新厂房", "大棚", "那个标段", "二期工程", "园区那个项目", "路"],
    "biz": ["生意", "厂子", "店里", "公司", "养殖场", "饭店", "超市", "厂里", "加工厂", "门店", "物流这块", "茶叶店", "工作室"],
    "time": lines("""
        上个月
        前两个月
        年初
        去年年底
        放款以后
        钱到账那几天
        {month}
        上半年
        前段时间
        春节前
        今年开春
        上礼拜
    """),
    "city": ["市里", "省城", "老家县城", "深圳", "杭州", "成都", "郑州", "海南", "儿子上学那边", "开发区"],
    "debt": ["信用卡", "网贷", "借呗", "花呗", "微粒贷", "之前的贷款", "另一家银行的贷款", "小贷公司的钱", "车贷", "房贷"],
    "stock": ["股票", "基金", "理财", "比特币", "期货", "虚拟币", "理财产品"],
    "consume": ["家里装修", "买车", "旅游", "孩子学费", "办婚礼", "看病"],
    "purpose": ["经营周转", "进货", "采购原材料", "买设备", "项目建设", "发工资", "生产经营"],
    "name": ["王先生", "李女士", "张总", "刘先生", "陈女士", "赵老板", "周先生", "吴女士", "黄先生", "孙女士"],
    "bank": ["农商银行", "城商行", "我们银行", "XX银行", "本行"],
    "qty": ["三十吨", "两百箱", "一车", "五千斤", "一批", "几十吨", "十几万的", "两集装箱", "八百件", "一千多米"],
    "crop": ["玉米", "苹果", "核桃", "茶叶", "小麦", "大蒜", "辣椒", "草莓", "柑橘", "药材"],
    "livestock": ["两百头牛犊子", "一千只鸡苗", "一批猪仔", "几万尾鱼苗", "五十头母猪", "三百只羊"],
    "vehicle": ["货车", "冷藏车", "渣土车", "半挂车", "面包车"],
    "car": ["宝马", "奥迪", "SUV", "新能源车", "越野车", "奔驰"],
    "price": ["猪价", "鸡蛋价", "菜价", "钢材价格", "收购价"],
}


def fill(template: str, rng: random.Random, fixed: dict[str, str] | None = None) -> str:
    """Replace every {slot} with a random pool entry; nested slots are filled too."""
    fixed = fixed or {}

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in fixed:
            return fixed[key]
        if key in SLOT_FUNCS:
            return SLOT_FUNCS[key](rng)
        return rng.choice(SLOTS[key])

    for _ in range(3):
        if "{" not in template:
            break
        template = re.sub(r"\{(\w+)\}", one, template)
    return template


# ---------------------------------------------------------------------------
# Customer clauses per fact value. "@fact=value" after a clause adds labels it
# also establishes (e.g. a factory that closed cannot repay).
# ---------------------------------------------------------------------------
CLAUSES: dict[str, dict[str, list[str]]] = {
    "fund_use": {
        "business_operation": lines("""
            {money}都拿去进{goods}了
            主要是买{goods}，{time}一次性付的
            {money}全部用来进货了
            买了{equip}，已经装上在用了
            给工人发工资了
            发了{months}的工资，剩下的进了点{goods}
            交了厂房的租金
            付了店面租金，剩下的都进货了
            结了{supplier}的货款
            付了工程款，给施工队结了一部分
            就是生意上周转用的
            用在厂里了，流动资金嘛
            按合同上写的用的，进原料
            都投到店里去了，进货、交房租这些
            买饲料和鸡苗了
            拿去收玉米了，秋天收粮要垫钱
            换了一批新模具
            扩了一条生产线
            交了电费和材料款
            还了{supplier}的欠款，人家催货款催得紧
            买了辆货车拉货用
            付了{proj}的材料款
            进了一批{goods}，准备旺季卖
            主要是补流动资金
            交了场地租金和设备款
            钱到账第二天就转给{supplier}了
            给工地买钢筋水泥了
            把店面重新装修了一下，做生意用的
            厂房装修加上买设备，差不多就花完了
            {money}一部分买{equip}，一部分发工资
            周转资金，压在货上了
            给工人交了社保，发了奖金
            订了{goods}，定金和尾款都付了
            交了{proj}的人工费
            用来接了个大单，备料用的
            都是正常经营用的，没干别的
            年底结账用了，给{supplier}打过去了
            拿去租了个新仓库，还进了{goods}
            付了{goods}的钱，发票都有
            买了{qty}{goods}
            进了{qty}{goods}，{time}到的货
            拿去给车间换了几台新设备
            全用在厂里了
            收了一批{crop}，合作社收购用的
            开春买了{livestock}
            租了块地种{crop}，种苗肥料都是这笔钱
            付了门店的转让费和房租
            买了台{vehicle}跑运输
            备了点库存，旺季要用
            补了点流动资金，账上好周转
            {proj}先垫资进去了
            买了新的{equip}，旧的淘汰了
            给店里上了一批新款
            开了个分店，装修进货都用这个钱
            盖了个新猪舍，又买了点饲料
            付了运费和仓储费
            用来结了农民工的工资
            交了税，又付了点货款
            买种子化肥了，春耕用的
            该笔资金主要用于企业日常经营周转
            已经按约定用途支付给供应商了
            主要用于支付原材料采购款和员工薪酬
            资金都进了公司账户，用于生产
            接了个订单，钱都拿去备料了
            买了一批包装材料和辅料
            付了设备的首付款，剩下的分期
            维修了一下生产线，又换了些零件
            生意上的事，进货压货都要钱
            厂里添了几台设备
            给店里添置了冷柜和货架
            车间里换了新的机器
        """),
        "consumption": lines("""
            家里装修用了
            把房子装修了一下
            买了辆车，自己开
            给老婆买了辆车
            提了台新车
            带家里人出去旅游了
            孩子出国留学，交学费了
            给孩子交了学费和住宿费
            儿子结婚办酒席、买三金花掉了
            给儿子娶媳妇出彩礼了
            给老人看病做手术了
            买了些家电家具
            日常开销，吃吃喝喝就花了
            花在生活上了
            给女儿报了几个培训班，还买了架钢琴
            家里老人住院，医药费花了不少
            办婚礼了
            买了块表，又给家里添了点东西
            换了辆好点的车
            一家人去{city}玩了一趟，又买了点东西
            装修加上买家具，{amt}差不多花完了
            家里开支大，零零碎碎花掉了
            给自己买了辆车开，上下班方便
            孩子上私立学校，交赞助费了
            过年买年货、发红包花了一些
            拿去整了个牙，又做了个手术
            我老公拿去买了一辆{car}
            全花在医院了，老人做了个大手术
            装修婚房用了
            买了几件首饰，还换了部手机
            家里添了台空调和冰箱
            就是家里的生活费
            请客送礼花了不少
            出国玩了一趟
            孩子上大学，学费生活费都是这个钱
            给自己买了辆{car}
            家里办丧事花了
        """),
        "real_estate": lines("""
            交了房子的首付
            在{city}买了套房
            给儿子买婚房了
            付了个首付，剩下的按揭
            买了个学区房
            拿去买商品房了
            定了一套房，付了定金和首付
            买了套二手房
            凑了凑，把房子全款买了
            在老家县城买了套房子
            投资了一套公寓
            首付差点钱，就用这个补上了
            给闺女在{city}买了个小户型
            看中一套房子，交了首付款
            买了套房等着升值
            换了套大点的房子，补了差价
            买了间商铺，准备以后收租
            交了购房款
            买了套期房，交了首付
            补了房子的尾款
            付了新房的首付和契税
            在{city}看了套房，定下来了
            给父母在县城买了套房
            拿去买了个小公寓投资
        """),
        "securities_investment": lines("""
            拿去炒股了
            买了点股票
            放股市里了
            买了基金
            买了银行的理财产品
            存了个理财
            投了点虚拟币
            拿去炒币了
            做期货了
            玩了点期货，亏了一些
            跟着群里的老师买了几只股票
            打新股用了
            放在余额宝里吃利息
            买了{stock}，现在被套住了
            朋友介绍了个理财平台，投进去了
            {money}一大半放股市里了
            买了点比特币，想着能赚一点
            拿去买基金了，想赚点差价
            投到P2P里面了，现在还没拿回来
            买了点券商的理财
            开了个股票账户，全放进去了
            让朋友帮我操作股票
            投了个私募基金
            放到证券账户里了
            买了点可转债
            炒外汇了
            买了点数字货币
            做了点基金定投
            放在理财里面，利息比贷款高一点
            投到股市里了，想搏一把
        """),
        "repay_other_debt": lines("""
            还信用卡了
            信用卡那边先还上了
            还了网贷
            把借呗花呗都还了
            还了几个网贷平台的钱
            还了另一家银行的贷款
            之前的贷款到期了，拿这个先还上
            借新还旧，先把那边的窟窿堵上
            倒贷用了，过桥的
            还了之前欠朋友的钱
            还了小额贷款公司的钱
            还了房贷
            还车贷了
            把之前借的高利贷还了
            {debt}逾期了，先拿这个还了
            还了{rel}的钱，之前借的，人家催得急
            拿去还{debt}了
            好几张卡要还，都填进去了
            先把{debt}还清了，利息太高
            用来还了民间借贷
            还了一部分房贷
            还了别的银行的经营贷
            把信用卡分期一次性还了
            还了之前的欠款
            过桥资金还回去了
            还了担保公司的钱
            还了消费贷
            还了京东白条和几个平台
            拿去还之前那笔到期的贷款了
            续贷用了，先还老的再贷新的
        """),
        "lend_to_others": lines("""
            借给{rel}了
            钱先帮{rel}周转了
            {rel}急用，先借给他了
            转给{rel}用了，他做工程
            借给合伙人了
            {rel}买房差点钱，借给他了
            {rel}炒股缺钱，借给他了
            放给别人收点利息
            {rel}公司周转，转过去了
            帮{rel}还了信用卡，他过段时间还我
            {rel}开店缺钱，我先借他用用
            {rel}家里出事了，借给他应急
            转给{rel}了，他说下个月就还
            借出去了，月息一分五
            {rel}那边资金链紧，拿去救急了
            {rel}进货差钱，先垫给他了
            {rel}结婚，借了他{amt}
            {rel}看病，借给他了
            给{rel}周转了一下
            帮朋友过了个桥，过几天就还回来
            借给同村的人了
            借给我们老板了，他给利息
            朋友拆借了一下，说好给利息
            借给{rel}做生意了
            {rel}要买车，先借他用
        """),
        "refused": lines("""
            钱怎么用是我自己的事
            这个没必要跟你们讲吧
            用在哪你们就别管了
            这是我的隐私，不想说
            涉及商业上的事，不方便透露
            这个我不想回答
            问这么细干什么，又不是不还
            这跟你们没关系吧
            钱的用途我就不说了
            用到哪儿了我不方便讲
            无可奉告
            这个问题我拒绝回答
            我有必要告诉你们钱怎么花吗
            反正是正经用途，别问了
            不该问的别问
            钱花哪我自己心里有数
            钱的去向属于个人隐私
            你们只管收钱就行了，用哪不用你们操心
            说了你们也不懂，反正是正经用途
            我不想透露钱的去向
            这个属于私事，不方便讲
            跟你说不着
            我的钱我做主，用哪不用你们管
            问那么多干啥
            这个你们不用知道
            你们这是查我啊，不想说
            钱干什么用了，这个保密
            这是我家里的事，别打听了
            这个就不方便跟你讲了
            用途嘛，我就不细说了
            你们管得也太宽了吧
            钱的事我不想多说
            你们管那么多干嘛
        """),
    },
    "repayment_ability": {
        "normal": lines("""
            每个月都按时还的
            还款没问题
            扣款卡里提前存好钱了
            收入稳定，还款没压力
            从来没逾期过
            每月{day}之前都打进去了
            这点钱还是还得起的
            月供{monthly}，压力不大
            提前还了一部分
            打算年底提前还清
            放心，不会拖欠的
            一期都没落下
            流水够还贷款的
            工资卡直接扣的，没问题
            还款完全没问题
            每个月的钱都准备好了
            钱早就准备好了
            还款的钱一直放在卡里
            到期一次性还清没问题
            利息每个月都按时交
            账上钱够，不用担心
            还款这块你们放心
            有固定的房租收入，还贷没问题
            孩子每个月给我打钱，还贷款够了
            现金流没问题
            账上留着钱呢
            还款日之前都存进去了
            钱够，不差这点
            每期都是自动扣款，没断过
            还得起，放心
            收入还可以，还贷不成问题
            我这人说话算话，每个月{day}前一定打进去
        """),
        "strained": lines("""
            手头有点紧，但每个月都按时还
            压力有点大，不过还在还
            还是有点吃力
            得东拼西凑才能还上
            有时候要找亲戚借点才能还上
            这个月可能要晚几天
            最近资金紧张，尽量按时还吧
            还能撑一撑
            有点困难，但是会想办法
            勉强还得上
            紧巴巴的，不过没断过
            能不能延期一下，最近周转不开
            上个月晚了两天，这个月争取按时
            利息能不能降一点，压力实在大
            每个月还完就不剩什么了
            还是有压力的，一个月{monthly}呢
            回款慢，还款有点跟不上
            可能会有点困难，我尽量
            卡里钱不太够，得等货款回来再还
            这两个月有点吃紧
            这个月肯定还，下个月说不准了
            只能先还利息，本金得缓缓
            能不能先还一部分
            最近挺紧张的，但不会逾期
            得卖点货才能还上
            压力不小
            有点吃不消，硬撑着在还
            月月都是紧着还
            想申请展期，压力太大了
            下个月的还款可能要拖几天
        """),
        "unable": lines("""
            真的还不上了
            没钱还了
            这个月肯定还不了
            已经{months}没还了
            我现在一分钱都没有，拿什么还
            实在是还不起了
            打算停止还款了
            你们起诉我吧，反正没钱
            除非把房子卖了，不然还不起
            厂子都倒了，拿什么还 @b=ceased
            不是不想还，是真的没能力还了
            贷款我是还不起了
            已经断供了
            后面的钱我还不上，你们看着办吧
            无力偿还，你们走法律程序吧
            一个月都还不上，别说全部了
            钱都亏光了，还不上
            我已经失业了，没有任何收入
            拿不出钱来了
            就算把我拉去坐牢我也拿不出钱
            我已经破产了
            欠了一屁股债，银行的钱还不上
            这个贷款我还不了了，你们看着处理吧
            连吃饭都成问题，还什么贷款
            只能等房子拍卖了，我是还不上
            银行爱咋办咋办，反正没钱
            从上个月开始就没还了，也还不起
        """),
    },
    "collateral_status": {
        "intact": lines("""
            房子还在，我自己住着
            没卖也没抵押给别人
            铺子我自己在用
            厂房好好的，在正常使用
            房产证在你们银行押着呢，没动过
            没有出租也没有转让
            {coll}一直是我自己在用
            {coll}还是原来那样，没什么变化
            地还在那儿，没动
            房子好好的，没租没卖
            房本上还是我的名字
            {coll}没什么变化，一家人住着
            {coll}自己用着呢，好好的
            {coll}没出过什么事
            抵押的东西都在，没问题
            {coll}维护得挺好的
            {coll}就是自己在经营，没租给别人
            产权没变，还在我名下
            房子一直自住，没动过
            产权清楚，没抵押给别人
            一切正常，还是那个样子
            {coll}还是我们自己在用
            东西都在，没动过
            还住着呢，好好的
            {coll}没租没卖，也没再押
        """),
        "leased": lines("""
            {coll}租出去了
            门面租给别人开超市了
            房子现在租给人住，每月收点租金
            厂房租了一半给别人
            一楼出租了，二楼自己用
            {coll}租给一个做餐饮的了
            {coll}包给别人了，每年收租金
            空着也是空着，就租出去了
            签了三年租约，租出去了
            {coll}现在有租户在用
            {coll}让别人租去开了个店
            {coll}租给{rel}了，收点房租
            {coll}转租给别人做仓库了
            房子我们搬出来了，租给别人住
            租给一个卖水果的了
            {coll}一年租金{amt}，租给别人了
            搬到儿子那边住了，房子租出去了
            出租给学生住了
            {coll}对外出租了
            {coll}租出去一半，自己留一半
            房子做民宿租出去了
        """),
        "sold_or_transferred": lines("""
            房子已经卖了
            {coll}过户给我儿子了
            {coll}转让给别人了
            {coll}{time}就出手了
            把铺子转给我合伙人了
            已经卖掉了，钱还没全部到手
            挂中介卖了，{time}签的合同
            {coll}送给女儿了，名字改成她的了
            厂房已经转手了
            {coll}卖给{rel}了
            {coll}已经不在我名下了
            {coll}过户出去了，现在是别人的
            急用钱，把{coll}卖了
            {coll}转手了
            {coll}已经不是我的了
            以房抵债，给了别人了
            离婚分给前妻了，已经过户了
            {coll}卖给别人了，还没过户，钱收了一部分
        """),
        "re_pledged": lines("""
            {coll}又拿去别的银行抵押了
            在小贷公司又押了一次
            做了个二押
            拿房本又借了一笔
            {coll}又给民间借贷那边做了抵押
            二次抵押给担保公司了
            用{coll}给朋友的贷款做了抵押
            {coll}又押出去借了{amt}
            又在{bank}那边做了个抵押
            拿{coll}又去抵押贷了点款
            {coll}压了两家，这边一个那边一个
            {coll}给担保公司做了反担保抵押
            房本押在朋友那借了钱
            又做了个第二顺位抵押
            {coll}又拿去做抵押借款了
        """),
        "seized": lines("""
            {coll}被法院查封了
            法院贴了封条
            因为给别人担保，{coll}被冻结了
            {coll}被扣押了
            被执行了，{coll}封着呢
            那边打官司，法院把厂房封了
            {coll}查封了，说是要拍卖
            {coll}被司法冻结了，现在动不了
            法院来人把{coll}封了
            {coll}被别的债主申请保全了
            被债主申请了财产保全，{coll}封了
            法院把{coll}冻结了
            执行局来人查封了
            因为官司，{coll}被保全了
            {coll}被法院扣了
        """),
        "damaged_or_devalued": lines("""
            厂房去年着火，烧了一半
            发大水泡了，损失挺大
            那边房价跌了不少，现在不值那么多了
            房子老化得厉害，墙都裂了
            台风把{coll}屋顶掀了
            {coll}设备都锈了，不值钱了
            地震震坏了一面墙
            商铺现在贬值了，租都租不出去
            比抵押那会儿掉了{pct}
            {coll}着过一次火，还没修好
            那一片现在没人要，价格跌得厉害
            {coll}漏水漏得厉害，塌了一块
            评估价掉了好多，现在也就值个{amt}
            车间着了场火，机器烧坏了好几台
            {coll}被洪水淹过，还没修
            市价比抵押的时候低了快一半
            {coll}一直空着，没人租，价格也跌了
            {coll}年久失修，破得不行
            地基下沉，墙都裂了
            那一片规划改了，{coll}不值钱了
            评估价缩水了不少
        """),
    },
    "project_progress": {
        "on_schedule": lines("""
            {proj}按计划在推进
            主体已经封顶了
            进度正常，年底能完工
            已经干到{floor}了
            设备都安装好了，正在调试
            {proj}已经验收了
            按节点走，没耽误
            基础已经打完了，下个月开始上主体
            施工很顺利
            比计划还快一点
            下个月就能竣工
            按合同工期走的
            {proj}进展挺顺利的
            {proj}正常施工，工人都在
            第一期已经完工了，二期也开了
            {proj}按进度在做，{month}能交付
            {proj}快收尾了，就剩点零碎活
            那个标段已经交工了
            上周刚过了主体验收
            {proj}早就干完了，都投产了
            桩基做完了，正在做地下室
            主体完工了，在做装修
            {proj}按工期在走
            进度跟得上，没问题
            比计划还提前了几天
            设备已经进场安装了
            土建完成了百分之八十，按计划走
        """),
        "delayed": lines("""
            比原计划晚了{months}
            工期拖了
            因为下雨耽误了一阵
            审批没下来，推迟了
            估计要延到明年
            {proj}进度慢了点
            材料没到，拖了半个月
            甲方图纸改了，耽搁了
            原定六月完工，现在看得九月了
            有点滞后
            {proj}比计划慢了一截
            验收往后推了{months}
            {proj}赶不上原来的工期了
            {proj}开工晚了，现在还在追进度
            工人不够，进度落下了
            {proj}要延期交付了
            本来{month}完工，现在要拖到年底了
            因为规划调整，开工往后推了{months}
            雨季一来就没法干，进度肯定往后拖
            停了一阵又开工了，比计划晚了点
            {proj}拖期了
            工期顺延了{months}
            {proj}进度落后了
            甲方变更设计，工期往后推
            还在等审批，一直开不了工
            交付时间推迟了
        """),
        "suspended": lines("""
            工地停了{months}
            {proj}停工了
            施工队撤场了
            {proj}暂时停下来了
            手续出了问题，被叫停了
            没钱了干不下去，停着呢
            环保检查，让我们停了
            现在工地上一个人都没有
            {proj}烂尾了
            甲方不给钱，工人都走了，停了
            {proj}已经停了好久了
            {proj}全面停工，什么时候复工还不知道
            {proj}搁置了，先不做了
            莫得进展，停起的
            工人工资发不出来，工地上早就没人了
            施工许可证被吊销了，只能停着
            开发商资金出了问题，整个停摆了
            {proj}停摆了
            工地被封了，不让干
            {proj}黄了，不做了
            {proj}暂停施工了
        """),
    },
    "business_condition": {
        "normal": lines("""
            {biz}还可以
            订单挺稳定的
            跟往年差不多
            厂里满负荷在干
            店里客流还行
            最近还挺忙的
            营业额比去年还涨了一点
            {biz}经营正常
            货走得挺快
            每天都有单子
            效益还行
            {biz}一切正常
            接了几个新客户，挺好的
            {biz}运转正常，工人都在
            今年行情不错
            {biz}稳稳当当的
            老客户都在，生意照常
            {biz}比较平稳，没什么大起大落
            现在两班倒在干
            订单排到明年了
            忙都忙不过来
            跟去年持平吧
            今年又多招了几个工人
            {biz}挺红火的
            利润还行，回款也正常
            客源稳定
            销量还在涨
            店里天天满座
            {biz}开得好好的
            今年订单多，活都干不完
            单子多得很，工人都在加班
            活多，开足了在干
            {biz}收入比去年高
            生意好做，回头客多
        """),
        "declining": lines("""
            单子少了{pct}
            生意不好做
            今年亏了点
            效益下滑了
            客户拖款，利润越来越薄
            {biz}没以前好了
            营业额掉了{pct}
            这两年一年不如一年
            现在也就勉强维持
            货压在仓库卖不出去
            厂子现在半停着
            工人裁了一半
            基本上亏本在做
            行情不好，{biz}难做
            {biz}订单少多了
            {biz}生意淡了很多，没什么客人
            今年营收降了{pct}
            {biz}开工不足，一周就干三四天
            生意一直没起来
            开开停停的，电费都交不起了
            一天也就几百块钱流水
            能撑一天是一天
            整个行业都不行，我们也一样
            {price}跌得厉害，养一头亏一头
            原材料涨价，利润薄了好多
            老客户跑了好几个
            库存压着，周转不开
            今年亏了{amt}
            工资都快发不出来了
            房租都快交不起了
            厂里就剩几个工人了
            只能接点零活
            {biz}生意越来越差
            赚得少了，也就保本
            订单没以前多了，活少
            {biz}一直在亏
            账上没钱，货款也收不回来
        """),
        "ceased": lines("""
            {biz}关了
            店已经不开了
            停产好几个月了
            厂子倒闭了
            不干了，转行了
            公司注销了
            工厂停了，机器都处理了
            门店关门了
            {time}就歇业了
            {biz}已经不做了，现在在外面打工
            厂子被关停了
            {biz}黄了
            {biz}彻底停了，工人都遣散了
            店转出去了，不做了
            开不下去了，上周刚清完货
            把设备卖了，现在给人开车
            关门了，不干了
            {biz}停业了
            执照都注销了
            厂子卖了，不做这行了
            人都散了，{biz}没了
            {biz}早就不开了
            猪场清空了，不养了
            鱼塘不包了，不干这个了
            鸡场出了病，全处理了，现在空着
            {biz}已经解散了
            {biz}停了{months}了，工人都走了
            厂里没活干，停产了，工人都回家了
            {biz}早停产了，人也散了
        """),
    },
}

# Negations that name one thing and establish another: (template, fact, value, extra labels).
NEGATIONS: list[tuple[str, str, str]] = [
    ("没有拿去炒股，都进{goods}了", "fund_use", "business_operation"),
    ("没有{misuse}，都用在生意上了", "fund_use", "business_operation"),
    ("不是{misuse_noun}，是{biz_noun}", "fund_use", "business_operation"),
    ("没乱花，全是进货和发工资", "fund_use", "business_operation"),
    ("没有挪作他用，都是按合同用的", "fund_use", "business_operation"),
    ("没买房也没炒股，就是{biz_noun}", "fund_use", "business_operation"),
    ("没借给别人，自己生意上用的", "fund_use", "business_operation"),
    ("没有还信用卡，全部{biz_noun}了", "fund_use", "business_operation"),
    ("不是进货，是借给{rel}了", "fund_use", "lend_to_others"),
    ("货没进成，钱先借给{rel}了", "fund_use", "lend_to_others"),
    ("不是我自己用，{rel}拿去用了", "fund_use", "lend_to_others"),
    ("没有拿去经营，买了{stock}", "fund_use", "securities_investment"),
    ("没进货，先买了点股票", "fund_use", "securities_investment"),
    ("不是发工资，是交了房子首付", "fund_use", "real_estate"),
    ("没用在厂里，给儿子买房了", "fund_use", "real_estate"),
    ("不是买设备，是还了{debt}", "fund_use", "repay_other_debt"),
    ("没投到生意里，先还{debt}了", "fund_use", "repay_other_debt"),
    ("没有进货，家里装修用了", "fund_use", "consumption"),
    ("不是做生意用的，买车了", "fund_use", "consumption"),
    ("{coll}没卖也没抵押给别人", "collateral_status", "intact"),
    ("没租出去，{coll}自己用着", "collateral_status", "intact"),
    ("{coll}没有出租，也没有过户", "collateral_status", "intact"),
    ("没被查封，也没再抵押，好好的", "collateral_status", "intact"),
    ("{coll}没动，谁也没给", "collateral_status", "intact"),
    ("不是卖了，是租出去了", "collateral_status", "leased"),
    ("没卖，就是租给别人了", "collateral_status", "leased"),
    ("{coll}没被查封，就是租出去了", "collateral_status", "leased"),
    ("没租，直接卖掉了", "collateral_status", "sold_or_transferred"),
    ("不是出租，是过户给{rel}了", "collateral_status", "sold_or_transferred"),
    ("没卖，但是又拿去别处抵押了一次", "collateral_status", "re_pledged"),
    ("没出租，被法院封了", "collateral_status", "seized"),
    ("没卖也没租，就是去年那场火烧坏了", "collateral_status", "damaged_or_devalued"),
    ("不是还不上，就是有点紧", "repayment_ability", "strained"),
    ("没逾期过，每个月都按时", "repayment_ability", "normal"),
    ("没说不还，就是这两个月困难点", "repayment_ability", "strained"),
    ("不是不想还，实在是拿不出钱了", "repayment_ability", "unable"),
    ("没压力，轻轻松松", "repayment_ability", "normal"),
    ("没什么困难，正常还着", "repayment_ability", "normal"),
    ("没停工，就是慢了点", "project_progress", "delayed"),
    ("没延期，按计划走着", "project_progress", "on_schedule"),
    ("不是停了，是在等材料，晚个把月", "project_progress", "delayed"),
    ("没耽误，{proj}都正常", "project_progress", "on_schedule"),
    ("没有延期，也没停工", "project_progress", "on_schedule"),
    ("不是慢，是直接停了", "project_progress", "suspended"),
    ("没停工，还在干", "project_progress", "on_schedule"),
    ("没停，一直在施工", "project_progress", "on_schedule"),
    ("{proj}没停过，工人天天在", "project_progress", "on_schedule"),
    ("没拖，跟计划差不多", "project_progress", "on_schedule"),
    ("{proj}怎么可能停，好好的", "project_progress", "on_schedule"),
    ("没关门，天天开着", "business_condition", "normal"),
    ("没停产，机器一直转着", "business_condition", "normal"),
    ("{biz}没倒，还挺好的", "business_condition", "normal"),
    ("哪能亏呢，挣得还行", "business_condition", "normal"),
    ("{coll}哪能租出去，自己还不够住", "collateral_status", "intact"),
    ("怎么可能卖，{coll}还是我的", "collateral_status", "intact"),
    ("{coll}哪舍得卖，自己住着", "collateral_status", "intact"),
    ("没租也没借给别人住，我们自己住", "collateral_status", "intact"),
    ("哪有钱炒股，全压在货上了", "fund_use", "business_operation"),
    ("怎么可能拿去买房，都在厂里呢", "fund_use", "business_operation"),
    ("不是不能还，就是得晚几天", "repayment_ability", "strained"),
    ("没断过供，每月都还", "repayment_ability", "normal"),
    ("没倒闭，就是单子少了", "business_condition", "declining"),
    ("没关门，还开着，{biz}还行", "business_condition", "normal"),
    ("没亏，跟去年差不多", "business_condition", "normal"),
    ("不是不好，是比以前还忙", "business_condition", "normal"),
    ("没停产，就是订单少了点", "business_condition", "declining"),
    ("不是生意不好，是直接不干了", "business_condition", "ceased"),
]
SLOTS["misuse"] = ["拿去炒股", "买房", "借给别人", "乱花", "挪作他用", "还信用卡", "去投资理财", "买车"]
SLOTS["misuse_noun"] = ["买房", "炒股", "借给别人", "还信用卡", "装修", "买理财"]
SLOTS["biz_noun"] = ["发工资", "进货", "买原料", "交租金", "买设备", "付工程款", "周转", "付货款"]

# ---------------------------------------------------------------------------
# Agent questions. kind: open | good (asks to confirm the good state) | bad (asks about trouble)
# ---------------------------------------------------------------------------
QUESTIONS: dict[str, dict[str, list[str]]] = {
    "fund_use": {
        "open": lines("""
            请问这笔贷款主要用在哪里了？
            贷款资金目前是怎么使用的？
            钱主要花在什么地方了？
            能说一下资金的具体用途吗？
            这笔钱您是怎么用的？
            贷款发放以后用于什么了呢？
            资金都用在哪些方面了？
            想跟您了解一下贷款的实际用途。
            {amt}贷款到账以后主要用来做什么了？
            方便说一下资金流向吗？
            钱花哪了？
            资金用途是？
            钱干啥用了？
            这笔钱现在主要投在哪一块？
            我们想了解一下，贷款拿到以后都用在哪了？
        """),
        "good": lines("""
            贷款是用于{purpose}的对吧？
            您这笔贷款是用来{purpose}的吗？
            合同上写的是{purpose}，实际也是这么用的吗？
            资金是否按照合同约定的用途使用？
            钱都用在{purpose}上了是吧？
            是用在店里进货了吧？
            您的贷款用途是{purpose}，对吗？
        """),
        "bad": lines("""
            有没有用于买房、炒股或者借给别人？
            资金有没有挪作他用？
            有没有拿去还其他贷款或者信用卡？
            有没有流入股市或者房地产？
            钱有没有转借给别人？
            有没有拿去炒股？
            贷款有没有用于个人消费，比如买车装修？
            您是否把资金用于购买股票或者理财？
            有没有把钱借给亲戚朋友？
            贷款资金有没有用于购房或者支付首付？
            钱有没有用在家里装修、买车这些方面？
            有没有用这笔钱去还别的债务？
            资金有没有流向其他地方？
        """),
    },
    "repayment_ability": {
        "open": lines("""
            目前还款情况怎么样？
            后续还款资金怎么安排的？
            还款资金来源主要是哪块？
            您现在每个月还款情况如何？
            收入情况怎么样，够还贷款吗？
        """),
        "good": lines("""
            每个月能按时还款吗？
            后面还款应该没问题吧？
            下个月{day}的还款能正常扣款吧？
            还款资金都准备好了吧？
            这个月的还款准备好了吗？
        """),
        "bad": lines("""
            目前还款有没有压力？
            后面还款方面有没有什么困难？
            最近有没有出现资金紧张的情况？
            还款上有没有什么需要我们协调的？
            最近还款方便吗？
            还款吃力吗？
            还得上吗？
            还款会不会有困难？
            后面有没有逾期的可能？
        """),
    },
    "collateral_status": {
        "open": lines("""
            抵押的房子现在是什么情况？
            抵押物目前状态怎么样？
            您抵押的{coll}现在谁在用？
            想了解一下抵押物的现状。
            抵押的{coll}现在怎么样了？
        """),
        "good": lines("""
            抵押的{coll}还是您自己在用吧？
            抵押物现在状况正常吧？
            {coll}还在您名下吧？
            {coll}还在吗？
        """),
        "bad": lines("""
            抵押的{coll}有没有出租、出售或者再抵押？
            抵押物有没有被查封或者损坏？
            {coll}有没有什么变动，比如租出去或者卖掉？
            抵押物有没有发生权属变化？
            抵押的房子有没有出租？
            抵押物是否被法院查封？
            {coll}有没有再拿去抵押？
            有没有把抵押物卖掉或者过户？
            抵押物有没有损坏？
            房子租出去了吗？
            出租了没有？
            有出租吗？
            卖了吗？
        """),
    },
    "project_progress": {
        "open": lines("""
            项目现在进展到哪一步了？
            工程进度怎么样？
            预计什么时候完工？
            {proj}现在施工情况如何？
            工程现在干到哪了？
        """),
        "good": lines("""
            项目是否按计划推进？
            {proj}能按期完工吧？
            能按时交付吧？
            工程进度正常吧？
            是不是按计划在推进？
            {proj}有没有按期完成？
            项目还在干吗？
        """),
        "bad": lines("""
            有没有延期或者停工的情况？
            {proj}有没有遇到什么问题，停工什么的？
            工期上有没有耽误？
            工程目前有没有停工的情况？
            项目有没有延期？
            工程停了没有？
            延期了吗？
        """),
    },
    "business_condition": {
        "open": lines("""
            最近生意怎么样？
            企业经营情况如何？
            厂里订单多不多？
            今年效益怎么样？
            {biz}最近怎么样？
            目前的营业收入情况怎么样？
            厂里开工情况怎么样？
            生意咋样？
            生意好做吗？
        """),
        "good": lines("""
            店里现在还正常营业吧？
            厂里生产都正常吧？
            经营情况还稳定吧？
            生意是不是跟以前一样？
            店还开着吗？
            您的店现在还在正常经营吗？
        """),
        "bad": lines("""
            经营上有没有遇到什么困难？
            有没有停产或者歇业的情况？
            最近订单有没有减少？
            生意上有没有什么变化？
            停产了吗？
        """),
    },
}
GENERIC_QUESTIONS = lines("""
    最近情况怎么样？
    还有什么需要补充的吗？
    您那边一切都好吧？
    最近家里和生意上都还好吧？
    您看还有别的情况要跟我们说吗？
    我们这边做个简单的回访，您最近怎么样？
""")
IDENTITY_QUESTIONS = lines("""
    请问是{name}吗？
    您好，请问您是{name}本人吗？
    方便核实一下身份证后四位吗？
    请问您是借款人本人吗？
    请问您现在方便接听电话吗？
""")
AGENT_OTHER = lines("""
    您好，我是{bank}贷后管理部的，本次通话将会录音。
    为了保障您的权益，本次通话全程录音。
    您好，这里是{bank}客服中心，现在对您的贷款做一个回访。
    好的，明白了。
    好的，我这边记录一下。
    那我再问一下。
    感谢您的配合，祝您生活愉快，再见。
    好的，那今天就先这样，有问题随时联系我们。
    请您按时还款，保持良好的信用记录。
    您的下一期还款日是{day}，请留意卡内余额。
    好的，感谢您的耐心。
    不好意思打扰您了。
    喂，您好，能听到吗？
    这边信号不太好，您能大声一点吗？
    好的，那我们后续可能还会再联系您。
    如果联系方式有变化请及时告知我们。
    您别着急，我们只是例行回访。
    好的，您说的情况我都记下了。
    麻烦您把相关的凭证发给客户经理。
    我们会有客户经理上门核实一下。
    请您不要把贷款资金用于炒股买房，这是违反合同约定的。
    根据合同约定，贷款资金不得用于购房、炒股。
    我们需要核实一下资金是否存在挪用。
    如果还款有困难可以跟我们说，我们帮您想办法。
    我们这次回访主要了解一下资金用途和经营情况。
    如果抵押物有出租或者变动，请及时告知我们。
    逾期会影响您的征信，请按时还款。
    我们会把您的情况反馈给客户经理。
    您说的这个情况，需要您提供一下相关凭证。
    请问您有没有其他银行的贷款？
    请问家里有没有什么变化？
    提醒您一下，贷款资金不能转借给他人。
    抵押物如果要出租或者出售，需要先征得银行同意。
    项目如果有停工或者延期，请及时跟我们联系。
    经营上有困难的话，可以申请调整还款计划。
""")
# Agent declarative summaries: phrase -> (fact, value)
AGENT_FACTS: dict[str, list[tuple[str, str]]] = {
    "fund_use": [("贷款资金用于采购原材料", "business_operation"), ("资金用于支付工人工资", "business_operation"),
                 ("资金用于购买生产设备", "business_operation"), ("资金用于支付购房首付", "real_estate"),
                 ("资金用于偿还信用卡", "repay_other_debt"), ("资金转借给了亲属", "lend_to_others"),
                 ("资金用于购买理财产品", "securities_investment"), ("资金用于家庭装修", "consumption"),
                 ("客户不愿透露资金用途", "refused")],
    "repayment_ability": [("还款正常", "normal"), ("目前还款压力较大", "strained"), ("客户表示暂时无力还款", "unable")],
    "collateral_status": [("抵押房产目前自住，状态正常", "intact"), ("抵押商铺已经出租", "leased"),
                          ("抵押物已被法院查封", "seized"), ("抵押房产已经过户", "sold_or_transferred"),
                          ("抵押物已在其他机构再次抵押", "re_pledged"), ("抵押厂房因火灾受损", "damaged_or_devalued")],
    "project_progress": [("项目按计划推进", "on_schedule"), ("项目工期有所延误", "delayed"), ("项目目前处于停工状态", "suspended")],
    "business_condition": [("企业经营正常", "normal"), ("订单有所减少，经营下滑", "declining"), ("企业已经停产", "ceased")],
}

# ---------------------------------------------------------------------------
# Short answers whose meaning comes from the question.
# ---------------------------------------------------------------------------
DENY = ["没有", "没有没有", "那没有", "都没有", "没有的事", "那肯定没有", "没", "不会", "没有啊", "绝对没有"]
ADMIT = ["有", "有的", "有一点", "嗯，有", "说实话，有", "有那么一点", "多少有点"]
CONFIRM = ["对", "是的", "嗯，是", "对对对", "没错", "是啊", "对的", "嗯对", "是的是的", "对头", "是嘞", "嗯呐", "系啊", "中", "可不是嘛"]
ACKS = ["好的", "是的", "嗯", "对", "是我", "可以", "方便", "你说", "你说吧", "行", "嗯嗯", "好", "在的", "是本人"]

# (fact, question kind, answers, value): the answer establishes fact=value after such a question.
SHORT_ANSWERS: list[tuple[str, str, list[str], str]] = [
    ("fund_use", "good", CONFIRM + ["对，就是这个用途", "是的，没用在别处"], "business_operation"),
    ("fund_use", "bad", DENY, NM),  # a bare denial of misuse does not say what the money did
    ("fund_use", "open", ["这个不太方便说", "不方便说", "不想说", "你问这个干嘛", "这个就不说了吧", "这个嘛……不好讲",
                          "不想讲", "保密", "私事", "别问了", "这个不能说", "不告诉你", "干嘛要告诉你"], "refused"),
    ("fund_use", "bad", ["这个不太方便说", "你们问这个干嘛", "不想说"], "refused"),
    ("fund_use", "open", ["就是做生意嘛", "生意上用了", "进货", "发工资", "买设备了", "周转"], "business_operation"),
    ("fund_use", "open", ["装修", "买车了", "家里花了"], "consumption"),
    ("fund_use", "open", ["买房了", "付首付了"], "real_estate"),
    ("fund_use", "open", ["炒股了", "买理财了", "买基金了"], "securities_investment"),
    ("fund_use", "open", ["还信用卡了", "还网贷了", "还别的贷款了"], "repay_other_debt"),
    ("fund_use", "open", ["借给亲戚了", "借人了", "朋友拿去用了"], "lend_to_others"),
    ("fund_use", "open", ["嗯……这个……", "怎么说呢", "你稍等一下"], NM),
    ("repayment_ability", "bad", DENY + ["没什么压力", "还好"], "normal"),
    ("repayment_ability", "bad", ADMIT + ["有点紧", "压力挺大"], "strained"),
    ("repayment_ability", "good", CONFIRM + ["能", "可以", "没问题", "肯定能", "放心吧", "能还", "能，准备好了", "钱早备好了", "都存好了"], "normal"),
    ("repayment_ability", "good", ["够呛", "悬", "不好说，尽量吧", "可能要晚几天"], "strained"),
    ("repayment_ability", "good", ["还不上了", "还不了", "没钱还"], "unable"),
    ("repayment_ability", "open", ["正常", "一直正常还着", "没问题"], "normal"),
    ("repayment_ability", "open", ["有点吃力", "紧巴巴的"], "strained"),
    ("collateral_status", "bad", DENY + ["都没有", "没有，好好的"], "intact"),
    ("collateral_status", "good", CONFIRM + ["还在", "还是我的"], "intact"),
    ("collateral_status", "open", ["好好的", "还行", "没事", "挺好", "没变化", "老样子"], "intact"),
    ("collateral_status", "open", ["租出去了", "出租了", "租给别人了"], "leased"),
    ("collateral_status", "open", ["卖了", "过户了", "转给别人了"], "sold_or_transferred"),
    ("collateral_status", "open", ["被封了", "查封了", "冻结了"], "seized"),
    ("collateral_status", "open", ["又押出去了", "做了二押"], "re_pledged"),
    ("collateral_status", "open", ["烧了", "坏了", "不值钱了"], "damaged_or_devalued"),
    ("project_progress", "bad", DENY + ["没有，都正常", "没停", "没停，在干", "没延期", "没有，干着呢"], "on_schedule"),
    ("project_progress", "bad", ["延了", "晚了点", "拖了一阵", "延期了"], "delayed"),
    ("project_progress", "bad", ["停了", "停工了", "停着呢"], "suspended"),
    ("project_progress", "good", CONFIRM + ["能", "正常", "没问题"], "on_schedule"),
    ("project_progress", "good", ["可能要晚点", "悬，得往后推"], "delayed"),
    ("project_progress", "open", ["挺顺利", "正常", "按计划走着呢", "快完了", "年底完工"], "on_schedule"),
    ("project_progress", "open", ["慢", "拖着呢", "晚了"], "delayed"),
    ("project_progress", "open", ["停了", "没干了", "停工了"], "suspended"),
    ("business_condition", "open", ["还行", "挺好", "还可以", "老样子", "马马虎虎", "正常", "不错", "挺忙的"], "normal"),
    ("business_condition", "open", ["不太好", "不行", "难做", "比以前差", "一般般，比以前差远了", "亏着呢", "很差", "太差了",
                                    "难做得很", "惨得很", "差劲", "差多了",
                                    "不咋地", "不怎么样", "不好", "难啊", "差远了", "越来越差"], "declining"),
    ("business_condition", "open", ["关了", "不干了", "黄了", "倒闭了"], "ceased"),
    ("business_condition", "bad", DENY + ["还好", "没停", "没有，开着呢"], "normal"),
    ("business_condition", "bad", ["有", "有一点", "订单少了", "有，难"], "declining"),
    ("business_condition", "bad", ["停了", "已经停产了"], "ceased"),
    ("business_condition", "good", CONFIRM + ["正常", "都正常"], "normal"),
    ("business_condition", "good", ["没有了，关了", "早不开了"], "ceased"),
    ("business_condition", "good", ["正常是正常，就是单子少"], "declining"),
]

NEUTRAL_CUSTOMER = lines("""
    喂，你好
    哪位？
    是我，什么事？
    我现在在开车，你快点说
    好的好的
    你是哪个银行的？
    你们怎么又打电话来了
    我之前已经说过了
    等一下，我换个地方说
    信号不好，你再说一遍
    谢谢，再见
    好的，辛苦了
    我手机号没变
    地址还是原来那个
    你们利率太高了
    我要投诉你们，天天打电话
    你们这个电话是真的吗，别是骗子吧
    我在开会，晚点再说
    行，有事再联系
    你说慢一点，我没听清
    这个你问我老婆，她比较清楚
    嗯，你继续问
    还有别的事吗？
    身份证后四位是{last4}
    对，是我本人
    我们家地址没变，还住那
    工作没换，还在原来单位
    我刚从外地回来
    你们客户经理上次来过了
    能不能让客户经理直接跟我说
    你们上次打过了，怎么又问
    我知道，会注意的
    好，我记住了
    你们银行服务还行
    他在外地，你晚点再打吧
    她不在家，我是她妹妹
    我是他儿子，有什么事跟我说
    你找错人了吧
    我不认识这个人
    这个号码是我新办的
    嗯嗯，是是是
    好的，我明白
    你们那个客户经理姓什么来着
    我这边有点吵，你大点声
    行吧，你问吧
    问完了吗，我还有事
    对对，我上次跟你们说过
""")
DEFLECT = ["这个不太方便说", "不方便说", "不想说", "你问这个干嘛", "不清楚", "我不太清楚", "回头再说吧", "这个我得问问我爱人"]

FILLERS_PRE = ["", "", "", "", "嗯，", "那个，", "就是，", "嗯……", "呃，", "这个嘛，", "怎么说呢，", "哦，", "啊，",
               "是这样的，", "跟你说啊，", "实话跟你讲，", "老实说，", "我想想啊，", "嗯，就是那个，"]
FILLERS_POST = ["", "", "", "", "吧", "啊", "呢", "嘛", "，就这样", "，差不多就这些", "，没别的了", "，反正就这么个情况"]
HEDGES = ["应该", "好像", "大概", "估计", "我记得", "听我爱人说"]
ACK_BY_KIND = {
    ("bad", True): ["没有，", "没有没有，", "那没有，", "都没有，", "没有的事，", "那肯定没有，", "没，"],
    ("bad", False): ["有，", "有的，", "说实话，有，", "唉，", "这个嘛，", "实话跟你说，", "嗯，是有点情况，"],
    ("good", True): ["对，", "是的，", "嗯，是，", "对对对，", "没错，", "是啊，"],
    ("good", False): ["不是，", "也不全是，", "那倒不是，", "唉，不是，", "其实，", "现在不是了，", "没有，", "那没有，",
                      "没有，", "没有啊，", "没，"],
    ("open", True): ["", "嗯，", "就是，", "这个嘛，", "哦，"],
    ("open", False): ["", "嗯，", "唉，", "这个嘛，", "说起来，"],
}
GOOD_VALUES = {"business_operation", "normal", "intact", "on_schedule"}

DIALECT = [
    ("什么", ["啥", "啥子"]), ("没有", ["没得", "莫得", "木有", "冇"]), ("怎么", ["咋"]),
    ("不知道", ["不晓得"]), ("挺", ["蛮", "老"]), ("我们", ["俺们", "咱们"]), ("这个", ["这"]),
    ("还行", ["还中", "还凑合"]), ("不行", ["不中", "不得行"]), ("都", ["全"]), ("了", ["咯"]),
]


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------
def parse_clause(entry: str) -> tuple[str, Labels]:
    """Split "text @f=v" into the text and the extra labels it carries."""
    parts = entry.split("@")
    extra: dict[str, str] = {}
    for part in parts[1:]:
        key, value = part.strip().split("=")
        extra[SHORT.get(key, key)] = value
    return parts[0].strip(), extra


def pick_clause(rng: random.Random, fact: str, value: str) -> tuple[str, Labels]:
    """One filled clause saying fact=value, with the labels it establishes."""
    entry = rng.choice(CLAUSES[fact][value])
    text, extra = parse_clause(entry)
    lab = {fact: value, **extra}
    return fill(text, rng), lab


def dialectise(text: str, rng: random.Random) -> str:
    """Swap a few words for dialect-tinged ones (东北/四川/河南/粤 flavour)."""
    for src, options in DIALECT:
        if src in text and rng.random() < 0.5:
            text = text.replace(src, rng.choice(options))
    return text


def finish(text: str, rng: random.Random) -> str:
    """Add a random tail particle and end punctuation as speech transcripts show them."""
    text = text.rstrip("，。 ")
    tail = rng.choice(FILLERS_POST)
    end = rng.choice(["。", "。", "。", "", "！", "…"])
    return text + tail + end


def question(rng: random.Random, fact: str, kind: str) -> str:
    return fill(rng.choice(QUESTIONS[fact][kind]), rng)


def merged(*parts: Labels) -> Labels:
    out: dict[str, str] = {}
    for part in parts:
        for key, value in part.items():
            if value != NM:
                if key in out and out[key] != value:
                    raise ValueError(f"conflicting labels for {key}: {out[key]} vs {value}")
                out[key] = value
    return labels(**out)


Example = dict[str, object]


def example(speaker: str, context: str, text: str, lab: Labels, source: str) -> Example:
    return {"speaker": speaker, "context": context, "text": text, "labels": lab, "source": source}


def topic_answer(rng: random.Random, fact: str, value: str) -> Example:
    """A customer answering a question about `fact` with a clause saying `value`."""
    if value == "refused":
        kind = rng.choice(["open", "open", "good", "bad"])
        context = question(rng, fact, kind) if rng.random() < 0.85 else ""
    else:
        kind = rng.choices(["open", "good", "bad", "none"], weights=[45, 20, 20, 15])[0]
        if kind == "none":
            context = rng.choice(GENERIC_QUESTIONS + [""] * 4)
            kind = "open"
        else:
            context = question(rng, fact, kind)
    good = value in GOOD_VALUES
    clause, lab = pick_clause(rng, fact, value)
    if value == "refused" and not context and not re.search("钱|用", clause):
        context = question(rng, fact, "open")  # a bare refusal is only about the money after a money question
    if rng.random() < 0.12 and value != "refused":
        clause = rng.choice(HEDGES) + clause
    if rng.random() < 0.25:
        second, lab2 = pick_clause(rng, fact, value)
        if second != clause:
            clause = clause + rng.choice(["，", "，而且", "，然后", "。"]) + second
            lab = {**lab2, **lab}
    ack = rng.choice(ACK_BY_KIND[(kind, good)]) if value != "refused" else rng.choice(["", "这个嘛，", "哎，"])
    text = rng.choice(FILLERS_PRE) + ack + clause
    if rng.random() < 0.12:
        text = dialectise(text, rng)
    return example("customer", fill(context, rng), finish(text, rng), merged(lab), "template")


def negation_answer(rng: random.Random) -> Example:
    """A negation that names one thing and establishes another."""
    tmpl, fact, value = rng.choice(NEGATIONS)
    kind = rng.choice(["open", "bad", "good"])
    context = question(rng, fact, kind) if rng.random() < 0.75 else ""
    text = rng.choice(FILLERS_PRE) + fill(tmpl, rng)
    if rng.random() < 0.1:
        text = dialectise(text, rng)
    return example("customer", context, finish(text, rng), labels(**{fact: value}), "template")


def short_answer(rng: random.Random) -> Example:
    """A bare answer whose labels come from the question it answers."""
    fact, kind, answers, value = rng.choice(SHORT_ANSWERS)
    context = question(rng, fact, kind)
    text = rng.choice(answers) + rng.choice(["", "", "。", "吧", "啊", "，嗯", "。"])
    return example("customer", context, text, labels(**{fact: value}), "template")


def uninformative_answer(rng: random.Random) -> Example:
    """Acks after identity/notice questions, deflections off the fund topic, bare answers with no question."""
    r = rng.random()
    if r < 0.35:
        context = fill(rng.choice(IDENTITY_QUESTIONS + AGENT_OTHER[:3]), rng)
        text = rng.choice(ACKS)
    elif r < 0.6:
        fact = rng.choice([f for f in FACTS if f != "fund_use"])
        context = question(rng, fact, rng.choice(["open", "good", "bad"]))
        text = rng.choice(DEFLECT)
    elif r < 0.8:
        context = ""
        text = rng.choice(DENY + ADMIT + CONFIRM + ACKS + ["还行", "挺好", "正常"])
    else:
        context = rng.choice(GENERIC_QUESTIONS + [""])
        text = rng.choice(["嗯，都还好", "还行吧，老样子", "没什么要补充的", "没有了", "就这些", "没别的了"])
    text += rng.choice(["", "", "。", "，嗯", "啊"])
    return example("customer", context, text, labels(), "template")


def neutral_customer(rng: random.Random) -> Example:
    context = rng.choice([""] * 3 + GENERIC_QUESTIONS + [fill(q, rng) for q in IDENTITY_QUESTIONS])
    text = rng.choice(FILLERS_PRE[:8]) + fill(rng.choice(NEUTRAL_CUSTOMER), rng)
    return example("customer", context, finish(text, rng), labels(), "template")


def multi_fact(rng: random.Random) -> Example:
    """Two or three facts in one breath, as when a customer tells the whole story."""
    facts = rng.sample(list(FACTS), rng.choice([2, 2, 3, 3, 4]))
    parts: list[str] = []
    labs: list[Labels] = []
    for fact in facts:
        values = [v for v in FACT_VALUES[fact] if v != NM and not (fact == "fund_use" and v == "refused")]
        value = rng.choice(values)
        clause, lab = pick_clause(rng, fact, value)
        parts.append(clause)
        labs.append(lab)
    try:
        lab = merged(*labs)
    except ValueError:
        return multi_fact(rng)
    joiners = ["，", "，", "。", "，然后", "，另外", "，还有就是", "；"]
    text = parts[0]
    for part in parts[1:]:
        text += rng.choice(joiners) + part
    context = rng.choice(GENERIC_QUESTIONS + [""] * 3 + [question(rng, facts[0], "open")])
    if rng.random() < 0.1:
        text = dialectise(text, rng)
    return example("customer", context, finish(rng.choice(FILLERS_PRE) + text, rng), lab, "template")


def agent_turn(rng: random.Random) -> Example:
    """Agent questions, notices and small talk: they state no fact."""
    r = rng.random()
    if r < 0.55:
        fact = rng.choice(list(FACTS))
        text = question(rng, fact, rng.choice(["open", "good", "bad"]))
        if rng.random() < 0.3:
            text = rng.choice(["好的，", "嗯，", "那我再问一下，", "明白，", "另外，", "还有，"]) + text
    elif r < 0.7:
        text = fill(rng.choice(IDENTITY_QUESTIONS + GENERIC_QUESTIONS), rng)
    else:
        text = fill(rng.choice(AGENT_OTHER), rng)
    return example("agent", "", text, labels(), "template")


def agent_echo(rng: random.Random) -> Example:
    """The agent repeating the customer's words as a question: a question states no fact."""
    fact = rng.choice(list(FACTS))
    value = rng.choice([v for v in FACT_VALUES[fact] if v != NM])
    clause, _ = pick_clause(rng, fact, value)
    clause = clause.replace("我", "您")
    form = rng.choice(["您刚才说{}，是吧？", "跟您确认一下，{}，对吗？", "您的意思是{}？", "{}，是这样吗？", "您是说{}吗？"])
    return example("agent", "", form.format(clause.rstrip("，。")), labels(), "template")


def agent_summary(rng: random.Random) -> Example:
    """The agent reading back what was recorded: a declarative statement of facts."""
    facts = rng.sample(list(FACTS), rng.choice([1, 2, 3]))
    picks = [(f, *rng.choice(AGENT_FACTS[f])) for f in facts]
    lead = rng.choice(["好的，我这边记录一下，", "好的，那我登记一下：", "跟您确认一下，", "好的，记录为：", "那我这边备注一下，"])
    text = lead + "，".join(p[1] for p in picks) + "。"
    return example("agent", "", text, labels(**{f: v for f, _, v in picks}), "template")


# ---------------------------------------------------------------------------
# Hand-written sentences (free text, not from the pools).
# Format: context | text | labels as "f=value r=value ..." (empty = all not_mentioned)
# ---------------------------------------------------------------------------
HANDWRITTEN = """
有没有拿去炒股？|没有，都进货了|f=business_operation
这笔钱用在哪了？|钱先帮表弟周转了，他说月底就还|f=lend_to_others
抵押的铺子现在什么情况？|铺子租出去了，一个卖水果的在租|c=leased
抵押物现在怎么样？|法院贴了封条，我也进不去|c=seized
最近生意怎么样？|厂子现在半停着，一个礼拜开两天工|b=declining
厂里订单多不多？|单子少了一半，老客户都不怎么下单了|b=declining
工程进度怎么样？|工地停了三个月了，甲方一直没打款|p=suspended
目前还款有没有压力？|手头有点紧，但每个月都按时还|r=strained
抵押的房子有没有出租出售或者再抵押？|房子没卖也没抵押给别人，我妈住着呢|c=intact
贷款是用来发工资的吧？|不是买房，是发工资，年底工人等着拿钱回家|f=business_operation
钱主要花在什么地方了？|这个不方便说|f=refused
资金有没有挪作他用？|你们管那么多干嘛，按时还不就行了|f=refused r=normal
|我们那个楼盘已经封顶了，外墙在做了|p=on_schedule
|今年猪价跌得厉害，养一头亏一头|b=declining
|饭店上个月就关门了，房东把铺子收回去了|b=ceased
|说实话，那二十万我拿去给儿子付了首付|f=real_estate
|钱到手就买了台新的数控车床，现在两班倒在干|f=business_operation b=normal
您好，这里是农商银行，本次通话会录音，请问是张建军先生吗？|对，我是|
请问这笔贷款主要用于什么？|进了一批钢筋，工地上用的|f=business_operation
请问这笔贷款主要用于什么？|一半进货，一半还了信用卡|f=repay_other_debt
您这个贷款现在还款情况怎么样？|一直都是自动扣的，没断过|r=normal
您这个贷款现在还款情况怎么样？|上个月差点没凑够，找我姐借了五千|r=strained
您这个贷款现在还款情况怎么样？|我跟你说实话，下个月开始我是真还不上了|r=unable
抵押的厂房现在谁在用？|一半我自己用，另一半租给做家具的了|c=leased
抵押的厂房现在谁在用？|还是我们自己厂在用，没变|c=intact
抵押的房子现在怎么样？|前年就过户给我女儿了，你们不知道吗|c=sold_or_transferred
抵押的房子现在怎么样？|那房子我又在小额贷款公司押了一笔钱|c=re_pledged
抵押的房子现在怎么样？|因为我哥那个案子，房子被查封了|c=seized
抵押的房子现在怎么样？|去年夏天发洪水，一楼全淹了，现在还没修|c=damaged_or_devalued
项目现在进展到哪一步了？|桩基做完了，正在做地下室，跟计划差不多|p=on_schedule
项目现在进展到哪一步了？|本来说五月份完工，现在看要拖到年底了|p=delayed
项目现在进展到哪一步了？|开发商资金出了问题，现在整个停摆了|p=suspended
最近生意怎么样？|还凑合，跟去年持平吧|b=normal
最近生意怎么样？|不干了，把设备都卖了，现在给人开车|b=ceased
|钱没有拿去炒股，全部用来进原材料了|f=business_operation
|那钱我借给我小舅子做生意了|f=lend_to_others
|我老公拿去买了一辆宝马，我也管不了他|f=consumption
|贷款下来以后我全买了白酒，过年好卖|f=business_operation
|主要是还之前欠银行的那笔，到期了没办法|f=repay_other_debt
|钱都放在理财里面，利息比贷款利息高一点|f=securities_investment
|其实我拿去买了点基金，结果亏了|f=securities_investment
|我们这个店面是自己的，一直没租出去过|c=intact
|现在这个行情，房子能卖个七八成就不错了，贬值太多|c=damaged_or_devalued
|上个月我把那个门面转让给隔壁老李了|c=sold_or_transferred
|房产证在你们那押着，我能怎么动它|c=intact
|工人工资发不出来，工地上早就没人了|p=suspended
|图纸改了三回，工期往后拖了快半年|p=delayed
|现在订单排到明年三月份了，忙不过来|b=normal
|去年疫情以后生意就一直没起来|b=declining
|超市开不下去了，上周刚清完货|b=ceased
|还款你放心，我有固定的房租收入|r=normal
|这个月实在周转不过来，能不能缓两天|r=strained
|我现在欠了一屁股债，银行的钱肯定还不上|r=unable
|我这人说话算话，每个月十号前一定打进去|r=normal
有没有用于买房？|没有，我买什么房，房子都有两套了|
有没有用于买房？|有一部分吧，付了个首付|f=real_estate
有没有转借给别人？|借了一点给我表哥，大部分还是进货了|f=lend_to_others
有没有转借给别人？|没有，钱都在厂里转着呢|f=business_operation
有没有拿去还其他贷款或者信用卡？|还了一张信用卡，其他都是正常用的|f=repay_other_debt
有没有拿去还其他贷款或者信用卡？|没有，我没有信用卡|
您好，请问是王建国先生吗？|是，哪位|
为了保障您的权益，本次通话全程录音。|好，你说吧|
|喂？喂？听得见吗|
|哎，你们银行效率太低了，办个贷款跑了五趟|
|我最近搬家了，新地址回头发给客户经理|
|我这个手机号码换了，以后打这个|
|你们就是想催我还钱是吧|
|我在医院陪我妈，一会儿给你回过去|
|我不是本人，我是他老婆，他出去了|
|嗯，你讲|
|不好意思，刚才在忙|
|对，我知道那个贷款|
|行行行，我都配合|
|好，拜拜|
经营上有没有遇到什么困难？|困难肯定有啊，原材料涨价，利润薄了好多|b=declining
经营上有没有遇到什么困难？|没啥困难，就是忙|b=normal
店里现在还正常营业吧？|营业着呢，每天都开门|b=normal
店里现在还正常营业吧？|早关了，年前就关了|b=ceased
工程进度正常吧？|正常，上周刚过了主体验收|p=on_schedule
有没有延期或者停工的情况？|停了一阵子，这个月又开工了，比计划晚了点|p=delayed
有没有延期或者停工的情况？|没有，天天都在干|p=on_schedule
后面还款应该没问题吧？|应该没问题，账上留着钱呢|r=normal
后面还款应该没问题吧？|说不准，要看回款情况，压力有点大|r=strained
贷款是用于采购原材料的对吧？|对，买了三十吨钢板|f=business_operation
贷款是用于采购原材料的对吧？|原材料买了一点，大头还了网贷|f=repay_other_debt
资金是否按照合同约定的用途使用？|是的，都有发票和合同|f=business_operation
资金是否按照合同约定的用途使用？|这个你们别管了，我会还的|f=refused r=normal
|贷款我是正常用的，给供应商付了货款，发票都留着|f=business_operation
|钱用来给我女儿出国读书了，一年学费就二十几万|f=consumption
|老家翻修房子，装修花了十几万|f=consumption
|给我爸做心脏搭桥，全花在医院了|f=consumption
|跟朋友合伙炒期货，现在还在里面|f=securities_investment
|拿贷款去还了另外一家银行的过桥|f=repay_other_debt
|有个朋友急用，我转了十万给他|f=lend_to_others
|我在县城买了个门面房，准备以后收租|f=real_estate
|交了新房的首付，现在每个月还按揭|f=real_estate
|这个问题我拒绝回答|f=refused
|干嘛问我钱怎么花，你们是不是怀疑我|f=refused
|说了你们也不懂，反正是正经用途|f=refused
|我们厂房被另一家债主申请了财产保全，封了|c=seized
|房子给担保公司做了反担保抵押|c=re_pledged
|店面一直空着，没人租，价格也跌了|c=damaged_or_devalued
|商铺租给一家奶茶店了，一年租金八万|c=leased
|房子还是我们一家人住着，什么都没变|c=intact
|厂子开开停停的，电费都交不起了|b=declining
|公司去年底就已经注销了|b=ceased
|今年比去年还好点，多招了五个工人|b=normal
|我们是做外贸的，今年订单掉得厉害|b=declining
|工程款甲方拖着不给，我们只能先停工|p=suspended
|项目预计下个月竣工验收|p=on_schedule
|因为规划调整，开工时间往后推了两个月|p=delayed
|每个月都是我儿子帮我还，他工资高，没问题|r=normal
|压力大是大，但是咬咬牙还能还|r=strained
|我已经失业了，没有任何收入来源|r=unable
|钱进货了，生意还行，每个月都按时还，房子也好好的|f=business_operation b=normal r=normal c=intact
|钱借给我姐夫了，他生意也亏了，现在我也还不上|f=lend_to_others r=unable b=declining
|工地停了，钱压在里面，还款有点难|p=suspended r=strained
|厂房租出去了，生意不做了，靠收租还贷款|c=leased b=ceased r=normal
|房子被法院封了，厂子也停了，我是真的没钱还|c=seized b=ceased r=unable
|项目按期推进，资金都用在项目上了|p=on_schedule f=business_operation
|订单少了，回款慢，这个月还款可能晚几天|b=declining r=strained
|好的，我这边记录一下，资金用于购买设备，项目按计划推进。|f=business_operation p=on_schedule
|跟您核实一下，目前抵押物自住，还款正常，是这样吧？|
|我们这次回访主要了解一下资金用途和经营情况|
|请问抵押的房子有没有出租？|
|您贷款用途是经营周转，对吗？|
|本次通话可能会被录音，请您知悉|
|请问您最近还款方便吗？|
|工程目前有没有停工的情况？|
|您的店现在还在正常经营吗？|
|有没有把钱借给亲戚朋友？|
|我们这边核实一下，您是否把资金用于购买股票或者理财？|
|如果有困难可以跟我们说，我们帮您想办法|
|请您不要把贷款资金用于炒股买房，这是违反合同约定的|
|感谢您的配合，再见|
生意怎么样？|嗨，还能怎么样，凑合着过呗|b=normal
生意怎么样？|一天不如一天，房租都快交不起了|b=declining
抵押的房子还是您自己住吧？|没有，我们搬到儿子那边住了，房子租给别人了|c=leased
抵押的房子还是您自己住吧？|对，一直住着|c=intact
钱都用在进货上了是吧？|差不多吧，还有一点给工人开了工资|f=business_operation
钱都用在进货上了是吧？|也不全是，有一部分我拿去买了点股票|f=securities_investment
目前还款有没有压力？|没有，这点钱小意思|r=normal
目前还款有没有压力？|有，现在就指着回款呢，回不来就麻烦|r=strained
项目现在进展到哪一步了？|咱这个项目早就干完了，都投产了|p=on_schedule
项目现在进展到哪一步了？|莫得进展，停起的|p=suspended
最近生意怎么样？|莫得啥子问题，巴适得很|b=normal
最近生意怎么样？|贼难干，今年就没挣着钱|b=declining
还款资金来源主要是哪块？|主要靠店里的营业收入，够还的|r=normal
还款资金来源主要是哪块？|现在就靠我老婆上班那点工资，吃力|r=strained
|嗯，那个，钱的话，我是拿去给我们车间换了几台新设备|f=business_operation
|我侄子结婚，我借了他十五万|f=lend_to_others
|还了好几个平台的网贷，不然天天被催|f=repay_other_debt
请问这笔贷款主要用于什么？|还没用呢，钱还在卡里|
请问这笔贷款主要用于什么？|主要是给大棚买了薄膜和滴灌设备|f=business_operation
|那套房子现在的市价比抵押的时候低了快一半|c=damaged_or_devalued
|房子我卖给别人了，还没过户，钱收了一部分|c=sold_or_transferred
|车间上个月着了一场火，机器烧了好几台|c=damaged_or_devalued
|店是开着的，但是一天也就几百块钱流水|b=declining
|现在整个行业都不行，我们也一样，能撑一天是一天|b=declining
|放心，贷款到期前我肯定一次性结清|r=normal
|这个月我肯定还，下个月说不准了|r=strained
|就算把我拉去坐牢我也拿不出钱|r=unable
|你们爱怎么办怎么办吧，反正我是没钱|r=unable
|开春的时候买了两百头牛犊子|f=business_operation
|全部拿去进了一批手机，在店里卖|f=business_operation
|我们公司这个贷款主要用于支付供应商的应付账款|f=business_operation
|说句实在的，钱我拿去还了我哥的借款|f=repay_other_debt
|给孩子在省城买了套学区房，首付就是这笔钱|f=real_estate
请问您是李秀英女士吗？|我是她女儿，她不在家|
请问您现在方便接听电话吗？|不方便，我在上班|
|公司账户被冻结了，货款进不来，生意也停了|b=ceased
|那个标段已经交工了|p=on_schedule
|雨季一来就没法干，进度肯定要往后拖|p=delayed
|施工许可证被吊销了，现在只能停着|p=suspended
|您这边资金用途我记录为家庭装修，对吗？|
|好的，那您的情况我们记录为：贷款用于偿还其他贷款，还款压力较大。|f=repay_other_debt r=strained
"""


# Hold-out: written after the pools were final, never trained on, never mined
# for pool phrases. It gives the honest score in models/classifiers/metadata.json.
HELDOUT = """
您好，想问一下贷款资金用到哪里去了？|大部分给我们车间添了两台冲床|f=business_operation
您好，想问一下贷款资金用到哪里去了？|一部分交了孩子的择校费，其余的还在卡上|f=consumption
您好，想问一下贷款资金用到哪里去了？|那钱我姑父拿去用了，他搞养殖缺钱|f=lend_to_others
您好，想问一下贷款资金用到哪里去了？|跟你说实话吧，我把它填到信用卡的窟窿里了|f=repay_other_debt
您好，想问一下贷款资金用到哪里去了？|拿了十来万在证券公司开户买了几只票|f=securities_investment
您好，想问一下贷款资金用到哪里去了？|在新区定了套房子，首期款差一截，就拿这个补了|f=real_estate
您好，想问一下贷款资金用到哪里去了？|你打听这么清楚干什么|f=refused
贷款有没有被挪用？|没挪用，全是厂里的开销，工人工资、电费、材料|f=business_operation
贷款有没有被挪用？|没有|
贷款是做经营周转的吧？|嗯，对头|f=business_operation
贷款是做经营周转的吧？|也不算是，先给我媳妇买了台车|f=consumption
|这钱转给我战友了，他开饭馆周转不开|f=lend_to_others
|我拿那个钱把另一家银行的贷款先结清了|f=repay_other_debt
|去年买了些理财，到现在还没赎回来|f=securities_investment
|钱全部付给了上游钢厂，有银行流水可以查|f=business_operation
|给闺女办嫁妆，又装了一下老房子，花得差不多了|f=consumption
|我个人的事情，没义务跟银行交代|f=refused
还款这块有没有困难？|目前来说没困难，流水还挺充足|r=normal
还款这块有没有困难？|困难是有一些，每个月都是借了还、还了借|r=strained
还款这块有没有困难？|说句难听的，我现在是一分钱也掏不出来|r=unable
下个月能正常还吗？|能，早就备好了|r=normal
下个月能正常还吗？|我尽量吧，这段时间回款太慢了|r=strained
|每个月的月供是我女婿帮着出，没耽误过|r=normal
|还是能还上的，就是每个月都得精打细算|r=strained
|银行的钱我认，但是我现在真的没有偿还能力|r=unable
|我准备跟你们协商一下，分期再延长一点，月供太高了|r=strained
抵押的房产现在是什么状态？|还是我跟我老伴在住，啥也没变|c=intact
抵押的房产现在是什么状态？|租给一个开培训班的了，签了两年|c=leased
抵押的房产现在是什么状态？|已经转到我侄子名下了|c=sold_or_transferred
抵押的房产现在是什么状态？|又在典当行押了一次，借了点钱|c=re_pledged
抵押的房产现在是什么状态？|上个月被人民法院给查封了|c=seized
抵押的房产现在是什么状态？|旁边修地铁，房子地基出了问题，裂缝很大|c=damaged_or_devalued
抵押的厂房有没有出租或者转让？|都没有，我们自己生产用|c=intact
抵押的厂房有没有出租或者转让？|租了一半出去，收点租金补贴一下|c=leased
|那套门面已经卖给别人了，钱用来周转了|c=sold_or_transferred
|我们那个仓库被查封了，说是涉及一个经济纠纷|c=seized
|商铺那一片现在冷清得很，价格比当初低了四成多|c=damaged_or_devalued
|厂房我没动，还是自己用|c=intact
|房子现在有人在租着住，一个月两千|c=leased
工地现在什么情况？|正常干着呢，预计国庆前能封顶|p=on_schedule
工地现在什么情况？|慢是慢了点，原来说三月交，现在估计得六月|p=delayed
工地现在什么情况？|人都撤了，已经停了快半年|p=suspended
项目有没有按计划推进？|按计划走的，没啥问题|p=on_schedule
项目有没有按计划推进？|没有，卡在消防验收上，拖了好久|p=delayed
|工程已经全部完工，正在办竣工备案|p=on_schedule
|因为材料涨价，施工方不干了，现在停在那|p=suspended
|设计方案反复改，进度比预期落后两个多月|p=delayed
|我们的厂房二期上周已经开始浇筑了，跟计划一致|p=on_schedule
|上面来检查说手续不全，叫我们先停下，到现在也没让复工|p=suspended
厂里最近怎么样？|还可以，订单排得满满的|b=normal
厂里最近怎么样？|不行啊，今年外贸单子砍了一大半|b=declining
厂里最近怎么样？|厂子早没了，去年就关了|b=ceased
生意还好吧？|好着呢，比去年强|b=normal
生意还好吧？|马马虎虎，就是赚得少了，勉强保本|b=declining
|饭馆已经转让出去了，我现在不做餐饮了|b=ceased
|店里每天进进出出的人还挺多，营业额稳定|b=normal
|今年上半年亏了二十多万，员工也走了不少|b=declining
|公司暂停营业了，什么时候恢复还不一定|b=ceased
|现在接的活越来越少，机器有一半闲着|b=declining
|养殖场去年闹猪瘟，全部清栏了，到现在也没再养|b=ceased
|钱都用来买饲料了，现在存栏三百多头，行情也还行|f=business_operation b=normal
|贷款我拿去还了网贷，现在生意也不好，还款压力很大|f=repay_other_debt b=declining r=strained
|房子被法院封了，厂也停产了，我是真没办法还|c=seized b=ceased r=unable
|工程停工以后我就把门面租出去了，靠租金还月供|p=suspended c=leased r=normal
|项目进度正常，钱都花在工程上，还款没压力|p=on_schedule f=business_operation r=normal
|生意一般般，钱借了一半给我小叔子|f=lend_to_others b=declining
|请问是赵建华先生本人吗？|
|本次通话将全程录音，请您知悉。|
|您好，我是农商行的客户经理，打电话做个贷后回访|
|请问您的贷款有没有用来买房或者买股票？|
|您抵押的房产目前是否有出租、出售的情况？|
|好的，我们这边会如实记录您的情况。|
|您的工程目前是否存在停工？|
|您说的资金转借给亲戚，这个是违反合同约定的。|
|那您现在经营状况怎么样？|
|好的，感谢您的配合，再见。|
请问是李志强本人吗？|嗯，我就是|
请问是李志强本人吗？|是我，你哪里|
本次通话将会录音，您看可以吗？|可以可以|
|你们银行的电话怎么这么多|
|我现在在高速上，不太方便|
|你稍等，我找个安静的地方|
|我家那口子管钱，我不太清楚|
|刚才没听清，你说啥|
|我之前已经跟客户经理讲过一遍了|
|行了行了，我知道了|
有没有出租？|没有没有|c=intact
有没有出租？|租了|c=leased
生意怎么样？|凑合|b=normal
生意怎么样？|差得很|b=declining
项目停工了吗？|停了|p=suspended
项目停工了吗？|没停，干着呢|p=on_schedule
还款有压力吗？|有点|r=strained
还款有压力吗？|没有|r=normal
钱用在哪了？|不方便透露|f=refused
钱用在哪了？|进原料|f=business_operation
|嗯，那个，贷的三十万，二十万买了台挖掘机，剩下十万付了油钱和工钱|f=business_operation
|贷款下来就给我哥了，他说帮我投资，具体我也不清楚|f=lend_to_others
|我家孩子在国外读研，钱都汇过去交学费了|f=consumption
|炒了点黄金期货，亏了一部分|f=securities_investment
|把房子的按揭提前还了一部分，省点利息|f=repay_other_debt
|钱没乱用，都在项目上|f=business_operation
|不是我不想说，是这个事情比较复杂，就不说了吧|f=refused
|房子我们一家五口住着，哪能租出去|c=intact
|厂房被雷击着火，屋顶塌了一半|c=damaged_or_devalued
|铺子让我弟弟过户走了|c=sold_or_transferred
|那块地又押给了信用社，贷了五十万|c=re_pledged
|一直按时还，从来没让你们催过|r=normal
|这两个月只还了利息，本金实在凑不齐|r=strained
|我人在外面躲债，真的还不了|r=unable
|目前还款正常，没出现过逾期|r=normal
|整个项目已经停下来了，等资金到位再说|p=suspended
|项目进度比合同约定慢了一些|p=delayed
|基本上按照原计划在走，下个月封顶|p=on_schedule
|今年客户订单多，开足马力在生产|b=normal
|这几年效益一年比一年差|b=declining
|超市已经关张了|b=ceased
"""


def parse_handwritten(block: str) -> list[Example]:
    """Turn the hand-written block into examples; agent-looking lines get speaker agent."""
    out: list[Example] = []
    for raw in lines(block):
        context, text, spec = (part.strip() for part in raw.split("|"))
        kw = dict(item.split("=") for item in spec.split()) if spec else {}
        speaker = "agent" if _looks_like_agent(context, text) else "customer"
        out.append(example(speaker, context, text, labels(**kw), "handwritten"))
    return out


def _looks_like_agent(context: str, text: str) -> bool:
    """Hand-written lines with no context that read as the bank speaking are agent turns."""
    markers = ("请问", "我们这边", "您", "本次通话", "感谢您的配合", "如果有困难", "请您", "我这边记录", "跟您核实", "我们这次回访")
    return not context and any(m in text for m in markers)


# ---------------------------------------------------------------------------
# Augmentation: what ASR does to these sentences.
# ---------------------------------------------------------------------------
CURATED_CONFUSIONS = {
    "还款": ["换款", "海款", "环款"], "贷后": ["戴后", "代后"], "抵押": ["底押", "低压"], "核实": ["合时", "合适"],
    "经营": ["精英"], "回访": ["会访", "回放"], "逾期": ["预期", "余期"], "贷款": ["带款", "代款"],
    "查封": ["查风"], "出租": ["出组"], "停工": ["停公"], "炒股": ["吵股", "炒鼓"], "理财": ["理才"],
    "首付": ["收付", "手付"], "信用卡": ["新用卡"], "网贷": ["网带"], "周转": ["周专"], "进货": ["近货", "进或"],
    "利息": ["利系"], "工地": ["宫地"], "厂房": ["场房"], "订单": ["定单"], "租金": ["组金"],
}
FUZZY = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("ing", "in"), ("eng", "en"), ("ang", "an")]
PUNCT = "，。！？、；：…,.!?;:"
NEGATORS = set("不没无未别非冇莫")


def _fuzzy(syllable: str) -> str:
    """Collapse the distinctions southern speakers (and ASR) blur, for near-homophones."""
    if syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    for a, b in FUZZY:
        syllable = syllable.replace(a, b)
    return syllable


class Homophones:
    """Word- and character-level homophone tables built from jieba's dictionary with pypinyin."""

    def __init__(self) -> None:
        dict_path = Path(os.path.dirname(jieba.__file__)) / "dict.txt"
        self.words: dict[tuple[str, ...], list[str]] = {}
        self.chars: dict[str, list[str]] = {}
        for line in dict_path.read_text(encoding="utf-8").splitlines():
            word, freq, *_ = line.split()
            if len(word) == 2 and int(freq) >= 300 and re.fullmatch(r"[\u4e00-\u9fff]+", word):
                key = tuple(_fuzzy(s) for s in lazy_pinyin(word))
                self.words.setdefault(key, []).append(word)
            elif len(word) == 1 and int(freq) >= 3000 and re.fullmatch(r"[\u4e00-\u9fff]", word):
                # main reading only: archaic readings (还 fu, 被 pi) give substitutions no ASR makes
                self.chars.setdefault(_fuzzy(lazy_pinyin(word)[0]), []).append(word)

    def word_alternatives(self, word: str) -> list[str]:
        alts = list(CURATED_CONFUSIONS.get(word, []))
        if len(word) == 2:
            key = tuple(_fuzzy(s) for s in lazy_pinyin(word))
            alts += [w for w in self.words.get(key, []) if w != word]
        return alts

    def char_alternatives(self, word: str, j: int) -> list[str]:
        """Characters that sound like word[j] as read in that word."""
        reading = lazy_pinyin(word)[j]
        return sorted({c for c in self.chars.get(_fuzzy(reading), []) if c != word[j]})


def aug_homophone(text: str, rng: random.Random, hp: Homophones) -> str:
    """Replace one or two words (or single characters) by homophones or near-homophones.

    Very short answers are left alone: there the one word is the whole meaning.
    """
    if len(re.findall(r"[\u4e00-\u9fff]", text)) < 6:
        return text
    words = list(jieba.cut(text, HMM=False))
    spots = [i for i, w in enumerate(words) if re.fullmatch(r"[\u4e00-\u9fff]+", w) and not NEGATORS & set(w)]
    rng.shuffle(spots)
    changed = 0
    for i in spots:
        alts = hp.word_alternatives(words[i])
        if alts:
            words[i] = rng.choice(alts)
        elif len(words[i]) >= 1 and rng.random() < 0.5:
            j = rng.randrange(len(words[i]))
            calts = hp.char_alternatives(words[i], j)
            if not calts:
                continue
            words[i] = words[i][:j] + rng.choice(calts) + words[i][j + 1:]
        else:
            continue
        changed += 1
        if changed >= rng.choice([1, 1, 2]):
            break
    return "".join(words)


def aug_no_punct(text: str, rng: random.Random, hp: Homophones) -> str:
    """Whisper often drops punctuation or leaves spaces instead."""
    repl = rng.choice(["", " "])
    out = re.sub(f"[{re.escape(PUNCT)}]+", repl, text)
    return out.strip()


def aug_numerals(text: str, rng: random.Random, hp: Homophones) -> str:
    """Digits become Chinese numerals or the other way round."""
    if re.search(r"\d", text):
        return re.sub(r"\d+(?:\.\d+)?", lambda m: cn2an.an2cn(m.group(0)), text)
    pattern = r"[零一二两三四五六七八九十百千]+(?=万|千|块|元|个月|月|号|层|年|天|台|吨|头|%)"

    def conv(m: re.Match[str]) -> str:
        s = m.group(0)
        try:
            return str(cn2an.cn2an(s.replace("两", "二"), "smart"))
        except Exception:  # noqa: BLE001 - cn2an raises bare ValueError on odd forms; keep text
            return s

    return re.sub(pattern, conv, text)


def aug_drop_char(text: str, rng: random.Random, hp: Homophones) -> str:
    """ASR swallows a character now and then (never a negation, which would flip the meaning)."""
    spots = [i for i, c in enumerate(text) if "\u4e00" <= c <= "\u9fff" and c not in NEGATORS]
    if len(spots) < 4:
        return text
    i = rng.choice(spots[1:])
    return text[:i] + text[i + 1:]


_S2T = opencc.OpenCC("s2t")


def aug_traditional(text: str, rng: random.Random, hp: Homophones) -> str:
    """Whisper sometimes answers Mandarin in traditional characters."""
    return _S2T.convert(text)


AUGMENTERS: dict[str, Callable[[str, random.Random, Homophones], str]] = {
    "homophone": aug_homophone, "no_punct": aug_no_punct, "numerals": aug_numerals,
    "drop_char": aug_drop_char, "traditional": aug_traditional,
}
AUG_WEIGHTS = {"homophone": 5, "no_punct": 3, "numerals": 2, "drop_char": 2, "traditional": 1}


def augment(ex: Example, rng: random.Random, hp: Homophones) -> Example | None:
    """One noisy copy of ex with one or two kinds of ASR error; None if nothing changed."""
    kinds = list(AUG_WEIGHTS)
    chosen = rng.choices(kinds, weights=[AUG_WEIGHTS[k] for k in kinds], k=rng.choice([1, 1, 2]))
    chosen = sorted(set(chosen), key=kinds.index)
    text = str(ex["text"])
    context = str(ex["context"])
    for kind in chosen:
        text = AUGMENTERS[kind](text, rng, hp)
        also_context = kind in ("no_punct", "traditional") or (kind == "homophone" and rng.random() < 0.4)
        if context and also_context:
            context = AUGMENTERS[kind](context, rng, hp)
    if text == ex["text"] or not text.strip():
        return None
    out = dict(ex)
    out.update(text=text, context=context, augmented=True, source="augmented:" + "+".join(chosen))
    return out


# ---------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------
PLAN = {
    "topic_per_value": 80,
    "negation": 320,
    "short": 520,
    "uninformative": 260,
    "neutral": 220,
    "multi": 1200,
    "agent": 420,
    "agent_echo": 120,
    "agent_summary": 90,
}


def build_originals(rng: random.Random) -> list[Example]:
    """Hand-written first (they win de-duplication), then the template families."""
    out = parse_handwritten(HANDWRITTEN)
    for fact in FACTS:
        for value in FACT_VALUES[fact]:
            if value != NM:
                out += [topic_answer(rng, fact, value) for _ in range(PLAN["topic_per_value"])]
    makers: list[tuple[str, Callable[[random.Random], Example]]] = [
        ("negation", negation_answer), ("short", short_answer), ("uninformative", uninformative_answer),
        ("neutral", neutral_customer), ("multi", multi_fact), ("agent", agent_turn), ("agent_echo", agent_echo),
        ("agent_summary", agent_summary),
    ]
    for key, maker in makers:
        out += [maker(rng) for _ in range(PLAN[key])]
    # Paraphrase families with large slot vocabularies (scripts/training_families.py), own random stream.
    out += family_examples(random.Random(rng.random()), QUESTIONS)
    return out


def dedupe(examples: Iterable[Example]) -> list[Example]:
    """Drop exact repeats of (speaker, context, text); a repeat with other labels is a pool bug."""
    seen: dict[tuple[str, str, str], Labels] = {}
    out: list[Example] = []
    for ex in examples:
        key = (str(ex["speaker"]), str(ex["context"]), str(ex["text"]))
        if key in seen:
            if seen[key] != ex["labels"]:
                raise ValueError(f"same utterance, different labels: {key} {seen[key]} {ex['labels']}")
            continue
        seen[key] = ex["labels"]  # type: ignore[assignment]
        out.append(ex)
    return out


def assign_ids(examples: list[Example]) -> None:
    counters: Counter[str] = Counter()
    for ex in examples:
        prefix = "h" if ex["source"] == "handwritten" else "t"
        counters[prefix] += 1
        ex["id"] = f"{prefix}{counters[prefix]:05d}"
        ex["orig_id"] = ex["id"]
        ex["augmented"] = False


def build_augmented(originals: list[Example], rng: random.Random, hp: Homophones) -> list[Example]:
    """About 1.4 noisy copies per original, ids "<orig>~a<n>"."""
    out: list[Example] = []
    seen = {(str(e["context"]), str(e["text"])) for e in originals}
    for ex in originals:
        n = 1 + (rng.random() < 0.4)
        for k in range(n):
            aug = augment(ex, rng, hp)
            if aug is None or (aug["context"], aug["text"]) in seen:
                continue
            seen.add((str(aug["context"]), str(aug["text"])))
            aug["id"] = f"{ex['id']}~a{k + 1}"
            out.append(aug)
    return out


def build_heldout(training: list[Example]) -> list[Example]:
    """The hold-out set; refuses a sentence that also occurs in the training data."""
    rows = parse_handwritten(HELDOUT)
    pairs = {(str(e["context"]), str(e["text"])) for e in training}
    clash = [r["text"] for r in rows if (r["context"], r["text"]) in pairs]
    if clash:
        raise SystemExit(f"hold-out sentences also in training data: {clash}")
    for i, row in enumerate(rows, 1):
        row.update(id=f"d{i:05d}", orig_id=f"d{i:05d}", augmented=False, source="heldout")
    return rows


FIELD_ORDER = ["id", "orig_id", "speaker", "context", "text", "labels", "augmented", "source"]


def write_jsonl(examples: list[Example], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps({k: ex[k] for k in FIELD_ORDER}, ensure_ascii=False) + "\n")


def check_coverage(examples: list[Example], minimum: int = 40) -> None:
    """Fail loudly if any value of any fact is rare, so a pool edit cannot silently drop a class."""
    for fact in FACTS:
        counts = Counter(e["labels"][fact] for e in examples)  # type: ignore[index]
        for value in FACT_VALUES[fact]:
            if counts[value] < minimum:
                raise SystemExit(f"only {counts[value]} originals for {fact}={value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "training")
    args = parser.parse_args(argv)
    jieba.setLogLevel(60)
    rng = random.Random(args.seed)
    originals = dedupe(build_originals(rng))
    assign_ids(originals)
    check_coverage(originals)
    hp = Homophones()
    augmented = build_augmented(originals, random.Random(args.seed + 1), hp)
    examples = originals + augmented
    path = args.out / "utterances.jsonl"
    write_jsonl(examples, path)
    heldout = build_heldout(examples)
    write_jsonl(heldout, args.out / "heldout.jsonl")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    write_card(args.out / "README.md", originals, augmented, heldout, args.seed, digest)
    print(f"wrote {len(originals)} originals + {len(augmented)} augmented = {len(examples)} to {path}")
    return 0


# ---------------------------------------------------------------------------
# Data card
# ---------------------------------------------------------------------------
def count_table(originals: list[Example], augmented: list[Example]) -> str:
    rows = ["| fact | value | originals | augmented | handwritten |", "|---|---|---:|---:|---:|"]
    for fact in FACTS:
        o = Counter(e["labels"][fact] for e in originals)  # type: ignore[index]
        a = Counter(e["labels"][fact] for e in augmented)  # type: ignore[index]
        h = Counter(e["labels"][fact] for e in originals if e["source"] == "handwritten")  # type: ignore[index]
        for value in FACT_VALUES[fact]:
            rows.append(f"| {fact} | {value} | {o[value]} | {a[value]} | {h[value]} |")
    return "\n".join(rows)


def write_card(path: Path, originals: list[Example], augmented: list[Example], heldout: list[Example],
               seed: int, digest: str) -> None:
    src = Counter(str(e["source"]) for e in originals)
    kinds = Counter(k for e in augmented for k in str(e["source"]).split(":", 1)[1].split("+"))
    speakers = Counter(str(e["speaker"]) for e in originals)
    n_ctx = sum(1 for e in originals if e["context"])
    text = CARD.format(
        n_orig=len(originals), n_aug=len(augmented), n_all=len(originals) + len(augmented),
        n_tmpl=src["template"], n_hand=src["handwritten"], n_cust=speakers["customer"], n_agent=speakers["agent"],
        n_ctx=n_ctx, seed=seed, digest=digest, table=count_table(originals, augmented),
        kinds="\n".join(f"| {k} | {kinds[k]} |" for k in AUG_WEIGHTS), n_held=len(heldout),
        held=", ".join(f"{f} {sum(1 for e in heldout if e['labels'][f] != NM)}" for f in FACTS),  # type: ignore[index]
    )
    path.write_text(text, encoding="utf-8")


CARD = """# Training data card: `utterances.jsonl`

Labelled single utterances of Mandarin post-loan follow-up calls (贷后回访), for
the five fact classifiers in `pipeline/facts/classify.py`. **Generated** by
`scripts/make_training.py` (seed {seed}); do not edit by hand, edit the
generator and rerun it:

    .venv/bin/python scripts/make_training.py

sha256 of the generated `utterances.jsonl`: `{digest}`

Files:

* `utterances.jsonl`: the training data (originals and augmented copies).
* `heldout.jsonl`: {n_held} hand-written turns, same format, **never trained on**
  ({held} of them state the fact). `train_all` scores the final models on it
  (`heldout_macro_f1` in `models/classifiers/metadata.json`).

## Record format

One JSON object a line:

| field | meaning |
|---|---|
| id | `t#####` template, `h#####` hand-written, `<orig>~a<n>` augmented copy |
| orig_id | id of the original an augmented copy was made from (= id for originals); cross-validation groups on it |
| speaker | `customer` or `agent` |
| context | the agent's preceding question (or notice), empty when none |
| text | the utterance |
| labels | one value per fact from `pipeline/labels.py`; `not_mentioned` when the utterance says nothing about it |
| augmented | true for the noisy copies |
| source | `template`, `handwritten` or `augmented:<kind>[+<kind>]` |

## Counts

{n_orig} originals ({n_tmpl} template, {n_hand} hand-written; {n_cust} customer,
{n_agent} agent turns; {n_ctx} with a context question) and {n_aug} augmented
copies, {n_all} lines in all.

{table}

Augmentation kinds (a copy may have two):

| kind | copies |
|---|---:|
{kinds}

## How it was made

* **Template answers.** For each value of each fact, a customer turn is built
  from hand-written pools: a filler (嗯/那个/就是/实话跟你讲 ...), an
  acknowledgement that fits the question (没有，/ 有，/ 对，/ 不是， ...), an
  optional hedge (应该/好像/估计), one or two clauses saying the value, and a
  tail particle. Clauses have slots for goods, equipment, relatives, the
  pledged asset, the project, the business, dates and amounts; amounts and dates
  appear both in digits and in Chinese numerals (cn2an). About one in eight
  turns gets dialect-tinged words (啥子, 莫得, 冇, 咋, 俺们, 蛮 ...).
* **Paraphrase families** (`scripts/training_families.py`, issue 16): each fact
  value said many ways (搞/弄/整/砸 for 用, 腰斩 and 不到去年一半 for a decline, a
  shop that is simply no longer open, 房本押给小贷公司, rent in 每年收他几万),
  with slot fillers from the same vocabularies the rules use
  (`models/vocab/*.txt`: hundreds of goods, machines, working vehicles and
  places of business); and answers about *other* loans after "您在别的银行还有
  贷款吗", labelled fund_use=not_mentioned, so an answer is read with its
  question but the fact comes from its own words.
* **Negations** that name one thing and establish another ("没有拿去炒股，都进货了",
  "不是卖了，是租出去了", "没停工，就是慢了点").
* **Short answers** whose label comes from the question: "没有" after "有没有延期或者停工"
  is on_schedule; after "还款有没有压力" it is normal; after "抵押物有没有出租、出售或者再抵押"
  it is intact. The same words after an identity check, or with no question,
  are not_mentioned for every fact.
* **Labelling rules worth knowing.**
  * A bare denial of misuse ("有没有拿去炒股？" "没有。") does not say what the
    money was used for, so fund_use is `not_mentioned`; "没有，都进货了" is
    business_operation. Confirming a stated business purpose ("是用于进货的吧？" "对。")
    is business_operation.
  * When a turn names both a business use and a non-business one ("一半进货，一半还了信用卡"),
    the label is the non-business use: that is the risk-relevant fact.
  * Refusals (这个不方便说, 你们管那么多干嘛, 钱怎么用是我自己的事) are fund_use `refused`
    only after a fund-use question or when they name the money; after a question
    on another topic a deflection is not_mentioned.
  * Lending the money to someone who then buys a house or stocks is `lend_to_others`.
    Decorating a shop is business_operation; decorating one's home is consumption.
    Paying a supplier's overdue invoices is business_operation, repaying a loan or
    card is repay_other_debt.
  * "厂子现在半停着" (partly stopped) is business `declining`; fully stopped
    (停产/关了/倒闭) is `ceased`. A shop that cannot be let (租都租不出去) is
    damaged_or_devalued, not leased.
  * Asking to defer or to pay late (能不能缓两天) is repayment `strained`.
  * Agent questions, the recording notice, greetings and closings are
    not_mentioned for every fact even when they name a risk ("有没有拿去炒股？");
    the agent's declarative read-back ("好的，我记录一下，资金用于采购原材料") carries
    the facts it states.
* **Multi-fact turns** join two or three clauses of different facts.
* **Hand-written**: {n_hand} free sentences written one by one (not from the pools),
  including dialect, formal register, and indirect phrasing.

## Augmentation (ASR noise)

Each original gets one copy, and two in about 40% of cases, each with one or
two kinds of noise; labels are kept:

* `homophone`: a word or character replaced by a homophone or near-homophone.
  Homophone tables are built from jieba's dictionary with pypinyin (toneless,
  with z/zh, c/ch, s/sh, n/l, in/ing, en/eng, an/ang merged), plus a short
  curated list of domain confusions (还款→海款, 贷后→戴后, 抵押→底押, 核实→合时,
  经营→精英, 逾期→预期 ...). The context question is sometimes corrupted too.
* `no_punct`: punctuation dropped or turned into spaces.
* `numerals`: digits ↔ Chinese numerals (cn2an).
* `drop_char`: one character dropped (never a negation word).
* `traditional`: simplified → traditional characters (OpenCC), as Whisper
  sometimes outputs.

## Known limitations

* Synthetic: the language comes from one writer's pools and hand-written lines;
  real calls are longer, wander, interrupt themselves and mix topics more.
  Template families repeat their structure, so cross-validated scores on this
  set are optimistic. The more honest figures are the hand-written hold-out
  (models fitted without the hand-written rows, scored on them) and
  `heldout.jsonl`. Both were used for a few rounds of error analysis (fixes
  were made at the level of patterns, e.g. "没停" negations, short questions,
  more refusal wordings, never by copying a hold-out sentence), so they too
  are somewhat optimistic; expect lower scores on real transcripts.
* One utterance at a time: facts spread over several turns, or corrected later
  in the call, need the call-level aggregation in the pipeline.
* Single label per fact per utterance; mixed uses are resolved by the rule above.
* Regional dialect coverage is a light lexical tint, not real dialect grammar
  (no Cantonese or Minnan sentences).
* ASR noise is simulated, not taken from real faster-whisper output.

## Independence from the evaluation calls

The generator was written without reading `data/sample/` or any evaluation
call. `tests/test_classify.py` asserts that no text in this file occurs in the
reference turns of `data/sample/truth.json` whenever that file is present.
"""

if __name__ == "__main__":
    raise SystemExit(main())
