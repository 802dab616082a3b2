"""The training-data generator (scripts/make_training.py) and its phrase files.

The committed data/training/*.jsonl must be what the generator makes from the
committed phrase files: a phrase edited without regenerating (or the other way
round) would train the classifiers on data nobody can rebuild.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from scripts import make_training
from scripts.training_builders import parse_handwritten
from scripts.training_phrases import PHRASES, SLOT_FUNCS, SLOTS, read_pools

ROOT = Path(__file__).resolve().parent.parent
TRAINING = ROOT / "data" / "training"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_generator_reproduces_the_committed_training_data(tmp_path: Path) -> None:
    """Run the whole generator (about 10 s) and compare every file it writes with the committed one."""
    assert make_training.main(["--out", str(tmp_path)]) == 0
    for name in ("utterances.jsonl", "heldout.jsonl", "README.md"):
        assert sha256(tmp_path / name) == sha256(TRAINING / name), f"{name} differs from a fresh generation"


def test_pool_files_parse_sections_comments_and_empty_items(tmp_path: Path) -> None:
    path = tmp_path / "pools.txt"
    path.write_text('# a comment\n\n[fillers]\n""\n嗯，\n  那个，  \n[tails]\n吧\n', encoding="utf-8")
    assert read_pools(path) == {"fillers": ["", "嗯，", "那个，"], "tails": ["吧"]}


@pytest.mark.parametrize("text, message", [("没有\n", "before the first"), ("[a]\n有\n[a]\n没\n", "twice")])
def test_a_malformed_pool_file_is_named_in_the_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        read_pools(path)
    assert "broken.txt" in str(info.value)


def test_a_malformed_handwritten_line_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "handwritten.txt"
    path.write_text("有没有拿去炒股？|没有，都进货了|f=business_operation\n没有竖线的一行\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"handwritten\.txt:2"):
        parse_handwritten(path)


def test_every_slot_used_in_a_phrase_has_a_pool() -> None:
    """A {slot} with no pool would only fail when the random stream happens to reach it."""
    known = set(SLOTS) | set(SLOT_FUNCS)
    used: set[str] = set()
    for path in [*PHRASES.glob("*.txt"), *PHRASES.glob("*.jsonl"), *(PHRASES / "clauses").glob("*.txt")]:
        if path.name not in ("handwritten.txt", "heldout.txt"):
            text = "\n".join(ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#"))
            used |= set(re.findall(r"\{(\w+)\}", text))
    assert len(used) > 20, "no slots found: is the pattern broken?"
    assert not used - known, f"slots with no pool: {sorted(used - known)}"


def test_openings_train_the_speaker_model_only() -> None:
    """The agent's openings (whole and cut at pauses) are marked for the speaker model; the fact models never see them."""
    from pipeline.facts.training import SPEAKER, load_dataset

    data = load_dataset(TRAINING / "utterances.jsonl")
    openings = [t for t, o in zip(data.bare_inputs, data.only) if o == "speaker"]
    assert len(openings) >= 300 and any("录音" in t for t in openings) and any("回访" in t for t in openings)
    speaker, fund = data.for_target(SPEAKER), data.for_target("fund_use")
    assert len(speaker.inputs) == len(data.inputs)
    assert len(fund.inputs) == len(data.inputs) - len(openings) and "speaker" not in fund.only
    assert len(fund.labels["fund_use"]) == len(fund.inputs) == len(fund.groups)
