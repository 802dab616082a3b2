"""Text normalisation after decoding: Simplified script, misheard domain words, numbers.

Display text keeps what was said (Simplified, with corrections of misheard
domain terms, original kept beside it); ``norm_text`` additionally has numbers
as digits and no spaces, and is what extraction reads.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from .lexicon import Lexicon

_PUNCT = re.compile(r"[\s\u3000,，。.!！?？、;；:：\"'“”‘’()（）\[\]【】<>《》…·~～-]+")
_CN_NUM = "零〇一二两三四五六七八九十百千万亿"
_NUMBER_RUN = re.compile(
    rf"[{_CN_NUM}]+(?:点[{_CN_NUM}]+)?(?=(?:万|元|块|个月|月|号|日|年|天|期|岁|笔|家|套|成|%|个点|期|倍))"
    rf"|[{_CN_NUM}]{{3,}}"
)
_CONVERTER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


# OpenCC keeps 著 (valid Simplified in 著名, 显著), but after a verb Whisper's
# Traditional 著 is the aspect particle 着 (抵押著 → 抵押着).
_ZHE_PARTICLE = re.compile(r"(?<![显土卓名原巨编论专遗新拙昭合译])著(?![名作称述录者书])")


def to_simplified(text: str) -> str:
    with _CONVERTER_LOCK:  # OpenCC objects are not documented as thread-safe
        text = _t2s().convert(text)
    return _ZHE_PARTICLE.sub("着", text) if "著" in text else text


_HALF_TO_FULL = str.maketrans({",": "，", "?": "？", "!": "！", ":": "：", ";": "；"})


def fullwidth_punctuation(text: str) -> str:
    """Chinese text gets Chinese punctuation (Whisper often writes ASCII commas and question marks)."""
    out = []
    for i, ch in enumerate(text):
        if ch in ",?!:;" and (i == 0 or not text[i - 1].isascii() or ch in "?!"):
            out.append(ch.translate(_HALF_TO_FULL))
        elif ch == "." and i > 0 and not text[i - 1].isascii() and not text[i - 1].isdigit():
            out.append("。")
        else:
            out.append(ch)
    return "".join(out)


def strip_punctuation(text: str) -> str:
    return _PUNCT.sub("", text)


_SPOKEN_DIGITS = "零〇一二三四五六七八九幺"
_DIGIT_BY_DIGIT = re.compile(rf"[{_SPOKEN_DIGITS}]{{3,}}")
_DIGIT_VALUE = str.maketrans({"零": "0", "〇": "0", "幺": "1", **{c: str(i) for i, c in enumerate("零一二三四五六七八九") if i}})
# 1 is read yāo in phone and card numbers; Whisper writes it 要, 夭, 腰 or 妖 next to other digits.
_YAO = re.compile(rf"[要夭腰妖](?=[{_SPOKEN_DIGITS}0-9]{{6,}})|(?<=[{_SPOKEN_DIGITS}0-9]{{6}})[要夭腰妖]")


def ascii_digits(text: str) -> str:
    """零幺九三 → 0193, digit by digit."""
    return text.translate(_DIGIT_VALUE).replace("两", "2")


def spoken_one(text: str) -> tuple[str, list[tuple[int, str]]]:
    """要三九五八 → 幺三九五八: the digit 1 as read in numbers; returns the text and the changed offsets."""
    changed = [(m.start(), m.group(0)) for m in _YAO.finditer(text)]
    return (_YAO.sub("幺", text), changed) if changed else (text, [])


# Digits read one by one (身份证后四位: 林妖九三 for 零幺九三): each digit's readings, and the
# initials the telephone band confuses (fricatives and stops lose their cues above 3.4 kHz).
_DIGIT_READINGS = {"ling": "零", "yi": "一", "yao": "幺", "er": "二", "liang": "两", "san": "三", "si": "四", "wu": "五", "liu": "六", "qi": "七", "ba": "八", "jiu": "九"}
_PHONE_INITIALS = (frozenset({"z", "c", "s", "zh", "ch", "sh"}), frozenset({"b", "d", "g"}), frozenset({"p", "t", "k"}), frozenset({"j", "q", "x"}), frozenset({"n", "l"}))



def _initials_confusable(a: str, b: str) -> bool:
    return a == b or any(a in group and b in group for group in _PHONE_INITIALS)


def digit_heard(char: str) -> str | None:
    """The spoken digit ``char`` may stand for (林 → 零, 班 → 八, 自 → 四), itself if it is one, else None."""
    if char.isascii() and char.isdigit() or char in _SPOKEN_DIGITS or char == "两":
        return char
    if char in _NOT_DIGITS or not "\u4e00" <= char <= "\u9fff":
        return None
    from pypinyin import lazy_pinyin

    heard = lazy_pinyin(char)[0]
    heard_initial, heard_final = _split_syllable(heard)
    scores: dict[str, int] = {}
    for reading, numeral in _DIGIT_READINGS.items():
        initial, final = _split_syllable(reading)
        # a final may lose or gain its nasal or glide: 林 lin/ling, 班 ban/ba, 卿 qing/qi
        near_final = final == heard_final or (heard_final.startswith(final) or final.startswith(heard_final)) and min(len(final), len(heard_final)) > 0
        if heard == reading:
            scores[numeral] = 3
        elif heard_initial == initial and near_final or _initials_confusable(heard_initial, initial) and final == heard_final:
            scores[numeral] = 2
        elif _initials_confusable(heard_initial, initial) and near_final:
            scores[numeral] = 1
    if not scores:
        return None
    best = max(scores.values())
    found = [numeral for numeral, score in scores.items() if score == best]
    return found[0] if len(found) == 1 else None  # 酒 is 九, not 七; a tie says nothing


def normalise_numbers(text: str) -> str:
    """Chinese numerals followed by a unit (or long numeral runs) become digits: 五十万 → 500000.

    Runs of three or more plain digits (phone, card, ID numbers read digit by
    digit, 幺 for 1) become the same digits: 幺三九 → 139.
    """
    import cn2an

    text = _DIGIT_BY_DIGIT.sub(lambda m: m.group(0).translate(_DIGIT_VALUE), text)

    def convert(match: re.Match[str]) -> str:
        run = match.group(0)
        try:
            value = cn2an.cn2an(run, "smart")
        except (ValueError, KeyError, IndexError, TypeError):
            return run
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)

    return _NUMBER_RUN.sub(convert, text)


# --- pinyin-tolerant correction of misheard domain terms ---------------------------------

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
# Characters so common that a term is never made by changing one into another sound.
_FUNCTION_CHARS = frozenset("不的了是在有也就都没很")
# Never read as a digit: the function words (是 would be 四), and 十 (no single digit) with its sound-alikes.
_NOT_DIGITS = _FUNCTION_CHARS | frozenset("十时事")


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


# The question particle 吗 heard as 卖/买/妈/马/嘛 after words that end yes-no questions.
# A call opens with 喂 (hello), which Whisper writes 为 or 位 before 您好/你好: 为您好 → 喂，您好.
# Also before a name and title, as a call opens: 为周总您好, 为梁老板吗.
_MISHEARD_WEI = re.compile(
    r"^[为位味](?=[，,]?(?:[\u4e00-\u9fff]{1,3}(?:先生|女士|小姐|总|老板|经理|师傅))?[，,]?(?:[您你]好(?:[，,。！!？?\s]|$)|(?:吗|是吧)))"
)
# 嘛 is left alone: it is a particle of its own (发工资了嘛).
_MISHEARD_MA = re.compile(r"(本人|先生|女士|小姐|是|对|好|了|在|有|还在|清楚|方便)(卖|买|妈|马)(?=[，。？?,.!！]|$)")

# A window that jieba knows as a real word this often is left alone (社保 is not 设备).
_REAL_WORD_FREQ = 20


@lru_cache(maxsize=1)
def _jieba_freq() -> dict[str, int]:
    """jieba's word frequencies, with the user dictionary generated from the lexicon loaded."""
    import io
    import logging

    import jieba

    from .lexicon import jieba_user_dict, load_lexicon

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


class TermCorrector:
    """Replaces windows whose pinyin is close to a lexicon term's.

    A window is corrected only when every syllable is close to the term's and
    all but one are identical with tone (so 戴后→贷后, 海款→还款, 空后→空号, 合时→核实,
    but not 合适, whose tone differs), and never when the window is a listed
    real word.
    """

    def __init__(self, lexicon: Lexicon, homophones=None) -> None:
        from pypinyin import Style, lazy_pinyin

        from .homophones import PhraseCorrector

        self._homophones = homophones
        self._phrases = PhraseCorrector(lexicon.phrases)
        self._lazy_pinyin = lazy_pinyin
        self._style_tone = Style.TONE3
        self._never = lexicon.never_correct
        self._word_freq = _jieba_freq()
        self._collocations = lexicon.collocations
        self._terms: dict[int, list[tuple[str, list[str], list[str]]]] = {}
        for term in lexicon.all_terms:
            if len(term) < 2:
                continue
            toned = self._toned(term)
            plain = [s.rstrip("012345") for s in toned]
            self._terms.setdefault(len(term), []).append((term, toned, plain))
        self._term_set = {term for group in self._terms.values() for term, _, _ in group}
        self._lengths = sorted(self._terms, reverse=True)
        # terms of each length whose first syllable sounds close to a heard one, filled as syllables are met
        self._starting: dict[tuple[int, str], list[tuple[str, list[str], list[str]]]] = {}

    def _terms_starting(self, length: int, syllable: str) -> list[tuple[str, list[str], list[str]]]:
        key = (length, syllable)
        found = self._starting.get(key)
        if found is None:
            found = [t for t in self._terms[length] if syllables_close(syllable, t[2][0])]
            self._starting[key] = found
        return found

    def _toned(self, text: str) -> list[str]:
        return self._lazy_pinyin(text, style=self._style_tone, neutral_tone_with_five=True, errors=lambda x: ["?"] * len(x))

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        """Homophones first (依下→一下), then terms, whose collocations may need the fixed words (何时一下→核实一下)."""
        heard: list[Correction] = []
        if self._homophones is not None:
            text, heard = self._homophones.correct(text)
        text, phrased = self._phrases.correct(text)
        text, corrections = self._correct_terms(text)
        corrections = heard + phrased + corrections
        fixed = []
        for match in _MISHEARD_MA.finditer(text):
            fixed.append(Correction(match.start(2), match.end(2), match.group(2), "吗"))
        if fixed:
            text = _MISHEARD_MA.sub(lambda m: m.group(1) + "吗", text)
        wei = _MISHEARD_WEI.match(text)
        if wei:
            fixed.append(Correction(0, 1, wei.group(0), "喂"))
            text = "喂" + text[1:]
        text, ones = spoken_one(text)
        fixed += [Correction(at, at + 1, heard, "幺") for at, heard in ones]
        return text, sorted(corrections + fixed, key=lambda c: c.start)

    def _correct_terms(self, text: str) -> tuple[str, list[Correction]]:
        if not text:
            return text, []
        toned = self._toned(text)
        if len(toned) != len(text):  # non-CJK runs collapse; keep text as is
            return text, []
        plain = [s.rstrip("012345") for s in toned]
        boundaries = self._word_boundaries(text)
        out = list(text)
        corrections: list[Correction] = []
        i = 0
        while i < len(text):
            applied = False
            for length in self._lengths:
                window = text[i : i + length]
                if len(window) < length or window in self._never:
                    continue
                if window in self._term_set:
                    i += length - 1
                    break
                splits = self._splits_a_word(boundaries, i, i + length)
                real_word = self._word_freq.get(window, 0) > _REAL_WORD_FREQ
                for term, term_toned, term_plain in self._terms_starting(length, plain[i]):
                    if window == term:
                        break
                    if splits and toned[i : i + length] != term_toned and not self._one_char_off(window, term):
                        continue  # only a perfect homophone (按和同 → 按合同) or a long term with one character off (进言材料) may cut a real word
                    if real_word and not self._in_context(text, i, i + length, term):
                        continue
                    if self._matches(window, toned[i : i + length], plain[i : i + length], term, term_toned, term_plain):
                        out[i : i + length] = list(term)
                        corrections.append(Correction(i, i + length, window, term))
                        applied = True
                        break
                if applied:
                    i += length
                    break
            if not applied:
                i += 1
        return "".join(out), corrections

    def _word_boundaries(self, text: str) -> set[int]:
        """Cut positions that fall inside a real word (two or more characters) jieba finds in ``text``."""
        import jieba

        inside: set[int] = set()
        for word, start, end in jieba.tokenize(text, HMM=False):
            if end - start >= 2 and self._word_freq.get(word, 0) > _REAL_WORD_FREQ:
                inside.update(range(start + 1, end))
        return inside

    def _one_char_off(self, window: str, term: str) -> bool:
        """A term of three or more characters, all written but one that sounds nearly the same (its final one
        letter off: 言 yan, 原 yuan): 言材料 is 原材料 even where jieba reads 进言; 工程开工 keeps its 开 (kai, 款 kuan)."""
        odd = [k for k, (a, b) in enumerate(zip(window, term)) if a != b]
        if len(term) < 3 or len(odd) != 1:
            return False
        heard, said = (self._lazy_pinyin(ch)[0] for ch in (window[odd[0]], term[odd[0]]))
        (hi, hf), (si, sf) = _split_syllable(heard), _split_syllable(said)
        return hi == si and _edit_distance(hf, sf) <= 1

    @staticmethod
    def _splits_a_word(inside: set[int], start: int, end: int) -> bool:
        """A window that cuts a real word in two is not a misheard term (8万贷款 is not 网贷, 任何收入 not 核实)."""
        return start in inside or end in inside

    def _in_context(self, text: str, start: int, end: int, term: str) -> bool:
        """A real word is replaced only next to one of the term's collocations (何时一下 → 核实一下)."""
        before, after = text[max(0, start - 4) : start], text[end : end + 4]
        return any(after.startswith(c) or before.endswith(c) for c in self._collocations.get(term, ()))

    @staticmethod
    def _matches(window: str, w_toned: list[str], w_plain: list[str], term: str, t_toned: list[str], t_plain: list[str]) -> bool:
        if any(s == "?" for s in w_plain):
            return False
        exact = sum(1 for a, b, ca, cb in zip(w_toned, t_toned, window, term) if a == b or ca == cb)
        if exact < len(term) - 1:
            return False
        if any(ca != cb and a != b and ca in _FUNCTION_CHARS for a, b, ca, cb in zip(w_toned, t_toned, window, term)):
            return False  # 进不来 is no 进度来: a function word is heard clearly enough
        return all(syllables_close(a, b) for a, b in zip(w_plain, t_plain))


@lru_cache(maxsize=4)
def corrector_for(lexicon: Lexicon) -> TermCorrector:
    from .homophones import homophone_corrector_for

    return TermCorrector(lexicon, homophones=homophone_corrector_for(lexicon))


def normalise_for_extraction(text: str) -> str:
    """Text as extraction reads it: numbers as digits, whitespace removed, punctuation kept for clauses."""
    return normalise_numbers(re.sub(r"\s+", "", text))
