"""Masking of personal data (ID-card, bank-card and phone numbers) in any text we show.

Numbers are masked by shape, not by meaning: any run of 10 or more digits
(mobile numbers have 11, and one digit is often lost in transcription; ID
cards 15 or 18, bank cards 15-19; ten digits with a dash are a date and an
hour, 2026-11-29 10, and stay), spoken as
Arabic or Chinese digits and possibly grouped by spaces or dashes, keeps its
first three and last four characters. Landline numbers keep their area code
and last four digits. Amounts are never that long, so they stay readable.
"""
from __future__ import annotations

import re

_DIGIT = "0-9０-９零〇一二三四五六七八九幺两"
_LONG_NUMBER = re.compile(
    rf"(?<![{_DIGIT}])[{_DIGIT}](?:[ \-]?[{_DIGIT}]){{8,}}[ \-]?[{_DIGIT}Xx](?![{_DIGIT}Xx])"
)
_LANDLINE = re.compile(r"(?<![0-9])(0[1-9][0-9]{1,2})-([0-9]{3,4})([0-9]{4})(?![0-9])")


def _mask_run(match: re.Match[str]) -> str:
    chars = [c for c in match.group(0) if c not in " -"]
    if len(chars) == 10 and "-" in match.group(0):
        return match.group(0)  # 2026-11-29 10: a date and hour, not a number missing a digit
    return "".join(chars[:3]) + "*" * (len(chars) - 7) + "".join(chars[-4:])


def mask_pii(text: str) -> str:
    """Return ``text`` with ID-card, bank-card and phone numbers masked, keeping only their edges."""
    if not text:
        return text
    text = _LONG_NUMBER.sub(_mask_run, text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-{'*' * len(m.group(2))}{m.group(3)}", text)
