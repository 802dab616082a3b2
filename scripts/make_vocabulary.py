"""Write ``models/vocabulary.txt``: the domain's spoken words and how often they occur.

The words are jieba's segmentation of the hand-written training utterances
(``data/training/utterances.jsonl``, original lines only, not the augmented
copies with simulated ASR errors) and of the lexicon's own texts (prompt,
carrier messages): one ``word count`` line per token of one to four Chinese
characters, sorted. Homophone correction chooses replacements only among the
words of two or more characters (a misheard 电里 may become 店里, never an
unrelated frequent word) and mixes these counts with jieba's general ones, so
that the words of these calls weigh more than in general text. Deterministic.

    .venv/bin/python scripts/make_vocabulary.py
"""
from __future__ import annotations

import io
import json
import logging
import re
from collections import Counter
from pathlib import Path

import jieba

ROOT = Path(__file__).resolve().parent.parent
_WORD = re.compile(r"[\u4e00-\u9fff]{1,4}")


def training_texts(path: Path) -> list[str]:
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("augmented"):
            continue
        texts.extend(t for t in (row.get("text"), row.get("context")) if t)
    return texts


def lexicon_texts(path: Path) -> list[str]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    texts = [raw["prompt"]]
    for message in raw.get("carrier_messages", []):
        texts.extend(message.get("phrases", []))
    texts.extend(raw.get("carrier_intro", {}).get("phrases", []))
    return texts


def vocabulary(texts: list[str], terms: list[str]) -> Counter[str]:
    jieba.setLogLevel(logging.WARNING)
    jieba.load_userdict(io.StringIO("".join(f"{t} 20000\n" for t in terms)))
    return Counter(w for text in texts for w in jieba.cut(text) if _WORD.fullmatch(w))


def main() -> None:
    lexicon = json.loads((ROOT / "models" / "lexicon.json").read_text(encoding="utf-8"))
    terms = [t for group in lexicon["terms"].values() for t in group]
    texts = training_texts(ROOT / "data" / "training" / "utterances.jsonl") + lexicon_texts(ROOT / "models" / "lexicon.json")
    words = vocabulary(texts, terms)
    header = "# word count; made by scripts/make_vocabulary.py from data/training and models/lexicon.json\n"
    lines = "".join(f"{w} {n}\n" for w, n in sorted(words.items()))
    (ROOT / "models" / "vocabulary.txt").write_text(header + lines, encoding="utf-8")
    print(f"{len(words)} words")


if __name__ == "__main__":
    main()
