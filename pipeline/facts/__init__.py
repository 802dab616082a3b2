"""Facts: corrected utterances -> facts with evidence (rules, classifiers, the fact combiner).

Entry point: ``extract_facts(utterances, lexicon, classifiers, borrower_name) -> CallFacts``
(rule matches, the call's outcome, one decision per fact).
"""
from __future__ import annotations

__all__ = ["CallFacts", "extract_facts"]


def __getattr__(name: str):
    """The entry point is imported on first use, so importing the package loads no model library."""
    if name == "CallFacts":
        from pipeline.facts.call_facts import CallFacts

        return CallFacts
    if name == "extract_facts":
        from pipeline.facts.call_facts import extract_facts

        return extract_facts
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
