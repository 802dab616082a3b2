"""``needs_review`` of a fact: whether a reviewer should listen to the call before trusting it.

The contract (v2) asks for it on every fact: true when the evidence is weak,
hedged or contradictory. This first version reads only the decision's
confidence; the extraction stage is where hedges and contradictions are known,
so a finer rule belongs here, in this one function, fed from there.
"""
from __future__ import annotations

# Below this confidence a stated fact is worth a listen (the same line below
# which an unclear fund use asks for documents, see risk.actions_for).
REVIEW_BELOW_CONFIDENCE = 0.6


def needs_review(decision) -> bool:
    """True when a stated fact (value other than not_mentioned) stands on weak evidence."""
    value = getattr(decision, "value", None)
    confidence = getattr(decision, "confidence", None)
    if value in (None, "not_mentioned") or confidence is None:
        return False
    return float(confidence) < REVIEW_BELOW_CONFIDENCE
