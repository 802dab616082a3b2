"""Facts: corrected utterances -> facts with evidence (rules, classifiers, the fact combiner).

Entry point: ``extract_facts(utterances, lexicon, classifiers, borrower_name) -> CallFacts``
(rule matches, the call's outcome, one decision per fact).
"""
from pipeline.lazy import lazy_exports

__all__ = ["CallFacts", "extract_facts"]
__getattr__ = lazy_exports(__name__, {"CallFacts": "pipeline.facts.call_facts", "extract_facts": "pipeline.facts.call_facts"})
