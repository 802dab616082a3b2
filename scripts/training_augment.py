"""Simulated ASR noise for the training data: what faster-whisper does to these sentences.

Why: the classifiers read decoded speech, not clean text, so each original gets
noisy copies (homophones, lost punctuation, numerals, a swallowed character,
traditional characters) with its labels kept. The domain's own confusions
(还款→海款, 抵押→底押 ...) are in data/training/phrases/asr_confusions.jsonl.
"""
from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Callable

import cn2an
import jieba
import opencc
from pypinyin import lazy_pinyin

from scripts.training_phrases import PHRASES, Example, read_jsonl

CURATED_CONFUSIONS: dict[str, list[str]] = {
    row["word"]: row["heard_as"] for row in read_jsonl(PHRASES / "asr_confusions.jsonl")}
FUZZY = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("ing", "in"), ("eng", "en"), ("ang", "an")]
PUNCT = "，。！？、；：…,.!?;:"
NEGATORS = set("不没无未别非冇莫")
# A tokenizer of our own with jieba's plain dictionary: the pipeline loads the lexicon into
# jieba's global one (pipeline/text/sounds.py), and the generated data must not depend on
# whether that happened first in the same process (it did in the test suite).
_TOKENIZER = jieba.Tokenizer()


def _fuzzy(syllable: str) -> str:
    """Collapse the distinctions southern speakers (and ASR) blur, for near-homophones."""
    if syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    for a, b in FUZZY:
        syllable = syllable.replace(a, b)
    return syllable


class Homophones:
    """Word- and character-level homophone tables built from jieba's dictionary with pypinyin."""

    def __init__(self) -> None:
        dict_path = Path(os.path.dirname(jieba.__file__)) / "dict.txt"
        self.words: dict[tuple[str, ...], list[str]] = {}
        self.chars: dict[str, list[str]] = {}
        for line in dict_path.read_text(encoding="utf-8").splitlines():
            word, freq, *_ = line.split()
            if len(word) == 2 and int(freq) >= 300 and re.fullmatch(r"[\u4e00-\u9fff]+", word):
                key = tuple(_fuzzy(s) for s in lazy_pinyin(word))
                self.words.setdefault(key, []).append(word)
            elif len(word) == 1 and int(freq) >= 3000 and re.fullmatch(r"[\u4e00-\u9fff]", word):
                # main reading only: archaic readings (还 fu, 被 pi) give substitutions no ASR makes
                self.chars.setdefault(_fuzzy(lazy_pinyin(word)[0]), []).append(word)

    def word_alternatives(self, word: str) -> list[str]:
        alts = list(CURATED_CONFUSIONS.get(word, []))
        if len(word) == 2:
            key = tuple(_fuzzy(s) for s in lazy_pinyin(word))
            alts += [w for w in self.words.get(key, []) if w != word]
        return alts

    def char_alternatives(self, word: str, j: int) -> list[str]:
        """Characters that sound like word[j] as read in that word."""
        reading = lazy_pinyin(word)[j]
        return sorted({c for c in self.chars.get(_fuzzy(reading), []) if c != word[j]})


def aug_homophone(text: str, rng: random.Random, hp: Homophones) -> str:
    """Replace one or two words (or single characters) by homophones or near-homophones.

    Very short answers are left alone: there the one word is the whole meaning.
    """
    if len(re.findall(r"[\u4e00-\u9fff]", text)) < 6:
        return text
    words = list(_TOKENIZER.cut(text, HMM=False))
    spots = [i for i, w in enumerate(words) if re.fullmatch(r"[\u4e00-\u9fff]+", w) and not NEGATORS & set(w)]
    rng.shuffle(spots)
    changed = 0
    for i in spots:
        alts = hp.word_alternatives(words[i])
        if alts:
            words[i] = rng.choice(alts)
        elif len(words[i]) >= 1 and rng.random() < 0.5:
            j = rng.randrange(len(words[i]))
            calts = hp.char_alternatives(words[i], j)
            if not calts:
                continue
            words[i] = words[i][:j] + rng.choice(calts) + words[i][j + 1:]
        else:
            continue
        changed += 1
        if changed >= rng.choice([1, 1, 2]):
            break
    return "".join(words)


def aug_no_punct(text: str, rng: random.Random, hp: Homophones) -> str:
    """Whisper often drops punctuation or leaves spaces instead."""
    repl = rng.choice(["", " "])
    out = re.sub(f"[{re.escape(PUNCT)}]+", repl, text)
    return out.strip()


def aug_numerals(text: str, rng: random.Random, hp: Homophones) -> str:
    """Digits become Chinese numerals or the other way round."""
    if re.search(r"\d", text):
        return re.sub(r"\d+(?:\.\d+)?", lambda m: cn2an.an2cn(m.group(0)), text)
    pattern = r"[零一二两三四五六七八九十百千]+(?=万|千|块|元|个月|月|号|层|年|天|台|吨|头|%)"

    def conv(m: re.Match[str]) -> str:
        s = m.group(0)
        try:
            return str(cn2an.cn2an(s.replace("两", "二"), "smart"))
        except Exception:  # noqa: BLE001 - cn2an raises bare ValueError on odd forms; keep text
            return s

    return re.sub(pattern, conv, text)


def aug_drop_char(text: str, rng: random.Random, hp: Homophones) -> str:
    """ASR swallows a character now and then (never a negation, which would flip the meaning)."""
    spots = [i for i, c in enumerate(text) if "\u4e00" <= c <= "\u9fff" and c not in NEGATORS]
    if len(spots) < 4:
        return text
    i = rng.choice(spots[1:])
    return text[:i] + text[i + 1:]


_S2T = opencc.OpenCC("s2t")


def aug_traditional(text: str, rng: random.Random, hp: Homophones) -> str:
    """Whisper sometimes answers Mandarin in traditional characters."""
    return _S2T.convert(text)


AUGMENTERS: dict[str, Callable[[str, random.Random, Homophones], str]] = {
    "homophone": aug_homophone, "no_punct": aug_no_punct, "numerals": aug_numerals,
    "drop_char": aug_drop_char, "traditional": aug_traditional,
}
AUG_WEIGHTS = {"homophone": 5, "no_punct": 3, "numerals": 2, "drop_char": 2, "traditional": 1}


def augment(ex: Example, rng: random.Random, hp: Homophones) -> Example | None:
    """One noisy copy of ex with one or two kinds of ASR error; None if nothing changed."""
    kinds = list(AUG_WEIGHTS)
    chosen = rng.choices(kinds, weights=[AUG_WEIGHTS[k] for k in kinds], k=rng.choice([1, 1, 2]))
    chosen = sorted(set(chosen), key=kinds.index)
    text = str(ex["text"])
    context = str(ex["context"])
    for kind in chosen:
        text = AUGMENTERS[kind](text, rng, hp)
        also_context = kind in ("no_punct", "traditional") or (kind == "homophone" and rng.random() < 0.4)
        if context and also_context:
            context = AUGMENTERS[kind](context, rng, hp)
    if text == ex["text"] or not text.strip():
        return None
    out = dict(ex)
    out.update(text=text, context=context, augmented=True, source="augmented:" + "+".join(chosen))
    return out
def build_augmented(originals: list[Example], rng: random.Random, hp: Homophones) -> list[Example]:
    """About 1.4 noisy copies per original, ids "<orig>~a<n>"."""
    out: list[Example] = []
    seen = {(str(e["context"]), str(e["text"])) for e in originals}
    for ex in originals:
        n = 1 + (rng.random() < 0.4)
        for k in range(n):
            aug = augment(ex, rng, hp)
            if aug is None or (aug["context"], aug["text"]) in seen:
                continue
            seen.add((str(aug["context"]), str(aug["text"])))
            aug["id"] = f"{ex['id']}~a{k + 1}"
            out.append(aug)
    return out

