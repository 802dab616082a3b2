"""Sound-aware reading: the rules' words found again where Whisper wrote them with other characters.

Why: a borrower's 理了个财 comes out of Whisper base as 李乐歌才, 哪敢炒股 as
哪感炒股. Transcription's correction (``pipeline.text``) rightly refuses to
rewrite such text without evidence beyond the sound, since the transcript is
what reviewers read. Extraction may read more boldly, as long as it says so:
here each utterance gets a *sound reading* of the same length in which a
window that sounds like one of the rules' literal phrases (toneless pinyin,
the usual fuzzy initials and nasal finals, at most one near syllable in a
longer phrase) is replaced by that phrase. Rules then run on that reading;
a fact resting only on such a match is marked ``by_sound`` and sent to review,
and its evidence cites the words as heard.

Guards against reading ordinary words as domain phrases: the window heard
must not be a word of general Mandarin (jieba's dictionary), nor cut one at
either end; two-syllable phrases must sound the same exactly (toneless).
Measured on tests/data/general_mandarin.txt by
``python -m pipeline.evaluation.false_facts``.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pipeline.facts.lexicon import Lexicon
from pipeline.text.sounds import REAL_WORD_FREQ, _edit_distance, _jieba_freq, _split_syllable, inside_words

# Phrases longer than this are not looked for (they are built from optional parts already).
MAX_PHRASE = 8
# Expansions of one regex beyond this many are cut at the construct that multiplies them.
EXPANSION_CAP = 400
_BREAK = "\x00"
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def literal_phrases(pattern: str) -> set[str]:
    """The literal Chinese runs (two or more characters besides particles) that matches of ``pattern`` can contain.

    Alternations and optional parts are expanded (理(了)?(个)?财 gives 理财,
    理了财, 理个财, 理了个财); open parts ([^，。]{0,4}, long word lists) break a
    run in two.
    """
    import re._constants as c
    import re._parser as sre_parse

    def seq(items) -> set[str]:
        results = {""}
        for op, av in items:
            alts = item(op, av)
            if len(alts) > 4 * EXPANSION_CAP or (len(results) > 1 and len(results) * len(alts) > EXPANSION_CAP):
                alts = {_BREAK}  # a product of options; one run of alternatives only adds up
            results = {r + a for r in results for a in alts}
        return results

    def item(op, av) -> set[str]:
        if op is c.LITERAL:
            return {chr(av)}
        if op is c.IN:
            chars = {chr(v) for o, v in av if o is c.LITERAL}
            return chars if len(chars) == len(av) and len(chars) <= 12 else {_BREAK}
        if op is c.BRANCH:
            # Alternatives add up rather than multiply: one that expands too far is cut alone,
            # so a long rule's short words (典当, 二押) are still heard beside it.
            found = sorted((seq(branch) for branch in av[1]), key=len)
            out: set[str] = set()
            for phrases in found:  # smallest first: the widest alternatives are cut first
                if len(phrases) > EXPANSION_CAP or len(out) + len(phrases) > 4 * EXPANSION_CAP:
                    out.add(_BREAK)
                    break
                out |= phrases
            return out
        if op is c.SUBPATTERN:
            return seq(av[-1])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, high, body = av
            if high <= 1:
                inner = seq(body)
                return inner | {""} if low == 0 else inner
            return {_BREAK}
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return {""}
        return {_BREAK}

    try:
        expansions = seq(sre_parse.parse(pattern))
    except Exception:  # noqa: BLE001 - an unusual construct only means no phrases
        return set()
    return {piece for text in expansions for piece in text.split(_BREAK)
            if len(piece) <= MAX_PHRASE and _HAN.match(piece) and len(_FUNCTION.sub("", piece)) >= 2}


# Grammatical characters: a phrase needs two characters besides these to be read
# by sound (浸了 is one word and a particle, and 进了 sounds the same).
_FUNCTION = re.compile(r"[了的个一点些着过在是都也就把给吗呢啊吧么去来到上下里]")


# Coarse sounds: the initials and nasal finals a weak recogniser confuses most are one key.
_COARSE_INITIAL = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))


@functools.lru_cache(maxsize=1 << 14)
def char_sound(ch: str) -> tuple[str, str, str]:
    """(coarse toneless syllable, tone digit, exact toneless syllable) of a character's commonest reading; empty for non-Chinese.

    Only the commonest reading: pypinyin's full lists hold rare ones (月 as ru,
    洗 as xian) that made ordinary words sound like domain phrases.
    """
    if not _is_han(ch):
        return "", "", ""
    from pipeline.text.readings import toned

    return _split_tone(toned(ch)[0])


def _split_tone(reading: str) -> tuple[str, str, str]:
    tone = reading[-1] if reading[-1:].isdigit() else "5"
    syllable = reading.rstrip("012345")
    return (_coarse(syllable), tone, syllable) if syllable.isalpha() else ("", "", "")


# Per character of a phrase: its coarse syllables, (coarse syllable, tone) and (tone, exact syllable) pairs.
Wanted = tuple[frozenset[str], frozenset[tuple[str, str]], frozenset[tuple[str, str]]]


def phrase_sounds(phrase: str) -> tuple[Wanted, ...]:
    """Per character: its reading in the phrase (理了个财: le, not liao) and its commonest reading alone."""
    from pipeline.text.readings import toned

    in_context = toned(phrase)
    if len(in_context) != len(phrase):
        in_context = [""] * len(phrase)
    out = []
    for ch, reading in zip(phrase, in_context):
        options = {char_sound(ch), _split_tone(reading) if reading else char_sound(ch)}
        out.append((frozenset(o[0] for o in options), frozenset(o[:2] for o in options), frozenset(o[1:] for o in options)))
    return tuple(out)


def _coarse(syllable: str) -> str:
    for long, short in _COARSE_INITIAL:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    if syllable.endswith("ng") and not syllable.endswith("ong"):
        syllable = syllable[:-1]
    return syllable


@dataclass(frozen=True)
class SoundSpan:
    start: int
    end: int
    heard: str
    read_as: str


@dataclass(frozen=True, eq=False)  # hashed by identity: one index per lexicon, one cache
class SoundIndex:
    """Phrases keyed by the coarse sounds of their first two characters."""

    by_start: dict[tuple[str, str], tuple[tuple[str, tuple[Wanted, ...]], ...]]
    first: frozenset[str]

    def read(self, text: str) -> tuple[str, tuple[SoundSpan, ...]]:
        """``text`` with each window that sounds like a phrase replaced by it (same length), and the windows."""
        found: list[SoundSpan] = []
        sounds = [char_sound(ch) for ch in text]
        for i in range(len(text) - 1):
            if sounds[i][0] not in self.first:
                continue
            for phrase, wanted in self.by_start.get((sounds[i][0], sounds[i + 1][0]), ()):
                end = i + len(phrase)
                if end <= len(text) and text[i:end] != phrase and _sounds_alike(text, sounds, i, phrase, wanted):
                    found.append(SoundSpan(i, end, text[i:end], phrase))
        if not found:
            return text, ()
        kept = _plausible(text, found)
        if not kept:
            return text, ()
        chars = list(text)
        for span in kept:
            chars[span.start:span.end] = span.read_as
        return "".join(chars), tuple(kept)


def _sounds_alike(text: str, sounds: list[tuple[str, str, str]], start: int, phrase: str, wanted: tuple[Wanted, ...]) -> bool:
    """Each character sounds like the phrase's, toneless, except perhaps one near syllable after the second.

    A window that differs from the phrase in one character only must sound the
    same with its tone: the recogniser knew the word, so a tone pair or a near
    syllable is a different word said right (买了 is not 卖了, 在用 not 自用),
    while 哪感 is 哪敢.
    """
    misses, differing, tone_kept = 0, 0, True
    for k, (coarse, coarse_tone, tone_exact) in enumerate(wanted):
        if text[start + k] == phrase[k]:
            continue
        heard = sounds[start + k]
        differing += 1
        if len(phrase) == 2 and heard[1:] not in tone_exact:
            return False  # two characters leave no room for a fuzzy sound or tone (经站 is no 紧张, 买乐 no 卖了)
        if heard[0] in coarse:
            tone_kept = heard[:2] in coarse_tone
            continue
        if k < 2 or len(phrase) < 3 or misses or not heard[0] or not any(_near(heard[0], syllable) for syllable in coarse):
            return False
        misses += 1
        tone_kept = False  # a near syllable alone is another word said right (在用 is not 自用)
    return differing > 1 or tone_kept


@functools.lru_cache(maxsize=1 << 16)
def _near(a: str, b: str) -> bool:
    """Coarse syllables one letter apart in the final with the same initial (ze/zen), or the same final after h/f."""
    ia, fa = _split_syllable(a)
    ib, fb = _split_syllable(b)
    if ia == ib:
        return _edit_distance(fa, fb) <= 1
    return {ia, ib} == {"h", "f"} and fa == fb


# A word this common, written where a phrase was expected, was heard right (电脑 is no 点难): the
# recogniser writes rare strings for words it does not know (李乐歌才, with the rare word 乐歌).
COMMON_WORD_FREQ = 500


def _plausible(text: str, spans: list[SoundSpan]) -> list[SoundSpan]:
    """Longest first, no overlaps; never a window that is a word of its own, cuts one, or changes a common one."""
    import jieba

    freq = _jieba_freq()
    cuts = inside_words(text)
    common = [(start, end) for word, start, end in jieba.tokenize(text, HMM=False)
              if end - start >= 2 and freq.get(word, 0) >= COMMON_WORD_FREQ]
    kept: list[SoundSpan] = []
    taken: set[int] = set()
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if taken & set(range(span.start, span.end)):
            continue
        if freq.get(span.heard, 0) > REAL_WORD_FREQ or span.start in cuts or span.end in cuts:
            continue
        changed = {span.start + k for k, (a, b) in enumerate(zip(span.heard, span.read_as)) if a != b}
        if any(changed & set(range(start, end)) for start, end in common):
            continue
        kept.append(span)
        taken.update(range(span.start, span.end))
    return sorted(kept, key=lambda s: s.start)


def build_index(phrases: set[str]) -> SoundIndex:
    by_start: dict[tuple[str, str], list[tuple[str, tuple[Wanted, ...]]]] = {}
    for phrase in sorted(phrases, key=lambda p: (-len(p), p)):
        wanted = phrase_sounds(phrase)
        for s0 in wanted[0][0]:
            for s1 in wanted[1][0]:
                by_start.setdefault((s0, s1), []).append((phrase, wanted))
    first = frozenset(key[0] for key in by_start)
    return SoundIndex({k: tuple(v) for k, v in by_start.items()}, first)


# Readings that are no phrase of any rule but decide what a phrase means: negations, denials, hedges.
EXTRA_PATTERNS = (
    r"没有|不是|从来没|并没有|哪有|哪敢|哪能|哪会|怎么可能|不会|绝对没有|也没有|都没有|不敢|没问题|正常|按时|还得上|还不上|碰都不碰|不懂|没碰过|没玩过|没那个胆|好像|可能|应该|估计|大概",
)


@functools.lru_cache(maxsize=4)
def index_for(lexicon: Lexicon) -> SoundIndex:
    """The sound index of the lexicon's fact and signal rules (built once per lexicon)."""
    phrases: set[str] = set()
    for rule in lexicon.rules:
        if rule.kind in ("fund_use", "repayment_ability", "collateral_status", "project_progress", "business_condition", "signal", "contract"):
            phrases |= literal_phrases(rule.pattern.pattern)
    for pattern in EXTRA_PATTERNS:
        phrases |= literal_phrases(pattern)
    return build_index(phrases)


# The agent's duties a misheard word must not turn into an accusation: 本次通话将被录音 heard as
# 本次通话贵路音 is still a disclosure. Only these agent rules read agent turns by sound (never the
# prohibited-language rules: a sound must not make an agent say an insult).
AGENT_DUTY_LABELS = ("agent:recording_notice",)


@functools.lru_cache(maxsize=4)
def duty_index_for(lexicon: Lexicon) -> SoundIndex:
    """The sound index of the agent-duty rules (``AGENT_DUTY_LABELS``)."""
    phrases: set[str] = set()
    for rule in lexicon.rules:
        if rule.label in AGENT_DUTY_LABELS:
            phrases |= literal_phrases(rule.pattern.pattern)
    return build_index(phrases)


def duty_reading(text: str, lexicon: Lexicon) -> tuple[str, tuple[SoundSpan, ...]]:
    """The sound reading of an agent's turn against the agent-duty phrases only."""
    return _read_cached(duty_index_for(lexicon), text)


# Small on purpose: it serves the rules and the classifiers reading the same turn, not reruns of
# the same text (a benchmark repeating its calls would otherwise time the cache).
@functools.lru_cache(maxsize=256)
def _read_cached(index: SoundIndex, text: str) -> tuple[str, tuple[SoundSpan, ...]]:
    return index.read(text)


def sound_reading(text: str, lexicon: Lexicon) -> tuple[str, tuple[SoundSpan, ...]]:
    """The sound reading of ``text`` (same length) and the windows it replaced; ``text`` itself when none."""
    return _read_cached(index_for(lexicon), text)
