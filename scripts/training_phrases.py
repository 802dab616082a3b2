"""The phrase pools of the training-data generator, read from data/training/phrases/.

Why data files: the pools are language, written and reviewed as lists of
phrases; keeping them out of the code lets a linguist add a wording without
reading Python, and keeps the generator short. The formats are described in
data/training/README.md ("Phrase files"). Amounts, dates and floors are made in
code (gen_* below) because they mix digits and Chinese numerals at random.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Callable

import cn2an

from pipeline.labels import FACT_VALUES, FACTS

ROOT = Path(__file__).resolve().parents[1]
PHRASES = ROOT / "data" / "training" / "phrases"

NM = "not_mentioned"
SHORT = {"f": "fund_use", "r": "repayment_ability", "c": "collateral_status",
         "p": "project_progress", "b": "business_condition"}
Labels = dict[str, str]
Example = dict[str, object]


def read_pools(path: Path) -> dict[str, list[str]]:
    """Sections of a pool file: "[name]" starts a pool, then one item a line.

    Blank lines and "#" comment lines are skipped, items are stripped, and a line
    that is just "" stands for the empty string (an empty filler, repeated to weight it).
    """
    pools: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            if name in pools:
                raise ValueError(f"{path}:{number}: section [{name}] appears twice")
            current = pools[name] = []
        elif current is None:
            raise ValueError(f"{path}:{number}: item before the first [section]")
        else:
            current.append("" if line == '""' else line)
    return pools


def read_jsonl(path: Path) -> list[dict]:
    """One JSON object a line; a bad line is reported with the file and line number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
    return rows


def labels(**kw: str) -> Labels:
    """All five facts, not_mentioned unless given (keys may be f/r/c/p/b or full names)."""
    out = {fact: NM for fact in FACTS}
    for key, value in kw.items():
        fact = SHORT.get(key, key)
        if value not in FACT_VALUES[fact]:
            raise ValueError(f"{value!r} is not a value of {fact}")
        out[fact] = value
    return out


# ---------------------------------------------------------------------------
# Slots made in code: numbers said in digits or in Chinese numerals.
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


def gen_last4(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(4))
    return digits if rng.random() < 0.6 else "".join(CN_DIGITS[int(d)] for d in digits)


SLOT_FUNCS: dict[str, Callable[[random.Random], str]] = {
    "last4": gen_last4, "amt": gen_amount, "months": gen_months, "day": gen_day,
    "month": gen_month_name, "floor": gen_floor,
}
SLOTS: dict[str, list[str]] = read_pools(PHRASES / "slots.txt")


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
# The pools, as the builders use them.
# ---------------------------------------------------------------------------
CLAUSES: dict[str, dict[str, list[str]]] = {fact: read_pools(PHRASES / "clauses" / f"{fact}.txt") for fact in FACTS}
NEGATIONS: list[tuple[str, str, str]] = [(r["text"], r["fact"], r["value"]) for r in read_jsonl(PHRASES / "negations.jsonl")]

_questions = read_pools(PHRASES / "questions.txt")
QUESTIONS: dict[str, dict[str, list[str]]] = {
    fact: {kind: _questions[f"{fact}.{kind}"] for kind in ("open", "good", "bad")} for fact in FACTS}
GENERIC_QUESTIONS = _questions["generic"]
IDENTITY_QUESTIONS = _questions["identity"]
AGENT_OTHER = _questions["agent_other"]
OPENING_PARTS = [_questions[k] for k in ("opening_greeting", "opening_caller", "opening_notice", "opening_ask")]
AGENT_LEAD, ECHO_FORMS, SUMMARY_LEADS = _questions["agent_lead"], _questions["echo_forms"], _questions["summary_leads"]

AGENT_FACTS: dict[str, list[tuple[str, str]]] = {}
for _row in read_jsonl(PHRASES / "agent_facts.jsonl"):
    AGENT_FACTS.setdefault(_row["fact"], []).append((_row["text"], _row["value"]))

_answers = read_pools(PHRASES / "answers.txt")
DENY, ADMIT, CONFIRM, ACKS = _answers["deny"], _answers["admit"], _answers["confirm"], _answers["acks"]
DEFLECT = _answers["deflect"]
NEUTRAL_CUSTOMER = _answers["neutral_customer"]
FILLERS_PRE, FILLERS_POST, HEDGES = _answers["fillers_pre"], _answers["fillers_post"], _answers["hedges"]
ACK_BY_KIND: dict[tuple[str, bool], list[str]] = {
    (kind, good): _answers[f"ack.{kind}.{'good' if good else 'bad'}"]
    for kind in ("bad", "good", "open") for good in (True, False)}
ACK_REFUSED = _answers["ack.refused"]
CLAUSE_JOINERS, FACT_JOINERS = _answers["clause_joiners"], _answers["fact_joiners"]
BARE_EXTRA, NOTHING_TO_ADD = _answers["bare_extra"], _answers["nothing_to_add"]
GOOD_VALUES = {"business_operation", "normal", "intact", "on_schedule"}


def _answer_list(items: list[str]) -> list[str]:
    """Short answers: "@deny" (or another section of answers.txt) stands for that whole pool."""
    return [a for item in items for a in (_answers[item[1:]] if item.startswith("@") else [item])]


# (fact, question kind, answers, value): the answer establishes fact=value after such a question.
SHORT_ANSWERS: list[tuple[str, str, list[str], str]] = [
    (r["fact"], r["kind"], _answer_list(r["answers"]), r["value"]) for r in read_jsonl(PHRASES / "short_answers.jsonl")]
DIALECT: list[tuple[str, list[str]]] = [(r["word"], r["variants"]) for r in read_jsonl(PHRASES / "dialect.jsonl")]
