"""``summary_zh``: plain Chinese sentences a reviewer can act on, only from the call.

Two parts, said apart (contract v2): first what the call tells about the loan
(facts, credit flags, risk level, credit actions), then how the call itself was
conducted (recording notice, identity check, prohibited language, complaint,
conduct level). A risk manager reads the first, a compliance reviewer the second.
"""
from __future__ import annotations

from pipeline.labels import ACTION_NAMES_ZH, CONDUCT_FLAGS, CONDUCT_NAMES_ZH, FACT_NAMES_ZH, FLAG_NAMES_ZH, RISK_NAMES_ZH, VALUE_NAMES_ZH
from pipeline.outputs.privacy import mask_pii

_OUTCOME_SENTENCE = {
    "not_connected": "本次回访电话未接通{detail}，需安排回拨。",
    "wrong_party": "本次回访电话由非借款人本人接听，未能与借款人核实情况。",
}
_CONDUCT_ACTIONS = ("review_agent_conduct", "handle_complaint")
_PROHIBITED_ZH = {"threat": "威胁客户", "insult": "辱骂客户", "third_party_disclosure": "向第三方透露债务"}


def _quote(text: str, limit: int = 40) -> str:
    text = mask_pii(text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _said(evidence: dict) -> str:
    who = "客户" if evidence["speaker"] == "customer" else "坐席" if evidence["speaker"] == "agent" else "通话中"
    return f"{who}原话：“{_quote(evidence['text'])}”（{evidence['start']:.0f}秒）。"


def _loan_part(call: dict) -> list[str]:
    """Outcome and facts, credit flags with the risk level, one quote, the credit actions."""
    sentences: list[str] = []
    name = (call.get("manifest") or {}).get("borrower_name") or "借款人"
    outcome = call["call_outcome"]
    if outcome == "not_connected":
        detail = f"（{call['carrier_message']}）" if call.get("carrier_message") else ""
        sentences.append(_OUTCOME_SENTENCE["not_connected"].format(detail=detail))
    elif outcome == "wrong_party":
        sentences.append(_OUTCOME_SENTENCE["wrong_party"])
    else:
        stated = [f"{FACT_NAMES_ZH[fact]}{VALUE_NAMES_ZH[fact][d['value']]}" for fact, d in call["facts"].items() if d["value"] != "not_mentioned"]
        if stated:
            sentences.append(f"贷款情况：已与借款人{name}通话，" + "，".join(stated) + "。")
        else:
            sentences.append(f"贷款情况：已与借款人{name}通话，但未谈及资金用途、还款和经营等情况。")
    credit = [f for f in call["flags"] if f["code"] not in CONDUCT_FLAGS]
    level = RISK_NAMES_ZH.get(call.get("risk_level") or "", "未知")
    if credit:
        parts = [f"{FLAG_NAMES_ZH[f['code']]}（{'高' if f['severity'] == 'high' else '中'}）" for f in credit]
        sentences.append("信用风险：" + "、".join(parts) + f"，风险等级为{level}。")
        key = next((f for f in credit if f["evidence"] and f["severity"] == "high"), None) or next((f for f in credit if f["evidence"]), None)
        if key:
            sentences.append(_said(key["evidence"][0]))
    elif outcome == "connected":
        sentences.append(f"未发现信用风险信号，风险等级为{level}。")
    credit_actions = [a for a in call["actions"] if a not in _CONDUCT_ACTIONS]
    if credit_actions:
        sentences.append("建议：" + "；".join(ACTION_NAMES_ZH[a] for a in credit_actions) + "。")
    return sentences


def _conduct_part(call: dict) -> list[str]:
    """Recording notice, identity check, topics missed, prohibited language and complaint, with the conduct level."""
    compliance = call.get("agent_compliance") or {}
    codes = {f["code"] for f in call["flags"]}
    connected = call["call_outcome"] == "connected"
    if not connected and not codes & set(CONDUCT_FLAGS):
        return []
    findings: list[str] = []
    if connected:
        findings.append("坐席已告知录音" if compliance.get("recording_disclosed") else "坐席未告知通话录音")
        findings.append("已核实客户身份" if compliance.get("identity_verified") else "未核实客户身份")
        missing = compliance.get("topics_missing") or []
        if missing:
            findings.append("未问及" + "、".join(FACT_NAMES_ZH.get(t, t) for t in missing))
    kinds = []
    for item in compliance.get("prohibited_language") or []:
        kind = _PROHIBITED_ZH.get(item.get("type") if isinstance(item, dict) else str(item), "使用不当用语")
        if kind not in kinds:
            kinds.append(kind)
    findings.append("存在" + "、".join(kinds) if kinds else "未发现不当用语")
    if "CUSTOMER_COMPLAINT" in codes:
        findings.append("客户表达不满或投诉意向")
    level = CONDUCT_NAMES_ZH.get(call.get("conduct_level") or "", "未知")
    sentences = ["通话规范：" + "，".join(findings) + f"，通话行为等级为{level}。"]
    conduct_actions = [a for a in call["actions"] if a in _CONDUCT_ACTIONS]
    if conduct_actions:
        sentences.append("建议：" + "；".join(ACTION_NAMES_ZH[a] for a in conduct_actions) + "。")
    return sentences


def write_summary(call: dict, utterances_by_index: dict[int, dict]) -> str:
    """Compose the summary from the decided outcome, facts, flags and actions of ``call``: the loan first, then the call's conduct."""
    return "".join(_loan_part(call)[:4] + _conduct_part(call)[:2])
