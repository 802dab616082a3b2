"""Generate the labelled utterances the fact classifiers are trained on.

Writes ``data/training/utterances.jsonl`` and the data card
``data/training/README.md``. Deterministic: the same seed gives byte-identical
files. Run with the project venv::

    .venv/bin/python scripts/make_training.py [--seed 20260601] [--out data/training]

How the data is made (see the data card for the full story):

* **templates**: customer answers are assembled from hand-written phrase pools
  in data/training/phrases/ (read by training_phrases.py; turns put together
  in training_builders.py): fillers, acknowledgements, hedges, one or more fact
  clauses with slots for goods, relatives, amounts, dates ..., usually after an agent question that
  sets the topic. Short answers ("没有", "有一点", "对") get their labels from
  the question they answer. Agent turns (questions, recording notice, greetings)
  are labelled not_mentioned, except the agent's own declarative summaries.
* **handwritten**: free sentences written one by one, not from the pools.
* **augmented** (training_augment.py): copies with typical ASR errors (pypinyin homophones and
  near-homophones, dropped punctuation, digits <-> Chinese numerals, a dropped
  character, traditional characters), labels unchanged.

It was written without looking at any evaluation call (data/sample/ is
another person's work); the test suite checks there is no shared sentence.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

import jieba

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pipeline.labels import FACT_VALUES, FACTS  # noqa: E402
from scripts.training_augment import AUG_WEIGHTS, Homophones, build_augmented  # noqa: E402
from scripts.training_builders import (agent_echo, agent_opening, agent_summary, agent_turn, multi_fact,  # noqa: E402
                                       negation_answer, neutral_customer, parse_handwritten, short_answer,
                                       topic_answer, uninformative_answer)
from scripts.training_families import family_examples  # noqa: E402
from scripts.training_phrases import NM, PHRASES, QUESTIONS, Example, Labels  # noqa: E402

DEFAULT_SEED = 20260601
CARD_TEMPLATE = ROOT / "data" / "training" / "card_template.md"

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
    "agent_opening": 300,
}



def build_originals(rng: random.Random) -> list[Example]:
    """Hand-written first (they win de-duplication), then the template families."""
    out = parse_handwritten(PHRASES / "handwritten.txt")
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
    # The agent's opening, whole and in the parts Whisper cuts it into: last, with its own random
    # stream, so the rows above stay exactly as they were.
    opening = random.Random(rng.random())
    out += [agent_opening(opening) for _ in range(PLAN["agent_opening"])]
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



def build_heldout(training: list[Example]) -> list[Example]:
    """The hold-out set; refuses a sentence that also occurs in the training data."""
    rows = parse_handwritten(PHRASES / "heldout.txt")
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
            row = {k: ex[k] for k in FIELD_ORDER}
            if ex.get("only"):  # a row for one target only (the agent's opening: the speaker model)
                row["only"] = ex["only"]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


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
    text = CARD_TEMPLATE.read_text(encoding="utf-8").format(
        n_orig=len(originals), n_aug=len(augmented), n_all=len(originals) + len(augmented),
        n_tmpl=src["template"], n_hand=src["handwritten"], n_cust=speakers["customer"], n_agent=speakers["agent"],
        n_ctx=n_ctx, seed=seed, digest=digest, table=count_table(originals, augmented),
        kinds="\n".join(f"| {k} | {kinds[k]} |" for k in AUG_WEIGHTS), n_held=len(heldout),
        held=", ".join(f"{f} {sum(1 for e in heldout if e['labels'][f] != NM)}" for f in FACTS),  # type: ignore[index]
    )
    path.write_text(text, encoding="utf-8")




if __name__ == "__main__":
    raise SystemExit(main())
