"""ASR-like noise for clean Mandarin text: what Whisper does to words it does not know well.

Why: extraction is tuned on hand-written text, but it reads Whisper's text, in
which a borrower's 理了个财 comes out as 李乐歌才 (same sounds, other
characters), 土地证 as 土地这 (a final lost), and short words vanish. Hand-written
dev calls passed through this noise give text to tune sound-aware matching on
without reading the frozen evaluation set's decodes.

Kinds of error, each drawn per character or word with a seeded generator:

* a word swapped for another dictionary word that sounds the same toneless
  (Whisper writes words it knows: 理财 → 李才 is less likely than a real word);
* a character swapped for a common character of the same toneless syllable;
* a character swapped for one of a near syllable (z/zh, n/l, en/eng, a final
  that differs in one letter, the stops the telephone band blurs);
* a character dropped.

    python -m pipeline.facts.noise data/dev --out /tmp/dev-noisy --seed 1
writes noisy copies of ``DIR/calls/*.json`` (turn ``text`` = what Whisper
would have written), scored by ``python -m pipeline.evaluation.noisy_eval``.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.text.sounds import syllables_close


@dataclass(frozen=True)
class NoiseRates:
    """Chance per Chinese character (word_swap: per word of two or more characters)."""

    word_swap: float = 0.06
    same_sound: float = 0.07
    near_sound: float = 0.03
    drop: float = 0.02


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=1)
def _sound_inventory() -> tuple[dict[str, list[tuple[str, int]]], dict[str, list[tuple[str, int]]]]:
    """Common characters by toneless syllable, and dictionary words by toneless syllables (jieba's counts)."""
    from pypinyin import lazy_pinyin

    from pipeline.text.sounds import _jieba_freq

    freq = _jieba_freq()
    chars: dict[str, list[tuple[str, int]]] = {}
    words: dict[str, list[tuple[str, int]]] = {}
    for word, count in freq.items():
        if not all(_is_han(c) for c in word):
            continue
        if len(word) == 1 and count >= 2000:
            chars.setdefault(lazy_pinyin(word)[0], []).append((word, count))
        elif len(word) <= 4 and count >= 200:
            words.setdefault(" ".join(lazy_pinyin(word)), []).append((word, count))
    return chars, words


def _pick(rng: random.Random, options: list[tuple[str, int]], avoid: str) -> str | None:
    """One option weighted by its count to the power 0.75 (Whisper prefers common words, not only the commonest)."""
    pool = [(w, c ** 0.75) for w, c in options if w != avoid]
    if not pool:
        return None
    total = sum(weight for _w, weight in pool)
    point = rng.random() * total
    for word, weight in pool:
        point -= weight
        if point <= 0:
            return word
    return pool[-1][0]


@lru_cache(maxsize=4096)
def _near_syllables(syllable: str) -> tuple[str, ...]:
    chars, _words = _sound_inventory()
    return tuple(s for s in chars if s != syllable and syllables_close(s, syllable))


def asr_like(text: str, rng: random.Random, rates: NoiseRates = NoiseRates()) -> str:
    """``text`` as a weak recogniser might write it: same-sound and near-sound swaps, dropped characters."""
    import jieba
    from pypinyin import lazy_pinyin

    chars, words = _sound_inventory()
    pieces: list[str] = []
    for word, _start, _end in jieba.tokenize(text, HMM=False):
        if len(word) >= 2 and all(_is_han(c) for c in word) and rng.random() < rates.word_swap:
            swap = _pick(rng, words.get(" ".join(lazy_pinyin(word)), []), word)
            if swap:
                pieces.append(swap)
                continue
        for ch in word:
            pieces.append(_noisy_char(ch, rng, rates, chars) if _is_han(ch) else ch)
    return "".join(pieces)


def _noisy_char(ch: str, rng: random.Random, rates: NoiseRates, chars: dict[str, list[tuple[str, int]]]) -> str:
    from pypinyin import lazy_pinyin

    roll = rng.random()
    if roll < rates.drop:
        return ""
    roll -= rates.drop
    syllable = lazy_pinyin(ch)[0]
    if roll < rates.same_sound:
        return _pick(rng, chars.get(syllable, []), ch) or ch
    roll -= rates.same_sound
    if roll < rates.near_sound:
        near = _near_syllables(syllable)
        if near:
            return _pick(rng, chars[rng.choice(near)], ch) or ch
    return ch


def noisy_calls(directory: Path, out: Path, seed: int, rates: NoiseRates = NoiseRates()) -> int:
    """Write noisy copies of the calls in ``directory`` to ``out/calls``; the clean text stays in ``clean_text``."""
    from pipeline.evaluation.evaluate import load_transcript_calls

    rng = random.Random(seed)
    (out / "calls").mkdir(parents=True, exist_ok=True)
    calls = load_transcript_calls(directory)
    for call in calls:
        call.pop("_path", None)
        for turn in call["turns"]:
            if turn.get("speaker") in ("agent", "customer", "unknown"):
                turn["clean_text"] = turn["text"]
                turn["text"] = asr_like(turn["text"], rng, rates)
        (out / "calls" / f"{call['call_id']}.json").write_text(json.dumps(call, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transcripts", type=Path, help="folder of labelled transcripts (DIR/calls/*.json)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every noise rate")
    args = parser.parse_args(argv)
    base = NoiseRates()
    rates = NoiseRates(*(getattr(base, f) * args.scale for f in ("word_swap", "same_sound", "near_sound", "drop")))
    count = noisy_calls(args.transcripts, args.out, args.seed, rates)
    print(f"{count} calls written to {args.out / 'calls'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
