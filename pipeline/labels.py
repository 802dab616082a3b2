"""Label sets, flag codes and severities of the input/output contract (v1).

Everything that emits or checks a label imports it from here, so a label can
only be spelt one way.
"""
from __future__ import annotations

SCHEMA_VERSION = 1

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
SEVERITIES = ("medium", "high")
RISK_LEVELS = ("low", "medium", "high", "critical")

# Ordered as the contract orders them; summaries list actions in this order.
ACTIONS = (
    "schedule_callback",
    "verify_with_documents",
    "increase_followup_frequency",
    "require_additional_guarantee",
    "escalate_to_risk_committee",
)

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
OUTCOME_NAMES_ZH = {"connected": "已接通", "not_connected": "未接通", "wrong_party": "非本人接听"}
ACTION_NAMES_ZH = {
    "schedule_callback": "安排回拨",
    "verify_with_documents": "要求提供凭证核实",
    "increase_followup_frequency": "提高回访频率",
    "require_additional_guarantee": "要求追加担保",
    "escalate_to_risk_committee": "提交风险委员会（考虑冻结未用额度或提前收回）",
}
SPEAKER_NAMES_ZH = {"agent": "坐席", "customer": "客户", "system": "系统", "unknown": "未知"}
