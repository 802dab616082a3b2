"""Homophone correction with a word-frequency language model.

Whisper base on 8 kHz telephone audio often hears the right syllables and
writes the wrong characters: 店里→电里, 一下→依下, 农商→龙商, 工厂→工场. A
Mandarin listener fixes those from which words exist and how common they are.
This module does the same: it builds a lattice over each run of Chinese
characters whose edges are the words as written plus every word of the
domain's vocabulary (``models/vocabulary.txt`` and the lexicon's terms)
pronounced the same or nearly the same, and keeps the most probable path under
a unigram word model that mixes jieba's general counts with the domain's. A change
costs a penalty per changed character (higher when the tone or a fuzzy initial
or final differs), so a rewrite happens only when the written words are
clearly less likely than a homophone: ordinary correct text is left alone.

Single characters are never replaced on their own (他/她, 在/再 need more than
word frequencies), and only words of two to four characters are candidates.

The module also holds the two other sound-alike correctors: fixed phrases of
the domain (``PhraseCorrector``) and the borrower's name (``NameCorrector``).
"""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Callable

from pipeline.text.sounds import REAL_WORD_FREQ, Correction, _jieba_freq, _split_syllable, inside_words, syllables_close

# Dictionary words rarer than this are not offered as replacements (typos and
# odd entries in jieba's dictionary).
MIN_CANDIDATE_FREQ = 5
MAX_WORD_LEN = 4
# Nats a change must gain per changed character: same syllable and tone,
# same syllable other tone, a fuzzy initial or final (l/n, zh/z, in/ing ...).
COST_SAME_TONE = 3.0
COST_OTHER_TONE = 4.5
COST_FUZZY = 6.5
# Weight of the domain's own word counts in the mixture (the rest is jieba's).
DOMAIN_WEIGHT = 0.3
# Nats every word on a path earns, so that splitting into single characters is
# not penalised just for having more words (a unigram model's bias).
WORD_BONUS = 1.0

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_FUZZY_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l"}
_FUZZY_FINAL = (("ing", "in"), ("eng", "en"), ("ang", "an"))
_LOCK = threading.Lock()
_NUMERALS = set("零〇一二两三四五六七八九十百千万亿")


def fuzzy_syllable(syllable: str) -> str:
    """The key two commonly confused syllables share: 龙/农 → long, 临/林 → lin."""
    initial, final = _split_syllable(syllable)
    initial = _FUZZY_INITIAL.get(initial, initial)
    for long, short in _FUZZY_FINAL:
        if final.endswith(long):
            final = final[: -len(long)] + short
            break
    return initial + final


@dataclass(frozen=True)
class _Candidate:
    word: str
    toned: tuple[str, ...]
    logp: float


class HomophoneCorrector:
    """Most probable same-sounding word sequence for each run of Chinese characters."""

    def __init__(
        self,
        freq: dict[str, int] | None = None,
        *,
        domain: dict[str, int] | None = None,
        protected: frozenset[str] = frozenset(),
    ) -> None:
        """``freq``: general word counts (jieba's); ``domain``: counts from the domain's texts.

        With ``domain`` given, only its words of two or more characters are
        candidates, and a word's probability is the mixture
        ``DOMAIN_WEIGHT * P_domain + (1 - DOMAIN_WEIGHT) * P_general``.
        """
        from pypinyin import Style, pinyin

        from pipeline.text.readings import toned as read_toned

        self._pinyin = pinyin
        self._tone3 = Style.TONE3
        general = freq if freq is not None else _jieba_freq()
        self._protected = protected
        g_total = sum(f for f in general.values() if f > 0)
        d_total = sum(domain.values()) if domain else 0
        self._general, self._g_total = general, g_total
        self._domain, self._d_total = domain or {}, d_total
        words = domain if domain else {w: f for w, f in general.items() if f >= MIN_CANDIDATE_FREQ}
        self._index: dict[tuple[str, ...], list[_Candidate]] = {}
        for word in words:
            if not 2 <= len(word) <= MAX_WORD_LEN or not _CJK_RUN.fullmatch(word):
                continue
            logp = self._logp(word)
            if logp is None:
                continue
            toned = read_toned(word)
            key = tuple(fuzzy_syllable(s.rstrip("012345")) for s in toned)
            self._index.setdefault(key, []).append(_Candidate(word, toned, logp))
        self._char_readings: dict[str, list[str]] = {}

    def domain_lift(self, word: str) -> float:
        """How much likelier ``word`` is in the domain's texts than in general Mandarin (inf when jieba lacks it)."""
        general = self._general.get(word, 0) / self._g_total
        domain = self._domain.get(word, 0) / self._d_total if self._d_total else 0.0
        return domain / general if general > 0 else (float("inf") if domain > 0 else 0.0)

    def _logp(self, word: str) -> float | None:
        """Log probability of ``word`` as one token; unknown single characters get a floor, unknown words None."""
        p = self._general.get(word, 0) / self._g_total
        if self._d_total:
            p = DOMAIN_WEIGHT * self._domain.get(word, 0) / self._d_total + (1 - DOMAIN_WEIGHT) * p
        if p > 0:
            return math.log(p)
        return -math.log(self._g_total) if len(word) == 1 else None

    def _readings(self, char: str) -> list[str]:
        cached = self._char_readings.get(char)
        if cached is None:
            cached = self._pinyin(char, style=self._tone3, neutral_tone_with_five=True)[0][:1]  # the common reading (尾 is wěi, not yǐ)
            self._char_readings[char] = cached
        return cached

    def _change_cost(self, written: str, cand: _Candidate) -> float:
        """Nats to pay for writing ``cand`` where ``written`` stands, by how each changed character sounds."""
        cost = 0.0
        for ch, cch, said in zip(written, cand.word, cand.toned):
            if ch == cch:
                continue
            if ch in _NUMERALS:  # digits read out (零, 五) are never words in disguise
                return math.inf
            heard_options = self._readings(ch)
            if said in heard_options:
                cost += COST_SAME_TONE
            elif said.rstrip("012345") in {h.rstrip("012345") for h in heard_options}:
                cost += COST_OTHER_TONE
            else:
                cost += COST_FUZZY
        return cost

    def _alternatives(self, span: str) -> list[tuple[_Candidate, float]]:
        readings = [self._readings(ch) for ch in span]
        if math.prod(len(r) for r in readings) > 12:
            readings = [r[:1] for r in readings]
        seen: dict[str, tuple[_Candidate, float]] = {}
        for combo in product(*readings):
            key = tuple(fuzzy_syllable(s.rstrip("012345")) for s in combo)
            for cand in self._index.get(key, ()):
                if cand.word == span or cand.word in seen:
                    continue
                cost = self._change_cost(span, cand)
                seen[cand.word] = (cand, cost)
        return list(seen.values())

    def _best_path(self, run: str) -> list[tuple[int, int, str]]:
        """Viterbi over the lattice; returns the (start, end, word) edges of the best path."""
        n = len(run)
        best = [-math.inf] * (n + 1)
        back: list[tuple[int, str] | None] = [None] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] == -math.inf:
                continue
            for length in range(1, min(MAX_WORD_LEN, n - i) + 1):
                span = run[i : i + length]
                options: list[tuple[str, float]] = []
                own = self._logp(span)
                if own is not None:
                    options.append((span, own))
                if length >= 2 and not any(p in span for p in self._protected):
                    options.extend((c.word, c.logp - cost) for c, cost in self._alternatives(span))
                for word, score in options:
                    total = best[i] + score + WORD_BONUS
                    if total > best[i + length]:
                        best[i + length] = total
                        back[i + length] = (i, word)
        edges = []
        j = n
        while j > 0:
            i, word = back[j]
            edges.append((i, j, word))
            j = i
        return edges[::-1]

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        """Text with homophone errors replaced, and the replacements with character offsets."""
        out = list(text)
        corrections: list[Correction] = []
        with _LOCK:
            for run in _CJK_RUN.finditer(text):
                for start, end, word in self._best_path(run.group(0)):
                    written = run.group(0)[start:end]
                    if word != written:
                        a, b = run.start() + start, run.start() + end
                        out[a:b] = list(word)
                        corrections.append(Correction(a, b, written, word))
        return "".join(out), corrections


def homophone_corrector_for(lexicon) -> HomophoneCorrector | None:
    """The corrector over the lexicon's vocabulary and terms; None when the lexicon has no vocabulary."""
    if not lexicon.vocabulary:
        return None
    domain = dict(lexicon.vocabulary)
    for term in lexicon.all_terms:
        domain.setdefault(term, 1)
    return HomophoneCorrector(domain=domain, protected=lexicon.never_correct)


def replace_windows(text: str, heard: list, fit: Callable[[list[str], list, int], str | None]) -> tuple[str, list[Correction]]:
    """Scan ``text`` left to right; where ``fit`` names a replacement for the window at i, write it and skip past.

    ``heard`` holds one sound per character (text whose pinyin does not line up
    with its characters is left alone).
    """
    if not text or len(heard) != len(text):
        return text, []
    out = list(text)
    corrections: list[Correction] = []
    i = 0
    while i < len(text):
        replacement = fit(out, heard, i)
        if replacement is None:
            i += 1
            continue
        window = "".join(out[i : i + len(replacement)])
        out[i : i + len(replacement)] = list(replacement)
        corrections.append(Correction(i, i + len(replacement), window, replacement))
        i += len(replacement)
    return "".join(out), corrections


# How an agent addresses the borrower: full name, or surname and a title.
_TITLES = ("先生", "女士", "小姐", "总", "经理", "老板", "师傅", "大哥", "大姐")
_FULL_NAME_TITLES = ("先生", "女士")
_NAME_RE = re.compile(r"[\u4e00-\u9fff]{2,4}")


def name_forms(name: str) -> list[str]:
    """Full name, surname plus each title, the given name when it has two characters, full name plus 先生/女士."""
    name = (name or "").strip()
    if not _NAME_RE.fullmatch(name):
        return []
    surname = name[:2] if len(name) == 4 else name[0]  # 欧阳娜娜; single-character surnames otherwise
    forms = [name] + [surname + title for title in _TITLES]
    given = name[len(surname):]
    if len(given) == 2:
        forms.append(given)
    forms += [name + title for title in _FULL_NAME_TITLES]  # 请问是罗红英女士吗: the title is part of the form
    return forms


# syllable -> character -> 2 when a reading of the character is the syllable, 1 when one sounds
# close to it, 0 when none does (filled as met)
_SOUNDS_LIKE: dict[str, dict[str, int]] = {}


def _sounds_like(char: str, syllable: str, table: dict[str, int] | None = None) -> int:
    """How ``char`` may sound against ``syllable`` over all its readings (every heteronym, toneless).

    A character's reading in context is one of its heteronyms, so this never
    rules out a window that ``NameCorrector._fit`` accepts on the contextual reading.
    """
    table = _SOUNDS_LIKE.setdefault(syllable, {}) if table is None else table
    how = table.get(char)
    if how is None:
        readings = _readings(char)
        how = table[char] = 2 if syllable in readings else int(any(syllables_close(r, syllable) for r in readings))
    return how


@lru_cache(maxsize=1 << 14)
def _readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of ``char``: looked up once per character, not once per character and
    syllable (each new borrower's name brings new syllables; pypinyin was most of their cost)."""
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors=lambda x: [["?"]] * len(x))
    return tuple(found[0]) if found else ("?",)


class NameCorrector:
    """Fixes the borrower's name where the transcript has a same-sounding one (照丽华 → 赵丽华).

    The name comes from the manifest, so this is the one proper noun we know
    for sure. A window is replaced when every syllable sounds close to the
    form's (see ``normalize.syllables_close``) and all but one match exactly
    (toneless); names of two characters must match entirely.
    """

    def __init__(self, name: str) -> None:
        from pypinyin import lazy_pinyin

        self._lazy = lazy_pinyin
        forms = sorted(set(name_forms(name)), key=len, reverse=True)
        self._written_forms = forms
        # the given name alone (建国) is too short and too like everyday words (见过) to be rewritten to
        given = name.strip()[-2:] if len(name.strip()) == 3 else None
        self._forms = [(form, list(self._form_syllables(form))) for form in forms if form != given]
        # per distinct syllable sequence: its characters' sound tables and the exact syllables _fit needs
        self._sound_checks = [(said, [_SOUNDS_LIKE.setdefault(syllable, {}) for syllable in said], len(said) - (0 if len(said) <= 2 else 1))
                              for said in dict.fromkeys(tuple(said) for _form, said in self._forms)]

    def _syllables(self, text: str) -> list[str]:
        return self._lazy(text, errors=lambda x: ["?"] * len(x))

    @staticmethod
    @lru_cache(maxsize=4096)
    def _form_syllables(form: str) -> tuple[str, ...]:
        """A form's syllables, cached: forms of a surname and a title (王先生, 王总) recur all night."""
        from pypinyin import lazy_pinyin

        return tuple(lazy_pinyin(form, errors=lambda x: ["?"] * len(x)))

    def written(self, text: str) -> set[int]:
        """Offsets of ``text`` that belong to a form of the name written correctly (李秀兰女士)."""
        inside: set[int] = set()
        for form in self._written_forms:
            start = text.find(form)
            while start >= 0:
                inside.update(range(start, start + len(form)))
                start = text.find(form, start + 1)
        return inside

    def _fit(self, out: list[str], heard: list[str], i: int, keep: frozenset[int] = frozenset(), words: Callable[[], set[int]] = set) -> str | None:
        for form, said in self._forms:
            if not syllables_close(heard[i], said[0]):
                continue  # every syllable must sound close: the first rules out most places cheaply
            window = "".join(out[i : i + len(form)])
            if len(window) < len(form) or window == form:
                continue
            if any(i + k in keep and window[k] != form[k] for k in range(len(form))):
                continue  # the name written right stays: 兰女士 inside 李秀兰女士 is no 李女士 (孙丽娟女是 may still end in 女士)
            if _jieba_freq().get(window, 0) > REAL_WORD_FREQ or i in words() or i + len(form) in words():
                continue  # a real word, or a window that cuts one, is what was said: 我见过 is no 我建国, 希望大家 no 希王大姐
            part = heard[i : i + len(form)]
            exact = sum(a == b for a, b in zip(part, said))
            allowed = 0 if len(form) <= 2 else 1
            if exact >= len(form) - allowed and all(syllables_close(a, b) for a, b in zip(part, said)):
                return form
        return None

    def _may_hold_a_form(self, text: str) -> bool:
        """Whether some window of ``text`` could sound like a form, from each character's possible
        readings alone (cached): most turns cannot, and reading a whole turn in context with pypinyin
        was 40% of the text stages' time (issue 16: 150 calls/s)."""
        # Where a form may start, per first syllable: the forms of one name mostly share it (王先生, 王总,
        # 王女士… all start with the surname), so the turn is scanned once per syllable, not once per form.
        starts: dict[str, list[int]] = {}
        for said, tables, exact_needed in self._sound_checks:
            first = starts.get(said[0])
            if first is None:
                first = starts[said[0]] = [i for i, ch in enumerate(text) if _sounds_like(ch, said[0], tables[0])]
            for i in first:
                if i + len(said) > len(text):
                    break
                hows = [_sounds_like(text[i + k], syllable, table) for k, (syllable, table) in enumerate(zip(said, tables))]
                if all(hows) and sum(how == 2 for how in hows) >= exact_needed:
                    return True
        return False

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        if not self._forms or not self._may_hold_a_form(text):
            return text, []
        keep = frozenset(self.written(text))
        found: list[set[int]] = []

        def words() -> set[int]:  # jieba only where a form sounds right (rare)
            if not found:
                found.append(inside_words(text))
            return found[0]

        return replace_windows(text, self._syllables(text), lambda out, heard, i: self._fit(out, heard, i, keep, words))


class PhraseCorrector:
    """Restores the domain's fixed phrases (本次通话将被录音, 身份证后四位, 您拨打的电话).

    A window of a phrase's length is replaced when it differs from the phrase
    only in characters that sound the same up to tone and the usual fuzzy
    pairs, keeping at least one character as written (厚思维 → 后四位, 龙商航 →
    农商行) or sounding exactly the same throughout (何时以下 → 核实一下), or, for phrases
    of six or more characters, in one character of any sound besides those (never the
    first; the last only in phrases of eight or more, 号码时空后 → 号码是空号): the prompt
    sometimes pulls a frequent domain character into a fixed phrase (将贷录音
    for 将被录音), which no pinyin rule can see. Among fitting phrases the
    longest with the fewest changes wins, then the one listed first; a phrase
    already written is replaced only by a longer one.
    """

    ANY_SOUND_MIN_LEN = 6
    ANY_SOUND_LAST_MIN_LEN = 8
    # phrases this long (the carriers' messages) may differ in two characters of any sound, the
    # first included, not next to each other: 银拨打的电话与停机 → 您拨打的电话已停机
    TWO_ODD_MIN_LEN = 9
    # a correction can complete another (您拨打的号码 first, then 您拨打的号码是空号): passes until nothing changes
    MAX_PASSES = 3

    def __init__(self, phrases: tuple[str, ...]) -> None:
        from pypinyin import lazy_pinyin

        self._lazy = lazy_pinyin
        # lexicon order is priority order: on a tie (将贷录音: 将被录音 or 将会录音?) the earlier phrase wins
        self._phrases = [(p, self._sounds(p)) for p in dict.fromkeys(phrases) if len(p) >= 3]
        # a phrase's first character is never the changed one of any sound, so it must sound the same
        self._by_first: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}
        for phrase, said in self._phrases:
            self._by_first.setdefault(said[0][0], []).append((phrase, said))
        self._known = {p for p, _ in self._phrases}
        # long phrases may have an odd first sound, so they are tried at every position
        self._long = [(p, said) for p, said in self._phrases if len(p) >= self.TWO_ODD_MIN_LEN]

    def _sounds(self, text: str) -> list[tuple[str, str]]:
        """(fuzzy key, toneless syllable) per character."""
        return [(fuzzy_syllable(s), s) for s in self._lazy(text, errors=lambda x: ["?"] * len(x))]

    def _changes(self, window: str, heard: list[tuple[str, str]], phrase: str, said: list[tuple[str, str]]) -> int | None:
        """Characters to change to turn ``window`` into ``phrase``, or None when it does not fit."""
        differ = [k for k, (a, b) in enumerate(zip(window, phrase)) if a != b]
        if all(heard[k][0] == said[k][0] for k in differ):
            # close sounds with at least one character as written (龙商航 → 农商行), or the very
            # same syllables throughout (何时以下 → 核实一下)
            if len(differ) < len(phrase) or (len(phrase) >= 4 and all(heard[k][1] == said[k][1] for k in differ)):
                return len(differ)
        # one character of any sound, never the first, the last only in long phrases (号码时空后 → 号码是空号)
        odd = [k for k in differ if heard[k][0] != said[k][0]]
        last_ok = len(phrase) >= self.ANY_SOUND_LAST_MIN_LEN
        if len(phrase) >= self.ANY_SOUND_MIN_LEN and len(odd) == 1 and 0 < odd[0] and (odd[0] < len(phrase) - 1 or last_ok):
            return len(differ)
        if len(phrase) >= self.TWO_ODD_MIN_LEN and len(odd) <= 2 and (len(odd) < 2 or odd[1] - odd[0] > 1):
            return len(differ)  # two misheard syllables, not a different word (华丰银行… is no 农商银行…)
        return None

    def _best(self, text: list[str], heard: list[tuple[str, str]], i: int) -> tuple[str, int] | None:
        best: tuple[str, int] | None = None
        written = 0  # the longest phrase already written here: only a longer one may replace it
        candidates = self._by_first.get(heard[i][0], []) + [(p, said) for p, said in self._long if said[0][0] != heard[i][0]]
        for phrase, said in candidates:
            window = "".join(text[i : i + len(phrase)])
            if len(window) < len(phrase):
                continue
            if window in self._known:
                written = max(written, len(phrase))
                continue
            changes = self._changes(window, heard[i : i + len(phrase)], phrase, said)
            if changes is not None and (best is None or (len(phrase), -changes) > (len(best[0]), -best[1])):
                best = (phrase, changes)
        return best if best is not None and len(best[0]) > written else None

    def _fit(self, out: list[str], heard: list[tuple[str, str]], i: int) -> str | None:
        found = self._best(out, heard, i)
        return found[0] if found else None

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        if not self._phrases:
            return text, []
        heard, spans = text, []
        for _ in range(self.MAX_PASSES):
            text, found = replace_windows(text, self._sounds(text), self._fit)
            if not found:
                break
            spans += [(c.start, c.end) for c in found]  # offsets stay valid: a phrase replaces a window of its own length
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        # one correction per changed stretch, from what Whisper wrote to the final phrase
        return text, [Correction(a, b, heard[a:b], text[a:b]) for a, b in merged if heard[a:b] != text[a:b]]
