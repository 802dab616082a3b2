"""CER's edit distance (rapidfuzz) gives the numbers of the textbook dynamic programme."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.evaluation.evaluate import cer_text, edit_distance


def textbook_distance(ref: str, hyp: str) -> int:
    """Levenshtein distance by the Wagner–Fischer table: the oracle the library is checked against."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def test_known_distances() -> None:
    assert edit_distance("", "") == 0
    assert edit_distance("", "贷款") == 2
    assert edit_distance("贷款用途", "") == 4
    assert edit_distance("买股票", "买古票") == 1  # one substitution
    assert edit_distance("还款能力", "还能力") == 1  # one deletion
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance(cer_text("您好，贷款 用途？"), cer_text("您好贷款用途")) == 0


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="贷款用途股票还钱*0123ab", max_size=40), st.text(alphabet="贷款用途股票还钱*0123ab", max_size=40))
def test_same_numbers_as_the_textbook_table(ref: str, hyp: str) -> None:
    assert edit_distance(ref, hyp) == textbook_distance(ref, hyp)
    assert edit_distance(ref, hyp) == edit_distance(hyp, ref)
