"""Paraphrase families for the training data: many ways to say one fact, slots from large vocabularies.

Why: the first templates fit one way of talking (进货, 停产, 再抵押). Borrowers
say 搞/弄/整/砸 for 用, 腰斩 or 不到去年一半 for a decline, 房本押给小贷公司
for a second pledge. Each family below is a list of phrasings of one fact
value (data/training/phrases/families/families.jsonl); slot fillers come from
``models/vocab/*.txt`` (hundreds of goods, machines, places: the same lists the
rules use) and the small pools in data/training/phrases/families/pools.txt.

Also the question-answer traps: an answer about *other* loans after "您在别的
银行还有贷款吗" says nothing about this loan's use, so those rows are labelled
fund_use=not_mentioned.

Written for this project from the language, not from any evaluation call.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from scripts.training_phrases import read_jsonl, read_pools

ROOT = Path(__file__).resolve().parents[1]


def load_vocab(name: str) -> list[str]:
    """One vocabulary of models/vocab/ (words split on whitespace, # comments)."""
    text = (ROOT / "models" / "vocab" / f"{name}.txt").read_text(encoding="utf-8")
    return sorted({w for line in text.splitlines() for w in line.split("#", 1)[0].split()})


PHRASES = ROOT / "data" / "training" / "phrases" / "families"
POOLS: dict[str, list[str]] = {
    "goods": load_vocab("business_goods"),
    "stock_goods": load_vocab("trade_stock"),
    "place": load_vocab("business_places"),
    **read_pools(PHRASES / "pools.txt"),
}
# Other-debt questions and answers about those debts: nothing about this loan's use.
OTHER_DEBT_QUESTIONS = POOLS.pop("other_debt_questions")
OTHER_DEBT_ANSWERS = POOLS.pop("other_debt_answers")
OPENERS = POOLS.pop("opener")

NM = "not_mentioned"

# (text template, labels as {short fact: value}); {pool} slots.
FAMILIES: list[tuple[str, dict[str, str]]] = [(row["text"], row["labels"]) for row in read_jsonl(PHRASES / "families.jsonl")]


def fill(template: str, rng: random.Random) -> str:
    """Replace every {pool} slot with a random entry of that pool."""
    return re.sub(r"\{(\w+)\}", lambda match: rng.choice(POOLS[match.group(1)]), template)


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
            text = rng.choice(OPENERS) + text + rng.choice(["。", "", "。", "吧。", "，就这样。"])
            r = rng.random()
            context = "" if r < 0.15 else re.sub(r"\{\w+\}", "", rng.choice(questions[fact]["open"]))
            rows.append({"speaker": "customer", "context": context, "text": text, "labels": dict(full), "source": "template"})
    for _ in range(per_family * 6):
        context = rng.choice(OTHER_DEBT_QUESTIONS)
        text = fill(rng.choice(OTHER_DEBT_ANSWERS), rng) + rng.choice(["。", "", "吧"])
        rows.append({"speaker": "customer", "context": context, "text": text, "labels": {fact: NM for fact in facts}, "source": "template"})
    return rows
