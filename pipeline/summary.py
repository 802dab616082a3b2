"""``summary_zh``: three to six plain Chinese sentences a reviewer can act on, only from the call."""
from __future__ import annotations

from .labels import ACTION_NAMES_ZH, FACT_NAMES_ZH, FLAG_NAMES_ZH, RISK_NAMES_ZH, VALUE_NAMES_ZH
from .privacy import mask_pii

_OUTCOME_SENTENCE = {
    "not_connected": "本次回访电话未接通{detail}，需安排回拨。",
    "wrong_party": "本次回访电话由非借款人本人接听，未能与借款人核实情况。",
}


def _quote(text: str, limit: int = 40) -> str:
    text = mask_pii(text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_summary(call: dict, utterances_by_index: dict[int, dict]) -> str:
    """Compose the summary from the decided outcome, facts, flags and actions of ``call``."""
    sentences: list[str] = []
    name = (call.get("manifest") or {}).get("borrower_name") or "借款人"
    outcome = call["call_outcome"]
    if outcome == "not_connected":
        detail = f"（{call['carrier_message']}）" if call.get("carrier_message") else ""
        sentences.append(_OUTCOME_SENTENCE["not_connected"].format(detail=detail))
    elif outcome == "wrong_party":
        sentences.append(_OUTCOME_SENTENCE["wrong_party"])
    else:
        stated = []
        for fact, decision in call["facts"].items():
            if decision["value"] != "not_mentioned":
                stated.append(f"{FACT_NAMES_ZH[fact]}{VALUE_NAMES_ZH[fact][decision['value']]}")
        if stated:
            sentences.append(f"已与借款人{name}通话，" + "，".join(stated) + "。")
        else:
            sentences.append(f"已与借款人{name}通话，但未谈及资金用途、还款和经营等情况。")
    flags = call["flags"]
    if flags:
        parts = [f"{FLAG_NAMES_ZH[f['code']]}（{'高' if f['severity'] == 'high' else '中'}）" for f in flags]
        sentences.append("发现风险：" + "、".join(parts) + f"，综合风险等级为{RISK_NAMES_ZH[call['risk_level']]}。")
        key = next((f for f in flags if f["evidence"] and f["severity"] == "high"), None) or next((f for f in flags if f["evidence"]), None)
        if key:
            evidence = key["evidence"][0]
            who = "客户" if evidence["speaker"] == "customer" else "坐席" if evidence["speaker"] == "agent" else "通话中"
            sentences.append(f"{who}原话：“{_quote(evidence['text'])}”（{evidence['start']:.0f}秒）。")
    elif outcome == "connected":
        sentences.append("未发现风险信号，风险等级为低。")
    missing = call["agent_compliance"]["topics_missing"]
    if missing and outcome == "connected":
        sentences.append("坐席未问及：" + "、".join(FACT_NAMES_ZH.get(t, t) for t in missing) + "。")
    if call["actions"]:
        sentences.append("建议：" + "；".join(ACTION_NAMES_ZH[a] for a in call["actions"]) + "。")
    return "".join(sentences[:6])
