"""Label sets, flag codes and severities of the input/output contract (v2).

Everything that emits or checks a label imports it from here, so a label can
only be spelt one way.
"""
from __future__ import annotations

SCHEMA_VERSION = 2

CALL_STATUSES = ("analyzed", "failed")
CALL_OUTCOMES = ("connected", "not_connected", "wrong_party")
SPEAKERS = ("agent", "customer", "system", "unknown")

FACT_VALUES: dict[str, tuple[str, ...]] = {
    "fund_use": (
        "business_operation",
        "consumption",
        "real_estate",
        "securities_investment",
        "repay_other_debt",
        "lend_to_others",
        "refused",
        "not_mentioned",
    ),
    "repayment_ability": ("normal", "strained", "unable", "not_mentioned"),
    "collateral_status": (
        "intact",
        "leased",
        "sold_or_transferred",
        "re_pledged",
        "seized",
        "damaged_or_devalued",
        "not_mentioned",
    ),
    "project_progress": ("on_schedule", "delayed", "suspended", "not_mentioned"),
    "business_condition": ("normal", "declining", "ceased", "not_mentioned"),
}
FACTS: tuple[str, ...] = tuple(FACT_VALUES)

FLAG_CODES = (
    "CONTACT_FAILED",
    "FUND_MISUSE",
    "REPAYMENT_RISK",
    "COLLATERAL_RISK",
    "PROJECT_RISK",
    "BUSINESS_DETERIORATION",
    "OTHER_DEBT",
    "LITIGATION",
    "INFO_CHANGED",
    "CUSTOMER_COMPLAINT",
    "AGENT_NONCOMPLIANCE",
)
# Credit flags speak about the borrower and the loan; conduct flags about the call itself.
# Only credit flags count towards risk_level (an agent's misconduct never freezes a borrower's credit).
CONDUCT_FLAGS = ("CUSTOMER_COMPLAINT", "AGENT_NONCOMPLIANCE")
CREDIT_FLAGS = tuple(code for code in FLAG_CODES if code not in CONDUCT_FLAGS)
SEVERITIES = ("medium", "high")
RISK_LEVELS = ("low", "medium", "high", "critical")
CONDUCT_LEVELS = ("none", "medium", "high")

# Ordered as the contract orders them; summaries list actions in this order.
ACTIONS = (
    "schedule_callback",
    "verify_with_documents",
    "increase_followup_frequency",
    "require_additional_guarantee",
    "escalate_to_risk_committee",
    "review_agent_conduct",
    "handle_complaint",
)

# The loan types FUND_MISUSE tells apart, and the Chinese words of a manifest's free-text
# loan_purpose that place it. Checked in this order (the first type with a word in the
# purpose wins), so a more specific type comes before the general business one.
LOAN_TYPES = ("consumer", "renovation", "equipment", "project", "agricultural", "start-up", "business")
LOAN_PURPOSE_WORDS: dict[str, tuple[str, ...]] = {
    "consumer": ("消费", "购车", "买车", "汽车", "旅游", "教育", "留学", "学费", "婚", "医疗", "家电", "家具"),
    "renovation": ("装修", "装潢", "家装", "翻新"),
    "equipment": ("设备", "机器", "机械", "机床", "生产线", "农机"),
    "project": ("项目", "工程", "建设", "施工", "开发", "基建"),
    "agricultural": ("农", "种植", "养殖", "畜牧", "渔", "果园", "大棚", "苗木", "饲料", "化肥", "春耕"),
    "start-up": ("创业", "开店", "初创", "创办", "开办"),
    "business": ("经营", "周转", "流动资金", "采购", "原材料", "进货", "备货", "生产", "贸易", "货款", "租金", "工资", "营运"),
}
# A purpose none of the words place (or no purpose at all) is read as a business loan:
# most post-loan follow-up calls are on business loans, and it is the stricter reading
# (only business_operation counts as proper use).
FALLBACK_LOAN_TYPE = "business"
# The fund use each loan type is granted for; the other uses contradict it.
LOAN_TYPE_ALLOWED_USE = {
    "consumer": "consumption",
    "renovation": "consumption",
    **{t: "business_operation" for t in ("equipment", "project", "agricultural", "start-up", "business")},
}

# Chinese names used in summaries and the report.
FACT_NAMES_ZH = {
    "fund_use": "资金用途",
    "repayment_ability": "还款能力",
    "collateral_status": "抵押物状态",
    "project_progress": "项目进度",
    "business_condition": "经营状况",
}
VALUE_NAMES_ZH = {
    "fund_use": {
        "business_operation": "用于生产经营",
        "consumption": "用于个人消费",
        "real_estate": "用于购房",
        "securities_investment": "用于股票等投资",
        "repay_other_debt": "用于偿还其他债务",
        "lend_to_others": "转借他人",
        "refused": "拒绝说明",
        "not_mentioned": "未提及",
    },
    "repayment_ability": {
        "normal": "正常",
        "strained": "压力较大",
        "unable": "无力偿还",
        "not_mentioned": "未提及",
    },
    "collateral_status": {
        "intact": "完好",
        "leased": "已出租",
        "sold_or_transferred": "已出售或过户",
        "re_pledged": "已再次抵押",
        "seized": "被查封或冻结",
        "damaged_or_devalued": "损毁或贬值",
        "not_mentioned": "未提及",
    },
    "project_progress": {
        "on_schedule": "按计划推进",
        "delayed": "延期",
        "suspended": "停工",
        "not_mentioned": "未提及",
    },
    "business_condition": {
        "normal": "正常",
        "declining": "下滑",
        "ceased": "停产停业",
        "not_mentioned": "未提及",
    },
}
FLAG_NAMES_ZH = {
    "CONTACT_FAILED": "联系失败",
    "FUND_MISUSE": "资金挪用",
    "REPAYMENT_RISK": "还款风险",
    "COLLATERAL_RISK": "抵押物风险",
    "PROJECT_RISK": "项目风险",
    "BUSINESS_DETERIORATION": "经营恶化",
    "OTHER_DEBT": "其他负债",
    "LITIGATION": "涉诉",
    "INFO_CHANGED": "信息变更",
    "CUSTOMER_COMPLAINT": "客户投诉",
    "AGENT_NONCOMPLIANCE": "坐席不合规",
}
RISK_NAMES_ZH = {"low": "低", "medium": "中", "high": "高", "critical": "严重"}
CONDUCT_NAMES_ZH = {"none": "无", "medium": "中", "high": "高"}
OUTCOME_NAMES_ZH = {"connected": "已接通", "not_connected": "未接通", "wrong_party": "非本人接听"}
ACTION_NAMES_ZH = {
    "schedule_callback": "安排回拨",
    "verify_with_documents": "要求提供凭证核实",
    "increase_followup_frequency": "提高回访频率",
    "require_additional_guarantee": "要求追加担保",
    "escalate_to_risk_committee": "提交风险委员会（考虑冻结未用额度或提前收回）",
    "review_agent_conduct": "复核坐席通话行为",
    "handle_complaint": "处理客户投诉",
}
SPEAKER_NAMES_ZH = {"agent": "坐席", "customer": "客户", "system": "系统", "unknown": "未知"}
