"""Text normalisation after decoding: Simplified script, misheard domain words, numbers.

Display text keeps what was said (Simplified, with corrections of misheard
domain terms, original kept beside it); ``norm_text`` additionally has numbers
as digits and no spaces, and is what extraction reads.
"""
from __future__ import annotations

import re
import threading
from dataclasses import replace
from functools import lru_cache

from pipeline.text.homophones import PhraseCorrector, homophone_corrector_for
from pipeline.facts.lexicon import Lexicon
from pipeline.text.sounds import REAL_WORD_FREQ, _FUZZY_INITIALS, _INITIALS, Correction, _edit_distance, _jieba_freq, _split_syllable, inside_words, syllables_close  # noqa: F401 (re-exported)

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


# Characters so common that a term is never made by changing one into another sound.
_FUNCTION_CHARS = frozenset("不的了是在有也就都没很")
# Never read as a digit: the function words (是 would be 四), and 十 (no single digit) with its sound-alikes.
_NOT_DIGITS = _FUNCTION_CHARS | frozenset("十时事")


# The question particle 吗 heard as 卖/买/妈/马/嘛 after words that end yes-no questions.
# A call opens with 喂 (hello), which Whisper writes 为 or 位 before 您好/你好: 为您好 → 喂，您好.
# Also before a name and title, as a call opens: 为周总您好, 为梁老板吗.
_MISHEARD_WEI = re.compile(
    r"^[为位味](?=[，,]?(?:[\u4e00-\u9fff]{1,3}(?:先生|女士|小姐|总|老板|经理|师傅))?[，,]?(?:[您你]好(?:[，,。！!？?\s]|$)|(?:吗|是吧)))"
)
# 嘛 is left alone: it is a particle of its own (发工资了嘛).
_MISHEARD_MA = re.compile(r"(本人|先生|女士|小姐|是|对|好|了|在|有|还在|清楚|方便)(卖|买|妈|马)(?=[，。？?,.!！]|$)")

# On the call's evidence alone, an everyday domain word (厂子, 小贷) must be this many times likelier
# in the domain's texts than in general Mandarin (医院, 计划, 认识 are not): issue 17's false corrections.
DOMAIN_LIFT = 10.0

# Longer texts are corrected in pieces, cut after sentence or clause punctuation where there is one.
MAX_PIECE_CHARS = 400
_PIECE_ENDS = "。！？!?，,；;"
# A window that jieba knows as a real word this often is left alone (社保 is not 设备).
_REAL_WORD_FREQ = REAL_WORD_FREQ


class TermCorrector:
    """Replaces windows whose pinyin is close to a lexicon term's.

    A window is corrected only when every syllable is close to the term's and
    all but one are identical with tone (so 戴后→贷后, 海款→还款, 空后→空号, 合时→核实,
    but not 合适, whose tone differs), and never when the window is a listed
    real word.
    """

    def __init__(self, lexicon: Lexicon, homophones=None) -> None:
        from pypinyin import Style, lazy_pinyin

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
        # each term group with the words that name its topic (its own terms among them)
        self._groups = [(frozenset(words) | frozenset(lexicon.topic_words.get(group, ())), frozenset(words))
                        for group, words in lexicon.terms.items()]
        self._weak_cache: dict[str, frozenset[str]] = {}
        # words that show an utterance is about the loan: the lexicon's terms and fixed phrases
        self._cues = sorted(self._term_set | set(lexicon.phrases), key=len, reverse=True)
        self._withheld: dict[str, bool] = {}  # recent texts corrected without context: was a rewrite left out?
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

    def has_cue(self, text: str) -> bool:
        """Whether ``text`` names a domain term or fixed phrase (the loan is being talked about)."""
        return any(cue in text for cue in self._cues)

    def withheld(self, text: str) -> bool:
        """Whether correcting ``text`` without context left out a rewrite for want of evidence (True when not known)."""
        return self._withheld.get(text, True)

    def weak_targets(self, context: str) -> frozenset[str]:
        """The terms a rewrite may produce on the call's evidence alone: those of the term groups whose
        topic the talk around names (``lexicon.topic_words``; a question about the money's use allows
        理财 and 还款, not 厂房: 大床房 stays). Cached: the same call context serves every turn."""
        found = self._weak_cache.get(context)
        if found is None:
            named = [terms for names, terms in self._groups if any(word in context for word in names)]
            found = frozenset().union(*named) if named else frozenset()
            if len(self._weak_cache) > 1024:
                self._weak_cache.clear()
            self._weak_cache[context] = found
        return found

    def cues_in(self, text: str) -> set[str]:
        """The domain terms and fixed phrases ``text`` names."""
        return {cue for cue in self._cues if cue in text}

    def correct(self, text: str, context: str = "") -> tuple[str, list[Correction]]:
        """``_correct_piece`` on pieces of at most ``MAX_PIECE_CHARS``: an utterance is a few hundred
        characters, but a runaway transcript of thousands costs time that grows faster than its length."""
        if len(text) <= MAX_PIECE_CHARS:
            return self._correct_piece(text, context)
        out: list[str] = []
        corrections: list[Correction] = []
        at = 0
        while at < len(text):
            end = min(len(text), at + MAX_PIECE_CHARS)
            if end < len(text):
                cut = max(text.rfind(ch, at + 1, end) for ch in _PIECE_ENDS)
                end = cut + 1 if cut > at else end
            piece, found = self._correct_piece(text[at:end], context)
            out.append(piece)
            corrections += [replace(c, start=c.start + at, end=c.end + at) for c in found]
            at = end
        return "".join(out), corrections

    def _correct_piece(self, text: str, context: str = "") -> tuple[str, list[Correction]]:
        """Homophones first (依下→一下), then terms, whose collocations may need the fixed words (何时一下→核实一下).

        Every homophone and term rewrite must show evidence beyond its sound
        (``_has_evidence``); ``context`` is the talk around the utterance (the
        turns before and after it), where a domain term counts as evidence too.
        """
        about_loan = self.has_cue(context) if context else False
        # the topic may be named around the utterance or in its own words (房子 in 房子没有再比压给别人)
        weak = self.weak_targets(context) | self.weak_targets(text) if about_loan else frozenset()
        written = text
        heard: list[Correction] = []
        withheld = 0
        if self._homophones is not None:
            found = self._homophones.correct(text)[1]
            text, heard = self._with_evidence(text, found, about_loan, None)
            withheld += len(found) - len(heard)
        text, phrased = self._phrases.correct(text)
        found = self._correct_terms(text)[1]
        text, corrections = self._with_evidence(text, found, about_loan, weak)
        withheld += len(found) - len(corrections)
        if not about_loan:
            if len(self._withheld) > 4096:
                self._withheld.clear()
            self._withheld[written] = withheld > 0
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

    def _with_evidence(self, text: str, found: list[Correction], about_loan: bool,
                       weak: frozenset[str] | None) -> tuple[str, list[Correction]]:
        """``text`` with those of ``found`` (same-length rewrites of it) that have evidence applied."""
        if not found:
            return text, []
        inside = self._word_boundaries(text)
        inside_any = self._word_boundaries(text, min_freq=-1) if about_loan else set()  # any dictionary word
        kept = [c for c in found if self._has_evidence(text, c, inside, inside_any, about_loan, weak)]
        out = list(text)
        for c in kept:
            out[c.start : c.end] = list(c.corrected)
        return "".join(out), kept

    def _has_evidence(self, text: str, c: Correction, inside: set[int], inside_any: set[int], about_loan: bool,
                      weak: frozenset[str] | None) -> bool:
        """Sound alone is not enough: 露营 is no 录音, 衷心 no 中心, 我和同事 no 我合同事.

        Evidence, strongest first: one of the term's collocations next to it
        (何时一下 → 核实一下) allows any rewrite. Otherwise a written word that
        general Mandarin knows (jieba's frequencies) stays, and a rewrite may
        not cut a real word in two (虚惊一场 has no 经营) unless it completes a
        long term with one letter off (进言材料 → 进原材料); it then needs
        another domain term or fixed phrase in the same utterance. Talk about
        the loan elsewhere in the call (``about_loan``) is weaker evidence: it
        allows a rewrite only where what is written is no dictionary word at
        all and cuts none (环款 → 还款 in a follow-up call, but not 读后 → 贷后
        or 虚惊一场 → 虚经营场), and a term rewrite only to a term of a topic
        the talk names (``weak``; None for the homophone stage's everyday
        domain words: 场资 → 厂子, 小带 → 小贷): 大床房 stays after a question
        about the money's use.
        """
        if self._in_context(text, c.start, c.end, c.corrected):
            return True
        if self._word_freq.get(c.original, 0) > _REAL_WORD_FREQ:
            return False
        long_term = self._one_char_off(c.original, c.corrected)
        if self._splits_a_word(inside, c.start, c.end) and not long_term:
            return False
        if self.has_cue(text[: c.start] + "|" + text[c.end :]):
            return True
        cuts_a_word = self._splits_a_word(inside_any, c.start, c.end) and not long_term
        if weak is None:  # an everyday word of the domain: 厂子, 小贷 yes, 现在, 医院 no
            in_topic = self._homophones is None or self._homophones.domain_lift(c.corrected) >= DOMAIN_LIFT
        else:
            in_topic = c.corrected in weak
        return about_loan and in_topic and c.original not in self._word_freq and not cuts_a_word

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

    @staticmethod
    def _word_boundaries(text: str, min_freq: int = _REAL_WORD_FREQ) -> set[int]:
        """Cut positions that fall inside a word (two or more characters, more frequent than ``min_freq``) jieba finds in ``text``."""
        return inside_words(text, min_freq)

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
    return TermCorrector(lexicon, homophones=homophone_corrector_for(lexicon))


def normalise_for_extraction(text: str) -> str:
    """Text as extraction reads it: numbers as digits, whitespace removed, punctuation kept for clauses."""
    return normalise_numbers(re.sub(r"\s+", "", text))
