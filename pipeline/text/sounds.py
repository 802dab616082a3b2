"""Sound-alike primitives shared by the correctors (``normalize`` and ``homophones``).

Kept apart so that neither corrector module imports the other (issue 18: no import cycles).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w")


def _split_syllable(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial):
            return initial, syllable[len(initial):]
    return "", syllable


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# The usual fuzzy initials of Mandarin (zh/z, n/l, h/f ...), and the stops that differ only in
# place of articulation (b/d/g, p/t/k), whose cues lie in bursts above the telephone band's
# 3.4 kHz: 并单 for 订单, 比压 for 抵押.
_FUZZY_INITIALS = {
    frozenset(p)
    for p in (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("h", "f"), ("r", "l"), ("b", "d"), ("d", "g"), ("b", "g"), ("p", "t"), ("t", "k"), ("p", "k"))
}


@lru_cache(maxsize=1 << 16)
def syllables_close(a: str, b: str) -> bool:
    """Same toneless syllable, the same initial with a similar final, or a commonly confused initial with the same final."""
    if a == b:
        return True
    ia, fa = _split_syllable(a)
    ib, fb = _split_syllable(b)
    if ia == ib:
        return _edit_distance(fa, fb) <= 2
    # a confusable initial (h/f, n/l, zh/z ...) only with the same final: 够还 is not 购房
    return frozenset((ia, ib)) in _FUZZY_INITIALS and fa == fb


@lru_cache(maxsize=1)
def _jieba_freq() -> dict[str, int]:
    """jieba's word frequencies, with the user dictionary generated from the lexicon loaded."""
    import io
    import logging

    import jieba

    from pipeline.facts.lexicon import jieba_user_dict, load_lexicon

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    jieba.load_userdict(io.StringIO(jieba_user_dict(load_lexicon())))
    return jieba.dt.FREQ


@dataclass(frozen=True)
class Correction:
    start: int
    end: int
    original: str
    corrected: str


# A word jieba counts this often is a real word of general Mandarin (社保 is not 设备).
REAL_WORD_FREQ = 20


def inside_words(text: str, min_freq: int = REAL_WORD_FREQ) -> set[int]:
    """Offsets of ``text`` where a cut would split a word (two or more characters, counted more than ``min_freq``) jieba finds."""
    import jieba

    freq = _jieba_freq()
    inside: set[int] = set()
    for word, start, end in jieba.tokenize(text, HMM=False):
        if end - start >= 2 and freq.get(word, 0) > min_freq:
            inside.update(range(start + 1, end))
    return inside
