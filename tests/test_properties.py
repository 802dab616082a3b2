"""Property-based tests: the text stages never crash, whatever the text."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.analyze import analyze_transcript
from pipeline.outputs.privacy import mask_pii
from pipeline.schema import validate_summary
from pipeline.speech.transcript import Utterance

# Arbitrary Unicode, weighted towards Chinese, digits and punctuation that the stages care about.
TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list("没有不是炒股买房还款抵押查封停产延期吗？，。0123456789一二三四五六七八九十万元 后四位尾号林妖酒拨打电话已停机")), max_size=200),
)
SPEAKER = st.sampled_from(["agent", "customer", "unknown", "system"])
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(st.tuples(SPEAKER, TEXT), max_size=8), TEXT)
def test_analyze_transcript_never_crashes(turns, borrower_name):
    utterances = [Utterance(start=float(i), end=float(i) + 0.9, speaker=s, text=t, norm_text=t) for i, (s, t) in enumerate(turns)]
    manifest = {"loan_purpose": "经营周转", "collateral": "住宅", "borrower_name": borrower_name}
    summary = analyze_transcript(utterances, manifest, call_id="P", duration_s=len(turns))
    assert validate_summary(summary) == []


@FAST
@given(TEXT, st.text(alphabet=st.sampled_from(list("王李张刘陈赵宋欧阳建国丽华玉芬")), max_size=5))
def test_name_and_phrase_correction_keep_offsets(text, name):
    from pipeline.text.homophones import NameCorrector, PhraseCorrector
    from pipeline.facts.lexicon import load_lexicon

    for corrector in (NameCorrector(name), PhraseCorrector(load_lexicon().phrases)):
        corrected, corrections = corrector.correct(text)
        assert len(corrected) == len(text)
        assert all(corrected[c.start : c.end] == c.corrected and text[c.start : c.end] == c.original for c in corrections)


@FAST
@given(TEXT)
def test_text_helpers_never_crash(text):
    from pipeline.facts.lexicon import load_lexicon
    from pipeline.text.normalize import corrector_for, fullwidth_punctuation, normalise_for_extraction
    from pipeline.speech.speakers import carrier_kind

    lexicon = load_lexicon()
    corrected, corrections = corrector_for(lexicon).correct(text)
    assert len(corrected) == len(text)  # corrections replace like for like, so offsets stay valid
    normalise_for_extraction(fullwidth_punctuation(text))
    carrier_kind(text, lexicon)
    masked = mask_pii(text)
    assert mask_pii(masked) == masked  # masking is idempotent


def test_huge_and_empty_strings():
    from pipeline.facts.lexicon import load_lexicon
    from pipeline.text.normalize import corrector_for

    corrector = corrector_for(load_lexicon())
    # 10,000+ characters: twenty times the longest utterance Whisper writes; corrected in pieces.
    for text in ("", "还款" * 5000, "1" * 20000, "何时依下电里" * 2000, "何时依下电里，" * 2000):
        corrected, corrections = corrector.correct(text)
        assert len(corrected) == len(text)
        assert all(corrected[c.start : c.end] == c.corrected for c in corrections)
        utterances = [Utterance(start=0, end=1, speaker="customer", text=text, norm_text=text)]
        assert validate_summary(analyze_transcript(utterances, {}, call_id="H", duration_s=1)) == []
        assert "1" * 12 not in mask_pii(text)
