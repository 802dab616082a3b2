"""Builders of the template training examples: one customer or agent turn each, with its labels.

Why separate: the phrase pools (training_phrases) say *what* borrowers and
agents say; these functions say *how* a turn is put together (question, filler,
acknowledgement, clauses, tail) and which labels it carries. The random draws
are in a fixed order, so the generated data depends only on the seed.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from pipeline.labels import FACT_VALUES, FACTS
from scripts.training_phrases import (ACK_BY_KIND, ACK_REFUSED, ACKS, ADMIT, AGENT_FACTS, AGENT_LEAD, AGENT_OTHER,
                                      BARE_EXTRA, CLAUSE_JOINERS, CLAUSES, CONFIRM, DEFLECT, DENY, DIALECT,
                                      ECHO_FORMS, FACT_JOINERS, FILLERS_POST, FILLERS_PRE, GENERIC_QUESTIONS,
                                      GOOD_VALUES, HEDGES, IDENTITY_QUESTIONS, NEGATIONS, NEUTRAL_CUSTOMER, NM,
                                      NOTHING_TO_ADD, OPENING_PARTS, QUESTIONS, SHORT, SHORT_ANSWERS, SUMMARY_LEADS, Example,
                                      Labels, fill, labels)


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
            clause = clause + rng.choice(CLAUSE_JOINERS) + second
            lab = {**lab2, **lab}
    ack = rng.choice(ACK_BY_KIND[(kind, good)]) if value != "refused" else rng.choice(ACK_REFUSED)
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
        text = rng.choice(DENY + ADMIT + CONFIRM + ACKS + BARE_EXTRA)
    else:
        context = rng.choice(GENERIC_QUESTIONS + [""])
        text = rng.choice(NOTHING_TO_ADD)
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
    text = parts[0]
    for part in parts[1:]:
        text += rng.choice(FACT_JOINERS) + part
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
            text = rng.choice(AGENT_LEAD) + text
    elif r < 0.7:
        text = fill(rng.choice(IDENTITY_QUESTIONS + GENERIC_QUESTIONS), rng)
    else:
        text = fill(rng.choice(AGENT_OTHER), rng)
    return example("agent", "", text, labels(), "template")


def agent_opening(rng: random.Random) -> Example:
    """The agent's opening, whole or one part of it: Whisper cuts an opening at its pauses, and on a
    mono call each part is attributed alone (银行回访 and 通话会录音 were read as the borrower's)."""
    parts = [fill(rng.choice(pool), rng) for pool in OPENING_PARTS if rng.random() < 0.7]
    if not parts:
        parts = [fill(rng.choice(OPENING_PARTS[1]), rng)]
    if len(parts) > 1 and rng.random() < 0.5:
        # One part alone, but never the greeting: a borrower answers 喂，您好 just as often.
        parts = [rng.choice(parts[1:] if parts[0] in OPENING_PARTS[0] else parts)]
    text = "".join(parts)
    if rng.random() < 0.3:
        text = re.sub(r"[，。？]", " ", text).strip()  # Whisper often leaves punctuation out
    # For the speaker model only: an opening says no fact, and the fact models keep their rows.
    return {**example("agent", "", text, labels(), "template"), "only": "speaker"}


def agent_echo(rng: random.Random) -> Example:
    """The agent repeating the customer's words as a question: a question states no fact."""
    fact = rng.choice(list(FACTS))
    value = rng.choice([v for v in FACT_VALUES[fact] if v != NM])
    clause, _ = pick_clause(rng, fact, value)
    clause = clause.replace("我", "您")
    form = rng.choice(ECHO_FORMS)
    return example("agent", "", form.format(clause.rstrip("，。")), labels(), "template")


def agent_summary(rng: random.Random) -> Example:
    """The agent reading back what was recorded: a declarative statement of facts."""
    facts = rng.sample(list(FACTS), rng.choice([1, 2, 3]))
    picks = [(f, *rng.choice(AGENT_FACTS[f])) for f in facts]
    lead = rng.choice(SUMMARY_LEADS)
    text = lead + "，".join(p[1] for p in picks) + "。"
    return example("agent", "", text, labels(**{f: v for f, _, v in picks}), "template")


def parse_handwritten(path: Path) -> list[Example]:
    """Examples from a hand-written file ("context|text|f=value ..." a line); agent-looking lines get speaker agent."""
    out: list[Example] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        parts = [part.strip() for part in raw.split("|")]
        if len(parts) != 3:
            raise ValueError(f"{path}:{number}: expected context|text|labels, got {raw!r}")
        context, text, spec = parts
        kw = dict(item.split("=") for item in spec.split()) if spec else {}
        speaker = "agent" if _looks_like_agent(context, text) else "customer"
        out.append(example(speaker, context, text, labels(**kw), "handwritten"))
    return out


def _looks_like_agent(context: str, text: str) -> bool:
    """Hand-written lines with no context that read as the bank speaking are agent turns."""
    markers = ("请问", "我们这边", "您", "本次通话", "感谢您的配合", "如果有困难", "请您", "我这边记录", "跟您核实", "我们这次回访")
    return not context and any(m in text for m in markers)

